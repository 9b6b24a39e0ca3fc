"""``accelsim.codesign.sweep``: grid construction, exactness against ``accelsim.simulate``,
monotonicity the engine guarantees, Pareto flags against brute force, infeasible points, plots.

Sources of the expected numbers: the grid size is the product of the value-list lengths; each
point's metrics must equal a direct ``accelsim.simulate`` on a spec built independently with
``resolve_hardware`` (the ``run`` command's path); the monotonicity bounds follow from the
per-layer properties of tests/test_engine_properties.py; the smallest buffer conv1 of
1.0-SqNxt-23 fits (396 B, double-buffered) is the README's ``run --buffer 64B`` message.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest

import accelsim
from accelsim.codesign import SweepResult, sweep
from accelsim.codesign.hw_sweep import grid_size, make_axes, parse_vary, split_values
from accelsim.errors import SpecError, WorkloadError
from accelsim.hardware import PAPER_CONFIGS, resolve_hardware
from accelsim.simulation import SimCache
from accelsim.workload.zoo import load_graph

NET = "sqnxt23"
NET_NAME = "1.0-SqNxt-23"
BASE = PAPER_CONFIGS["16x16"]


@pytest.fixture(scope="module")
def grid() -> SweepResult:
    """2 networks x (3 PE arrays x 2 buffers) = 12 simulations."""
    return sweep([NET, "sqnxt23v5"], None, {"pe": ["8x8", "16x16", "32x32"], "buffer": ["32KB", "128KB"]})


def test_split_and_parse_vary() -> None:
    assert split_values("8x8, 16x16") == ["8x8", "16x16"]
    assert split_values("[ws],[ws,os]") == ["[ws]", "[ws,os]"]  # commas inside brackets stay
    assert parse_vary("dram.bandwidth=8GB/s,16GB/s") == ("dram.bandwidth", ["8GB/s", "16GB/s"])
    for bad in ("dram.bandwidth", "=1,2", "clock=1GHz,,2GHz"):
        with pytest.raises(SpecError):
            parse_vary(bad)


def test_point_count_is_the_product_of_the_value_lists() -> None:
    axes = make_axes({"pe": ["8x8", "16x16"], "global_buffer.size": ["32KB", "64KB", "128KB"],
                      "dram.latency": [50, 100], "dataflows": ["[ws]", "[os]", "[ws,os]"]}, BASE)
    assert grid_size(axes) == 2 * 3 * 2 * 3 == 36
    assert [a.key for a in axes] == ["pe", "global_buffer.size_bytes", "dram.latency_cycles", "dataflows"]
    assert axes[1].values == (32768, 65536, 131072) and axes[1].labels == ("32KB", "64KB", "128KB")
    assert axes[3].values == (["ws"], ["os"], ["ws", "os"])


def test_grid_rows_and_metrics(grid: SweepResult) -> None:
    assert grid.size == 6 and len(grid.points) == 12 and grid.networks == ("1.0-SqNxt-23", "1.0-SqNxt-23v5")
    # product order: the first axis varies slowest
    assert [p.labels for p in grid.rows("1.0-SqNxt-23")] == [
        ("8x8", "32KB"), ("8x8", "128KB"), ("16x16", "32KB"), ("16x16", "128KB"), ("32x32", "32KB"),
        ("32x32", "128KB")]
    for p in grid.points:
        assert p.feasible and p.cycles and p.energy and p.time_s and p.efficiency
        pes = p.hardware.pe_array.rows * p.hardware.pe_array.cols
        assert p.time_s == p.cycles / p.hardware.clock_hz and p.edp == p.energy * p.cycles
        # PE utilisation counts non-zero MACs only (sigma = 0.4 everywhere but none dense here),
        # so it is below the dense-equivalent fraction of peak and never above 1
        assert 0 < p.utilisation < p.efficiency / pes and p.utilisation <= 1
    # the cache is shared: the two networks' stem and tail layers repeat across points
    assert grid.cache_hits > 0


def test_each_point_equals_a_direct_simulation(grid: SweepResult) -> None:
    for p in grid.points:
        spec = resolve_hardware(None, p.labels[0], p.labels[1], ())
        assert spec == p.hardware.model_copy(update={"name": spec.name})  # same fields, independently built
        direct = accelsim.simulate(p.network, spec)
        assert (p.cycles, p.energy, p.time_s, p.efficiency, p.macs) == (
            direct.cycles, direct.energy, direct.time_s, direct.efficiency, direct.macs)
        assert p.dram_bytes == direct.dram_words * spec.word_bytes
    # the paper's 16x16/128KB point is the README's `accelsim run sqnxt23` total
    base_point = next(p for p in grid.rows("1.0-SqNxt-23") if p.labels == ("16x16", "128KB"))
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    shown = re.search(r"^cycles +([\d,]+) ", readme, re.M)
    assert shown and round(base_point.cycles) == int(shown.group(1).replace(",", ""))


def test_ranks_follow_the_objective_and_pareto_matches_brute_force(grid: SweepResult) -> None:
    for network in grid.networks:
        ranked = grid.ranked(network)
        assert [p.rank for p in ranked] == list(range(1, 7))
        assert [p.cycles for p in ranked] == sorted(p.cycles for p in ranked)
        rows = grid.rows(network)
        for p in rows:
            dominated = any(q.cycles <= p.cycles and q.energy <= p.energy
                            and (q.cycles, q.energy) != (p.cycles, p.energy) for q in rows)
            assert p.pareto is (not dominated), (network, p.labels)
        front = grid.pareto(network)
        assert front and [p.cycles for p in front] == sorted(p.cycles for p in front)
    by_energy = sweep(NET, None, {"pe": ["8x8", "16x16", "32x32"], "buffer": ["32KB", "128KB"]}, objective="edp")
    edps = [p.edp for p in by_energy.ranked("1.0-SqNxt-23")]
    assert edps == sorted(edps)
    best = grid.best_overall()
    assert best is not None
    scores = {}
    for i in range(grid.size):
        c = [p.cycles for p in grid.points if p.point == i]
        scores[i] = math.sqrt(c[0] * c[1])
    assert best[0] == min(scores, key=scores.__getitem__) and best[1] == pytest.approx(min(scores.values()))


def test_more_bandwidth_and_bigger_buffers_never_cost_cycles() -> None:
    """Per layer, more bandwidth or a bigger buffer never adds a whole cycle
    (test_engine_properties), so a network's total may rise by less than one cycle per layer."""
    layers = len(load_graph(NET).layers())
    result = sweep(NET, None, {"dram.bandwidth": ["4GB/s", "8GB/s", "16GB/s", "32GB/s", "64GB/s"],
                               "buffer": ["16KB", "64KB", "256KB"]})
    rows = result.rows("1.0-SqNxt-23")
    by = {p.labels: p.cycles for p in rows}
    bandwidths, buffers = result.axes[0].labels, result.axes[1].labels
    for buf in buffers:
        for slow, fast in zip(bandwidths, bandwidths[1:], strict=False):
            assert by[(fast, buf)] <= by[(slow, buf)] + layers
    for bw in bandwidths:
        for small, big in zip(buffers, buffers[1:], strict=False):
            assert by[(bw, big)] <= by[(bw, small)] + layers
    # and the effect is real, not flat: 16x the bandwidth is over 3x faster on this network
    assert by[("4GB/s", "64KB")] > 3 * by[("64GB/s", "64KB")]


def test_infeasible_points_are_rows_with_the_reason() -> None:
    result = sweep(NET, None, {"buffer": ["64B", "32KB"]})
    small, ok = result.rows("1.0-SqNxt-23")
    assert not small.feasible and small.cycles is None and small.rank is None and not small.pareto
    assert "conv1" in str(small.reason) and "396 bytes" in str(small.reason)
    assert ok.feasible and ok.rank == 1 and ok.pareto
    data = result.to_dict()
    assert data["infeasible"] == 1 and [p["feasible"] for p in data["points"]] == [True, False]
    frame = result.to_dataframe()
    assert list(frame["feasible"]) == [False, True] and frame["rank"].isna().tolist() == [True, False]


def test_bad_fields_and_values_fail_before_any_simulation() -> None:
    calls: list[int] = []

    def run(vary: dict[str, list[object]], **kw: object) -> None:
        sweep(NET, None, vary, progress=lambda done, total: calls.append(done), **kw)  # type: ignore[arg-type]

    with pytest.raises(SpecError, match=r"--vary dram\.bandwith: unknown field; expected one of "
                                        r"dram\.bandwidth_bytes_per_s"):
        run({"dram.bandwith": ["8GB/s"]})
    with pytest.raises(SpecError, match=r"--vary pe_array\.rows=0: pe_array\.rows: must be >= 1 \(got 0\)"):
        run({"pe_array.rows": ["8", "0"]})
    with pytest.raises(SpecError, match=r"dram\.bandwidth=fast: .*expected a number or a rate"):
        run({"dram.bandwidth": ["16GB/s", "fast"]})
    with pytest.raises(SpecError, match=r"--pe 8x: pe: expected ROWSxCOLS"):
        run({"pe": ["8x8", "8x"]})
    with pytest.raises(SpecError, match="listed twice"):
        run({"buffer": ["32KB", "32768"]})
    with pytest.raises(SpecError, match=r"pe_array\.rows is already varied by pe"):
        run({"pe": ["8x8"], "pe_array.rows": ["4"]})
    with pytest.raises(SpecError, match=r"12,000 points \(200 pe_array\.rows x 60 pe_array\.cols\) exceed the limit"):
        run({"pe_array.rows": list(range(1, 201)), "pe_array.cols": list(range(1, 61))})
    with pytest.raises(SpecError, match="exceed the limit of 5"):
        run({"pe_array.rows": [1, 2, 3], "pe_array.cols": [1, 2]}, max_points=5)
    with pytest.raises(SpecError, match="objective"):
        run({}, objective="speed")
    with pytest.raises(WorkloadError, match="listed twice"):
        sweep([NET, "1.0-SqNxt-23"], None, {})
    assert calls == []


def test_python_values_shared_cache_and_dataframe() -> None:
    cache = SimCache()
    text = sweep(NET, "8x8", {"pe": ["8x8"], "global_buffer.size": ["32KB"]}, cache=cache)
    misses = cache.misses
    native = sweep(NET, "8x8", {"pe": [(8, 8)], "global_buffer.size_bytes": [32768]}, cache=cache)
    assert cache.misses == misses  # the same spec: every layer served from the shared cache
    assert native.points[0].cycles == text.points[0].cycles and native.points[0].labels == ("8x8", "32KB")
    frame = text.to_dataframe()
    assert {"pe", "global_buffer.size_bytes", "network", "cycles", "time_s", "energy", "edp", "efficiency",
            "feasible", "pareto", "dram_mb"} <= set(frame.columns)
    assert frame.loc[0, "global_buffer.size_bytes"] == 32768 and frame.loc[0, "pe"] == "8x8"


def test_plot_series_follow_the_number_of_fields(grid: SweepResult) -> None:
    from accelsim.reporting.sweep_plot import plot_kind, plot_sweep

    heat = plot_sweep(grid)
    assert plot_kind(grid) == "heatmap"
    panels = [ax for ax in heat.axes if ax.images]
    assert len(panels) == 4 and all(len(ax.images) == 1 for ax in panels)  # 2 networks x (cycles, energy)
    assert panels[0].images[0].get_array().shape == (3, 2)

    line = sweep([NET, "sqnxt23v5"], None, {"dram.bandwidth": ["8GB/s", "16GB/s", "32GB/s"]})
    fig = plot_sweep(line)
    plotted = [ax for ax in fig.axes if ax.lines]
    assert plot_kind(line) == "line" and len(plotted) == 2 and all(len(ax.lines) == 2 for ax in plotted)
    assert list(plotted[0].lines[0].get_xdata()) == [8e9, 16e9, 32e9] and plotted[0].get_xscale() == "linear"

    scatter = sweep(NET, None, {"pe": ["8x8", "16x16"], "buffer": ["32KB", "128KB"], "dram.latency": [50, 100]})
    ax = plot_sweep(scatter, colour_by="dram.latency").axes[0]
    # one series per latency value, plus the ringed front; the front's staircase is a line
    assert len(ax.collections) == 3 and len(ax.lines) == 1
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    front = len(scatter.pareto(NET_NAME))
    assert legend == ["dram.latency = 50 (4)", "dram.latency = 100 (4)", f"Pareto front ({front})"]
    with pytest.raises(SpecError, match="not a varied field"):
        plot_sweep(scatter, colour_by="clock")


def test_package_level_sweep_is_the_function() -> None:
    # the module is hw_sweep, so importing it cannot shadow accelsim.codesign.sweep (the function)
    import accelsim.codesign
    import accelsim.codesign.hw_sweep

    assert callable(accelsim.codesign.sweep) and accelsim.codesign.sweep is accelsim.codesign.hw_sweep.sweep
