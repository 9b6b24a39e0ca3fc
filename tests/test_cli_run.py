"""``accelsim run``: table, --json, --csv, network options and one-line errors (exit 2).

Numbers are checked against the library call the command wraps (``accelsim.simulate``),
so the CLI is tested for rendering and option plumbing, not re-derived.
"""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from accelsim import __version__
from accelsim.cli import app
from accelsim.hardware import PAPER_CONFIGS
from accelsim.simulation import simulate

runner = CliRunner()


@pytest.fixture(scope="module")
def sqnxt23() -> dict:
    result = runner.invoke(app, ["run", "sqnxt23", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_table_has_header_layers_and_totals() -> None:
    result = runner.invoke(app, ["run", "sqnxt23", "--hw", "8x8"])
    assert result.exit_code == 0, result.output
    out = result.stdout.splitlines()
    clock = f"{PAPER_CONFIGS['8x8'].clock_hz / 1e6:g}MHz"  # the calibrated clock (hwconfigs/paper_8x8.yaml)
    assert out[0] == f"1.0-SqNxt-23 on paper_8x8 (8x8/32KB, {clock}), accelsim {__version__}"
    assert out[2].split()[:6] == ["layer", "kind", "in>out", "CxHxW", "MACs", "flow"]
    conv1 = next(line for line in out if line.startswith("conv1 "))
    assert "3x227x227>64x111x111" in conv1 and "115,915,968" in conv1
    assert any(line.startswith("s1u1.add ") and "into s1u1.expand" in line for line in out)
    expected = simulate("sqnxt23", "8x8")
    assert f"cycles   {expected.cycles:,.0f}" in result.stdout
    assert f"energy   {expected.energy:.4g} MAC units" in result.stdout
    assert "717,280 params" in result.stdout


def test_json_object(sqnxt23) -> None:
    assert sqnxt23["network"] == "1.0-SqNxt-23"
    assert sqnxt23["hardware"]["pe_array"]["rows"] == 16
    assert {"cycles", "energy", "macs", "params", "time_s"} <= set(sqnxt23["totals"])
    assert sqnxt23["totals"]["params"] == 717_280
    layer = sqnxt23["layers"][0]
    assert {"name", "kind", "macs", "dataflow", "cycles", "energy", "dram_bytes", "efficiency", "tiling"} <= set(layer)
    assert {entry["dataflow"] for entry in sqnxt23["layers"]} <= {"ws", "os", "stream"}
    assert sqnxt23["totals"]["cycles"] == pytest.approx(sum(entry["cycles"] for entry in sqnxt23["layers"]))
    assert sqnxt23["totals"]["cycles"] == pytest.approx(simulate("sqnxt23").cycles)


def test_csv(tmp_path) -> None:
    path = tmp_path / "layers.csv"
    result = runner.invoke(app, ["run", "sqnxt23", "--csv", str(path)])
    assert result.exit_code == 0, result.output
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(simulate("sqnxt23").layers)
    assert rows[0]["name"] == "conv1" and rows[0]["dataflow"] in ("ws", "os")
    assert {"cycles", "energy", "tiling", "dram_bytes"} <= set(rows[0])


def test_network_and_hardware_options(sqnxt23) -> None:
    result = runner.invoke(app, ["run", "sqnxt23", "--depth", "2,4,14,1", "--stem", "5", "--first-unit", "serial",
                                 "--pe", "8x8", "--buffer", "32KB", "--set", "dram.latency_cycles=50", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["hardware"]["pe_array"]["rows"] == 8
    assert data["hardware"]["global_buffer"]["size_bytes"] == 32768
    assert data["hardware"]["dram"]["latency_cycles"] == 50
    assert data["layers"][0]["kernel"] == [5, 5]
    assert sum(entry["kind"] == "add" for entry in data["layers"]) == 21
    forced = json.loads(runner.invoke(app, ["run", "sqnxt23", "--dataflow", "ws", "--json"]).stdout)
    assert {e["dataflow"] for e in forced["layers"] if e["kind"] in ("conv", "fc")} == {"ws"}
    assert forced["totals"]["cycles"] >= sqnxt23["totals"]["cycles"]


@pytest.mark.parametrize(("args", "message"), [
    (["run", "sqnxt999"], "unknown network 'sqnxt999'; did you mean"),
    (["run", "sqnxt23", "--pe", "0x16"], "--pe 0x16: pe_array.rows: must be >= 1 (got 0)"),
    (["run", "sqnxt23", "--buffer", "12XB"], "--buffer: global_buffer.size_bytes: expected a number or a size such "
                                             "as '128KB' (B, KB, MB, GB; 1KB = 1024 B) (got '12XB')"),
    (["run", "sqnxt23", "--buffer", "-4KB"], "must be > 0"),
    # conv1's smallest tile: 7x7 input window + 49 weights + 1 output = 99 words, x2 copies x 2 B
    (["run", "sqnxt23", "--buffer", "64B"], "layer 'conv1' (conv 3x227x227 -> 64x111x111, kernel 7x7): the 64B "
                                            "global buffer cannot hold even the smallest tile; it needs at least "
                                            "396 bytes"),
    (["run", "sqnxt23", "--dataflow", "is"], "--dataflow: expected one of auto, ws, os"),
    (["run", "sqnxt23", "--depth", "2,x"], "--depth: expected comma-separated integers >= 1 such as 2,4,14,1; "
                                           "got '2,x'"),
])
def test_bad_input_exits_2_with_one_line(args, message) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["mobilenet", "--depth", "1,1"], "error: MobileNet: has no option 'depth' (--depth is for SqueezeNext networks); "
                                      "its options: width_multiplier\n"),
    (["alexnet", "--stem", "5"], "error: AlexNet: has no option 'stem_kernel' (--stem is for SqueezeNext networks); "
                                 "its options: none\n"),
])
def test_a_squeezenext_option_on_another_family_is_one_plain_line(args, message):
    # issue 13: this leaked "MobileNetV1.__init__() got an unexpected keyword argument 'depth'"
    result = CliRunner().invoke(app, ["run", *args])
    assert result.exit_code == 2 and result.stderr == message
