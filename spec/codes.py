"""The diagnostic-code catalogue: every code, its title, and when it is raised.

Codes are stable and never reused. SC0xx input and syntax, SC1xx names, SC2xx
types, SC3xx statement placement, SC4xx domain rules (locks, threads,
objects, sizes), SC5xx command-line configuration. docs/errors.rst has one
entry per code and tests/test_diagnostics.py triggers each one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from spec.diagnostics import Diagnostic
from spec.source import Span

CODES: dict[str, str] = {
    "SC001": "file cannot be read",
    "SC002": "file is not UTF-8 text",
    "SC003": "unexpected token",
    "SC004": "unexpected character",
    "SC005": "unexpected end of file",
    "SC006": "include cycle",
    "SC007": "file too large",
    "SC008": "no model files found",
    "SC009": "nesting too deep",
    "SC101": "unknown name",
    "SC102": "duplicate declaration",
    "SC103": "model declaration missing or misplaced",
    "SC104": "unknown type",
    "SC105": "unknown property in expectation",
    "SC106": "built-in name redeclared",
    "SC108": "recursive definition",
    "SC201": "type mismatch",
    "SC202": "wrong number of arguments",
    "SC203": "not indexable",
    "SC204": "not callable",
    "SC205": "not assignable",
    "SC206": "constant out of range",
    "SC207": "unsupported type here",
    "SC301": "statement not allowed here",
    "SC302": "statement needs a running thread",
    "SC303": "unbalanced interpreter switch",
    "SC401": "invalid size",
    "SC402": "not a lock",
    "SC403": "not an object",
    "SC404": "not a thread state",
    "SC405": "missing runtime declaration",
    "SC406": "not a constant",
    "SC407": "model too large",
    "SC408": "unknown procedure step",
    "SC501": "unknown parameter on the command line",
    "SC502": "bad parameter value on the command line",
    "SC503": "unknown property selected",
    "SC504": "too many configurations to sweep",
    "SC505": "unknown step for --witness",
}


def make(code: str, message: str, span: Span | None, *, hint: str | None = None,
         notes: Iterable[str] = (), label: str | None = None) -> Diagnostic:
    assert code in CODES, code
    return Diagnostic(code, message, span, hint=hint, notes=tuple(notes), label=label)


def did_you_mean(name: str, known: Iterable[str]) -> str | None:
    guesses = difflib.get_close_matches(name, sorted(set(known)), n=1, cutoff=0.6)
    return f"did you mean `{guesses[0]}`?" if guesses else None


def unknown_name(span: Span, what: str, name: str, known: Iterable[str]) -> Diagnostic:
    known = list(known)
    return make("SC101", f"unknown {what} `{name}`", span, label="not declared",
                hint=did_you_mean(name, known))
