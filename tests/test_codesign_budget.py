"""Budget expressions: valid forms parse to plain numbers; every bad form is a one-line BudgetError."""

from __future__ import annotations

import pytest

from accelsim.codesign.budget import Budget, BudgetKey, BudgetSet, Relation, parse_budget
from accelsim.errors import BudgetError


@pytest.mark.parametrize(
    ("text", "key", "relation", "value"),
    [
        ("blocks=21", BudgetKey.BLOCKS, Relation.EQ, 21.0),
        ("blocks==21", BudgetKey.BLOCKS, Relation.EQ, 21.0),
        ("blocks<=30", BudgetKey.BLOCKS, Relation.LE, 30.0),
        ("params<=1.0M", BudgetKey.PARAMS, Relation.LE, 1.0e6),
        ("params <= 750K", BudgetKey.PARAMS, Relation.LE, 750e3),
        ("macs<=250M", BudgetKey.MACS, Relation.LE, 250e6),
        ("cycles<=1.5e6", BudgetKey.CYCLES, Relation.LE, 1.5e6),
        ("cycles<=1.5M", BudgetKey.CYCLES, Relation.LE, 1.5e6),
        ("energy<=2.5e9", BudgetKey.ENERGY, Relation.LE, 2.5e9),
        ("energy<=2.5G", BudgetKey.ENERGY, Relation.LE, 2.5e9),
        ("Energy<=2.5g", BudgetKey.ENERGY, Relation.LE, 2.5e9),
        ("params<=900000", BudgetKey.PARAMS, Relation.LE, 9e5),
    ],
)
def test_valid_budgets(text: str, key: BudgetKey, relation: Relation, value: float) -> None:
    budget = parse_budget(text)
    assert (budget.key, budget.relation) == (key, relation)
    assert budget.value == pytest.approx(value, rel=1e-12)


def test_budget_prints_canonically() -> None:
    assert str(parse_budget("params<=1.0M")) == "params<=1000000"
    assert str(parse_budget("blocks=21")) == "blocks=21"
    assert str(parse_budget("cycles<=1.25e3")) == "cycles<=1250"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("depth<=3", "unknown key 'depth'"),
        ("params", "missing operator"),
        ("params>=1M", "unsupported operator '>='"),
        ("params<1M", "unsupported operator '<'"),
        ("params=1M", "only blocks can be fixed"),
        ("params<=1.0X", "K/M/G suffix"),
        ("params<=", "K/M/G suffix"),
        ("params<=abc", "K/M/G suffix"),
        ("blocks=21.5", "whole number"),
        ("blocks=0", "must be > 0"),
        ("energy<=-1", "must be > 0"),
        ("<=5", "expected KEY<=VALUE"),
        ("cycles<=1e999", "finite"),
    ],
)
def test_invalid_budgets_are_one_line_errors(text: str, fragment: str) -> None:
    with pytest.raises(BudgetError) as info:
        parse_budget(text)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message and repr(text) in message


def test_budget_set_splits_blocks_from_limits() -> None:
    budgets = BudgetSet.parse(["params<=1M", "blocks<=24", "cycles<=2M"])
    assert budgets.blocks == Budget(BudgetKey.BLOCKS, Relation.LE, 24)
    assert [b.key for b in budgets.limits] == [BudgetKey.PARAMS, BudgetKey.CYCLES]
    assert budgets.to_list() == ["blocks<=24", "params<=1000000", "cycles<=2000000"]
    assert budgets.needs_simulation


def test_key_given_twice_is_an_error() -> None:
    with pytest.raises(BudgetError, match="given twice"):
        BudgetSet.parse(["blocks=21", "blocks<=30"])


def test_block_totals() -> None:
    # no block budget: the base network's total; '=': that total; '<=': every total from s*m up
    assert BudgetSet.parse([]).block_totals(21, 4, 1) == (21,)
    assert BudgetSet.parse(["blocks=18"]).block_totals(21, 4, 1) == (18,)
    assert BudgetSet.parse(["blocks<=10"]).block_totals(21, 4, 2) == (8, 9, 10)


@pytest.mark.parametrize(("spec", "stages", "m"), [("blocks=3", 4, 1), ("blocks<=7", 4, 2), ("blocks=11", 4, 3)])
def test_too_few_blocks_for_the_stages(spec: str, stages: int, m: int) -> None:
    with pytest.raises(BudgetError, match=f"needs >= {stages * m} blocks"):
        BudgetSet.parse([spec]).block_totals(21, stages, m)


def test_limits_hold() -> None:
    class Point:
        params, macs, cycles, energy = 800_000, 228_000_000, 1.4e6, 2.6e9

    assert BudgetSet.parse(["params<=0.8M", "cycles<=1.5M"]).holds(Point())
    assert not BudgetSet.parse(["params<=0.8M", "energy<=2.5G"]).holds(Point())
    assert not BudgetSet.parse(["params<=799999"]).holds(Point())


def test_area_budget_in_square_millimetres() -> None:
    from accelsim.codesign.budget import BudgetKey, parse_budget

    for text in ("area<=1.5mm2", "area<=1.5", "area <= 1.5 mm²", "AREA<=1.5MM2"):
        budget = parse_budget(text)
        assert (budget.key, budget.value, str(budget)) == (BudgetKey.AREA, 1.5, "area<=1.5mm2")
    for text, message in (("area<=1.5M", "expected an area in mm² such as 1.5mm2; got '1.5M'"),
                          ("area=2", "only blocks can be fixed with '='"),
                          ("area<=0mm2", "value must be > 0")):
        with pytest.raises(BudgetError, match=message):
            parse_budget(text)


def test_redistribute_refuses_an_area_budget() -> None:
    from accelsim.codesign import redistribute

    with pytest.raises(BudgetError, match="redistribute runs on one accelerator.*accelsim codesign"):
        redistribute("sqnxt23v2", budgets=["area<=5mm2"])
