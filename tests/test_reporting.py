"""Reporting arithmetic, writers and figures, on hand-built results (no simulation).

Every expected number is derived by hand from the results built here; paper numbers come from
accelsim.paper (SqNxt Table 3 as printed).
"""

from __future__ import annotations

import csv
import io
import json
import math

import pytest

from accelsim import paper
from accelsim.errors import WorkloadError
from accelsim.hardware import PAPER_CONFIGS, Dataflow, HardwareSpec
from accelsim.reporting.breakdown import breakdown_records, plot_breakdown, roofs
from accelsim.reporting.figure6 import figure6_panel, figure6_stats, item_of, plot_figure6
from accelsim.reporting.figure7 import figure7_records, marker_area, plot_figure7
from accelsim.reporting.readme import figure6_statements
from accelsim.reporting.table3 import build_table3, config_key, kendall_tau_b, table3_markdown
from accelsim.reporting.writers import Provenance, csv_text, json_text, save_figure
from accelsim.results import AccessCounts, EnergyBreakdown, LayerResult, NetworkResult
from accelsim.workload.layer import Layer

S8, S16 = PAPER_CONFIGS["8x8"], PAPER_CONFIGS["16x16"]


# ---- hand-built results -----------------------------------------------------------------------


def conv(name: str, cin: int, cout: int, hw: int, k: tuple[int, int] = (1, 1), stride: int = 1) -> Layer:
    pad = (k[0] // 2, k[1] // 2)
    out = (hw + 2 * pad[0] - k[0]) // stride + 1
    return Layer(name, "conv", ("data",), (cin, hw, hw), (cout, out, out), k, (stride, stride), pad)


def pool(name: str, c: int, hw: int) -> Layer:
    return Layer(name, "maxpool", ("data",), (c, hw, hw), (c, hw // 2, hw // 2), (2, 2), (2, 2))


def run(layer: Layer, cycles: float, spec: HardwareSpec = S16, energy: EnergyBreakdown | None = None,
        dram_words: float = 0.0, flow: Dataflow = Dataflow.WS) -> LayerResult:
    pe = spec.pe_array.rows * spec.pe_array.cols
    return LayerResult(layer, flow, None, cycles, cycles, 0.0, dram_words, AccessCounts(),
                       energy or EnergyBreakdown(mac=float(layer.macs)), pe)


def net(name: str, spec: HardwareSpec, runs: list[LayerResult], params: int = 1000) -> NetworkResult:
    return NetworkResult(name, spec, tuple(runs), params, version="test")


def one_layer(name: str, spec: HardwareSpec, cycles: float, energy: float) -> NetworkResult:
    layer = conv("conv1", 3, 8, 4)  # 8*4*4*3 = 384 pure MACs, 384 + 128 outputs = 512 paper MACs
    return net(name, spec, [run(layer, cycles, spec, EnergyBreakdown(dram=energy))], params=720_000)


@pytest.fixture(scope="module")
def table_results() -> dict[str, list[NetworkResult]]:
    """Three Table 3 rows on both paper configs: cycles (8x8, 16x16) and energy (8x8, 16x16)."""
    rows = {
        "1.0-SqNxt-23": (117.0, 125.0, 1.6e9, 1.25e9),
        "1.0-SqNxt-23v5": (100.0, 100.0, 1.3e9, 1.0e9),
        "AlexNet": (400.0, 250.0, 9e9, 8e9),
    }
    return {n: [one_layer(n, S8, c8, e8), one_layer(n, S16, c16, e16)] for n, (c8, c16, e8, e16) in rows.items()}


# ---- Table 3 arithmetic -------------------------------------------------------------------------


def test_table3_normalises_to_fastest_per_configuration_and_compares_with_paper(table_results):
    table = build_table3(table_results, energy_scale=2.0)
    assert [c.key for c in table.configs] == ["8x8", "16x16"]
    assert [c.paper_config for c in table.configs] == [paper.CONFIG_8x8, paper.CONFIG_16x16]
    v1 = table.row("1.0-SqNxt-23")
    # 8x8: 117 / 100 (v5 fastest); paper x1.17 -> deviation 0
    assert v1.cells["8x8"].time == pytest.approx(1.17)
    assert v1.cells["8x8"].paper_time == 1.17
    assert v1.cells["8x8"].time_deviation_pct == pytest.approx(0.0, abs=1e-9)
    # 16x16: 125 / 100 = 1.25 vs paper 1.22 -> +2.459%
    assert v1.cells["16x16"].time == pytest.approx(1.25)
    assert v1.cells["16x16"].time_deviation_pct == pytest.approx(100 * (1.25 - 1.22) / 1.22)
    # energy x scale 2: 1.6e9 * 2 = 3.2e9 = paper (8x8); 1.25e9 * 2 = 2.5e9 = paper (16x16)
    assert v1.cells["8x8"].energy == pytest.approx(3.2e9)
    assert v1.cells["8x8"].energy_deviation_pct == pytest.approx(0.0, abs=1e-9)
    assert v1.cells["16x16"].energy_deviation_pct == pytest.approx(0.0, abs=1e-9)
    # v5 at 2.6e9 vs paper 2.6e9 (8x8), 2.0e9 vs 2.0e9 (16x16)
    assert table.row("1.0-SqNxt-23v5").cells["16x16"].energy_deviation_pct == pytest.approx(0.0, abs=1e-9)
    assert table.fastest("8x8") == table.fastest("16x16") == "1.0-SqNxt-23v5"
    assert table.scale_text().endswith("x a report factor of 2 (--energy-scale)")
    # counts come from the graph: params as given, MACs in the paper's convention
    assert (v1.params, v1.macs, v1.macs_pure) == (720_000, 512, 384)


def test_table3_withheld_cells_are_blank_but_ours_is_shown(table_results):
    table = build_table3(table_results)
    alex = table.row("AlexNet").cells["16x16"]
    assert alex.time == pytest.approx(2.5)  # 250 / 100
    assert alex.paper_time is None and alex.paper_energy is None
    assert alex.time_deviation_pct is None and alex.energy_deviation_pct is None
    record = next(r for r in table.records() if r["network"] == "AlexNet")
    assert record["time_16x16"] == pytest.approx(2.5) and record["paper_time_16x16"] is None
    rows = list(csv.DictReader(io.StringIO(csv_text(table.records()))))
    alex_csv = next(r for r in rows if r["network"] == "AlexNet")
    assert alex_csv["paper_time_16x16"] == "" and alex_csv["time_dev_pct_16x16"] == ""
    assert float(alex_csv["time_16x16"]) == pytest.approx(2.5)
    md_row = next(line for line in table3_markdown(table).splitlines() if line.startswith("| AlexNet"))
    assert "x2.50 |" in md_row and "x1." not in md_row  # our time alone, no paper cell


def test_table3_json_and_csv_columns(table_results):
    table = build_table3(table_results)
    data = json.loads(json_text(table.to_dict(), Provenance("accelsim report table3", "test", ("a",), ("b",))))
    required = {"network", "params", "macs", "cycles_8x8", "time_8x8", "energy_8x8", "cycles_16x16", "time_16x16",
                "energy_16x16", "paper_time_8x8", "paper_energy_16x16", "time_dev_pct_16x16", "energy_dev_pct_8x8"}
    assert required <= set(data["rows"][0])
    assert data["version"] == "test" and set(data["hardware"]) == {"8x8", "16x16"}
    assert data["provenance"]["command"] == "accelsim report table3"
    assert data["hardware"]["16x16"]["spec"]["pe_array"]["rows"] == 16
    text = csv_text(table.records(), Provenance("cmd", "test", ("8x8/32KB", "16x16/128KB"), table.networks))
    assert text.splitlines()[0] == "# command: cmd"
    header = next(line for line in text.splitlines() if not line.startswith("#")).split(",")
    assert header[:4] == ["network", "params", "macs", "macs_pure"]
    assert "cycles_16x16" in header and "energy_dev_pct_16x16" in header


def test_table3_custom_spec_columns_are_named_after_the_label():
    big = S16.with_changes({"pe_array.rows": 32, "pe_array.cols": 32, "global_buffer.size_bytes": "256KB"})
    assert config_key(big.label) == "32x32_256KB"
    results = {"1.0-SqNxt-23": [one_layer("1.0-SqNxt-23", big, 50.0, 1.0)],
               "1.0-SqNxt-23v5": [one_layer("1.0-SqNxt-23v5", big, 40.0, 1.0)]}
    table = build_table3(results)
    cell = table.row("1.0-SqNxt-23").cells["32x32_256KB"]
    assert cell.time == pytest.approx(1.25) and cell.paper_time is None
    assert "cycles_32x32_256KB" in table.records()[0]
    assert table.rank_agreements() == ()  # no paper configuration to compare


def test_table3_rejects_bad_scale_and_mismatched_hardware(table_results):
    with pytest.raises(WorkloadError, match="energy_scale"):
        build_table3(table_results, energy_scale=0.0)
    mixed = dict(table_results) | {"AlexNet": [one_layer("AlexNet", S16, 1.0, 1.0), one_layer("AlexNet", S8, 1, 1)]}
    with pytest.raises(WorkloadError, match="AlexNet"):
        build_table3(mixed)


def test_kendall_tau_b_by_hand():
    # (1,2,3) vs (1,3,2): pairs C, C, D -> (2 - 1) / 3
    assert kendall_tau_b([1, 2, 3], [1, 3, 2]) == pytest.approx(1 / 3)
    # a tie in x: pair (0,1) tied in x; C = 2, D = 0; n0 = 3 -> 2 / sqrt((3-1) * 3)
    assert kendall_tau_b([1, 1, 2], [1, 2, 3]) == pytest.approx(2 / math.sqrt(6))
    assert math.isnan(kendall_tau_b([1, 1], [1, 2]))


def test_rank_agreement_skips_pairs_the_paper_ties(table_results):
    results = dict(table_results)
    # v2 on 8x8: 105 cycles (paper x1.00 like v5: tie, not compared); 16x16: 90 (paper 1.13 > v5's 1.00: reversed)
    results["1.0-SqNxt-23v2"] = [one_layer("1.0-SqNxt-23v2", S8, 105.0, 1.0), one_layer("1.0-SqNxt-23v2", S16, 90, 1)]
    table = build_table3(results)
    by = {(a.config, a.metric): a for a in table.rank_agreements()}
    t8 = by[(paper.CONFIG_8x8, "time")]
    assert set(t8.networks) == {"1.0-SqNxt-23", "1.0-SqNxt-23v5", "1.0-SqNxt-23v2"}
    assert (t8.agreeing_pairs, t8.ordered_pairs) == (2, 2)  # v5<v1 and v2<v1; v2~v5 tied in the paper
    t16 = by[(paper.CONFIG_16x16, "time")]
    assert (t16.agreeing_pairs, t16.ordered_pairs) == (2, 3)
    assert t16.discordant == (("1.0-SqNxt-23v5", "1.0-SqNxt-23v2"),)
    assert "Rank agreement" in table3_markdown(table)


# ---- Figure 6 -------------------------------------------------------------------------------------


def sqnxt_like(spec: HardwareSpec, stem_cycles: float, units: int, name: str) -> NetworkResult:
    """conv1 (7x7), pool1, stage 1 with ``units`` units of squeeze1 + expand, stage 2 one unit."""
    layers = [run(conv("conv1", 3, 64, 16, (7, 7), 2), stem_cycles, spec), run(pool("pool1", 64, 8), 10.0, spec),
              run(conv("s1u1.shortcut", 64, 32, 4), 20.0, spec), run(conv("s1u1.squeeze1", 64, 16, 4), 40.0, spec),
              run(conv("s1u1.expand", 16, 32, 4), 40.0, spec)]
    for u in range(2, units + 1):
        layers += [run(conv(f"s{1}u{u}.squeeze1", 32, 16, 4), 30.0, spec),
                   run(conv(f"s1u{u}.expand", 16, 32, 4), 40.0, spec)]
    layers += [run(conv("s2u1.transition", 32, 64, 4, stride=2), 10.0, spec),
               run(conv("s2u1.squeeze1", 64, 32, 2), 8.0, spec)]
    return net(name, spec, layers)


def test_figure6_items_group_layers_of_one_configuration():
    a = sqnxt_like(S16, 100.0, 3, "A")
    b = sqnxt_like(S16, 60.0, 2, "B")
    panel = figure6_panel([a, b])
    assert panel.items == ("conv1", "pool1", "s1 shortcut 64\u219232", "s1 squeeze1 64\u219216",
                           "s1 expand 16\u219232", "s1 squeeze1 32\u219216", "s2 shortcut 32\u219264/2",
                           "s2 squeeze1 64\u219232")
    # expand of units 1..3 share one configuration: 3 x 40 cycles in A, 2 x 40 in B
    i = panel.items.index("s1 expand 16\u219232")
    assert panel.cycles[0][i] == 120.0 and panel.cycles[1][i] == 80.0
    assert panel.layers[0][i] == 3 and panel.layers[1][i] == 2
    j = panel.items.index("s1 squeeze1 32\u219216")  # units 2..3 (unit 1 reads 64 channels: its own item)
    assert panel.cycles[0][j] == 60.0 and panel.layers[0][j] == 2
    # MACs/cycle of the merged item: 3 * (32*4*4*16) MACs / 120 cycles
    assert panel.efficiency(0)[i] == pytest.approx(3 * 32 * 16 * 16 / 120.0)
    assert math.isnan(panel.efficiency(0)[1])  # pool: no MACs
    # transition (serial) and shortcut (parallel) are the same 1x1/s conv: one label
    assert item_of(conv("s2u1.shortcut", 32, 64, 4, stride=2))[0] == item_of(conv("s2u1.transition", 32, 64, 4,
                                                                                   stride=2))[0]
    shares = {r["item"]: r["share_of_network_cycles"] for r in panel.records() if r["network"] == "A"}
    assert shares["conv1"] == pytest.approx(100.0 / a.cycles)


def test_plot_figure6_draws_one_bar_series_per_network_and_the_efficiency_lines():
    nets16 = [sqnxt_like(S16, 100.0, 3, "A"), sqnxt_like(S16, 60.0, 2, "B")]
    nets8 = [sqnxt_like(S8, 300.0, 3, "A"), sqnxt_like(S8, 200.0, 2, "B")]
    panels = [figure6_panel(nets8), figure6_panel(nets16)]
    fig = plot_figure6(panels)
    bars16, bars8, line16, _ = fig.axes  # bar axes (16x16 on top), then their twins
    assert bars16.get_title(loc="left") == "16x16/128KB" and bars8.get_title(loc="left") == "8x8/32KB"
    assert len(bars16.containers) == 2 and len(bars8.containers) == 2
    heights = [p.get_height() for p in bars16.containers[0]]
    assert heights == pytest.approx([c / 1e3 for c in panels[1].cycles[0]])
    lines = [ln for ln in line16.get_lines() if ln.get_linestyle() == ":"]
    assert len(lines) == 2
    for n, ln in enumerate(lines):
        assert list(ln.get_ydata()) == pytest.approx(list(panels[1].efficiency(n)), nan_ok=True)
    assert "kcycles" in bars16.get_ylabel() and "MACs/cycle" in line16.get_ylabel()
    assert [t.get_text() for t in bars16.get_xticklabels()] == list(panels[1].items)


def test_figure6_stats_first_conv_share_and_stage1_drop():
    r16 = sqnxt_like(S16, 100.0, 3, "1.0-SqNxt-23")
    r8 = sqnxt_like(S8, 300.0, 3, "1.0-SqNxt-23")
    stats = figure6_stats([r8, r16])
    s16 = stats.config(paper.CONFIG_16x16)
    assert stats.configs[0] is s16  # larger array first
    total16 = 100 + 10 + 20 + 40 + 40 + 2 * (30 + 40) + 10 + 8
    assert s16.first_conv == "conv1" and s16.first_conv_share == pytest.approx(100 / total16)
    # stage 1 MACs: shortcut 64*32*16 + squeeze1 64*16*16 + expand 16*32*16 x3 + squeeze1 32*16*16 x2
    macs1 = 64 * 32 * 16 + 64 * 16 * 16 + 3 * 16 * 32 * 16 + 2 * 32 * 16 * 16
    cyc1 = 20 + 40 + 3 * 40 + 2 * 30
    macs2 = 32 * 64 * 4 + 64 * 32 * 4  # transition (stride 2 to 2x2) + squeeze1 on 2x2
    assert s16.stage1_efficiency == pytest.approx(macs1 / cyc1)
    assert s16.later_efficiency == pytest.approx(macs2 / 18)
    assert s16.drop == pytest.approx(1 - (macs1 / cyc1) / (macs2 / 18))
    assert s16.stage1_utilisation == pytest.approx(macs1 / cyc1 / 256)
    # same layers and cycles on 8x8 -> same drop: the first listed (16x16) wins the tie
    assert stats.larger_drop_on == paper.CONFIG_16x16
    text = figure6_statements(stats)
    assert "26.0%" in text and f"{100 * s16.first_conv_share:.1f}%" in text


# ---- Figure 7 and breakdown -----------------------------------------------------------------------


def test_plot_figure7_points_are_energy_and_time_against_paper_top1(table_results):
    table = build_table3(table_results)
    fig = plot_figure7(table)
    assert len(fig.axes) == 4
    ax_energy16, ax_time16 = fig.axes[0], fig.axes[1]
    assert ax_energy16.get_title(loc="left").startswith("16x16/128KB")
    offsets = ax_energy16.collections[0].get_offsets()
    assert offsets[:, 0].tolist() == pytest.approx([1.25e9, 1.0e9, 8e9])
    assert offsets[:, 1].tolist() == pytest.approx([58.98, 59.24, 57.10])  # the paper's top-1
    times = [p[0] for p in ax_time16.collections[0].get_offsets()]
    assert times == pytest.approx([1.25, 1.0, 2.5])
    sizes = ax_energy16.collections[0].get_sizes()
    assert sizes[0] == pytest.approx(marker_area(720_000)) and marker_area(4_000_000) == pytest.approx(230.0)
    assert "energy" in ax_energy16.get_xlabel() and "top-1" in ax_energy16.get_ylabel()
    assert len(figure7_records(table)) == 6


def test_breakdown_stacks_energy_levels_and_draws_roofs():
    # 16 GB/s at 1 GHz = 16 bytes/cycle; sigma 0.4 -> OS roof 256 / 0.6
    spec = S16.with_changes({"clock_hz": 1e9, "dram.bandwidth_bytes_per_s": 16e9, "sparsity.weight_sparsity": 0.4,
                             "dataflows": ["ws", "os"]})
    e = EnergyBreakdown(mac=1e6, register_file=2e6, inter_pe=3e6, global_buffer=4e6, dram=5e6)
    layers = [run(conv("conv1", 3, 64, 16, (7, 7), 2), 1000.0, spec, e, dram_words=1000.0),
              run(conv("s1u1.squeeze1", 64, 16, 4), 100.0, spec, e, dram_words=500.0, flow=Dataflow.OS)]
    result = net("1.0-SqNxt-23", spec, layers)
    fig = plot_breakdown(result)
    ax_e, ax_r = fig.axes
    assert len(ax_e.containers) == 5
    assert [b.get_height() for b in ax_e.containers[4]] == pytest.approx([5.0, 5.0])  # dram, in millions
    r = roofs(result)
    assert r == {"compute": 256.0, "os_effective": pytest.approx(256 / 0.6), "bandwidth_bytes_per_cycle": 16.0}
    assert len(ax_r.collections) == 2  # WS and OS layers
    ws_point = ax_r.collections[0].get_offsets()[0]
    assert tuple(ws_point) == pytest.approx((layers[0].macs / 2000.0, layers[0].macs / 1000.0))
    rec = breakdown_records(result)[1]
    assert rec["energy_total"] == pytest.approx(15e6) and rec["dataflow"] == "os"


def test_save_figure_writes_provenance_and_is_reproducible(tmp_path, table_results):
    from PIL import Image

    prov = Provenance("accelsim report figure7", "test", ("8x8/32KB", "16x16/128KB"), ("AlexNet",))
    fig = plot_figure7(build_table3(table_results))
    png, svg = save_figure(fig, tmp_path / "f.v1.0", prov)
    assert png.name == "f.v1.0.png" and svg.name == "f.v1.0.svg"
    info = Image.open(png).info
    assert info["command"] == "accelsim report figure7" and info["hardware"] == "8x8/32KB, 16x16/128KB"
    first = svg.read_bytes()
    assert b"accelsim report figure7" in first and b"<dc:date>" not in first
    save_figure(fig, tmp_path / "f.v1.0", prov)
    assert svg.read_bytes() == first


def test_figure6_items_of_the_real_sqnxt23_graph():
    """Grouping on the exported 1.0-SqNxt-23 (depth 6,6,8,1; parallel first units): hand counts."""
    from accelsim.workload.zoo import load_graph

    graph = load_graph("1.0-SqNxt-23")
    result = net("1.0-SqNxt-23", S16, [run(layer, 1.0) for layer in graph.layers()])
    panel = figure6_panel([result])
    count = dict(zip(panel.items, panel.layers[0], strict=True))
    assert sum(count.values()) == len(result.layers)  # every layer in exactly one item
    assert count["conv1"] == 1
    assert count["s1 squeeze1 64\u219216"] == 1  # unit 1 reads the 64-channel stem
    assert count["s1 squeeze1 32\u219216"] == 5  # units 2-6
    assert count["s1 squeeze2 16\u21928"] == 6  # same shape in every unit
    assert count["s1 sep3x1 8\u219216"] == 3 and count["s1 sep1x3 8\u219216"] == 3  # odd / even units first
    assert count["s3 squeeze1 128\u219264"] == 7 and count["s2 shortcut 32\u219264/2"] == 1
    assert count["s4 squeeze1 128\u2192128/2"] == 1  # parallel first unit of stage 4: C/2 -> C/2, stride 2


def test_place_labels_keeps_labels_apart():
    from matplotlib.text import Text

    from accelsim.reporting.plotting import new_figure, place_labels

    fig, ax = new_figure(5.0, 4.0)
    xs = [1.0, 1.05, 1.1, 1.0, 1.08, 2.0, 3.0, 3.05]
    ys = [1.0, 1.02, 0.98, 1.05, 1.04, 2.0, 1.0, 1.01]
    ax.scatter(xs, ys, s=60)
    ax.set_xlim(0, 4)
    ax.set_ylim(0, 3)
    labels = place_labels(ax, xs, ys, [f"network {i}" for i in range(len(xs))], [4.0] * len(xs))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [Text.get_window_extent(a, renderer) for a in labels]  # the text alone, not its leader line
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            assert not boxes[i].overlaps(boxes[j]), (labels[i].get_text(), labels[j].get_text())


def test_figure6_unrelated_networks_follow_each_other_in_the_order_given():
    a = net("A", S16, [run(conv("c0", 3, 8, 4), 1.0), run(conv("c1", 8, 8, 4), 1.0)])
    b = net("B", S16, [run(conv("conv1", 3, 8, 4), 1.0), run(conv("c1", 8, 8, 4), 1.0),
                       run(conv("head", 8, 8, 4), 1.0)])
    c = net("C", S16, [run(conv("x", 3, 8, 4), 1.0)])
    # B's conv1 precedes the shared c1; head follows it; C shares nothing and goes last
    assert figure6_panel([a, b, c]).items == ("c0", "conv1", "c1", "head", "x")
