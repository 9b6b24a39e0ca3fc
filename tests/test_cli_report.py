"""``accelsim report ...`` through typer's CliRunner, on small inputs.

All commands of this module share one simulation cache (the ``shared_cache`` fixture patches
the reporting suite's cache factory), so each layer shape is simulated once per test session.
Expected numbers: the paper's Table 3 cells (accelsim.paper) and our own direct ``simulate``
calls, which the report must reproduce exactly.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.hardware import PAPER_CONFIGS
from accelsim.reporting import suite
from accelsim.reporting.table3 import TABLE3_NETWORKS

runner = CliRunner()


@pytest.fixture(scope="module")
def cache():
    from accelsim.simulation import SimCache

    return SimCache()


@pytest.fixture(autouse=True)
def shared_cache(cache, monkeypatch):
    monkeypatch.setattr(suite, "new_cache", lambda: cache)
    return cache


def invoke(*args: str):
    return runner.invoke(app, ["report", *args])


def read_csv(path):
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    comments = [line for line in lines if line.startswith("#")]
    return comments, list(csv.DictReader(line for line in lines if not line.startswith("#")))


def test_table3_json_rows_normalised_and_compared_with_the_paper(cache):
    from accelsim.simulation import simulate

    result = invoke("table3", "--json", "--quiet")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rows = {r["network"]: r for r in data["rows"]}
    assert list(rows) == list(TABLE3_NETWORKS)
    assert data["version"] and set(data["hardware"]) == {"8x8", "16x16"}
    for key in ("8x8", "16x16"):
        times = [r[f"time_{key}"] for r in rows.values()]
        assert min(times) == pytest.approx(1.0)
        fastest = min(rows.values(), key=lambda r: r[f"cycles_{key}"])
        assert data["fastest"][key] == fastest["network"]
    v1 = rows["1.0-SqNxt-23"]
    assert v1["paper_time_8x8"] == 1.17 and v1["paper_energy_16x16"] == 2.5e9  # SqNxt Table 3
    assert v1["time_dev_pct_16x16"] == pytest.approx(100 * (v1["time_16x16"] - 1.22) / 1.22)
    assert rows["AlexNet"]["paper_time_16x16"] is None and rows["AlexNet"]["time_dev_pct_16x16"] is None
    # the report's cells are the simulator's numbers, unchanged
    direct = simulate("1.0-SqNxt-23", PAPER_CONFIGS["16x16"], cache=cache)
    assert v1["cycles_16x16"] == pytest.approx(direct.cycles)
    assert v1["energy_16x16"] == pytest.approx(direct.energy)
    assert v1["macs"] == direct.macs_paper and round(v1["macs"] / 1e6) == 282  # paper: 282M
    # every cell lies in its error band (the calibration ensemble's spread; this command is the
    # one of the suite that pays for the bands of all 13 networks on both configurations)
    for row in rows.values():
        for key in ("time_8x8", "time_16x16", "energy_8x8", "energy_16x16"):
            low, high = row[f"{key}_band"]
            assert low <= row[key] * (1 + 1e-12) and row[key] <= high * (1 + 1e-12), (row["network"], key)


def test_table3_writes_markdown_csv_json_with_provenance(tmp_path):
    result = invoke("table3", "--out", str(tmp_path), "--quiet", "--energy-scale", "2")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table3.csv", "table3.json", "table3.md"]
    assert result.stdout.split() == [str(tmp_path / n) for n in ("table3.md", "table3.csv", "table3.json")]
    comments, rows = read_csv(tmp_path / "table3.csv")
    assert f"# command: accelsim report table3 --out {tmp_path} --energy-scale 2.0" in comments
    assert "# hardware: 8x8/32KB, 16x16/128KB" in comments and "# energy_scale: 2.0" in comments
    assert len(rows) == 13 and rows[0]["paper_time_8x8"] == "" and rows[4]["paper_time_8x8"] == "1.17"
    md = (tmp_path / "table3.md").read_text()
    assert "x a report factor of 2 (--energy-scale)" in md and "Rank agreement with the paper" in md
    assert json.loads((tmp_path / "table3.json").read_text())["energy_scale"] == 2.0


def test_figure6_one_network_one_config(tmp_path):
    result = invoke("figure6", "1.0-SqNxt-23", "--hw", "16x16", "--out", str(tmp_path), "-q")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["figure6.csv", "figure6.png", "figure6.svg"]
    comments, rows = read_csv(tmp_path / "figure6.csv")
    assert f"# command: accelsim report figure6 1.0-SqNxt-23 --out {tmp_path} --hw 16x16" in comments
    assert {r["network"] for r in rows} == {"1.0-SqNxt-23"} and {r["hardware"] for r in rows} == {"16x16/128KB"}
    assert rows[0]["item"] == "conv1"
    # every layer lands in exactly one item: shares sum to 1
    assert sum(float(r["share_of_network_cycles"]) for r in rows) == pytest.approx(1.0)


def test_breakdown_accepts_an_alias(tmp_path):
    result = invoke("breakdown", "sqnxt23v5", "--hw", "8x8", "--out", str(tmp_path), "-q")
    assert result.exit_code == 0, result.output
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert len(pngs) == 1 and pngs[0].startswith("breakdown_")
    _, rows = read_csv(tmp_path / pngs[0].replace(".png", ".csv"))
    levels = ("mac", "register_file", "inter_pe", "global_buffer", "dram")
    for r in rows:
        assert float(r["energy_total"]) == pytest.approx(sum(float(r[f"energy_{k}"]) for k in levels))


@pytest.fixture(scope="module")
def written_all(tmp_path_factory, cache):
    """One ``report all --out DIR`` of this module (drawing the figures is most of its time), for
    the tests that need such a set; each works on its own copy."""
    out = tmp_path_factory.mktemp("all") / "reports"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(suite, "new_cache", lambda: cache)
        result = invoke("all", "--out", str(out), "--quiet")
    assert result.exit_code == 0, result.output
    return out


def test_all_writes_every_report_and_the_readme(written_all):
    out = written_all
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(["table3.md", "table3.csv", "table3.json", "figure6.png", "figure6.svg", "figure6.csv",
                            "figure7.png", "figure7.svg", "figure7.csv", "breakdown_1.0-SqNxt-23_16x16_128KB.png",
                            "breakdown_1.0-SqNxt-23_16x16_128KB.csv", "README.md"])
    readme = (out / "README.md").read_text()
    assert f"accelsim report all --out {out}" in readme and "26.0%" in readme
    assert "| `pe_array.rows` | 8 | 16 |" in readme
    # deterministic: a second run gives the same bytes
    first = {n: (out / n).read_bytes() for n in names}
    assert invoke("all", "--out", str(out), "--quiet").exit_code == 0
    assert {n: (out / n).read_bytes() for n in names} == first


@pytest.mark.parametrize(("args", "message"), [
    (("breakdown", "nosuchnet", "-q"), "error: unknown network 'nosuchnet'"),
    (("table3", "--hw", "missing.yaml", "-q"), "error: missing.yaml: no such file (built-in specs: "),
    (("table3", "--energy-scale", "0", "-q"), "error: --energy-scale: must be a positive number (got 0)"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_breakdown_file_names_carry_the_hardware(tmp_path):
    # issue 13: `report breakdown sqnxt23 --hw 8x8` overwrote the committed 16x16 breakdown
    for hw in ("16x16", "8x8"):
        assert invoke("breakdown", "sqnxt23", "--hw", hw, "--out", str(tmp_path), "-q").exit_code == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "breakdown_1.0-SqNxt-23_16x16_128KB.csv", "breakdown_1.0-SqNxt-23_16x16_128KB.png",
        "breakdown_1.0-SqNxt-23_8x8_32KB.csv", "breakdown_1.0-SqNxt-23_8x8_32KB.png"]
    # a spec that differs from the paper's in any field gets its own file, never the paper's name
    assert invoke("breakdown", "sqnxt23", "--hw", "8x8", "--set", "clock=1GHz", "--out", str(tmp_path),
                  "-q").exit_code == 0
    custom = sorted(p.name for p in tmp_path.glob("breakdown_1.0-SqNxt-23_custom_8x8_32KB_*.csv"))
    assert len(custom) == 1


def test_table3_compares_with_the_paper_only_for_a_paper_config(tmp_path):
    # issue 13: a 32 GB/s 8x8/32KB spec was scored against the paper's 8x8 cells
    fast = tmp_path / "fast.yaml"
    fast.write_text("pe_array: {rows: 8, cols: 8}\nglobal_buffer: {size_bytes: 32KB}\n"
                    "dram: {bandwidth_bytes_per_s: 32GB/s}\n")
    # (no error bands: they do not decide which paper cells a configuration is compared with)
    result = invoke("table3", "--hw", "16x16", "--hw", str(fast), "--json", "-q", "--no-band")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    configs = {c["label"]: c["paper_config"] for c in data["hardware"].values()}
    assert configs == {"16x16/128KB": "16x16/128KB", "8x8/32KB": None}
    v1 = next(r for r in data["rows"] if r["network"] == "1.0-SqNxt-23")
    assert v1["paper_time_16x16"] == 1.22  # SqNxt Table 3
    assert v1["paper_time_8x8"] is None and v1["time_dev_pct_8x8"] is None
    # the paper's own 8x8, given as --pe/--buffer overrides of the 16x16 default, is compared
    result = invoke("table3", "--hw", "16x16", "--pe", "8x8", "--buffer", "32KB", "--json", "-q", "--no-band")
    data = json.loads(result.stdout)
    assert [c["paper_config"] for c in data["hardware"].values()] == ["8x8/32KB"]
    # the files of a non-paper pair do not overwrite table3.md
    assert invoke("table3", "--hw", "16x16", "--hw", str(fast), "--out", str(tmp_path), "-q",
                  "--no-band").exit_code == 0
    names = sorted(p.name for p in tmp_path.glob("table3*.md"))
    assert len(names) == 1 and names[0].startswith("table3_16x16_128KB+fast_8x8_32KB_")


def test_all_refuses_a_folder_holding_other_files(tmp_path):
    (tmp_path / "notes.txt").write_text("mine\n")
    result = invoke("all", "--out", str(tmp_path), "-q")
    assert result.exit_code == 2
    assert result.stderr == (f"error: {tmp_path}: is not a report folder (notes.txt); report all replaces its "
                             "whole --out folder, so give an empty or new folder\n")
    assert (tmp_path / "notes.txt").read_text() == "mine\n"


def test_all_whose_writer_fails_leaves_the_old_set_intact(tmp_path, monkeypatch, cache, written_all):
    out = tmp_path / "reports"
    shutil.copytree(written_all, out)  # a set report all wrote
    old = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device", "figure7.png")

    monkeypatch.setattr(suite, "write_figure7", broken)  # after Table 3 and Figure 6 are written
    result = invoke("all", "--out", str(out), "--energy-scale", "2", "-q")
    assert result.exit_code == 2 and result.stderr == "error: figure7.png: No space left on device\n"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == old
    assert [p.name for p in tmp_path.iterdir()] == ["reports"]  # no staging folder left behind


def test_committed_reports_are_what_report_all_writes(tmp_path, cache):
    """reports/ is byte-identical to a fresh ``accelsim report all`` (same command, so the same
    provenance): a change of the model's numbers must regenerate reports/ in the same commit."""
    root = Path(__file__).resolve().parents[1]
    fresh = suite.report_all(tmp_path / "reports", cache=cache)
    assert fresh.files[-1][0].name == "README.md"
    committed = sorted(p.name for p in (root / "reports").iterdir())
    written = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert written == committed, "reports/ holds other files than report all writes: run `accelsim report all`"
    stale = [n for n in written if (tmp_path / "reports" / n).read_bytes() != (root / "reports" / n).read_bytes()]
    assert not stale, f"reports/ is stale ({', '.join(stale)} differ): run `accelsim report all` and commit reports/"


def test_progress_callback_counts_simulations_and_is_off_without_a_tty():
    from accelsim.cli.report import progress_bar

    calls = []
    suite.simulate_networks(["1.0-SqNxt-23v5"], [PAPER_CONFIGS["8x8"], PAPER_CONFIGS["16x16"]],
                            progress=lambda d, t, s: calls.append((d, t, s)))
    assert calls == [(0, 2, "simulating 1.0-SqNxt-23v5 on 8x8/32KB"),
                     (1, 2, "simulating 1.0-SqNxt-23v5 on 16x16/128KB"), (2, 2, "done")]
    with progress_bar(quiet=False) as progress:  # pytest captures stderr: not a terminal
        assert progress is None
