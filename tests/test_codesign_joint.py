"""Joint co-design (accelsim.codesign.joint and accelsim codesign) against brute force.

Oracles: ``simulate_graph`` of each candidate's stitched graph on each grid point, the area
model, a brute-force ranking and ``pareto_mask`` (itself checked against an all-pairs loop in
test_codesign_pareto) over the same points.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.codesign import codesign
from accelsim.codesign.pareto import pareto_indices, pareto_mask
from accelsim.errors import BudgetError, SpecError, WorkloadError
from accelsim.hardware import PAPER_16X16
from accelsim.hardware.area import area_of
from accelsim.simulation import SimCache, simulate_graph
from accelsim.workload.zoo import load_graph

VARY = {"pe": ["8x8", "16x16"], "buffer": ["32KB", "128KB"]}


@pytest.fixture(scope="module")
def small():  # noqa: ANN201 -- a CodesignResult
    # 6 blocks over 4 stages: C(5, 3) = 10 depth vectors; x 2 widths x 4 hardware points = 80 design points
    return codesign("sqnxt23v2", vary=VARY, widths=[1.0, 2.0], budgets=["blocks=6"], objective="edap")


def test_every_point_equals_a_full_simulation(small) -> None:  # noqa: ANN001
    assert (small.n_candidates, small.n_points, small.size) == (20, 4, 80)
    cache = SimCache()
    spaces = {f.options["width"]: f for f in small.families}
    assert sorted(spaces) == [1.0, 2.0]
    for flat in range(0, small.size, 3):
        d = small.design(flat)
        graph = load_graph("sqnxt23v2", width=d.options["width"], depth=d.depth)
        full = simulate_graph(graph, small.specs[d.point], cache=cache)
        assert d.cycles == pytest.approx(full.cycles, rel=1e-12)
        assert d.energy == pytest.approx(full.energy, rel=1e-12)
        assert d.dram_bytes == pytest.approx(full.dram_words * 2, rel=1e-12)
        assert (d.params, d.macs) == (full.params, full.macs)
        assert d.area_mm2 == area_of(small.specs[d.point]).total


def test_ranking_and_front_match_brute_force(small) -> None:  # noqa: ANN001
    designs = [small.design(f) for f in range(small.size)]
    expected = sorted(designs, key=lambda d: (d.edap, d.cycles, d.energy, d.area_mm2, d.params, d.index))
    assert [d.index for d in small.best(7)] == [d.index for d in expected[:7]]
    points = np.array([(d.cycles, d.energy, d.area_mm2, d.params) for d in designs])
    assert sorted(small.front.tolist()) == np.flatnonzero(pareto_mask(points)).tolist()
    assert all(d.pareto == bool(on) for d, on in zip(designs, pareto_mask(points), strict=True))
    frame = small.to_dataframe()
    assert len(frame) == 80 and frame["rank"].min() == 1 and frame["rank"].max() == 80
    assert frame.loc[frame["rank"] == 1, "edap"].item() == pytest.approx(expected[0].edap)
    assert {"area_mm2", "area_pe_array_mm2", "area_register_files_mm2", "area_global_buffer_mm2",
            "area_other_mm2", "pe", "global_buffer.size_bytes", "depth", "pareto"} <= set(frame.columns)


def test_budgets_and_area() -> None:
    # 8x8 areas at 65 nm: 4.65 mm² (32 KB) and 5.26 mm² (128 KB); 16x16: 18.02 and 18.63 mm²
    r = codesign("sqnxt23v2", vary=VARY, budgets=["blocks=6", "area<=6mm2", "params<=0.6M"], objective="area")
    feasible = [r.design(f) for f in np.flatnonzero(r.feasible.ravel())]
    assert feasible and all(d.area_mm2 <= 6 and d.params <= 600_000 for d in feasible)
    assert {d.hardware_label for d in feasible} == {"8x8/32KB", "8x8/128KB"}
    assert r.budget_failures["area<=6mm2"] == 20  # 10 depths x 2 points of 16x16
    assert r.best(1)[0].hardware_label == "8x8/32KB"
    with pytest.raises(BudgetError, match=r"best reached: area 4\.653 mm² on 8x8/32KB \(limit 1 mm²\)"):
        codesign("sqnxt23v2", vary=VARY, budgets=["blocks=6", "area<=1mm2"])


def test_named_networks_and_references() -> None:
    r = codesign(["sqnxt23", "sqnxt23v5"], vary={"pe": ["8x8", "16x16"], "buffer": ["32KB", "128KB"]})
    assert r.mode == "networks" and r.size == 8
    assert r.references == ()
    for flat in range(r.size):
        d = r.design(flat)
        full = simulate_graph(load_graph(d.network), r.specs[d.point])
        assert d.cycles == pytest.approx(full.cycles, rel=1e-12)
    with pytest.raises(WorkloadError, match="--width apply to one SqueezeNext base"):
        codesign(["sqnxt23", "sqnxt23v5"], widths=[1.0])
    # the paper's v5 on 16x16/128KB is a design point of the 21-block space at width 1.0
    full = codesign("sqnxt23v2", vary={"pe": ["16x16"]}, budgets=["blocks=21"])
    v5 = next(ref for ref in full.references if ref.label == "v5" and ref.hardware == "16x16/128KB")
    assert v5.in_space and v5.depth == (2, 4, 14, 1)
    flat = next(f for f in range(full.size) if full.design(f).depth == (2, 4, 14, 1))
    assert full.design(flat).cycles == pytest.approx(v5.cycles, rel=1e-12)
    assert full.design(flat).paper == "1.0-SqNxt-23v5"
    pts = np.column_stack([full.cycles.ravel(), full.energy.ravel(), np.repeat(full.area, 1)[None, :].repeat(
        full.n_candidates, 0).ravel(), np.repeat(full.params, full.n_points)])
    ref = np.array([v5.cycles, v5.energy, v5.area_mm2, v5.params])
    # the space's own copy of v5 (composed from blocks) equals the whole-network price to
    # rounding: it is v5, it must not count as beating v5 (it did when compared exactly)
    own = pts[flat]
    assert own == pytest.approx(ref, rel=1e-12)
    # brute force: a point beats v5 if it is no worse in all four and better than rounding in one
    slack = 1e-9 * ref
    beats = ((pts <= ref + slack).all(1) & (pts < ref - slack).any(1))
    assert not beats[flat]
    assert v5.dominated_by == int(beats.sum())


def test_infeasible_points_are_counted_and_explained() -> None:
    r = codesign("sqnxt23v2", vary={"buffer": ["64B", "128KB"]}, budgets=["blocks=5"])
    assert r.size == 8 and r.feasible_count == 4 and int(r.runs.sum()) == 4
    (reason, count), = r.infeasible
    assert count == 4 and reason.startswith("16x16/64B: layer ") and "cannot hold even the smallest tile" in reason


def test_limits() -> None:
    with pytest.raises(SpecError, match=r"codesign: 20 design points \(10 networks x 2 hardware points\) exceed "
                                        r"the limit of 10; narrow the space or raise --max-points"):
        codesign("sqnxt23v2", vary={"pe": ["8x8", "16x16"]}, budgets=["blocks=6"], max_points=10)
    with pytest.raises(SpecError, match="unknown field"):
        codesign("sqnxt23v2", vary={"dram.bandwith": ["8GB/s"]})


def test_pareto_indices_equals_pareto_mask() -> None:
    rng = np.random.default_rng(7)
    for n, d in ((6000, 4), (9000, 2), (5000, 3)):
        x = np.round(rng.random((n, d)), 2)  # rounding makes ties and duplicates
        x[:, 1] = np.round(1 - x[:, 0] + 0.2 * x[:, 1], 2)
        assert pareto_indices(x, exact_limit=500, chunk=700).tolist() == np.flatnonzero(pareto_mask(x)).tolist()


# ---- the command ----------------------------------------------------------------------------------
def _run(*args: str):  # noqa: ANN202
    return CliRunner().invoke(app, ["codesign", *args])


def test_cli_report_json_csv_plot(tmp_path) -> None:  # noqa: ANN001
    csv, png = tmp_path / "all.csv", tmp_path / "front.png"
    out = _run("sqnxt23v2", "--pe", "8x8,16x16", "--budget", "blocks=6", "--objective", "edap", "--top", "3",
               "--csv", str(csv), "--plot", str(png))
    assert out.exit_code == 0, out.output
    text = out.output
    assert "codesign: 1.0-SqNxt-23v2: 1 family x 10 depth vectors (blocks=6) = 10 networks; 2 hardware points" in text
    assert "20 design points; objective: edap" in text
    assert "composed exactly: every block priced on its own" in text
    assert "best 3 of 20 feasible designs by edap" in text
    assert "Pareto front over (cycles, energy, area, params):" in text
    assert "paper v5 [2, 4, 14, 1] on 16x16/128KB" in text and "not in the space" in text
    import pandas as pd

    assert len(pd.read_csv(csv)) == 20
    assert png.read_bytes()[:4] == b"\x89PNG"
    data = json.loads(_run("sqnxt23v2", "--pe", "8x8,16x16", "--budget", "blocks=6", "--json", "--top", "2").output)
    assert data["design_points"] == 20 and len(data["best"]) == 2 and data["best"][0]["rank"] == 1
    assert {"stats", "pareto_front", "references", "hardware_points", "cannot_run", "over_budget"} <= set(data)
    assert data["hardware_points"][0]["area_mm2"] == pytest.approx(area_of(
        PAPER_16X16.with_changes({"pe_array.rows": 8, "pe_array.cols": 8})).total)
    assert data["stats"]["distinct_layers_simulated"] > 0


@pytest.mark.parametrize(("args", "message"), [
    (("sqnxt23v2", "--vary", "dram.bandwith=8GB/s"),
     "error: --vary dram.bandwith: unknown field; expected one of dram.bandwidth_bytes_per_s, dram.latency_cycles "
     "(or the shorthands pe, buffer)"),
    (("sqnxt23v2", "--pe", "8x8,16x16", "--budget", "blocks=6", "--budget", "area<=1mm2"),
     "error: codesign: no design point meets the budgets blocks=6, area<=1mm2 (20 design points); best reached: "
     "area 5.263 mm² on 8x8/128KB (limit 1 mm²)"),
    (("sqnxt23v2", "--pe", "8x8,16x16", "--budget", "blocks=6", "--max-points", "5"),
     "error: codesign: 20 design points (10 networks x 2 hardware points) exceed the limit of 5; narrow the "
     "space or raise --max-points"),
    (("sqnxt23v2", "--pe", "8x8,16x16", "--vary", "clock=1GHz,2GHz", "--max-hardware-points", "3"),
     "error: codesign: 4 hardware points (2 pe x 2 clock_hz) exceed the limit of 3; give fewer values or raise "
     "--max-hardware-points"),
    (("sqnxt23v2", "--width", "1.0,x"), "error: --width 1.0,x: expected comma-separated values such as 1.0,2.0"),
    (("sqnxt23v2", "--objective", "speed"), "error: --objective: expected one of cycles, energy, edp, area, edap; "
                                             "got 'speed'"),
])
def test_cli_bad_input_is_one_line(args: tuple[str, ...], message: str) -> None:
    out = _run(*args)
    assert out.exit_code == 2
    assert out.output.strip().splitlines() == [message]
