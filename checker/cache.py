"""The result cache: a task's results keyed by everything they depend on.

The key (``task_key``) hashes the normalised model text (includes resolved,
comments and layout gone), the configuration's parameter values, the options
that can change a result, and the tool: speccheck's version, a fingerprint of
its own source files (so a development checkout never reuses results of other
code), and the z3 and Python versions.

An entry is JSON, never pickle: reading one runs no code. It holds no source
locations (they are taken from the current model, so an edit that only moves
lines is still a hit) and carries a checksum of its body. Nothing in it is
trusted as is: a malformed, foreign or tampered entry raises ``EntryError`` and
the task is checked again; every cached counterexample (and witness) is replayed
by the explicit evaluator before it is used, and with ``recheck`` every cached
proof is re-validated through its certificate (``checker.certificate.recheck``).

Only results that are a function of the key are stored: a task with an
``unknown`` result, or with a bounded result cut short by a time limit, is not.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

from checker.certificate import recheck as recheck_certificate
from checker.ir import Property, TransitionSystem
from checker.options import CheckOptions
from checker.replay import ReplayError, validate, validate_steps
from checker.results import Certificate, Coverage, ModelReport, PropertyResult, Trace, Verdict
from checker.run import select
from checker.traces import make_step, make_trace
from spec.sorts import Value
from spec.source import Span

FORMAT = 1
MAGIC = "speccheck-cache"
RECHECK_SECONDS = 60.0  # per certificate re-check of a cached proof


class EntryError(Exception):
    """A cache entry that cannot be used (the message says why)."""


class CacheDirError(Exception):
    """The cache directory cannot be created or written."""


# ---- the key -----------------------------------------------------------------------------


@lru_cache(maxsize=1)
def tool_fingerprint() -> tuple[tuple[str, str], ...]:
    import z3

    import checker
    import spec

    digest = hashlib.sha256()
    for package in (spec, checker):
        # `spec` is a namespace package (no __init__.py, __file__ is None):
        # its directory comes from __path__, never from the working directory
        base = Path(next(iter(package.__path__)))
        for path in sorted(base.rglob("*")):
            if path.suffix in (".py", ".lark") and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(base.parent)).encode() + b"\x00")
                digest.update(path.read_bytes() + b"\x00")
    try:
        version = metadata.version("speccheck")
    except metadata.PackageNotFoundError:
        version = "unknown"
    return (("speccheck", version), ("source", digest.hexdigest()),
            ("z3", z3.get_full_version()), ("python", "{}.{}".format(*sys.version_info[:2])))


def task_key(model_hash: str, options: CheckOptions) -> str:
    """`options` are the task's own (its configuration applied as -D values)."""
    # every option is part of the key (an option added later counts too); -D values
    # are normalised (the last one of a name wins) and --only is a set
    fields = {f.name: getattr(options, f.name) for f in dataclasses.fields(options)}
    fields["defines"] = sorted(dict(options.defines).items())
    fields["only"] = sorted(set(options.only))
    doc = {"format": FORMAT, "tool": dict(tool_fingerprint()), "model": model_hash,
           "options": fields}
    text = json.dumps(doc, sort_keys=True, default=repr)  # repr: an option of another type
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---- the directory -----------------------------------------------------------------------


@dataclass(frozen=True)
class Cache:
    root: Path

    @classmethod
    def open(cls, root: str) -> Cache:
        """Create the directory if needed and make sure it can be written."""
        path = Path(root)
        try:
            (path / f"v{FORMAT}").mkdir(parents=True, exist_ok=True)
            tag = path / "CACHEDIR.TAG"
            if not tag.exists():  # backup tools skip directories carrying this tag
                tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n"
                               "# speccheck's result cache; delete it at any time.\n",
                               encoding="utf-8")
            ignore = path / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# created by speccheck\n*\n", encoding="utf-8")
            with tempfile.NamedTemporaryFile(dir=path / f"v{FORMAT}"):
                pass  # can we write here?
        except OSError as exc:
            raise CacheDirError(f"{root}: {exc.strerror or type(exc).__name__}") from None
        return cls(path)

    def path(self, key: str) -> Path:
        return self.root / f"v{FORMAT}" / key[:2] / f"{key}.json"

    def load(self, key: str) -> tuple[str | None, str | None]:
        """(the entry's text or None, a warning if it exists but cannot be read)."""
        path = self.path(key)
        try:
            return path.read_text(encoding="utf-8"), None
        except FileNotFoundError:
            return None, None
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            return None, f"cache entry {path} cannot be read ({reason}); it is ignored"

    def store(self, key: str, text: str) -> str | None:
        """Write atomically (a reader never sees half an entry); a warning on failure."""
        path = self.path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(text)
                os.replace(tmp, path)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError as exc:
            return f"cannot write cache entry {path} ({exc.strerror or type(exc).__name__})"
        return None


# ---- entries: writing --------------------------------------------------------------------


# the fields an entry stores (or takes from the current model); a report that uses
# any other field (one added after this module was written) is not cached, so that
# an answer from the cache never silently lacks part of a result
KNOWN_REPORT_FIELDS = frozenset({"file", "model", "params", "results", "replay", "states",
                                 "seconds", "coverage", "witness_of", "witness"})
KNOWN_RESULT_FIELDS = frozenset({"name", "kind", "description", "verdict", "engine", "expected",
                                 "depth", "states", "trace", "reason", "check_span", "message",
                                 "certificate", "cti"})


def _only_known(obj: Any, known: frozenset[str]) -> bool:
    for f in dataclasses.fields(obj):
        if f.name in known:
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            return False
        if getattr(obj, f.name) != default:
            return False
    return True


def cacheable(report: ModelReport) -> bool:
    if not _only_known(report, KNOWN_REPORT_FIELDS) or not all(
            _only_known(r, KNOWN_RESULT_FIELDS) for r in report.results):
        return False

    def final(r: PropertyResult) -> bool:
        if r.verdict is Verdict.VIOLATED:
            return r.trace is not None
        if r.verdict is Verdict.BOUNDED:
            return "time limit" not in (r.reason or "")
        return r.verdict is Verdict.PROVED
    return all(final(r) for r in report.results)


def _value(v: Value) -> Any:
    return [_value(x) for x in v] if isinstance(v, tuple) else v


def _trace(t: Trace) -> dict[str, Any]:
    return {"states": [_value(s) for s in t.states],
            "steps": [{"action": s.action, "params": [[n, _value(v)] for n, v in s.params],
                       "failure": s.failure} for s in t.steps]}


def _result(r: PropertyResult) -> dict[str, Any]:
    return {
        "name": r.name, "verdict": r.verdict.value, "engine": r.engine, "depth": r.depth,
        "states": r.states, "reason": r.reason, "message": r.message,
        "trace": None if r.trace is None else _trace(r.trace),
        "certificate": None if r.certificate is None else {
            "smt": r.certificate.smt, "text": r.certificate.text, "size": r.certificate.size},
    }


def _checksum(body: dict[str, Any]) -> str:
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def encode(key: str, report: ModelReport) -> str | None:
    """The entry for a task's report, or None when its results must not be cached."""
    if not cacheable(report):
        return None
    cov = report.coverage
    body = {
        "format": MAGIC, "version": FORMAT, "key": key, "model": report.model,
        "states": report.states,
        "results": [_result(r) for r in report.results],
        "coverage": None if cov is None else {
            "actions": cov.actions, "dead": [a for a, _, _ in cov.dead],
            "vacuous": list(cov.vacuous), "complete": cov.complete},
        "witness": None if report.witness is None else _trace(report.witness),
    }
    return json.dumps({"checksum": _checksum(body), "body": body}, sort_keys=True,
                      ensure_ascii=False) + "\n"


# ---- entries: reading --------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    results: tuple[PropertyResult, ...]
    states: int | None
    coverage: Coverage | None
    witness: Trace | None
    revalidated: bool   # every proof's certificate was re-checked (`recheck`)


def _need(cond: bool, what: str) -> None:
    if not cond:
        raise EntryError(what)


def _decode_value(x: Any) -> Value:
    if isinstance(x, list):
        return tuple(_decode_value(y) for y in x)
    _need(x is None or isinstance(x, bool | int | str), "a state holds a value of no type")
    return x  # type: ignore[no-any-return]


def _decode_trace(ts: TransitionSystem, data: Any) -> Trace:
    _need(isinstance(data, dict) and isinstance(data.get("states"), list)
          and isinstance(data.get("steps"), list), "a trace is malformed")
    states = [_decode_value(s) for s in data["states"]]
    _need(bool(states) and all(isinstance(s, tuple) and len(s) == len(ts.vars)
                               for s in states), "a trace's states do not fit the model")
    steps = []
    for i, s in enumerate(data["steps"]):
        _need(isinstance(s, dict) and isinstance(s.get("params"), list)
              and i < len(states), "a trace step is malformed")
        try:
            action = ts.action(s["action"])
            env = {str(n): _decode_value(v) for n, v in s["params"]}
            steps.append(make_step(ts, action, env, states[i], s.get("failure")))  # type: ignore[arg-type]
        except (KeyError, TypeError, ValueError, IndexError):
            raise EntryError("a trace step does not fit the model") from None
    return make_trace(ts, states, steps)  # type: ignore[arg-type]


def _span(ts: TransitionSystem, p: Property, trace: Trace) -> Span:
    """Where the violated check is, in the current model text (entries keep no spans)."""
    if p.formula is None and trace.steps:
        last = trace.steps[-1]
        for f in ts.action(last.action).failures:
            if f.prop == p.name and f.message == last.failure:
                return f.span
    return p.span


def _replay(ts: TransitionSystem, trace: Trace, p: Property | None) -> None:
    try:
        if p is None:
            validate_steps(ts, trace)
        else:
            validate(ts, trace, p)
    except ReplayError as exc:
        raise EntryError(f"a cached trace does not replay ({exc})") from None
    except Exception as exc:  # odd values can upset the evaluator: still only bad data
        raise EntryError(f"a cached trace does not replay ({type(exc).__name__})") from None


def restore(text: str, key: str, ts: TransitionSystem, options: CheckOptions, *,
            recheck: bool = False) -> Restored | None:
    """The task's results from an entry, replayed (and with `recheck`, proofs
    re-validated); None when `recheck` asks for a re-validation the entry cannot
    give (a proof without certificate, a bounded result): the task is checked again.
    Raises EntryError for an entry that cannot be trusted."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        raise EntryError("not valid JSON") from None
    _need(isinstance(doc, dict) and isinstance(doc.get("body"), dict), "not a cache entry")
    body = doc["body"]
    _need(body.get("format") == MAGIC and body.get("version") == FORMAT,
          "written by another cache format")
    _need(body.get("key") == key, "it belongs to another key")
    _need(doc.get("checksum") == _checksum(body), "its checksum does not match")
    _need(body.get("model") == ts.name, "it names another model")
    props = select(ts, options.only)
    rows = body.get("results")
    _need(isinstance(rows, list) and [r.get("name") if isinstance(r, dict) else None
                                      for r in rows] == [p.name for p in props],
          "its properties are not the model's")
    results: list[PropertyResult] = []
    for p, row in zip(props, rows, strict=True):
        try:
            verdict = Verdict(row["verdict"])
        except (KeyError, ValueError):
            raise EntryError("a verdict is malformed") from None
        _need(verdict is not Verdict.UNKNOWN, "it holds an unknown result")
        trace = None if row.get("trace") is None else _decode_trace(ts, row["trace"])
        _need((trace is not None) == (verdict is Verdict.VIOLATED),
              "a violation without a trace")
        if trace is not None:
            _replay(ts, trace, p)
        cert = row.get("certificate")
        certificate = None
        if cert is not None:
            _need(isinstance(cert, dict) and isinstance(cert.get("smt"), str)
                  and isinstance(cert.get("text"), str) and isinstance(cert.get("size"), int),
                  "a certificate is malformed")
            certificate = Certificate(p.name, cert["smt"], cert["text"], cert["size"])
        if recheck and verdict is not Verdict.VIOLATED:
            if certificate is None or verdict is not Verdict.PROVED:
                return None  # nothing to re-validate with: check the task again
            ok, why = recheck_certificate(ts, p, certificate.smt,
                                          timeout_ms=int(RECHECK_SECONDS * 1000))
            if not ok:
                raise EntryError(f"the certificate of `{p.name}` failed its re-check ({why})")
        for field_, kinds in (("engine", str), ("reason", (str, type(None))),
                              ("message", (str, type(None))), ("depth", (int, type(None))),
                              ("states", (int, type(None)))):
            _need(isinstance(row.get(field_), kinds), f"a result's {field_} is malformed")
        results.append(PropertyResult(
            p.name, p.kind, p.description, verdict, row["engine"], p.expected,
            depth=row["depth"], states=row["states"], trace=trace, reason=row["reason"],
            check_span=None if trace is None else _span(ts, p, trace),
            message=row["message"], certificate=certificate))
    coverage = _decode_coverage(ts, body.get("coverage"))
    witness = None
    if body.get("witness") is not None:
        witness = _decode_trace(ts, body["witness"])
        _replay(ts, witness, None)
    states = body.get("states")
    _need(states is None or isinstance(states, int), "the state count is malformed")
    return Restored(tuple(results), states, coverage, witness, recheck)


def _decode_coverage(ts: TransitionSystem, data: Any) -> Coverage | None:
    if data is None:
        return None
    _need(isinstance(data, dict) and data.get("actions") == len(ts.actions)
          and isinstance(data.get("dead"), list) and isinstance(data.get("vacuous"), list)
          and isinstance(data.get("complete"), bool), "its coverage does not fit the model")
    dead = []
    for action_id in data["dead"]:
        try:
            a = ts.action(action_id)
        except (KeyError, TypeError):
            raise EntryError("its coverage names an unknown step") from None
        dead.append((a.id, a.text, a.span.line_col()[0] if a.span.source.text else None))
    names = {p.name for p in ts.properties}
    _need(all(isinstance(n, str) and n in names for n in data["vacuous"]),
          "its coverage names an unknown property")
    return Coverage(data["actions"], tuple(dead), tuple(data["vacuous"]), data["complete"])
