"""Calibration by grouped cross-validation, the ensemble and its error bands.

Sources: the measurements are SqNxt Table 3's SqueezeNext rows (Gholami et al. 2018,
``hwconfigs/calibration/table3_squeezenext.csv`` = ``accelsim.paper.TABLE3`` minus the
withheld rows). The committed paper configurations must reproduce the fit recorded in their
``calibration`` section (the in-sample error of every cell to 0.2 points) and the done-when
tolerances of issue 9: seen Table 3 cells within 5 % (time) and 12 % (energy). The CV
selection rule and the bands are checked on hand-made problems whose answers are derived in
the tests.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from accelsim import paper
from accelsim.calibration import load_measurements, parse_knob, parse_measurements
from accelsim.calibration.bands import member_specs, network_band
from accelsim.calibration.fit import CONTINUOUS, ENERGY, STRUCTURAL, Knob, Problem, Simulated, cross_validate
from accelsim.errors import CalibrationError
from accelsim.hardware import PAPER_CONFIGS
from accelsim.hardware.spec import Calibration, CalibrationMember
from accelsim.results import AccessCounts
from accelsim.simulation import SimCache, simulate_graph
from accelsim.workload.graph import LayerGraph
from accelsim.workload.layer import Layer

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "hwconfigs" / "calibration" / "table3_squeezenext.csv"


# ---- the data ----------------------------------------------------------------------------------
def test_committed_data_is_the_seen_table3_rows_only() -> None:
    data = load_measurements(DATA)
    assert "SqueezeNext" in data.source and "Table 3" in data.source
    seen = {(r.name, config): r.cell(config) for r in paper.TABLE3 if not r.withheld for config in paper.CONFIGS}
    got = {(m.network, m.hardware): m for m in data.rows}
    assert set(got) == set(seen)  # 8 networks x 2 configurations, no withheld row
    for key, cell in seen.items():
        assert got[key].value("time_rel") == cell.time and got[key].value("energy") == cell.energy
        assert got[key].family == key[0].split("-")[0]
    withheld = {r.name for r in paper.TABLE3 if r.withheld}
    assert not withheld & {m.network for m in data.rows}


@pytest.mark.parametrize(("text", "message"), [
    ("network,hardware\nx,8x8\n", "m.csv:1: no measured column"),
    ("network,hardware,cycles,speed\n", "m.csv:1: unknown column 'speed'"),
    ("network,hardware,cycles\nsqnxt23,8x8,-3\n", "m.csv:2: cycles: expected a number > 0 (got '-3')"),
    ("# c\nnetwork,hardware,cycles\nsqnxt23,8x8,1e6\nsqnxt23,8x8,2e6\n", "m.csv:4: sqnxt23 on 8x8 repeats line 3"),
    ("network,hardware,cycles\nsqnxt23,,5\n", "m.csv:2: hardware: empty"),
])
def test_bad_measurements_are_one_line_errors(text: str, message: str) -> None:
    with pytest.raises(CalibrationError) as info:
        parse_measurements(text, "m.csv")
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_knob_kinds() -> None:
    base = PAPER_CONFIGS["8x8"]
    clock = parse_knob("clock=500MHz:1GHz", base, points=3)
    # geometric grid 500, 707.1, 1000 MHz, rounded to 3 significant figures
    assert (clock.kind, clock.values) == (CONTINUOUS, (5e8, 7.07e8, 1e9))
    assert parse_knob("energy.scale=0.2:2", base).kind == ENERGY
    assert parse_knob("model.fuse_pool", base).values == (False, True)
    assert parse_knob("model.psum_words=1,2", base).values == (1, 2)
    for bad, message in (("clock=1GHz:500MHz", "expected LO < HI"), ("pe_array.rowz", "unknown field"),
                         ("model.psum_words", "give the values")):
        with pytest.raises(CalibrationError, match=message):
            parse_knob(bad, base)


# ---- the selection rule, on a hand-made problem --------------------------------------------------
def _toy_problem() -> Problem:
    """Four networks in two families measured at 1.0 Mcycles each; one structural knob with two
    settings and a 3-point continuous grid, predictions written in by hand (no simulation).

    * setting 0 ("rigid"): every grid point predicts [1.05, 0.95, 1.05, 0.95]: 5 % everywhere,
      in sample and held out.
    * setting 1 ("flexible"): point 0 fits all four to 2 % ([1.02]*4); point 1 is exact on
      family A and 50 % off on B; point 2 the reverse.

    In sample, setting 1 wins (RMS 2 % < 5 %). Leave-one-family-out: trained on A alone it picks
    point 1 (exact on A) and misses B by 50 %, and back. Leave-one-network-out: trained on three
    networks, point 0 (2 % each) beats points 1/2 (sqrt(2/3)*50 %), so the held-out one is 2 % off.
    CV RMS of setting 1 = sqrt((4 * 0.5^2 + 4 * 0.02^2) / 8) = 35.4 %; of setting 0 it is 5 %.
    """
    text = "network,family,hardware,cycles\n" + "".join(f"{n},{f},8x8,1e6\n" for n, f in
                                                        (("a", "A"), ("b", "A"), ("c", "B"), ("d", "B")))
    measurements = parse_measurements(text, "toy.csv")
    knobs = [Knob("model.fuse_pool", STRUCTURAL, (False, True), ("false", "true")),
             Knob("clock_hz", CONTINUOUS, (1e9, 2e9, 3e9), ("1GHz", "2GHz", "3GHz"))]
    problem = Problem(measurements, {"8x8": PAPER_CONFIGS["8x8"]}, {}, knobs)
    rigid = [1.05e6, 0.95e6, 1.05e6, 0.95e6]
    flexible = [[1.02e6] * 4, [1e6, 1e6, 1.5e6, 1.5e6], [1.5e6, 1.5e6, 1e6, 1e6]]
    for p in range(3):
        problem.table[(0, p)] = Simulated(tuple(rigid), (AccessCounts(),) * 4)
        problem.table[(1, p)] = Simulated(tuple(flexible[p]), (AccessCounts(),) * 4)
    return problem


def test_best_in_sample_but_worse_held_out_loses() -> None:
    result = cross_validate(_toy_problem(), ("family", "network"), tolerance=0.01)
    rigid, flexible = sorted(result.settings, key=lambda s: s.index)
    assert flexible.fit_error == pytest.approx(0.02) and rigid.fit_error == pytest.approx(0.05)
    assert flexible.cv_error == pytest.approx(math.sqrt((4 * 0.25 + 4 * 0.02**2) / 8))
    assert rigid.cv_error == pytest.approx(0.05)
    assert result.best is rigid  # selected by CV, not by the in-sample fit
    assert result.ensemble == (rigid,)  # 35 % is far outside best + 1 point
    # every row is held out exactly once per fold group
    for group in ("family", "network"):
        held = sorted(i for f in rigid.folds if f.group == group for (_, i) in f.errors)
        assert held == [0, 1, 2, 3]
    record = result.record("accelsim calibrate toy.csv")
    assert [m.knob_dict()["model.fuse_pool"] for m in record.members] == [False]
    assert {(f.group, f.held_out) for f in record.folds} == {("family", "A"), ("family", "B"),
                                                             *(("network", n) for n in "abcd")}


# ---- bands -------------------------------------------------------------------------------------
def _graph(with_pool: bool) -> LayerGraph:
    g = LayerGraph("with-pool" if with_pool else "no-pool", (16, 32, 32))
    g.add(Layer("conv1", "conv", ("data",), (16, 32, 32), (32, 32, 32), kernel=(3, 3), padding=(1, 1)))
    if with_pool:
        g.add(Layer("pool", "maxpool", ("conv1",), (32, 32, 32), (32, 16, 16), kernel=(2, 2), stride=(2, 2)))
        g.add(Layer("conv2", "conv", ("pool",), (32, 16, 16), (32, 16, 16)))
    else:
        g.add(Layer("conv2", "conv", ("conv1",), (32, 32, 32), (32, 32, 32)))
    return g


def test_band_is_narrow_where_members_agree_and_wide_where_an_assumption_matters() -> None:
    """Two members that differ only in model.fuse_pool: a network without a pool cannot tell
    them apart (zero-width band); one whose conv feeds a pool depends on that untested choice
    (fused, the conv writes the 4x smaller pooled tensor and the pool layer disappears)."""
    base = PAPER_CONFIGS["16x16"]
    cal = Calibration(data="hand-made", command="-", version="-", tolerance=0.01, settings=2, folds=(),
                      members=(CalibrationMember(knobs=(("model.fuse_pool", False),), cv_error=0.05, fit_error=0.04),
                               CalibrationMember(knobs=(("model.fuse_pool", True),), cv_error=0.055, fit_error=0.03)))
    spec = base.model_validate(base.model_dump() | {"calibration": cal.model_dump(), "model": base.model.model_dump()
                                                    | {"fuse_pool": False}})
    cache = SimCache()
    narrow = network_band(_graph(False), spec, cache=cache)
    wide = network_band(_graph(True), spec, cache=cache)
    assert narrow.cycles[0] == narrow.cycles[1] and narrow.energy[0] == narrow.energy[1]
    fused = simulate_graph(_graph(True), spec.with_changes({"model.fuse_pool": True}))
    unfused = simulate_graph(_graph(True), spec)
    assert wide.cycles == (min(fused.cycles, unfused.cycles), max(fused.cycles, unfused.cycles))
    assert wide.energy == (min(fused.energy, unfused.energy), max(fused.energy, unfused.energy))
    assert wide.energy[1] / wide.energy[0] > 1.05  # the pool's DRAM round trip is a real difference
    # a knob the user changed is held at the user's value for every member: no band from it
    mine = spec.with_changes({"model.fuse_pool": True})
    assert all(m.model.fuse_pool for m in member_specs(mine))


def test_the_regeneration_command_is_quoted_where_it_is_used() -> None:
    from accelsim.calibration.table3 import paper_command

    command = paper_command()
    assert command in (ROOT / "hwconfigs" / "README.md").read_text()
    assert command in (ROOT / "README.md").read_text()
    assert PAPER_CONFIGS["8x8"].calibration is not None
    assert PAPER_CONFIGS["8x8"].calibration.command == command  # the committed files came from it


# ---- the committed paper configurations reproduce their fit ---------------------------------------
@pytest.fixture(scope="module")
def paper_runs():
    from accelsim.workload.zoo import load_graph

    cache = SimCache()
    names = [r.name for r in paper.TABLE3 if not r.withheld]
    return {key: {n: simulate_graph(load_graph(n), spec, cache=cache) for n in names}
            for key, spec in PAPER_CONFIGS.items()}


def test_paper_configs_carry_the_cross_validated_calibration() -> None:
    a, b = PAPER_CONFIGS["8x8"].calibration, PAPER_CONFIGS["16x16"].calibration
    assert a is not None and a == b  # one joint fit of both configurations
    assert "hwconfigs/calibration/table3_squeezenext.csv" in a.data and a.command.startswith("accelsim calibrate")
    assert {f.group for f in a.folds} == {"family", "hardware", "network"}
    assert len(a.members) >= 1 and a.members[0].cv_error == min(m.cv_error for m in a.members)
    assert all(m.cv_error <= a.members[0].cv_error + a.tolerance + 1e-9 for m in a.members)
    for spec in PAPER_CONFIGS.values():  # the spec's own values are the selected member's
        data = spec.model_dump(mode="json")
        for path, value in a.members[0].knobs:
            node = data
            for key in path.split("."):
                node = node[key]
            assert node == value, path


def test_paper_configs_reproduce_the_recorded_fit(paper_runs) -> None:
    cal = PAPER_CONFIGS["16x16"].calibration
    assert cal is not None
    cells = {(c.network, c.hardware, c.quantity): c for c in cal.cells}
    for key, spec in PAPER_CONFIGS.items():
        runs = paper_runs[key]
        # time_rel normaliser of the fit: geometric mean of paper / ours over the configuration's rows
        logs = [math.log(cells[(n, spec.label, "time_rel")].measured / r.cycles) for n, r in runs.items()]
        k = math.exp(sum(logs) / len(logs))
        for n, r in runs.items():
            t, e = cells[(n, spec.label, "time_rel")], cells[(n, spec.label, "energy")]
            assert k * r.cycles / t.measured - 1 == pytest.approx(t.fit_error, abs=2e-3), (n, key)
            assert r.energy / e.measured - 1 == pytest.approx(e.fit_error, abs=2e-3), (n, key)


def test_seen_table3_cells_within_the_issue_tolerances(paper_runs) -> None:
    """Issue 9 done-when: every seen cell's time within 5 % (Table 3's normalisation: our
    cycles over our fastest network's on that configuration) and energy within 12 %, with the
    cross-validation-selected setting (the README states the worst cells)."""
    for key, spec in PAPER_CONFIGS.items():
        runs = paper_runs[key]
        fastest = min(r.cycles for r in runs.values())
        for n, r in runs.items():
            cell = paper.paper_row(n).cell(spec.label)
            assert abs(r.cycles / fastest / cell.time - 1) <= 0.05, (n, key)
            assert abs(r.energy / cell.energy - 1) <= 0.12, (n, key)
