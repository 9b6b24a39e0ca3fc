"""``accelsim redistribute`` through typer's CliRunner, on small spaces (4-20 candidates).

Expected numbers come from the library call the command wraps (``accelsim.codesign.redistribute``)
and from stars and bars: ``blocks=5`` over 4 stages is C(4, 3) = 4 vectors.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.codesign import redistribute
from accelsim.hardware import resolve_hardware

runner = CliRunner()
BASE = "1.0-SqNxt-23v2"


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["redistribute", *args])


def test_json_structure_matches_the_library() -> None:
    out = invoke(BASE, "--pe", "16x16", "--buffer", "128KB", "--budget", "blocks=5", "--json")
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"evaluated", "base", "hardware", "budgets", "objective", "version", "candidates"} <= set(data)
    assert data["evaluated"] == 4 and data["budgets"] == ["blocks=5"] and data["objective"] == "cycles"
    assert data["hardware"]["pe_array"]["rows"] == 16 and data["hardware"]["global_buffer"]["size_bytes"] == 131072
    assert {"depth", "params", "macs", "cycles", "energy"} <= set(data["base"])
    assert data["base"]["depth"] == [6, 6, 8, 1] and data["base"]["time_rel"] == 1.0
    expected = redistribute(BASE, resolve_hardware(None, "16x16", "128KB", ()), budgets=["blocks=5"])
    assert [c["depth"] for c in data["candidates"]] == [list(c.depth) for c in expected.ranked()]
    for row, c in zip(data["candidates"], expected.ranked(), strict=True):
        assert {"depth", "params", "macs", "cycles", "energy", "edp", "pareto", "time_rel"} <= set(row)
        assert isinstance(row["pareto"], bool) and row["pareto"] == c.pareto
        assert row["cycles"] == pytest.approx(c.cycles) and row["edp"] == pytest.approx(c.energy * c.cycles)
        assert row["time_rel"] == pytest.approx(c.cycles / expected.base.cycles)
    assert data["base"]["cycles"] == pytest.approx(expected.base.cycles)


def test_table_csv_plot_and_options(tmp_path: Path) -> None:
    csv_path, png = tmp_path / "all.csv", tmp_path / "front.png"
    out = invoke("sqnxt23v5", "--hw", "8x8", "--budget", "blocks<=6", "--objective", "edp", "--top", "3",
                 "--csv", str(csv_path), "--plot", str(png), "--width", "2.0")
    assert out.exit_code == 0, out.stderr
    assert "(base)" in out.stdout and "Pareto front" in out.stdout and "8x8/32KB" in out.stdout
    assert "by edp" in out.stdout and "'width': 2.0" in out.stdout
    rows = list(csv.DictReader(csv_path.open()))
    # base [2,4,14,1] keeps 21 blocks, outside blocks<=6; the space is C(3,3)+C(4,3)+C(5,3) = 15
    assert len(rows) == 15 and rows[0]["rank"] == "1"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    top = json.loads(invoke("sqnxt23v5", "--hw", "8x8", "--budget", "blocks<=6", "--top", "2", "--json").stdout)
    assert len(top["candidates"]) == 2 and top["feasible"] == 15


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--budget", "depth<=3"], "error: budget 'depth<=3': unknown key 'depth'"),
        (["--budget", "params<1M"], "unsupported operator '<'"),
        (["--budget", "blocks=3"], "needs >= 4 blocks"),
        (["--budget", "blocks=5", "--budget", "params<=0.1M"], "best achievable: params"),
        (["--objective", "speed"], "--objective: expected one of cycles, energy, edp"),
        (["--plot", "x.jpg"], "--plot: expected a .png"),
        (["--pe", "16by16"], "error: --pe: expected ROWSxCOLS such as '16x16' (got '16by16')"),
        (["--depth", "6,6,x"], "error: --depth: expected comma-separated integers >= 1 such as 2,4,14,1; got '6,6,x'"),
    ],
)
def test_errors_are_one_line_exit_2(args: list[str], message: str) -> None:
    out = invoke(BASE, *args)
    assert out.exit_code == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_non_squeezenext_base_is_one_line_error() -> None:
    out = invoke("squeezenet1_1", "--budget", "blocks=21")
    assert out.exit_code == 2
    assert out.stderr.strip() == ("error: redistribute: 'SqueezeNet v1.1' is from the squeezenet family; depth "
                                  "redistribution needs a SqueezeNext base such as '1.0-SqNxt-23v2'")
