"""Hardware specs: paper configurations, YAML loading errors, overrides, docs table.

Error messages are asserted whole: they are the user interface of a bad spec (file, line,
dotted field path, what was expected, what was given).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from pydantic import BaseModel

from accelsim.errors import SpecError
from accelsim.hardware import (
    CALIBRATION,
    PAPER_8X8,
    PAPER_16X16,
    PAPER_CONFIGS,
    REFERENCE,
    Dataflow,
    HardwareSpec,
    load_spec,
    parse_spec,
    resolve_field_path,
    resolve_hardware,
    spec_fields,
    spec_table_markdown,
    spec_to_yaml,
)
from accelsim.hardware.load import parse_value
from accelsim.hardware.spec import paper_config_of, same_hardware

ROOT = Path(__file__).resolve().parents[1]
HWCONFIGS = ROOT / "hwconfigs"


def write(tmp_path: Path, text: str, name: str = "x.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> str:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return str(info.value)


def override_error(**kwargs: object) -> str:
    with pytest.raises(SpecError) as info:
        resolve_hardware(**kwargs)  # type: ignore[arg-type]
    return str(info.value)


# ---- the paper's configurations and derived units -------------------------------------------
def test_derived_units_by_hand() -> None:
    # 16 GB/s = 16e9 B/s; at the reference 1 GHz that is 16 B/cycle; 16-bit words are 2 B -> 8 words/cycle.
    assert PAPER_16X16.word_bytes == 2
    assert HardwareSpec().with_changes(dict(REFERENCE)).dram_words_per_cycle == 8.0
    # The paper configs run at their calibrated clock: 16e9 / (clock * 2) words/cycle.
    clock = CALIBRATION["clock_hz"]
    assert PAPER_16X16.dram_words_per_cycle == pytest.approx(16e9 / (clock * 2))
    # 128 KB = 131072 B = 65536 words; 32 KB = 16384 words (model.md section 1).
    assert PAPER_16X16.buffer_words == 65536
    assert PAPER_8X8.buffer_words == 16384
    # OS paths default to Pr*Pc in and Pc out (model.md section 3.2).
    # one buffer-port model: 4 read ports of max(Pr, Pc) words feed the array (OS input path 4*Pc)
    assert (PAPER_16X16.port_width, PAPER_16X16.array_read_width, PAPER_16X16.os_output_width) == (16, 64, 16)
    assert (PAPER_8X8.port_width, PAPER_8X8.array_read_width, PAPER_8X8.os_output_width) == (8, 32, 8)
    assert PAPER_16X16.os_input_width == PAPER_16X16.array_read_width
    # doubling the clock halves the words per cycle: 16e9 / (2e9 * 2)
    assert PAPER_16X16.with_changes({"clock_hz": "2GHz"}).dram_words_per_cycle == 4.0


def test_paper_configs_are_the_paper_numbers() -> None:
    assert list(PAPER_CONFIGS) == ["8x8", "16x16"]
    for key, rows, size in (("8x8", 8, 32 * 1024), ("16x16", 16, 128 * 1024)):
        spec = PAPER_CONFIGS[key]
        assert (spec.pe_array.rows, spec.pe_array.cols, spec.global_buffer.size_bytes) == (rows, rows, size)
        assert spec.label == {"8x8": "8x8/32KB", "16x16": "16x16/128KB"}[key]
        # SqueezeNext section 3: 16-bit MACs, 100-cycle latency, 16 GB/s, 40% sparsity, WS and OS
        assert spec.pe_array.mac_bits == 16
        assert spec.dram.latency_cycles == 100
        assert spec.dram.bandwidth_bytes_per_s == 16e9
        assert spec.sparsity.weight_sparsity == 0.4
        assert spec.dataflows == (Dataflow.WS, Dataflow.OS)
        assert spec.clock_hz == CALIBRATION["clock_hz"]  # [A] fitted to Table 3 by accelsim calibrate
        # Eyeriss ISCA 2016 Table IV: MAC 1, RF 1, inter-PE 2, global buffer 6, DRAM 200
        e = spec.energy
        assert (e.mac, e.register_file, e.inter_pe, e.global_buffer, e.dram) == (1, 1, 2, 6, 200)
        assert e.scale == CALIBRATION["energy.scale"]  # [A] fitted to Table 3's energies (on-chip costs only)
        assert e.dram_scale == 1.0  # [A] DRAM stays at Eyeriss's 200
    # HardwareSpec() is the 16x16 paper accelerator apart from its name; the fitted knobs are its defaults
    renamed = {"name": PAPER_16X16.name, "description": PAPER_16X16.description}
    # HardwareSpec() holds the model defaults; the paper config is them plus the fitted knobs
    calibrated = HardwareSpec().with_changes(renamed | dict(CALIBRATION))
    assert same_hardware(calibrated, PAPER_16X16) and PAPER_16X16.calibration is not None
    assert set(CALIBRATION) >= {"clock_hz", "energy.scale"}


@pytest.mark.parametrize("key", ["8x8", "16x16"])
def test_paper_yaml_equals_builtin_and_lists_every_field(key: str) -> None:
    path = HWCONFIGS / f"paper_{key}.yaml"
    assert load_spec(path) == PAPER_CONFIGS[key]

    def leaves(data: dict, prefix: str = "") -> set[str]:
        out: set[str] = set()
        for name, value in data.items():
            out |= leaves(value, f"{prefix}{name}.") if isinstance(value, dict) else {f"{prefix}{name}"}
        return out

    data = yaml.safe_load(path.read_text())
    assert data["calibration"] is not None  # written by accelsim calibrate (tests/test_calibration.py)
    hardware = {k: v for k, v in data.items() if k != "calibration"}
    assert leaves(hardware) == {f.path for f in spec_fields()}
    # every value line carries its source (the calibration record after it is provenance)
    text = path.read_text()
    for line in text[: text.index("\ncalibration:")].splitlines():
        if re.match(r"\s+\w+: [^#]+$", line) and not line.lstrip().startswith(("mac:", "register_file:",
                                                                                   "inter_pe:", "global_buffer:",
                                                                                   "dram:")):
            pytest.fail(f"no source comment: {line!r}")


# ---- loading: the happy paths ---------------------------------------------------------------
def test_partial_spec_keeps_defaults_and_takes_file_name(tmp_path: Path) -> None:
    path = write(tmp_path, "dram:\n  bandwidth_bytes_per_s: 32GB/s\nclock_hz: 2e9\n", "fast_dram.yaml")
    spec = load_spec(path)
    assert spec.name == "fast_dram"
    assert spec.dram.bandwidth_bytes_per_s == 32e9
    assert spec.clock_hz == 2e9  # YAML 1.2 float without a dot (PyYAML alone reads a string)
    assert spec.dram_words_per_cycle == 8.0  # 32e9 / (2e9 * 2)
    # every other field is the calibrated paper 16x16's (fitted knobs included), but not its record
    assert spec.calibration is None
    assert same_hardware(spec.with_changes({"dram.bandwidth_bytes_per_s": 16e9,
                                            "clock_hz": PAPER_16X16.clock_hz}), PAPER_16X16)


def test_units_in_yaml(tmp_path: Path) -> None:
    spec = load_spec(write(tmp_path, "pe_array: {register_file_bytes: 1KB}\nglobal_buffer: {size_bytes: 1MB}\n"
                                     "clock_hz: 800MHz\n"))
    assert (spec.pe_array.register_file_bytes, spec.global_buffer.size_bytes, spec.clock_hz) == (1024, 1 << 20, 8e8)


# ---- loading: every error, with file, line and field ----------------------------------------
def test_duplicate_key_names_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "name: a\nglobal_buffer:\n  size_bytes: 32KB\n  double_buffer: true\n  size_bytes: 64KB\n")
    assert load_error(path) == f"{path}:5: global_buffer.size_bytes: duplicate key (first at line 3)"


def test_duplicate_key_on_one_line_and_at_top_level(tmp_path: Path) -> None:
    path = write(tmp_path, "dram: {latency_cycles: 1, latency_cycles: 2}\n")
    assert load_error(path) == f"{path}:1: dram.latency_cycles: duplicate key (first at line 1)"
    path = write(tmp_path, "clock_hz: 1GHz\n\nclock_hz: 2GHz\n")
    assert load_error(path) == f"{path}:3: clock_hz: duplicate key (first at line 1)"


def test_unknown_key_suggests_closest(tmp_path: Path) -> None:
    path = write(tmp_path, "name: a\nglobal_buffer:\n  sise_bytes: 32KB\n")
    assert load_error(path) == (f"{path}:3: global_buffer.sise_bytes: unknown field; "
                                "expected one of size_bytes, double_buffer, dma_conflict_fraction, read_ports, "
                                "port_width_words")
    path = write(tmp_path, "pe_aray:\n  rows: 8\n")
    assert load_error(path).startswith(f"{path}:1: pe_aray: unknown field; expected one of pe_array, ")


def test_wrong_types(tmp_path: Path) -> None:
    path = write(tmp_path, "pe_array:\n  rows: sixteen\n")
    assert load_error(path) == f"{path}:2: pe_array.rows: expected an integer (got 'sixteen')"
    # booleans are not numbers here (YAML 'true' for a count is a typo, not 1)
    path = write(tmp_path, "pe_array:\n  cols: true\n")
    assert load_error(path) == f"{path}:2: pe_array.cols: expected an integer (got true)"
    path = write(tmp_path, "global_buffer:\n  double_buffer: 1\n")
    assert load_error(path) == f"{path}:2: global_buffer.double_buffer: expected true or false (got 1)"
    path = write(tmp_path, "dram: 5\n")
    assert load_error(path) == (f"{path}:1: dram: expected a mapping with fields latency_cycles, "
                                "bandwidth_bytes_per_s (got 5)")
    path = write(tmp_path, "dram:\n  bandwidth_bytes_per_s: fast\n")
    assert load_error(path) == (f"{path}:2: dram.bandwidth_bytes_per_s: expected a number or a rate such as "
                                "'16GB/s' (B/s, KB/s, MB/s, GB/s, TB/s; decimal) (got 'fast')")
    path = write(tmp_path, "dataflows: [ws,\n  systolic]\n")
    assert load_error(path) == f"{path}:2: dataflows.1: expected one of 'ws', 'os' or 'stream' (got 'systolic')"


def test_out_of_range(tmp_path: Path) -> None:
    path = write(tmp_path, "# comment\nname: x\nglobal_buffer:\n  size_bytes: -4KB\n")
    assert load_error(path) == f"{path}:4: global_buffer.size_bytes: must be > 0 (got '-4KB')"
    path = write(tmp_path, "sparsity:\n  weight_sparsity: 1.0\n")
    assert load_error(path) == f"{path}:2: sparsity.weight_sparsity: must be < 1 (got 1.0)"
    path = write(tmp_path, "pe_array: {rows: 0}\n")
    assert load_error(path) == f"{path}:1: pe_array.rows: must be >= 1 (got 0)"
    path = write(tmp_path, "clock_hz: .inf\n")
    assert load_error(path) == f"{path}:1: clock_hz: expected a finite number (got inf)"
    path = write(tmp_path, "dataflows: [ws, stream]\n")
    assert load_error(path) == (f"{path}:1: dataflows: 'stream' is implied for pooling/add layers; "
                                "list only ws and/or os (got ['ws', 'stream'])")


def test_several_errors_report_the_first_line_and_count_the_rest(tmp_path: Path) -> None:
    path = write(tmp_path, "dram:\n  latency_cycles: -1\npe_array:\n  rows: 0\n  cols: 0\n")
    # pydantic reports pe_array first (field order); the file order wins
    assert load_error(path) == f"{path}:2: dram.latency_cycles: must be >= 0 (got -1) (and 2 more)"


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n", "---\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    assert load_error(path) == (f"{path}: empty spec; expected a mapping of hardware fields "
                                "(see `accelsim hw show`)")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "- rows: 16\n")
    assert load_error(path) == f"{path}:1: expected a mapping of hardware fields at the top level (got a list)"
    path = write(tmp_path, "16x16\n")
    assert load_error(path) == f"{path}:1: expected a mapping of hardware fields at the top level (got str '16x16')"


def test_missing_file_directory_and_bad_yaml(tmp_path: Path) -> None:
    assert load_error(tmp_path / "nope.yaml") == f"{tmp_path / 'nope.yaml'}: no such file"
    assert load_error(tmp_path) == f"{tmp_path}: is a directory; expected a YAML spec file"
    path = write(tmp_path, "name: a\ndram:\n  latency_cycles: [1\n")
    assert load_error(path) == (f"{path}:3: invalid YAML: expected ',' or ']', but got '<stream end>' "
                                "(while parsing a flow sequence)")
    path = write(tmp_path, "name: a\n---\nname: b\n")
    assert load_error(path) == (f"{path}:2: invalid YAML: but found another document "
                                "(expected a single document in the stream)")
    path = write(tmp_path, "name: !!python/object:os.system x\n")
    assert load_error(path).startswith(f"{path}:1: invalid YAML: could not determine a constructor")
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    assert load_error(path) == f"{path}: not UTF-8 text (byte 9)"


def test_parse_spec_without_file() -> None:
    assert parse_spec("pe_array: {rows: 8, cols: 8}\n").label == "8x8/128KB"
    with pytest.raises(SpecError, match=r"^<spec>:1: pe_array.rows: must be >= 1 \(got 0\)$"):
        parse_spec("pe_array: {rows: 0}")


# ---- with_changes ----------------------------------------------------------------------------
def test_with_changes_revalidates_and_raises_spec_error() -> None:
    assert PAPER_16X16.with_changes({"global_buffer.size_bytes": "64KB"}).global_buffer.size_bytes == 65536
    with pytest.raises(SpecError, match=r"^global_buffer.size_bytes: must be > 0 \(got 0\)$"):
        PAPER_16X16.with_changes({"global_buffer.size_bytes": 0})
    with pytest.raises(SpecError, match=r"^dram.bandwith: unknown field; expected one of dram.bandwidth_bytes_per_s"):
        PAPER_16X16.with_changes({"dram.bandwith": 1})
    with pytest.raises(SpecError, match=r"^clock_hz.x: clock_hz is a value, not a section$"):
        PAPER_16X16.with_changes({"clock_hz.x": 1})
    # numpy scalars from sweeps are plain numbers, not rejected by the strict fields
    assert PAPER_16X16.with_changes({"pe_array.rows": np.int64(8), "clock_hz": np.float64(5e8)}).label == "8x16/128KB"


# ---- overrides -------------------------------------------------------------------------------
def test_default_is_the_16x16_paper_spec_and_builtin_names(tmp_path: Path) -> None:
    assert resolve_hardware() == PAPER_16X16
    assert resolve_hardware("8x8") == resolve_hardware("paper_8x8") == PAPER_8X8
    assert resolve_hardware(PAPER_8X8, pe="2x2").label == "2x2/32KB"
    assert resolve_hardware(HWCONFIGS / "paper_8x8.yaml") == PAPER_8X8
    assert override_error(hw="8x9") == "8x9: no such file (built-in specs: 8x8, 16x16, paper_8x8, paper_16x16)"
    assert override_error(hw=str(tmp_path / "x.yaml")) == f"{tmp_path / 'x.yaml'}: no such file (built-in specs: " \
                                                         "8x8, 16x16, paper_8x8, paper_16x16)"


def test_pe_and_buffer() -> None:
    spec = resolve_hardware(pe="8x4", buffer="48KB")
    assert (spec.pe_array.rows, spec.pe_array.cols, spec.global_buffer.size_bytes) == (8, 4, 48 * 1024)
    assert resolve_hardware(buffer="4096").global_buffer.size_bytes == 4096
    assert override_error(pe="0x16") == "--pe 0x16: pe_array.rows: must be >= 1 (got 0)"
    assert override_error(pe="16") == "--pe: expected ROWSxCOLS such as '16x16' (got '16')"
    assert override_error(buffer="12XB") == ("--buffer: global_buffer.size_bytes: expected a number or a size such "
                                             "as '128KB' (B, KB, MB, GB; 1KB = 1024 B) (got '12XB')")
    assert override_error(buffer="-4KB") == "--buffer: global_buffer.size_bytes: must be > 0 (got '-4KB')"


def test_set_with_and_without_unit_suffix() -> None:
    spec = resolve_hardware(sets=["dram.bandwidth=32GB/s", "clock=1GHz"])
    assert spec.dram.bandwidth_bytes_per_s == 32e9
    assert spec.dram_words_per_cycle == 16.0  # 32e9 / (1e9 * 2)
    spec = resolve_hardware(sets=["dram.latency=50", "global_buffer.size=64KB", "clock=500MHz",
                                  "pe_array.register_file=1KB", "global_buffer.port_width=32", "model.fuse_pool=true",
                                  "model.tiling_cost=weighted", "name=mine", "dataflows=os",
                                  "model.os_output_words_per_cycle=null", "energy.dram=100.5"])
    assert spec.dram.latency_cycles == 50
    assert spec.global_buffer.size_bytes == 65536
    assert spec.clock_hz == 5e8
    assert spec.pe_array.register_file_bytes == 1024
    assert spec.global_buffer.port_width_words == 32
    assert spec.model.fuse_pool is True
    assert spec.model.tiling_cost == "weighted"
    assert spec.name == "mine"
    assert spec.dataflows == (Dataflow.OS,)
    assert spec.energy.dram == 100.5
    assert resolve_hardware(sets=["dataflows=os,ws"]).dataflows == (Dataflow.OS, Dataflow.WS)
    assert resolve_hardware(sets=["dataflows=[ws]"]).dataflows == (Dataflow.WS,)


def test_overrides_compose_in_order() -> None:
    # file -> --pe -> --buffer -> each --set in order; the last word wins
    spec = resolve_hardware("8x8", pe="16x16", buffer="64KB",
                            sets=["pe_array.rows=4", "global_buffer.size_bytes=16KB", "pe_array.rows=2"])
    assert spec.label == "2x16/16KB"
    # a changed paper config no longer claims the paper's name (issue 13); the description says how it was made
    assert spec.name == "custom"
    assert spec.description == ("paper_8x8 with --pe 16x16 --buffer 64KB --set pe_array.rows=4 "
                                "--set global_buffer.size_bytes=16KB --set pe_array.rows=2")


def test_overrides_that_change_a_paper_config_drop_its_name() -> None:
    # `run sqnxt23 --pe 8x8 --buffer 32KB` on the 16x16 default IS the paper's 8x8 config: named so
    assert resolve_hardware(None, pe="8x8", buffer="32KB").name == "paper_8x8"
    assert resolve_hardware(None, pe="8x8", buffer="32KB") == PAPER_CONFIGS["8x8"]
    # one field more and it is no paper config: not named after one, and no paper config key
    changed = resolve_hardware(None, pe="8x8", buffer="32KB", sets=["dram.bandwidth=32GB/s"])
    assert changed.name == "custom" and paper_config_of(changed) is None
    assert paper_config_of(PAPER_CONFIGS["16x16"]) == "16x16" and paper_config_of(PAPER_CONFIGS["8x8"]) == "8x8"
    # an override that changes nothing keeps the name; an explicit --set name= wins
    assert resolve_hardware("16x16", sets=["dram.latency_cycles=100"]).name == "paper_16x16"
    assert resolve_hardware("16x16", sets=["clock=1GHz", "name=fast"]).name == "fast"


def test_a_file_named_after_a_paper_config_loses_the_name_when_changed(tmp_path) -> None:
    path = tmp_path / "paper_16x16.yaml"  # the repository's own hwconfigs/ file, copied
    path.write_text("name: paper_16x16\n")
    assert resolve_hardware(path).name == "paper_16x16"
    assert resolve_hardware(path, buffer="64KB").name == "custom"
    # each step is validated on its own: a later fix does not excuse an earlier bad value
    assert override_error(sets=["model.psum_words=5", "model.psum_words=1"]) == \
        "--set model.psum_words: model.psum_words: must be <= 4 (got 5)"


def test_set_errors() -> None:
    assert override_error(sets=["dram.bandwith=32GB/s"]) == \
        "--set dram.bandwith: unknown field; expected one of dram.bandwidth_bytes_per_s, dram.latency_cycles"
    assert override_error(sets=["buffer.size=1KB"]).startswith(
        "--set buffer.size: unknown field; expected one of global_buffer.*, ")
    assert override_error(sets=["dram.bandwidth=fast"]) == (
        "--set dram.bandwidth: dram.bandwidth_bytes_per_s: expected a number or a rate such as '16GB/s' "
        "(B/s, KB/s, MB/s, GB/s, TB/s; decimal) (got 'fast')")
    assert override_error(sets=["pe_array.rows=8.5"]) == \
        "--set pe_array.rows: pe_array.rows: expected an integer (got 8.5)"
    assert override_error(sets=["dram=1"]) == \
        "--set dram: dram is a section; set one of dram.latency_cycles, dram.bandwidth_bytes_per_s"
    assert override_error(sets=["clock.hz=1"]) == "--set clock.hz: clock_hz is a value, not a section"
    assert override_error(sets=["dram.latency"]) == \
        "--set dram.latency: expected FIELD=VALUE such as dram.bandwidth=32GB/s"
    assert override_error(sets=["=5"]) == "--set =5: expected FIELD=VALUE such as dram.bandwidth=32GB/s"


def test_unit_suffix_must_be_unambiguous() -> None:
    class Section(BaseModel):
        size_bytes: int = 1
        size_words: int = 2

    class Top(BaseModel):
        sec: Section = Section()

    with pytest.raises(SpecError, match=r"^sec.size: ambiguous; expected one of sec.size_bytes, sec.size_words$"):
        resolve_field_path("sec.size", Top)
    assert resolve_field_path("sec.size_words", Top).path == "sec.size_words"
    assert resolve_field_path("dram.bandwidth").path == "dram.bandwidth_bytes_per_s"


def test_parse_value_reads_yaml_scalars() -> None:
    assert parse_value("32") == 32
    assert parse_value("1e9") == 1e9
    assert parse_value("true") is True
    assert parse_value("null") is None
    assert parse_value("32GB/s") == "32GB/s"
    assert parse_value("[ws, os]") == ["ws", "os"]
    assert parse_value("") == ""
    assert parse_value("[1,") == "[1,"


# ---- YAML out and docs -----------------------------------------------------------------------
@pytest.mark.parametrize("spec", [
    PAPER_8X8,
    PAPER_16X16,
    PAPER_16X16.with_changes({"name": "no", "description": 'a "quoted": §3 text\nsecond line',
                              "global_buffer.port_width_words": 7, "dataflows": ["os"], "clock_hz": 1.5e3,
                              "model.tiling_cost": "weighted"}),
])
def test_spec_to_yaml_round_trips(spec: HardwareSpec) -> None:
    text = spec_to_yaml(spec)
    assert parse_spec(text) == spec
    assert f"# derived: 2-byte words, {spec.buffer_words} buffer words, {spec.dram_words_per_cycle:g} DRAM" in text


def test_spec_to_yaml_comments_derived_values() -> None:
    text = spec_to_yaml(HardwareSpec().with_changes(dict(REFERENCE)))
    assert "  size_bytes: 131072  # 128KB = 65536 words (32768 per half)\n" in text
    assert "  bandwidth_bytes_per_s: 16000000000.0  # 16GB/s = 8 words/cycle at 1GHz\n" in text
    assert "  port_width_words: null  # effective 16 words/cycle per port, 64 for the array\n" in text


def test_readme_field_tables_match_the_model() -> None:
    """hwconfigs/README.md (and any README with the markers) shows the generated table."""
    pattern = re.compile(r"<!-- spec-table:begin -->\n(.*?)<!-- spec-table:end -->", re.S)
    expected = spec_table_markdown()
    checked = 0
    for readme in (HWCONFIGS / "README.md", ROOT / "README.md"):
        if readme.exists():
            for table in pattern.findall(readme.read_text(encoding="utf-8")):
                assert table == expected, f"{readme}: regenerate with `accelsim hw schema --markdown`"
                checked += 1
    assert checked >= 1
    # one row per field, in declaration order
    rows = [line.split("|")[1].strip(" `") for line in expected.splitlines()[2:]]
    assert rows == [f.path for f in spec_fields()]


def test_json_schema_accepts_unit_strings() -> None:
    schema = HardwareSpec.model_json_schema()
    size = schema["$defs"]["GlobalBuffer"]["properties"]["size_bytes"]
    number, text = size["anyOf"]
    assert number == {"type": "integer", "exclusiveMinimum": 0, "maximum": 1 << 34}
    assert all(re.match(text["pattern"], s) for s in ("128KB", "32 KiB", "4096", "1.5MB"))
    assert not re.match(text["pattern"], "12XB")
    rate = schema["$defs"]["DRAM"]["properties"]["bandwidth_bytes_per_s"]["anyOf"][1]["pattern"]
    assert re.match(rate, "16GB/s") and not re.match(rate, "16GB")
    clock = schema["properties"]["clock_hz"]["anyOf"][1]["pattern"]
    assert re.match(clock, "1GHz") and re.match(clock, "800 MHz") and not re.match(clock, "1G")
    json.dumps(schema)  # serialisable
