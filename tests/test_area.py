"""The area model (accelsim.hardware.area) against hand derivations from the sourced figures.

Sources: Aladdin 40 nm (32x32 multiplier 6,350 um², 32-bit adder
278 um², register 5.98 um²/bit), CACTI 7 SRAM areas (8/32/128 KB at 65/45/32/22 nm), Eyeriss
(JSSC 2017: 168 PEs, 0.5 KB RF each, 108 KB buffer, 65 nm, 12.25 mm² core).
"""

from __future__ import annotations

import json
import math

import pytest

from accelsim.errors import SpecError
from accelsim.hardware import PAPER_8X8, PAPER_16X16, HardwareSpec
from accelsim.hardware.area import CACTI7_SRAM_MM2, area_of, mac_um2, sram_mm2

# one 16-bit MAC at 40 nm: 6350 * (16/32)^2 + 278 * (32/32) = 1587.5 + 278 = 1865.5 um² ("about 0.0019 mm²")
MAC16_40NM_UM2 = 1865.5
# 65 nm from 40 nm, ideal scaling: (65/40)^2 = 2.640625
SCALE_65 = 2.640625
# one 512-byte register file at 40 nm: 512 * 8 bits * 5.98 um² = 24,494.08 um²
RF512_40NM_UM2 = 24_494.08


def test_paper_configurations_by_hand() -> None:
    # 16x16 / 128 KB at 65 nm: 256 PEs
    big = area_of(PAPER_16X16)
    assert big.pe_array == pytest.approx(256 * MAC16_40NM_UM2 * SCALE_65 * 1e-6, rel=1e-12)  # 1.2611 mm²
    assert big.register_files == pytest.approx(256 * RF512_40NM_UM2 * SCALE_65 * 1e-6, rel=1e-12)  # 16.5580 mm²
    assert big.global_buffer == 0.808  # CACTI 7, 128 KB at 65 nm: a table entry
    assert big.other == 0.0
    assert big.total == pytest.approx(1.261078 + 16.558001 + 0.808, abs=1e-5)  # 18.6271 mm²
    # 8x8 / 32 KB at 65 nm: 64 PEs, a 32 KB table entry
    small = area_of(PAPER_8X8)
    assert small.pe_array == pytest.approx(64 * MAC16_40NM_UM2 * SCALE_65 * 1e-6, rel=1e-12)  # 0.31527 mm²
    assert small.register_files == pytest.approx(64 * RF512_40NM_UM2 * SCALE_65 * 1e-6, rel=1e-12)  # 4.1395 mm²
    assert small.global_buffer == 0.198
    assert small.total == pytest.approx(0.315270 + 4.139500 + 0.198, abs=1e-5)  # 4.6528 mm²
    assert big.total / small.total == pytest.approx(18.627076 / 4.652770, rel=1e-6)  # 4x PEs, 4.08x buffer


def test_eyeriss_core_within_one_percent() -> None:
    # 168 PEs (12x14), 0.5 KB RF each, 108 KB buffer, 16-bit MACs, 65 nm. Buffer: 108 KB lies on the
    # 32 -> 128 KB segment: 0.198 + 76 * (0.808 - 0.198) / 96 = 0.68092 mm².
    eyeriss = PAPER_16X16.with_changes({"pe_array.rows": 12, "pe_array.cols": 14, "global_buffer.size_bytes": "108KB"})
    a = area_of(eyeriss)
    assert a.global_buffer == pytest.approx(0.198 + 76 * 0.61 / 96, rel=1e-12)
    assert a.total == pytest.approx(168 * (MAC16_40NM_UM2 + RF512_40NM_UM2) * SCALE_65 * 1e-6 + 0.680917, rel=1e-6)
    assert a.total == pytest.approx(12.25, rel=0.011)  # the chip's core: 3.5 mm x 3.5 mm


def test_sram_interpolation_in_size_and_node() -> None:
    # tabulated points come back exactly
    for node, points in CACTI7_SRAM_MM2.items():
        for kb, mm2 in points:
            assert sram_mm2(kb * 1024, node) == mm2
    # between sizes: linear; 64 KB at 45 nm = 0.095 + 32 * (0.387 - 0.095) / 96
    assert sram_mm2(64 * 1024, 45) == pytest.approx(0.095 + 32 * 0.292 / 96, rel=1e-12)
    # above 128 KB the 32 -> 128 KB slope continues: 512 KB at 65 nm = 0.808 + 384 * 0.61 / 96 = 3.248
    assert sram_mm2(512 * 1024, 65) == pytest.approx(3.248, rel=1e-12)
    # below 8 KB: proportional, 4 KB at 22 nm = 0.0063 / 2
    assert sram_mm2(4 * 1024, 22) == pytest.approx(0.00315, rel=1e-12)
    # 28 nm (no CACTI point) on the power law through 22 and 32 nm: 128 KB = 0.103 * (28/22)^(ln(0.217/0.103)/ln(32/22))
    expected = 0.103 * (28 / 22) ** (math.log(0.217 / 0.103) / math.log(32 / 22))
    assert sram_mm2(128 * 1024, 28) == pytest.approx(expected, rel=1e-12)
    assert 0.103 < expected < 0.217
    with pytest.raises(ValueError, match="outside the tabulated 22-65 nm"):
        sram_mm2(1024, 14)


def test_node_word_width_and_overheads_are_knobs() -> None:
    at45 = area_of(PAPER_16X16.with_changes({"area.technology_nm": 45}))
    assert at45.pe_array == pytest.approx(256 * MAC16_40NM_UM2 * (45 / 40) ** 2 * 1e-6, rel=1e-12)
    assert at45.global_buffer == 0.387
    # 8-bit MACs: 6350 / 16 + 278 / 2 = 535.875 um² at 40 nm (multiplier quadratic, accumulator linear)
    assert mac_um2(PAPER_16X16.with_changes({"pe_array.mac_bits": 8})) == pytest.approx(535.875)
    exponent = area_of(PAPER_16X16.with_changes({"area.logic_scaling_exponent": 2.28}))
    assert exponent.pe_array == pytest.approx(256 * MAC16_40NM_UM2 * (65 / 40) ** 2.28 * 1e-6, rel=1e-12)
    over = area_of(PAPER_16X16.with_changes({"area.overhead_fraction": 0.1, "area.fixed_mm2": 2.0}))
    core = area_of(PAPER_16X16)
    assert over.other == pytest.approx(0.1 * core.total + 2.0, rel=1e-12)
    for change, message in (({"area.technology_nm": 14}, "area.technology_nm: must be >= 22 (got 14)"),
                            ({"area.fixed_mm2": -1}, "area.fixed_mm2: must be >= 0 (got -1)")):
        with pytest.raises(SpecError, match=message.replace("(", r"\(").replace(")", r"\)")):
            HardwareSpec().with_changes(change)


def test_area_does_not_change_simulated_costs() -> None:
    from accelsim.simulation import SimCache, simulate_layer
    from accelsim.workload.layer import Layer, LayerKind

    layer = Layer("c", LayerKind.CONV, ("data",), (32, 28, 28), (64, 28, 28), kernel=(3, 3), padding=(1, 1))
    cache = SimCache()
    a = simulate_layer(layer, PAPER_16X16, cache=cache)
    b = simulate_layer(layer, PAPER_16X16.with_changes({"area.technology_nm": 22}), cache=cache)
    assert (a.cycles, a.energy.total) == (b.cycles, b.energy.total)
    assert (cache.misses, cache.hits) == (1, 1)  # the area section is not part of the cost key


def test_results_carry_area(tmp_path) -> None:
    from typer.testing import CliRunner

    from accelsim.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["run", "sqnxt23", "--hw", "8x8", "--json", "--no-band"])  # (bands: no area)
    assert out.exit_code == 0, out.output
    totals = json.loads(out.output)["totals"]
    assert totals["area_mm2"] == pytest.approx(area_of(PAPER_8X8).total)
    assert set(totals["area_breakdown_mm2"]) == {"pe_array", "register_files", "global_buffer", "other"}
    text = runner.invoke(app, ["run", "sqnxt23", "--hw", "8x8", "--no-band"]).output
    assert "area     4.653 mm² (PE array 0.315, register files 4.14, global buffer 0.198, other 0) at 65 nm" in text
    shown = runner.invoke(app, ["hw", "show", "16x16"]).output
    assert "# area at 65 nm: 18.63 mm² (PE array 1.26, register files 16.6, global buffer 0.808, other 0)" in shown
    csv = tmp_path / "s.csv"
    out = runner.invoke(app, ["sweep", "sqnxt23", "--pe", "8x8,16x16", "--buffer", "32KB", "--csv", str(csv),
                              "--no-band"])
    assert out.exit_code == 0, out.output
    import pandas as pd

    frame = pd.read_csv(csv)
    spec = PAPER_16X16.with_changes({"global_buffer.size_bytes": 32768})
    assert frame["area_mm2"].tolist() == pytest.approx([area_of(spec.with_changes({"pe_array.rows": 8,
                                                                                   "pe_array.cols": 8})).total,
                                                        area_of(spec).total])
    assert {"area_pe_array_mm2", "area_register_files_mm2", "area_global_buffer_mm2", "area_other_mm2"} <= set(frame)
