"""``accelsim hw`` commands and the shared hardware options, through typer's CliRunner.

The installed typer's CliRunner keeps stdout and stderr apart (``result.stdout``,
``result.stderr``; ``result.output`` is both), so each test asserts which stream a line is on.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.cli.common import (
    BufferOption,
    HwListOption,
    HwOption,
    PeOption,
    SetOption,
    hardware_from_options,
    hardware_list_from_options,
)
from accelsim.hardware import PAPER_8X8, PAPER_16X16, HardwareSpec, parse_spec, spec_fields

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def run(*args: str) -> object:
    return runner.invoke(app, list(args))


# ---- hw validate -----------------------------------------------------------------------------
def test_validate_paper_specs() -> None:
    files = [str(ROOT / "hwconfigs" / "paper_8x8.yaml"), str(ROOT / "hwconfigs" / "paper_16x16.yaml")]
    result = run("hw", "validate", *files)
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{files[0]}: ok (8x8/32KB)\n{files[1]}: ok (16x16/128KB)\n"
    assert result.stderr == ""


def test_validate_reports_every_bad_file_on_one_line(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("pe_array: {rows: 8, cols: 8}\nglobal_buffer: {size_bytes: 32KB}\n")
    dup = tmp_path / "dup.yaml"
    dup.write_text("dram:\n  latency_cycles: 100\n  latency_cycles: 50\n")
    missing = tmp_path / "missing.yaml"
    result = run("hw", "validate", str(dup), str(good), str(missing))
    assert result.exit_code == 2
    assert result.stdout == f"{good}: ok (8x8/32KB)\n"
    assert result.stderr.splitlines() == [
        f"error: {dup}:3: dram.latency_cycles: duplicate key (first at line 2)",
        f"error: {missing}: no such file",
    ]
    assert "Traceback" not in result.output


def test_validate_needs_a_file() -> None:
    result = run("hw", "validate")
    assert result.exit_code == 2
    assert "Missing argument" in result.stderr


# ---- hw show ---------------------------------------------------------------------------------
def test_show_default_is_the_paper_16x16_spec_and_reloads() -> None:
    result = run("hw", "show")
    assert result.exit_code == 0, result.output
    words = 16e9 / (PAPER_16X16.clock_hz * 2)
    assert result.stdout.startswith("# paper_16x16: 16x16/128KB\n"
                                    f"# derived: 2-byte words, 65536 buffer words, {words:g} DRAM words/cycle\n")
    assert parse_spec(result.stdout) == PAPER_16X16


def test_show_applies_overrides_in_order(tmp_path: Path) -> None:
    spec_file = tmp_path / "mine.yaml"
    spec_file.write_text("dram: {latency_cycles: 60}\n")
    result = run("hw", "show", str(spec_file), "--pe", "8x8", "--buffer", "32KB",
                 "--set", "dram.bandwidth=32GB/s", "--set", "model.fuse_pool=true", "--set", "clock=1GHz")
    assert result.exit_code == 0, result.output
    spec = parse_spec(result.stdout)
    assert spec.name == "mine"
    assert spec.label == "8x8/32KB"
    assert (spec.dram.latency_cycles, spec.dram.bandwidth_bytes_per_s, spec.model.fuse_pool) == (60, 32e9, True)
    # 32 GB/s at 1 GHz with 2-byte words = 16 words/cycle
    assert "  bandwidth_bytes_per_s: 32000000000.0  # 32GB/s = 16 words/cycle at 1GHz\n" in result.stdout


def test_show_builtin_name() -> None:
    result = run("hw", "show", "paper_8x8")
    assert result.exit_code == 0, result.output
    assert parse_spec(result.stdout) == PAPER_8X8


def test_show_errors_are_one_line_with_exit_2() -> None:
    cases = {
        ("--pe", "0x16"): "error: --pe 0x16: pe_array.rows: must be >= 1 (got 0)",
        ("--buffer", "12XB"): "error: --buffer: global_buffer.size_bytes: expected a number or a size such as "
                              "'128KB' (B, KB, MB, GB; 1KB = 1024 B) (got '12XB')",
        ("--buffer", "-4KB"): "error: --buffer: global_buffer.size_bytes: must be > 0 (got '-4KB')",
        ("--set", "dram.bandwith=32GB/s"): "error: --set dram.bandwith: unknown field; expected one of "
                                           "dram.bandwidth_bytes_per_s, dram.latency_cycles",
        ("--set", "sparsity.weight_sparsity=1.5"): "error: --set sparsity.weight_sparsity: "
                                                   "sparsity.weight_sparsity: must be < 1 (got 1.5)",
        ("nowhere.yaml",): "error: nowhere.yaml: no such file (built-in specs: 8x8, 16x16, paper_8x8, paper_16x16)",
    }
    for args, line in cases.items():
        result = run("hw", "show", *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stdout == ""
        assert result.stderr == line + "\n", args


# ---- hw schema -------------------------------------------------------------------------------
def test_schema_is_json_schema_of_the_spec() -> None:
    result = run("hw", "schema")
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "HardwareSpec"
    assert schema["additionalProperties"] is False
    assert list(schema["properties"]) == ["name", "description", "pe_array", "global_buffer", "dram", "clock_hz",
                                          "sparsity", "dataflows", "energy", "model", "area", "calibration"]
    assert schema["properties"]["pe_array"] == {"$ref": "#/$defs/PEArray", "description": "the PE array"}
    assert set(schema["$defs"]["PEArray"]["properties"]) == {"rows", "cols", "mac_bits", "register_file_bytes"}
    assert schema["$defs"]["PEArray"]["properties"]["rows"]["minimum"] == 1


def test_schema_markdown_is_the_docs_table() -> None:
    # the table both READMEs carry between their spec-table markers is what the command prints now
    result = run("hw", "schema", "--markdown")
    assert result.exit_code == 0
    root = Path(__file__).resolve().parents[1]
    for readme in (root / "README.md", root / "hwconfigs" / "README.md"):
        table = readme.read_text().split("<!-- spec-table:begin -->\n")[1].split("<!-- spec-table:end -->")[0]
        assert result.stdout == table, f"{readme.name}: run `accelsim hw schema --markdown` and paste the table"
    # and it lists every field of the spec, each with its default
    assert [row.split(" | ")[0].strip("| `") for row in result.stdout.splitlines()[2:]] == [
        f.path for f in spec_fields()]


# ---- the option types other commands share ---------------------------------------------------
def _probe_app() -> typer.Typer:
    probe = typer.Typer()

    @probe.command()
    def one(hw: HwOption = None, pe: PeOption = None, buffer: BufferOption = None, sets: SetOption = None) -> None:
        typer.echo(hardware_from_options(hw, pe, buffer, sets).model_dump_json())

    @probe.command()
    def many(hw: HwListOption = None, pe: PeOption = None, sets: SetOption = None) -> None:
        for spec in hardware_list_from_options(hw, pe, None, sets, default=("8x8", "16x16")):
            typer.echo(spec.label)

    return probe


def test_shared_options_parse_and_resolve() -> None:
    probe = _probe_app()
    result = runner.invoke(probe, ["one", "--hw", "paper_8x8", "--pe", "4x4", "--set", "dram.latency=10",
                                   "--set", "clock=2GHz"])
    assert result.exit_code == 0, result.output
    spec = HardwareSpec.model_validate_json(result.stdout)
    assert spec.label == "4x4/32KB"
    assert (spec.dram.latency_cycles, spec.clock_hz) == (10, 2e9)
    assert hardware_from_options() == PAPER_16X16

    result = runner.invoke(probe, ["many"])
    assert result.stdout == "8x8/32KB\n16x16/128KB\n"
    result = runner.invoke(probe, ["many", "--hw", "16x16", "--hw", "8x8", "--pe", "2x2"])
    assert result.stdout == "2x2/128KB\n2x2/32KB\n"
