"""Types of the modeling language after checking, and their finite domains.

Every type is finite: booleans, bounded integers, enumerations (user sorts,
enums, interpreters, threads, locks, program counters), options of those, and
maps from tuples of them. Values are plain Python data: bool, int, str (an
enumeration element), None (an empty option) and tuples (a map's cells in
``map_keys`` order).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Union

Value = Union[bool, int, str, None, tuple["Value", ...]]  # noqa: UP007 (recursive alias)


@dataclass(frozen=True, slots=True)
class BoolT:
    def __str__(self) -> str:
        return "bool"


@dataclass(frozen=True, slots=True)
class IntT:
    lo: int
    hi: int

    def __str__(self) -> str:
        return f"int[{self.lo}..{self.hi}]"


@dataclass(frozen=True, slots=True)
class EnumT:
    """A finite sort. Sort names are unique in a program, so equality is by name
    (the lock and procedure sorts grow while declarations are read)."""

    name: str
    values: tuple[str, ...] = field(compare=False)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class OptionT:
    inner: Type

    def __str__(self) -> str:
        return f"{self.inner}?"


@dataclass(frozen=True, slots=True)
class MapT:
    keys: tuple[Type, ...]
    value: Type

    def __str__(self) -> str:
        if len(self.keys) == 1:
            keys = str(self.keys[0])
        else:
            keys = "(" + ", ".join(map(str, self.keys)) + ")"
        return f"{keys} -> {self.value}"


@dataclass(frozen=True, slots=True)
class NoneT:
    """The type of the literal `none` before it meets an option type."""

    def __str__(self) -> str:
        return "none"


Type = Union[BoolT, IntT, EnumT, OptionT, MapT, NoneT]  # noqa: UP007 (forward references)

BOOL = BoolT()


def domain(t: Type) -> tuple[Value, ...]:
    """All values of a finite scalar type, in canonical order."""
    match t:
        case BoolT():
            return (False, True)
        case IntT(lo, hi):
            return tuple(range(lo, hi + 1))
        case EnumT(_, values):
            return values
        case OptionT(inner):
            return (None, *domain(inner))
        case _:
            raise TypeError(f"no finite scalar domain for {t}")


def domain_size(t: Type) -> int:
    match t:
        case BoolT():
            return 2
        case IntT(lo, hi):
            return max(0, hi - lo + 1)
        case EnumT(_, values):
            return len(values)
        case OptionT(inner):
            return 1 + domain_size(inner)
        case MapT(keys, value):
            cells = 1
            for k in keys:
                cells *= domain_size(k)
            size: int = domain_size(value) ** cells
            return size
        case _:
            return 1


def map_keys(t: MapT) -> tuple[tuple[Value, ...], ...]:
    """Index tuples of a map's cells, in the order its value tuple stores them."""
    return tuple(itertools.product(*(domain(k) for k in t.keys)))


def cell_count(t: MapT) -> int:
    n = 1
    for k in t.keys:
        n *= domain_size(k)
    return n


def is_scalar(t: Type) -> bool:
    return not isinstance(t, MapT)


def strip_option(t: Type) -> Type:
    return t.inner if isinstance(t, OptionT) else t


def default_value(t: Type) -> Value:
    """The value a variable starts with when the model gives none."""
    match t:
        case BoolT():
            return False
        case IntT(lo, hi):
            return 0 if lo <= 0 <= hi else lo
        case EnumT(_, values):
            return values[0]
        case OptionT():
            return None
        case MapT(_, value):
            return tuple(default_value(value) for _ in range(cell_count(t)))
        case _:
            return None


def assignable(target: Type, source: Type) -> bool:
    """Whether a value of type `source` may be stored where `target` is expected."""
    if target == source:
        return True
    if isinstance(target, OptionT):
        return isinstance(source, NoneT) or assignable(target.inner, source)
    # int ranges are checked when the value is stored (property `bounds`)
    return isinstance(target, IntT) and isinstance(source, IntT)


def in_type(t: Type, v: Value) -> bool:
    match t:
        case BoolT():
            return isinstance(v, bool)
        case IntT(lo, hi):
            return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi
        case EnumT(_, values):
            return v in values
        case OptionT(inner):
            return v is None or in_type(inner, v)
        case MapT(_, value):
            return isinstance(v, tuple) and len(v) == cell_count(t) and all(
                in_type(value, x) for x in v)
        case _:
            return False
