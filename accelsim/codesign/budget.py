"""Budgets of a depth-redistribution search, parsed from what people type.

A budget is ``KEY OP VALUE``:

* ``blocks=21``: exactly 21 blocks (units) in total; ``blocks<=21``: any total up to 21.
* ``params<=1.0M``, ``macs<=250M``: model size (parameters, paper convention: weights +
  biases + BN gamma/beta) and pure multiply-accumulates.
* ``cycles<=1.5e6`` / ``cycles<=1.5M``: simulated cycles per inference.
* ``energy<=2.5e9`` / ``energy<=2.5G``: simulated energy, in units of one MAC's energy.
* ``area<=1.5mm2`` (or ``area<=1.5``): the accelerator's silicon area in mm²
  (``accelsim.hardware.area``); only ``accelsim codesign`` searches hardware, so only it takes one.

Values take an optional decimal suffix ``K`` (1e3), ``M`` (1e6) or ``G`` (1e9): these are
counts, not memory sizes, so the suffixes are decimal (unlike ``accelsim.units.parse_bytes``).
Several budgets may be given; all must hold. Every malformed budget raises a one-line
``BudgetError`` naming the expression and what was expected.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from accelsim.errors import BudgetError
from accelsim.limits import MAX_REDISTRIBUTE_BLOCKS

_SUFFIX = {"": 1.0, "K": 1e3, "M": 1e6, "G": 1e9}
_EXPR = re.compile(r"\s*([A-Za-z_]+)\s*(<=|==|=|<|>=|>)?\s*(.*?)\s*")
_NUMBER = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z]?)")


class BudgetKey(StrEnum):
    """What a budget limits."""

    BLOCKS = "blocks"  #: total units over all stages
    PARAMS = "params"  #: parameters (weights + biases + BN gamma/beta)
    MACS = "macs"  #: pure multiply-accumulates per inference
    CYCLES = "cycles"  #: simulated cycles per inference
    ENERGY = "energy"  #: simulated energy per inference (units of one MAC)
    AREA = "area"  #: the accelerator's silicon area, mm²

    @property
    def needs_simulation(self) -> bool:
        """Whether checking the budget needs the simulator (cycles, energy) or only the graph."""
        return self in (BudgetKey.CYCLES, BudgetKey.ENERGY)


class Relation(StrEnum):
    EQ = "="
    LE = "<="


class Measured(Protocol):
    """Anything with the quantities a limit can constrain (a ``Candidate``)."""

    params: int
    macs: int
    cycles: float
    energy: float


@dataclass(frozen=True, slots=True)
class Budget:
    """One parsed budget: ``key relation value`` (``value`` in plain units, e.g. 1.0M -> 1e6)."""

    key: BudgetKey
    relation: Relation
    value: float

    def __str__(self) -> str:
        unit = "mm2" if self.key is BudgetKey.AREA else ""
        return f"{self.key.value}{self.relation.value}{format_count(self.value)}{unit}"

    def holds(self, candidate: Measured) -> bool:
        """Whether ``candidate`` meets this limit (block budgets are met by construction)."""
        if self.key is BudgetKey.BLOCKS:
            return True
        return float(getattr(candidate, self.key.value)) <= self.value


def format_count(value: float) -> str:
    """``1000000.0`` -> ``'1000000'``, ``1.5e6`` -> ``'1500000'``, ``2.5e-3`` -> ``'0.0025'``."""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def parse_budget(text: str) -> Budget:
    """Parse one budget expression such as ``"params<=1.0M"`` or ``"blocks=21"``.

    Raises:
        BudgetError: unknown key, unsupported operator, malformed or non-positive value.
    """
    where = f"budget {text!r}"
    match = _EXPR.fullmatch(text)
    if match is None or not match.group(1):
        raise BudgetError(f"{where}: expected KEY<=VALUE or blocks=N, e.g. 'blocks=21' or 'params<=1.0M'")
    name, op, raw = match.group(1).lower(), match.group(2), match.group(3)
    try:
        key = BudgetKey(name)
    except ValueError:
        known = ", ".join(k.value for k in BudgetKey)
        raise BudgetError(f"{where}: unknown key {name!r}; expected one of {known}") from None
    if op is None:
        raise BudgetError(f"{where}: missing operator; expected '{name}<=VALUE'"
                          + (" or 'blocks=N'" if key is BudgetKey.BLOCKS else ""))
    if op in ("<", ">", ">="):
        raise BudgetError(f"{where}: unsupported operator {op!r}; budgets are upper limits ('<=')"
                          + (" or exact block counts ('blocks=N')" if key is BudgetKey.BLOCKS else ""))
    relation = Relation.EQ if op in ("=", "==") else Relation.LE
    if relation is Relation.EQ and key is not BudgetKey.BLOCKS:
        raise BudgetError(f"{where}: only blocks can be fixed with '='; write '{name}<={raw}'")
    value = _parse_area(raw, where) if key is BudgetKey.AREA else _parse_value(raw, where)
    if key is BudgetKey.BLOCKS and not value.is_integer():
        raise BudgetError(f"{where}: blocks must be a whole number; got {raw!r}")
    if value <= 0:
        raise BudgetError(f"{where}: value must be > 0; got {raw!r}")
    return Budget(key, relation, value)


def _parse_area(raw: str, where: str) -> float:
    """``1.5mm2``, ``1.5 mm²`` or ``1.5``: square millimetres (no K/M/G: areas are not counts)."""
    text = re.sub(r"\s*mm(2|²|\^2)$", "", raw.strip(), flags=re.IGNORECASE)
    match = _NUMBER.fullmatch(text)
    if match is None or match.group(2):
        raise BudgetError(f"{where}: expected an area in mm² such as 1.5mm2; got {raw!r}")
    value = float(match.group(1))
    if not math.isfinite(value):
        raise BudgetError(f"{where}: value must be finite; got {raw!r}")
    return value


def _parse_value(raw: str, where: str) -> float:
    match = _NUMBER.fullmatch(raw)
    if match is None or match.group(2).upper() not in _SUFFIX:
        raise BudgetError(f"{where}: expected a number with an optional K/M/G suffix "
                          f"(e.g. 1.5M, 2.5e9); got {raw!r}")
    value = float(match.group(1)) * _SUFFIX[match.group(2).upper()]
    if not math.isfinite(value):
        raise BudgetError(f"{where}: value must be finite; got {raw!r}")
    return value


@dataclass(frozen=True)
class BudgetSet:
    """All budgets of one search: at most one block budget and at most one limit per key.

    Attributes:
        blocks: the block budget (``blocks=N`` or ``blocks<=N``), or None for the base total.
        limits: upper limits on params, MACs, cycles and energy, in the order given.
    """

    blocks: Budget | None = None
    limits: tuple[Budget, ...] = ()

    @classmethod
    def parse(cls, items: Iterable[str | Budget]) -> BudgetSet:
        """Parse budget expressions; a key given twice is an error (which one would win?)."""
        seen: dict[BudgetKey, Budget] = {}
        for item in items:
            budget = item if isinstance(item, Budget) else parse_budget(item)
            if budget.key in seen:
                raise BudgetError(f"budget {budget.key.value!r} given twice ({seen[budget.key]} and {budget}); "
                                  "give each key once")
            seen[budget.key] = budget
        blocks = seen.pop(BudgetKey.BLOCKS, None)
        return cls(blocks, tuple(seen.values()))

    def __iter__(self) -> Iterator[Budget]:
        return iter(((self.blocks,) if self.blocks else ()) + self.limits)

    def block_totals(self, default_total: int, n_stages: int, min_per_stage: int) -> tuple[int, ...]:
        """The block totals to search, smallest first.

        ``blocks=N`` -> (N,); ``blocks<=N`` -> every total from ``n_stages * min_per_stage``
        to N; no block budget -> (``default_total``,), the base network's total.

        Raises:
            BudgetError: when no total leaves ``min_per_stage`` blocks in every stage.
        """
        if min_per_stage < 1:
            raise BudgetError(f"min-per-stage: must be >= 1; got {min_per_stage}")
        floor = n_stages * min_per_stage
        if self.blocks is None:
            top, exact, what = default_total, True, f"the base network's {default_total} blocks"
        else:
            top, exact, what = int(self.blocks.value), self.blocks.relation is Relation.EQ, f"budget {self.blocks}"
        if top > MAX_REDISTRIBUTE_BLOCKS:
            raise BudgetError(f"{what}: at most {MAX_REDISTRIBUTE_BLOCKS} blocks can be redistributed (each "
                              f"candidate is a network of that many units); got {top:,}")
        if top < floor:
            raise BudgetError(f"{what}: cannot give {n_stages} stages at least {min_per_stage} block(s) each "
                              f"(needs >= {floor} blocks)")
        return (top,) if exact else tuple(range(floor, top + 1))

    def holds(self, candidate: Measured) -> bool:
        return all(limit.holds(candidate) for limit in self.limits)

    @property
    def needs_simulation(self) -> bool:
        return any(limit.key.needs_simulation for limit in self.limits)

    def to_list(self) -> list[str]:
        """The budgets as canonical strings, e.g. ``['blocks=21', 'params<=1000000']``."""
        return [str(b) for b in self]
