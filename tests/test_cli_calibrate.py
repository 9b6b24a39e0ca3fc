"""``accelsim calibrate``, ``accelsim validate`` and the bands of ``run`` / ``report table3``.

The calibration here runs on a tiny grid (four SqueezeNext rows per configuration, one
structural knob, two clock points) so it stays fast; what it writes must load back to the
spec it printed, with the ensemble in its ``calibration`` section. Band numbers are checked
against the member specs simulated directly (``accelsim.calibration.bands.member_specs``).
The bands of ``report table3`` (every cell inside its band) are checked in
tests/test_cli_report.py, on the same command's output there, whose cache that module shares.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accelsim.calibration.bands import member_specs
from accelsim.cli import app
from accelsim.hardware import PAPER_CONFIGS, load_spec
from accelsim.reporting.validation import peer_section
from accelsim.simulation import SimCache, simulate

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "hwconfigs" / "calibration" / "table3_squeezenext.csv"


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory) -> Path:
    keep = ("network", "1.0-SqNxt-23,", "1.0-SqNxt-23v5,", "2.0-SqNxt-23,", "2.0-SqNxt-23v5,")
    lines = [ln for ln in DATA.read_text().splitlines() if ln.startswith("#") or ln.startswith(keep)]
    path = tmp_path_factory.mktemp("cal") / "small.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_calibrate_writes_specs_with_the_ensemble(small_csv: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["calibrate", str(small_csv), "--hw", "8x8", "--hw", "16x16",
                                 "--fit", "clock=600MHz:800MHz", "--points", "2", "--fit", "energy.scale=0.3:2",
                                 "--fit", "model.fuse_pool", "--out", str(tmp_path), "--json", "-q"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["settings"]) == 2 and data["settings"][0]["cv_error"] <= data["settings"][1]["cv_error"]
    written = [Path(p) for p in data["written"]]
    assert sorted(p.name for p in written) == ["paper_16x16.yaml", "paper_8x8.yaml"]
    spec = load_spec(tmp_path / "paper_8x8.yaml")
    cal = spec.calibration
    assert cal is not None and cal.model_dump(mode="json") == data["calibration"]
    best = data["settings"][0]["fitted"]
    assert spec.clock_hz == best["clock_hz"] and spec.energy.scale == best["energy.scale"]
    assert spec.model.fuse_pool is best["model.fuse_pool"]
    assert {f.group for f in cal.folds} == {"family", "hardware", "network"}
    assert len(cal.cells) == 16  # 4 networks x 2 configurations x (time_rel, energy)
    assert not list(tmp_path.glob(".*.tmp"))  # atomic: no temp file left behind


@pytest.mark.parametrize(("args", "message"), [
    (["--fit", "clock=1GHz:500MHz"], "error: --fit clock=1GHz:500MHz: expected LO < HI"),
    (["--fit", "model.nope"], "error: --fit model.nope: unknown field"),
    ([], "error: --fit: no knobs to fit"),
    (["--fit", "model.fuse_pool", "--folds", "layers"], "error: --folds: unknown fold group 'layers'"),
])
def test_calibrate_bad_input_is_one_line(small_csv: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["calibrate", str(small_csv), "--hw", "8x8", "--hw", "16x16", *args])
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


def test_calibrate_unknown_hardware_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("network,hardware,cycles\nsqnxt23,32x32/1MB,1e6\n")
    result = runner.invoke(app, ["calibrate", str(path), "--hw", "8x8", "--fit", "model.fuse_pool"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}:2: hardware '32x32/1MB' is none of the --hw specs")


def test_run_json_carries_the_band() -> None:
    result = runner.invoke(app, ["run", "sqnxt23v5", "--hw", "8x8", "--json"])
    assert result.exit_code == 0, result.output
    totals = json.loads(result.stdout)["totals"]
    cache = SimCache()  # one cache for the direct simulations (keyed by the whole spec: no member sees another's)
    members = [simulate("sqnxt23v5", s, cache=cache) for s in member_specs(PAPER_CONFIGS["8x8"])]
    point = simulate("sqnxt23v5", PAPER_CONFIGS["8x8"], cache=cache)
    cycles = [r.cycles for r in members] + [point.cycles]
    assert totals["cycles_band"] == pytest.approx([min(cycles), max(cycles)], rel=1e-12)
    assert totals["cycles_band"][0] <= totals["cycles"] <= totals["cycles_band"][1]
    assert totals["energy_band"][0] <= totals["energy"] <= totals["energy_band"][1]
    plain = runner.invoke(app, ["run", "sqnxt23v5", "--hw", "8x8", "--json", "--no-band"])
    assert "cycles_band" not in json.loads(plain.stdout)["totals"]
    table = runner.invoke(app, ["run", "sqnxt23v5", "--hw", "8x8"])
    assert "band     cycles" in table.stdout


def test_validate_json_sections() -> None:
    result = runner.invoke(app, ["validate", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"sources", "summary", "paper_cells", "figure6", "oracle", "peer"}
    assert len(data["paper_cells"]) == 32  # 8 networks x 2 configurations x (time, energy)
    assert all(set(c["cv"]) == {"family", "hardware", "network"} for c in data["paper_cells"])
    assert all(o["exact"] == o["cases"] and o["search_agrees"] and o["cycles_bounded"] for o in data["oracle"])
    assert "Table 3" in data["sources"]["paper"]


def test_peer_section_reads_the_file_or_says_not_available(tmp_path: Path) -> None:
    text, where = peer_section(candidates=[tmp_path / "nothing.md"])
    assert text is None and where == str(tmp_path / "nothing.md")
    from accelsim.reporting.validation import evidence_markdown

    shown = evidence_markdown({"summary": {"cv_rms_by_group": {}, "in_sample_max_time": None,
                                           "in_sample_max_energy": None, "cv_rms": None, "cv_rms_time": None,
                                           "cv_rms_energy": None, "ensemble_members": 0},
                               "sources": {"paper": "p", "cross_validation": "c", "oracle": "o", "peer": where},
                               "paper_cells": [], "figure6": "", "peer": text})
    assert "## 4. Peer cross-check" in shown and "not available" in shown
    path = tmp_path / "peer.md"
    path.write_text("| layer | ratio |\n|---|---|\n| conv1 | 1.02 |\n")
    text, where = peer_section(candidates=[path])
    assert text is not None and "conv1" in text and where == str(path)
