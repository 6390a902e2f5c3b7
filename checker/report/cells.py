"""Flattening states into named cells for display (shared by the reporters)."""

from __future__ import annotations

from spec.program import PROC
from spec.sorts import MapT, Type, Value, map_keys

HIDDEN = frozenset({PROC})  # redundant with the program counter


def hidden(name: str) -> bool:
    """Cells the text report leaves out: the procedure a thread runs and its
    arguments are already on every `call` line."""
    return name in HIDDEN or name.startswith("arg:")


def show_value(v: Value) -> str:
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def cell_name(display: str, key: tuple[Value, ...]) -> str:
    k = ", ".join(show_value(x) for x in key)
    if "[]" in display:
        return display.replace("[]", f"[{k}]")
    return f"{display}[{k}]"


def cells(names: tuple[str, ...], displays: tuple[str, ...], types: tuple[Type, ...],
          state: tuple[Value, ...]) -> list[tuple[str, str, Value]]:
    """(variable, cell name, value) for every visible cell, in declaration order."""
    out: list[tuple[str, str, Value]] = []
    for name, display, t, v in zip(names, displays, types, state, strict=True):
        if hidden(name):
            continue
        if isinstance(t, MapT):
            assert isinstance(v, tuple)
            for key, cell in zip(map_keys(t), v, strict=True):
                out.append((name, cell_name(display, key), cell))
        else:
            out.append((name, display, v))
    return out
