"""Reading model files: includes, their rules, and file-level checks."""

from __future__ import annotations

import pytest

from spec import syntax as S
from spec.diagnostics import SpecError
from spec.loader import MAX_FILE_BYTES, load_file


def codes_of(path) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_file(path)
    return [d.code for d in info.value.diagnostics]


def test_include_splices_declarations_in_place(write_model):
    """An include's declarations appear where the include was, in order."""
    path = write_model('model m\nvar a: bool\ninclude "runtime.spec"\nvar b: bool\n', runtime=True)
    loaded = load_file(path)
    kinds = [type(d).__name__ for d in loaded.decls]
    assert kinds == ["ModelDecl", "VarDecl", "ParamDecl", "ParamDecl", "InterpretersDecl",
                     "ThreadsDecl", "VarDecl"]
    assert not any(isinstance(d, S.IncludeDecl) for d in loaded.decls)
    assert loaded.files == (str(path), str(path.parent / "runtime.spec"))


def test_include_is_relative_to_the_including_file(write_model):
    """A nested include is resolved from the directory of the file that names it."""
    write_model('include "leaf.spec"\n', "sub/mid.spec")
    write_model("var leaf: bool\n", "sub/leaf.spec")
    top = write_model('model m\ninclude "sub/mid.spec"\n')
    names = [d.name for d in load_file(top).decls if isinstance(d, S.VarDecl)]
    assert names == ["leaf"]


def test_a_file_included_twice_is_read_once(write_model):
    """Including the same file twice (directly or not) adds its declarations once."""
    write_model("var shared_flag: bool\n", "common.spec")
    write_model('include "common.spec"\n', "a.spec")
    top = write_model('model m\ninclude "common.spec"\ninclude "a.spec"\n')
    names = [d.name for d in load_file(top).decls if isinstance(d, S.VarDecl)]
    assert names == ["shared_flag"]


def test_include_may_not_leave_the_model_directory(write_model, tmp_path):
    """An include naming a file outside the top-level directory is SC001."""
    (tmp_path / "outside.spec").write_text("var x: bool\n", encoding="utf-8")
    top = write_model('model m\ninclude "../outside.spec"\n', "inner/model.spec")
    assert codes_of(top) == ["SC001"]


def test_missing_include_is_located_at_the_include(write_model):
    """A missing included file is SC001 pointing at the include declaration."""
    top = write_model('model m\n\ninclude "nope.spec"\n')
    with pytest.raises(SpecError) as info:
        load_file(top)
    (d,) = info.value.diagnostics
    assert d.code == "SC001" and d.span is not None and d.span.line_col() == (3, 1)


def test_included_file_may_not_declare_a_model(write_model):
    """`model` inside an included file is SC103."""
    write_model("model inner\n", "inc.spec")
    top = write_model('model m\ninclude "inc.spec"\n')
    assert codes_of(top) == ["SC103"]


def test_self_include_is_a_cycle(write_model):
    """A file including itself is SC006."""
    top = write_model('model m\ninclude "model.spec"\n')
    assert codes_of(top) == ["SC006"]


def test_syntax_error_in_included_file_names_that_file(write_model):
    """Diagnostics from an included file carry its display path."""
    write_model("var x: bool = = 1\n", "sub/bad.spec")
    top = write_model('model m\ninclude "sub/bad.spec"\n')
    with pytest.raises(SpecError) as info:
        load_file(top)
    (d,) = info.value.diagnostics
    assert d.code == "SC003"
    assert d.span.file.endswith("sub/bad.spec")


def test_byte_order_mark_is_ignored(write_model):
    """A UTF-8 byte order mark at the start of a file is not part of the text."""
    path = write_model("\ufeffmodel m\n".encode("utf-8"))
    loaded = load_file(path)
    assert loaded.decls == (S.ModelDecl("m", (), None),)  # type: ignore[arg-type]


def test_file_at_the_size_limit_is_accepted(write_model):
    """A file of exactly MAX_FILE_BYTES bytes is read; one byte more is SC007."""
    head = "model m\n//"
    exact = head + "x" * (MAX_FILE_BYTES - len(head))
    assert len(exact.encode()) == MAX_FILE_BYTES
    assert load_file(write_model(exact, "exact.spec")).decls[0].name == "m"
    assert codes_of(write_model(exact + "x", "over.spec")) == ["SC007"]


def test_utf8_text_outside_ascii_is_fine_in_comments(write_model):
    """Non-ASCII text in comments and docs is read as UTF-8."""
    path = write_model("/// Modèle — ünïcode\nmodel m\n// ß\n")
    assert load_file(path).decls[0].docs == ("Modèle — ünïcode",)
