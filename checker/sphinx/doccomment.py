"""Doc comments (``///``) as document nodes, and the CPython references in them.

Doc comments are plain text with two conventions (``code`` in backquotes,
paragraphs separated by an empty ``///`` line, ``* `` starting a list item),
so they are turned into nodes directly rather than parsed as reST: nothing a
model author writes can break the documentation build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from docutils import nodes

CPYTHON = "https://github.com/python/cpython"


@dataclass(frozen=True)
class Ref:
    label: str
    url: str


# one alternative per kind of reference; the order decides overlaps
_REF = re.compile(
    r"(?P<gh>\bgh-(?P<ghn>\d+))"
    r"|(?P<bpo>\bbpo-(?P<bpon>\d+))"
    r"|(?P<pep>\bPEP (?P<pepn>\d+))"
    r"|(?P<pr>\bPR #?(?P<prn>\d+))"
    r"|(?P<path>\b(?:Python|Include|Objects|Modules|Lib|Parser|Programs)/[\w/.-]*\w\.(?:c|h|py)\b)"
    r"|(?P<commit>\b(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{7,40}\b)")


def _ref(m: re.Match[str]) -> Ref:
    if m["gh"]:
        return Ref(m["gh"], f"{CPYTHON}/issues/{m['ghn']}")
    if m["bpo"]:
        return Ref(m["bpo"], f"https://bugs.python.org/issue{m['bpon']}")
    if m["pep"]:
        return Ref(m["pep"], f"https://peps.python.org/pep-{int(m['pepn']):04d}/")
    if m["pr"]:
        return Ref(m["pr"], f"{CPYTHON}/pull/{m['prn']}")
    if m["path"]:
        return Ref(m["path"], f"{CPYTHON}/blob/main/{m['path']}")
    return Ref(m["commit"], f"{CPYTHON}/commit/{m['commit']}")


def references(lines: tuple[str, ...]) -> list[Ref]:
    """Issues, PEPs, pull requests, commits and source files, in order of first mention."""
    seen: dict[str, Ref] = {}
    for line in lines:
        for m in _REF.finditer(line):
            r = _ref(m)
            seen.setdefault(r.label, r)
    return list(seen.values())


def inline(text: str) -> list[nodes.Node]:
    """Text with ``code`` spans and linked references."""
    out: list[nodes.Node] = []
    for i, part in enumerate(text.split("`")):
        if i % 2 == 1 and part:
            out.append(nodes.literal(part, part))
            continue
        at = 0
        for m in _REF.finditer(part):
            if m.start() > at:
                out.append(nodes.Text(part[at:m.start()]))
            r = _ref(m)
            out.append(nodes.reference(r.label, r.label, refuri=r.url))
            at = m.end()
        if at < len(part):
            out.append(nodes.Text(part[at:]))
    return out


def _paragraph(lines: list[str]) -> nodes.paragraph:
    para = nodes.paragraph()
    para.extend(inline(" ".join(x.strip() for x in lines)))
    return para


def blocks(lines: tuple[str, ...]) -> list[nodes.Node]:
    """Paragraphs and bullet lists from doc comment lines."""
    out: list[nodes.Node] = []
    para: list[str] = []
    items: list[list[str]] = []

    def flush() -> None:
        if para:
            out.append(_paragraph(para))
            para.clear()
        if items:
            bullets = nodes.bullet_list()
            for item in items:
                li = nodes.list_item()
                li.append(_paragraph(item))
                bullets.append(li)
            out.append(bullets)
            items.clear()

    for line in lines:
        if not line.strip():
            flush()
        elif line.lstrip().startswith("* "):
            if para:
                flush()
            items.append([line.lstrip()[2:]])
        elif items:
            items[-1].append(line)
        else:
            para.append(line)
    flush()
    return out
