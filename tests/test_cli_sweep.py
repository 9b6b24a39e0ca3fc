"""``accelsim sweep`` through typer's CliRunner, on grids of 2-8 points.

Expected numbers come from the library call the command wraps (``accelsim.codesign.sweep``)
and from the grid size, the product of the value-list lengths.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.codesign import sweep
from accelsim.hardware import resolve_hardware

runner = CliRunner()


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["sweep", *args])


def test_json_structure_matches_the_library() -> None:
    out = invoke("sqnxt23", "sqnxt23v5", "--pe", "8x8,16x16", "--vary", "dram.bandwidth=8GB/s,32GB/s",
                 "--set", "dram.latency_cycles=50", "--objective", "energy", "--json")
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"points", "base_hardware", "varied", "version", "objective", "pareto_front"} <= set(data)
    assert data["base_hardware"]["dram"]["latency_cycles"] == 50 and data["objective"] == "energy"
    assert [v["field"] for v in data["varied"]] == ["pe", "dram.bandwidth_bytes_per_s"]
    assert data["varied"][1]["values"] == [8e9, 32e9] and data["varied"][1]["labels"] == ["8GB/s", "32GB/s"]
    assert data["grid_points"] == 4 and len(data["points"]) == 8  # 2 x 2 points x 2 networks
    for row in data["points"]:
        assert {"pe", "dram.bandwidth_bytes_per_s", "network", "cycles", "time_s", "energy", "edp", "efficiency",
                "feasible", "pareto"} <= set(row)
        assert row["feasible"] is True and isinstance(row["pareto"], bool)
        assert row["edp"] == pytest.approx(row["energy"] * row["cycles"])
    lib = sweep(["sqnxt23", "sqnxt23v5"], resolve_hardware(None, None, None, ["dram.latency_cycles=50"]),
                {"pe": ["8x8", "16x16"], "dram.bandwidth": ["8GB/s", "32GB/s"]}, objective="energy")
    for network in lib.networks:
        rows = [r for r in data["points"] if r["network"] == network]
        assert [r["energy"] for r in rows] == [p.energy for p in lib.ranked(network)]  # ranked by energy
        assert [r["cycles"] for r in rows] == [p.cycles for p in lib.ranked(network)]
        assert data["pareto_front"][network] == [p.point for p in lib.pareto(network)]


def test_table_csv_plot_and_infeasible_rows(tmp_path: Path) -> None:
    csv_path, png = tmp_path / "all.csv", tmp_path / "grid.png"
    out = invoke("sqnxt23", "--pe", "8x8,16x16", "--buffer", "64B,32KB", "--top", "3", "--csv", str(csv_path),
                 "--plot", str(png))
    assert out.exit_code == 0, out.stderr
    assert "best 2 of 2 feasible points by cycles" in out.stdout and "Pareto front over (cycles, energy)" in out.stdout
    assert "infeasible: pe=8x8 global_buffer.size=64B: layer 'conv1'" in out.stdout
    rows = list(csv.DictReader(csv_path.open()))
    assert len(rows) == 4 and [r["feasible"] for r in rows] == ["False", "True", "False", "True"]
    assert rows[0]["reason"].startswith("layer 'conv1'") and rows[0]["cycles"] == ""
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    top = json.loads(invoke("sqnxt23", "--buffer", "64B,32KB,128KB", "--top", "1", "--json").stdout)
    assert len(top["points"]) == 1 and top["points"][0]["rank"] == 1 and top["infeasible"] == 1


@pytest.mark.parametrize(("args", "message"), [
    (["--vary", "dram.bandwith=8GB/s"], "error: --vary dram.bandwith: unknown field; expected one of "
                                         "dram.bandwidth_bytes_per_s"),
    (["--vary", "pe_array.rows=8,0"], "error: --vary pe_array.rows=0: pe_array.rows: must be >= 1 (got 0)"),
    (["--pe", "8x8,big"], "error: --pe big: pe: expected ROWSxCOLS"),
    (["--vary", "dram.bandwidth"], "error: --vary dram.bandwidth: expected FIELD=V1,V2,..."),
    (["--set", "dram.bandwidth=8GB/s", "--vary", "dram.bandwidth=1GB/s"],
     "error: --set dram.bandwidth: dram.bandwidth_bytes_per_s is also varied"),
    (["--vary", "pe_array.rows=1,2,3", "--vary", "pe_array.cols=1,2", "--max-points", "5"],
     "error: sweep: 6 points (3 pe_array.rows x 2 pe_array.cols) exceed the limit of 5"),
    (["--objective", "speed"], "error: --objective: expected one of cycles, energy, edp"),
    (["--plot", "grid.txt"], "error: --plot: expected a .png, .svg or .pdf file"),
])
def test_bad_input_is_one_line_exit_2(args: list[str], message: str) -> None:
    out = invoke("sqnxt23", *args)
    assert out.exit_code == 2
    assert out.stderr.startswith(message) and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
