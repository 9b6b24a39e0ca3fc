"""Regression tests for the reliability probe of 0.1 (issue 13, input side).

Each test reproduces one probe finding (a hang, a traceback, a multi-line error, a silent
wrong answer or a stale cache entry) and checks the fixed behaviour: a one-line
``error: ...`` with exit code 2 that names the file/field/option, or a correct result.
The classes are covered by property tests in ``test_fuzz_inputs.py``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.errors import SpecError, WorkloadError
from accelsim.hardware.load import load_spec, parse_spec, parse_value
from accelsim.limits import GRAPH_FILE_MAX_BYTES, SPEC_FILE_MAX_BYTES, YAML_MAX_DEPTH
from accelsim.workload import zoo
from accelsim.workload.graph import LayerGraph, content_digest

runner = CliRunner()


def one_error_line(result, *needles: str) -> str:
    """The single stderr line of a failed command; it must start with ``error:`` and hold every needle."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(zoo.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(zoo, "_warned", set())
    return tmp_path / "cache" / "graphs"


# ---- spec files: hangs and unbounded memory ----------------------------------------------------
def test_fifo_spec_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)  # opening it for reading would block until a writer appears
    with pytest.raises(SpecError, match=r"spec\.yaml: not a regular file"):
        load_spec(fifo)


def test_device_spec_is_refused() -> None:
    with pytest.raises(SpecError, match="/dev/zero: not a regular file"):  # would read forever
        load_spec("/dev/zero")


def test_oversized_spec_names_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * SPEC_FILE_MAX_BYTES + "\n")
    with pytest.raises(SpecError, match=r"big\.yaml: 1,048,579 bytes is larger than the 1 MB limit"):
        load_spec(path)


BOMB = "".join(f"{c}: &{c} [{', '.join([f'*{p}'] * 9) if p else 'x'}]\n"
               for p, c in zip(["", "a", "b", "c", "d", "e", "f", "g"], "abcdefgh", strict=True))


@pytest.mark.parametrize("text", [BOMB, "description: &d x\nname: *d\n",
                                  "pe_array: &p {rows: 8}\nmodel: {<<: *p}\n"])
def test_yaml_aliases_are_refused(text: str) -> None:
    # 9^7 = 4.8 million strings if expanded; refused at the first alias, with its line
    with pytest.raises(SpecError, match=r"<spec>:\d+: invalid YAML: alias \*\w is not allowed"):
        parse_spec(text)


def test_alias_bomb_inside_set_stays_text() -> None:
    """A --set value is one YAML value; an alias bomb in it is not expanded (it stays a string)."""
    bomb = "[&a [x, x, x, x], [*a, *a, *a, *a], [*a, *a]]"
    assert parse_value(bomb) == bomb
    result = runner.invoke(app, ["hw", "show", "--set", f"dataflows={bomb}"])
    one_error_line(result, "--set dataflows", "dataflows")


@pytest.mark.parametrize("text", ["[" * 50_000, "a:\n" + "".join(" " * i + "b:\n" for i in range(1, 200))])
def test_deep_nesting_is_one_error_not_recursion(text: str) -> None:
    with pytest.raises(SpecError, match=f"nested more than {YAML_MAX_DEPTH} levels deep"):
        parse_spec(text)
    assert parse_value(text) == text  # as a --set value: not YAML, kept as text


def test_overlong_integer_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="<spec>:1: invalid YAML: integer of 5,000 digits is too long"):
        parse_spec("dram: {latency_cycles: " + "9" * 5000 + "}\n")


# ---- framework usage errors: one line, exit 2, with a --help hint --------------------------------
@pytest.mark.parametrize(("args", "needles"), [
    (["frobnicate"], ["No such command 'frobnicate'", "see 'accelsim --help'"]),
    (["run", "--bogus"], ["No such option: --bogus", "see 'accelsim run --help'"]),
    (["run"], ["Missing argument 'network'", "see 'accelsim run --help'"]),
    (["redistribute", "sqnxt23", "--top", "abc"], ["'--top'", "valid integer", "see 'accelsim redistribute --help'"]),
    (["report", "all", "--json"], ["No such option: --json", "see 'accelsim report all --help'"]),
    (["hw", "validate"], ["Missing argument", "see 'accelsim hw validate --help'"]),
])
def test_usage_errors_are_one_line(args: list[str], needles: list[str]) -> None:
    one_error_line(runner.invoke(app, args), *needles)


def test_unreadable_hw_file_is_one_line(tmp_path: Path) -> None:
    one_error_line(runner.invoke(app, ["run", "sqnxt23", "--hw", str(tmp_path)]), str(tmp_path), "is a directory")
    one_error_line(runner.invoke(app, ["run", "sqnxt23", "--hw", str(tmp_path / "nope.yaml")]), "no such file")


def test_help_and_version_still_exit_zero() -> None:
    assert runner.invoke(app, ["--version"]).exit_code == 0
    assert runner.invoke(app, ["run", "--help"]).exit_code == 0


# ---- layer-graph files -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def graph_dict() -> dict:
    return zoo.load_graph("tinydarknet").to_dict()


def _write(tmp_path: Path, data: object, name: str = "g.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def _edited(graph_dict: dict, index: int, **changes: object) -> dict:
    data = json.loads(json.dumps(graph_dict))
    data["layers"][index].update(changes)
    return data


def test_binary_garbage_graph(tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    path.write_bytes(bytes(range(256)))
    with pytest.raises(WorkloadError, match=r"g\.json: not UTF-8 text \(byte 128\)"):
        LayerGraph.load_json(path)


@pytest.mark.parametrize(("data", "match"), [
    ([], "expected a JSON object"),
    (None, "expected a JSON object"),
    ({"format": "accelsim.layergraph/1", "name": "x", "input_shape": [3, 8, 8], "meta": {}, "layers": []},
     "a graph needs at least one layer"),
])
def test_graph_shapes_that_crashed(tmp_path: Path, data: object, match: str) -> None:
    with pytest.raises(WorkloadError, match=match):
        LayerGraph.load_json(_write(tmp_path, data))


def test_graph_unknown_kind_and_missing_key(tmp_path: Path, graph_dict: dict) -> None:
    with pytest.raises(WorkloadError, match=r"layers\.0 \('conv1'\)\.kind: Input should be 'conv'"):
        LayerGraph.load_json(_write(tmp_path, _edited(graph_dict, 0, kind="lstm")))
    data = _edited(graph_dict, 0)
    del data["layers"][0]["stride"]  # used to default to 1 silently
    with pytest.raises(WorkloadError, match=r"layers\.0 \('conv1'\)\.stride: missing; every field is required"):
        LayerGraph.load_json(_write(tmp_path, data))


def test_graph_out_shape_must_follow_from_the_layer(tmp_path: Path, graph_dict: dict) -> None:
    conv1 = graph_dict["layers"][0]
    assert conv1["in_shape"] == [3, 224, 224] and conv1["kernel"] == [3, 3] and conv1["padding"] == [1, 1]
    # stride 2: floor((224 + 2 - 3) / 2) + 1 = 112, not the stored 224
    with pytest.raises(WorkloadError, match=r"out_shape \[16, 224, 224\] .* expected \[16, 112, 112\]"):
        LayerGraph.load_json(_write(tmp_path, _edited(graph_dict, 0, stride=[2, 2])))
    # kernel 5 without more padding: 224 + 2 - 5 + 1 = 222
    with pytest.raises(WorkloadError, match=r"expected \[16, 222, 222\]"):
        LayerGraph.load_json(_write(tmp_path, _edited(graph_dict, 0, kernel=[5, 5])))


def test_graph_dimensions_are_bounded(tmp_path: Path, graph_dict: dict) -> None:
    with pytest.raises(WorkloadError, match=r"in_shape\.2: Input should be less than or equal to 1048576"):
        LayerGraph.load_json(_write(tmp_path, _edited(graph_dict, 0, in_shape=[3, 224, 10**20])))


def test_deeply_nested_graph_json(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 50_000)
    with pytest.raises(WorkloadError, match=r"deep\.json: not valid JSON \(nested too deeply\)"):
        LayerGraph.load_json(path)


def test_oversized_graph_file(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    with path.open("wb") as handle:
        handle.truncate(GRAPH_FILE_MAX_BYTES + 1)  # sparse: no disk used
    with pytest.raises(WorkloadError, match=r"big\.json: 16,777,217 bytes is larger than the 16 MB limit"):
        LayerGraph.load_json(path)


def test_run_missing_json_says_no_such_file(tmp_path: Path) -> None:
    one_error_line(runner.invoke(app, ["run", "missing.json"]), "missing.json: no such file")
    one_error_line(runner.invoke(app, ["run", str(tmp_path / "dir" / "g")]), "no such file")


def test_saved_graph_roundtrips_with_its_digest(tmp_path: Path, graph_dict: dict) -> None:
    graph = LayerGraph.from_dict(graph_dict)
    path = tmp_path / "g.json"
    graph.save_json(path)
    stored = json.loads(path.read_text())
    assert stored["digest"] == content_digest(graph_dict) and len(stored["digest"]) == 64
    assert LayerGraph.load_json(path, verify_digest=True) == graph


# ---- the graph cache ---------------------------------------------------------------------------------
def _entry(cache: Path) -> Path:
    return cache / f"{zoo.cache_key('Tiny Darknet', {}, 224, 1000)}.json"


def test_edited_cache_entry_is_a_miss(cache: Path) -> None:
    fresh = zoo.load_graph("tinydarknet")
    path = _entry(cache)
    data = json.loads(path.read_text())
    # a consistent edit (kernel 3 -> 1 with padding 0 keeps 224x224) that the schema accepts:
    data["layers"][0].update(kernel=[1, 1], padding=[0, 0])
    path.write_text(json.dumps(data))
    assert LayerGraph.load_json(path).macs != fresh.macs  # served as is, it would be a wrong answer
    with pytest.warns(zoo.CacheWarning, match="content does not match its digest"):
        again = zoo.load_graph("tinydarknet")
    assert again == fresh and LayerGraph.load_json(path, verify_digest=True) == fresh


@pytest.mark.parametrize("content", [b"\x00\xff garbage", b"[]", b"null",
                                     b'{"format": "accelsim.layergraph/1", "layers": [{"kind": "lstm"}]}'])
def test_invalid_cache_entry_is_replaced_and_said_once(cache: Path, content: bytes) -> None:
    fresh = zoo.load_graph("tinydarknet", use_cache=False)
    path = _entry(cache)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    with pytest.warns(zoo.CacheWarning) as caught:
        assert zoo.load_graph("tinydarknet") == fresh
    assert len(caught) == 1 and str(path) in str(caught[0].message)
    assert zoo.load_graph("tinydarknet") == fresh  # replaced: a clean hit now


def test_cli_says_so_once_on_stderr(cache: Path) -> None:
    zoo.load_graph("tinydarknet")
    _entry(cache).write_text("null")
    result = runner.invoke(app, ["run", "tinydarknet", "--json"])
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f"warning: graph cache entry {_entry(cache)}: expected a JSON object (a layer graph); got NoneType None; "
        "exported again and replaced it"]
    assert json.loads(result.stdout)["network"] == "Tiny Darknet"


def test_orphaned_tmp_files_are_cleaned(cache: Path) -> None:
    cache.mkdir(parents=True)
    dead = cache / f".{'0' * 40}.json.999999999.x1y2.tmp"  # another entry's, writer gone (no such pid)
    mine = cache / f".{'1' * 40}.json.{os.getpid()}.x3y4.tmp"  # a live writer's: kept
    dead.write_text("{")
    mine.write_text("{")
    zoo.load_graph("tinydarknet")
    assert not dead.exists() and mine.exists()


@pytest.mark.parametrize("home", ["", None])
def test_no_usable_home_falls_back_to_temp(monkeypatch: pytest.MonkeyPatch, home: str | None) -> None:
    import tempfile

    monkeypatch.delenv(zoo.CACHE_ENV, raising=False)
    if home is None:  # a uid with no passwd entry and no HOME: Path.home() raises RuntimeError
        monkeypatch.delenv("HOME", raising=False)
        monkeypatch.setattr(Path, "home", classmethod(lambda cls: (_ for _ in ()).throw(RuntimeError("no home"))))
    else:
        monkeypatch.setenv("HOME", home)
    root = zoo.cache_dir()
    assert root.parent == Path(tempfile.gettempdir()) / f"accelsim-{os.getuid()}"


# ---- sizes the user controls: a bound and one line before any work --------------------------------
@pytest.mark.parametrize(("args", "needles"), [
    (["run", "sqnxt23", "--depth", "2,4,99999999,1"], ["--depth: at most 1,024 units per stage; got 99,999,999"]),
    (["run", "sqnxt23", "--depth", "300,300,300,300"], ["--depth: at most 1,024 units in all; got 1,200"]),
    (["run", "sqnxt23", "--depth", "1,1,1,1,1,1,1,1,1"], ["--depth: at most 8 stages; got 9"]),
    (["run", "sqnxt23", "--width", "1e6"], ["--width: at most 16; got 1e+06"]),
    (["export", "sqnxt23", "--stem", "99"], ["--stem: at most 31; got 99"]),
    (["export", "sqnxt23", "--groups", "4096"], ["--groups: at most 1,024; got 4,096"]),
    (["redistribute", "sqnxt23", "--budget", "blocks=100000"], ["at most 256 blocks can be redistributed"]),
    (["redistribute", "sqnxt23", "--budget", "blocks<=257"], ["at most 256 blocks", "got 257"]),
    (["train", "sqnxt23", "--data", "synthetic:train=100000000000", "--epochs", "1"],
     ["synthetic: train=100,000,000,000", "at most 1,000,000 images"]),
    # 600,001 x 3 x 1024^2 B = 1757.8 GiB
    (["train", "sqnxt23", "--data", "synthetic:size=1024,train=600000,val=1"],
     ["synthetic: train+val=600,001 images of 1024 px need 1757.8 GiB; at most 2 GiB"]),
    (["train", "sqnxt23", "--data", "synthetic:size=100000"], ["synthetic: size=100,000 must be at most 1024"]),
    (["train", "sqnxt23", "--data", "synthetic", "--epochs", "100000"], ["epochs: at most 10,000, got 100,000"]),
    (["train", "sqnxt23", "--data", "synthetic", "--batch-size", "100000"], ["batch_size: at most 4,096"]),
    (["hw", "show", "--pe", "4097x1"], ["pe_array.rows: must be <= 4096"]),
])
def test_sizes_are_bounded_before_work(args: list[str], needles: list[str]) -> None:
    one_error_line(runner.invoke(app, args), *needles)


def test_library_bounds_name_the_option() -> None:
    with pytest.raises(WorkloadError, match=r"1\.0-SqNxt-23: input_size: at most 2,048; got 4,096"):
        zoo.load_graph("sqnxt23", input_size=4096)
    with pytest.raises(WorkloadError, match="num_classes: at most 100,000"):
        zoo.load_graph("alexnet", num_classes=10**6)


def test_os_matrices_do_not_grow_with_the_array() -> None:
    """--pe 4096x4096 on SqNxt-23 took 2 min and 9.7 GB: the OS sub-tile matrices were
    (Pr+1) x (Pc+1) per c-tile size. They now span only the sub-tile sizes that occur."""
    import tracemalloc

    from accelsim.engine import MODELS, build_work
    from accelsim.engine.traffic import LoopNest
    from accelsim.hardware import resolve_hardware
    from accelsim.hardware.spec import Dataflow

    layer = zoo.load_graph("sqnxt23")["conv1"]
    spec = resolve_hardware(None, "4096x4096", None, ())
    work = build_work(layer, spec)
    model = MODELS[Dataflow.OS]
    nest = LoopNest(work, model.candidate_tiles(work, spec), spec.model.psum_words)
    tracemalloc.start()
    compute = model.compute_model(nest, spec)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # conv1's map is 111x111: sub-tile sizes are at most 111 per axis, whatever the array
    assert compute.block_sum.shape[0] == len(nest.c) and peak < 64 << 20, peak


def test_os_cycles_unchanged_by_the_compaction() -> None:
    """The compact matrices (distinct (size, window) band classes per axis) give the cycles of
    summing every sub-tile of every tile one by one: a 20x12 array (remainders on both axes),
    each sub-tile's in-image window counted here by enumerating its PEs' input rows/columns."""
    from accelsim.engine import MODELS, build_work
    from accelsim.engine.traffic import LoopNest
    from accelsim.hardware import resolve_hardware
    from accelsim.hardware.spec import Dataflow
    from accelsim.workload.layer import Layer

    layer = Layer("c", "conv", ("data",), (8, 30, 26), (4, 30, 26), kernel=(3, 3), padding=(1, 1))
    # one read port of 20 words: the windows (up to 22 x 14 words) bind, not the 5.4 broadcasts
    spec = resolve_hardware(None, "20x12", None, ()).with_changes({"global_buffer.read_ports": 1})
    work = build_work(layer, spec)
    nest = LoopNest(work, MODELS[Dataflow.OS].candidate_tiles(work, spec), spec.model.psum_words)
    compute = MODELS[Dataflow.OS].compute_model(nest, spec)
    nz, pr, pc = 1 - work.sigma, spec.pe_array.rows, spec.pe_array.cols

    def bands(n: int, tile: int, quantum: int) -> list[tuple[int, int]]:
        """(outputs, in-image input rows) of every band of every tile (3-tap kernel, pad 1)."""
        out = []
        for t0 in range(0, n, tile):
            for b0 in range(t0, min(t0 + tile, n), quantum):
                rows = range(b0, min(b0 + quantum, t0 + tile, n))
                out.append((len(rows), len({o - 1 + i for o in rows for i in range(3) if 0 <= o - 1 + i < n})))
        return out

    c_sizes, c_mult = nest.c.classes()
    for iy in range(len(nest.y)):
        for ix in range(len(nest.x)):
            subs = [(a * b, wy * wx) for a, wy in bands(30, int(nest.y.tile[iy]), pr)
                    for b, wx in bands(26, int(nest.x.tile[ix]), pc)]
            for ic in range(len(nest.c)):
                total = sum(m * max(u * max(9 * nz, win / spec.array_read_width), pixels / pc)
                            for pixels, win in subs for u, m in zip(c_sizes[ic], c_mult[ic], strict=True))
                sp = iy * len(nest.x) + ix
                assert compute.block_sum[ic, sp] == pytest.approx(total, rel=1e-12)


# ---- numbers that made cycles infinite, and the minimum buffer --------------------------------------
def test_tiny_bandwidth_is_refused_by_range() -> None:
    one_error_line(runner.invoke(app, ["run", "sqnxt23", "--set", "dram.bandwidth=1e-300"]),
                   "dram.bandwidth_bytes_per_s: must be >= 1000 (got 1e-300)")


def test_infinite_cycles_say_time_not_space() -> None:
    """Bypassing validation (model_copy) to reach the engine with 1e-300 B/s: the error blames
    time and names the fields, and numpy's overflow warning does not escape."""
    import warnings

    from accelsim.errors import InfeasibleError
    from accelsim.hardware.spec import PAPER_16X16
    from accelsim.simulation import simulate

    dram = PAPER_16X16.dram.model_copy(update={"bandwidth_bytes_per_s": 1e-300})
    spec = PAPER_16X16.model_copy(update={"dram": dram})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(InfeasibleError, match="infeasible in time, not space: .*dram.bandwidth_bytes_per_s=1e-300"):
            simulate("tinydarknet", spec)


def test_minimum_buffer_is_for_the_whole_network() -> None:
    """AlexNet on 4096x4096 at 900 B: conv1 needs 972 B, but conv4 needs 1,334,784 B on that array
    (its smallest OS tile holds a whole 4096-row band); the error names the latter, so one retry
    is enough."""
    result = runner.invoke(app, ["run", "alexnet", "--pe", "4096x4096", "--buffer", "900B"])
    one_error_line(result, "layer 'conv1'", "it needs at least 972 bytes",
                   "the whole network needs at least 1,334,784 bytes", "(for layer 'conv4')")
    ok = runner.invoke(app, ["run", "alexnet", "--pe", "4096x4096", "--buffer", "1334784B", "--json"])
    assert ok.exit_code == 0 and json.loads(ok.stdout)["totals"]["cycles"] > 0
    short = runner.invoke(app, ["run", "alexnet", "--pe", "4096x4096", "--buffer", "1334782B"])
    one_error_line(short, "layer 'conv4'", "needs at least 1334784 bytes")


# ---- outputs checked before work ----------------------------------------------------------------------
def test_train_out_unwritable_fails_before_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    result = runner.invoke(app, ["train", "sqnxt23", "--data", "synthetic:classes=2,size=16,train=4,val=2",
                                 "--epochs", "1", "--out", str(tmp_path / "ro" / "x.pt")])
    one_error_line(result, f"--out {tmp_path / 'ro' / 'x.pt'}: cannot write in {tmp_path} (Read-only file system)")
    assert "epoch" not in result.stdout


def test_train_out_through_a_file(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    out = str(tmp_path / "f" / "x.pt")
    one_error_line(runner.invoke(app, ["train", "sqnxt23", "--data", "synthetic", "--out", out]), "is not a directory")


def test_training_failure_hides_torch_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    import warnings

    import networks.training as training
    from networks.training.errors import TrainingError

    def diverging(*args: object, **kwargs: object) -> None:
        warnings.warn("Detected call of `lr_scheduler.step()` before `optimizer.step()`", UserWarning, stacklevel=1)
        raise TrainingError("training loss is nan at epoch 1, step 1; lower --lr")

    monkeypatch.setattr(training, "train", diverging)
    result = runner.invoke(app, ["train", "sqnxt23", "--data", "synthetic", "--epochs", "1"])
    one_error_line(result, "error: training loss is nan")


def test_bare_group_prints_help_and_exits_zero() -> None:
    """`accelsim` and `accelsim hw` alone ask for help: the help text, exit 0 (not a usage box, exit 2)."""
    for args in ([], ["hw"], ["report"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0 and result.output.startswith("Usage: accelsim") and not result.stderr


def test_readme_limits_table_matches_the_code() -> None:
    """README.md's "Limits on sizes" table states the constants the code checks."""
    import re

    from accelsim import limits
    from accelsim.hardware.spec import HardwareSpec
    from networks.training import config, synthetic

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    table = re.search(r"<!-- limits-table:begin -->\n(.*?)<!-- limits-table:end -->", readme, re.S).group(1)
    rows = dict(line.strip("| ").split(" | ") for line in table.strip().splitlines()[2:])
    mb = 1 << 20
    pe = HardwareSpec.model_fields["pe_array"].annotation.model_fields["rows"].metadata
    expected = {
        "hardware spec file": f"{limits.SPEC_FILE_MAX_BYTES // mb} MB",
        "YAML nesting": f"{limits.YAML_MAX_DEPTH} levels",
        "layer-graph JSON file": f"{limits.GRAPH_FILE_MAX_BYTES // mb} MB",
        "ONNX model file, with its external weight data": limits.format_size(limits.ONNX_FILE_MAX_BYTES),
        "measurements CSV file (`calibrate`)": limits.format_size(limits.MEASUREMENTS_FILE_MAX_BYTES),
        "layers in a graph": f"{limits.GRAPH_MAX_LAYERS:,}",
        "any dimension in a graph file (channels, size, kernel, stride, padding)": f"{limits.MAX_DIMENSION:,}",
        "`--depth`: stages / units per stage / units in all":
            f"{limits.MAX_STAGES} / {limits.MAX_UNITS_PER_STAGE:,} / {limits.MAX_UNITS_TOTAL:,}",
        "`--width`": f"{limits.MAX_WIDTH:g}",
        "`--stem`": f"{limits.MAX_STEM_KERNEL}",
        "`--groups`": f"{limits.MAX_GROUPS:,}",
        "input size (`--image-size`) / classes (`--num-classes`) for a zoo graph":
            f"{limits.MAX_INPUT_SIZE:,} / {limits.MAX_NUM_CLASSES:,}",
        "`redistribute` blocks (`--budget blocks=N`, or the base's total)": f"{limits.MAX_REDISTRIBUTE_BLOCKS}",
        "`redistribute` planned work (candidates x layers, estimated before the search)":
            f"{limits.MAX_REDISTRIBUTE_WORK:,}",
        "`pe_array.rows`, `pe_array.cols`": f"{next(m.le for m in pe if hasattr(m, 'le')):,}",
        "`global_buffer.size_bytes`": "16 GB",
        "`sweep` grid points": "10,000 (raise with `--max-points`)",
        "`train`: epochs / batch size / image size / classes / workers":
            " / ".join(f"{config.MAX_COUNTS[k]:,}" for k in ("epochs", "batch_size", "image_size", "num_classes"))
            + f" / {config.MAX_WORKERS}",
        "`synthetic:` images per split / image size / both splits as uint8":
            f"{synthetic.MAX_IMAGES:,} / {synthetic.MAX_SIZE:,} px / {synthetic.MAX_BYTES >> 30} GB",
    }
    assert rows == expected
    size = HardwareSpec.model_fields["global_buffer"].annotation.model_fields["size_bytes"].metadata
    assert next(m.le for m in size if hasattr(m, "le")) == 16 << 30


# ---- I/O errors name the file ----------------------------------------------------------------------
@pytest.mark.parametrize(("code", "text"), [(28, "No space left on device"), (5, "Input/output error")])
def test_write_errors_name_the_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, text: str) -> None:
    """A full disk (or EIO) surfaces in write/fsync with no file name: the error names the output."""
    import accelsim.atomic as atomic

    def failing(fd: int) -> None:
        raise OSError(code, text)

    monkeypatch.setattr(atomic.os, "fsync", failing)
    out = tmp_path / "layers.csv"
    one_error_line(runner.invoke(app, ["run", "tinydarknet", "--csv", str(out)]), f"error: {out}: {text}")
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))


def test_output_onto_a_device_or_through_a_file(tmp_path: Path) -> None:
    """Renaming over /dev/full would replace the device node (as root): refused, naming it."""
    one_error_line(runner.invoke(app, ["run", "tinydarknet", "--csv", "/dev/full"]),
                   "error: --csv /dev/full: exists and is not a regular file")
    assert Path("/dev/full").is_char_device()
    (tmp_path / "afile").write_text("")
    out = tmp_path / "afile" / "x.csv"
    one_error_line(runner.invoke(app, ["run", "tinydarknet", "--csv", str(out)]),
                   f"error: --csv {out}: {tmp_path / 'afile'} exists and is not a directory")
    one_error_line(runner.invoke(app, ["export", "tinydarknet", "-o", str(tmp_path) + "/"]), str(tmp_path))


# every output option is checked before any work: an existing file where a folder is expected,
# a folder where a file is expected, a file on the way to either, a folder that cannot be written
_FOLDER_OUTPUTS = [["report", "table3"], ["report", "figure6"], ["report", "figure7"],
                   ["report", "breakdown", "sqnxt23"], ["report", "all"],
                   ["calibrate", "{root}/hwconfigs/calibration/table3_squeezenext.csv", "--fit", "model.fuse_pool"]]
_FILE_OUTPUTS = [(["run", "sqnxt23"], "--csv", "x.csv"), (["sweep", "sqnxt23"], "--csv", "x.csv"),
                 (["sweep", "sqnxt23"], "--plot", "x.png"), (["redistribute", "sqnxt23v2"], "--csv", "x.csv"),
                 (["redistribute", "sqnxt23v2"], "--plot", "x.png"), (["codesign", "sqnxt23v2"], "--csv", "x.csv"),
                 (["codesign", "sqnxt23v2"], "--plot", "x.png"), (["export", "sqnxt23"], "--output", "x.json")]
_ROOT = str(Path(__file__).resolve().parents[1])


@pytest.mark.parametrize("command", _FOLDER_OUTPUTS, ids=lambda c: " ".join(c[:2]))
def test_out_folder_that_is_a_file_is_one_line(tmp_path: Path, command: list[str]) -> None:
    command = [c.replace("{root}", _ROOT) for c in command]
    afile = tmp_path / "afile"
    afile.write_text("keep")
    line = one_error_line(runner.invoke(app, [*command, "--out", str(afile)]))
    assert line == f"error: --out {afile}: exists and is not a directory"
    inner = afile / "reports"
    line = one_error_line(runner.invoke(app, [*command, "--out", str(inner)]))
    assert line == f"error: --out {inner}: {afile} exists and is not a directory"
    assert afile.read_text() == "keep"


@pytest.mark.parametrize(("command", "option", "name"), _FILE_OUTPUTS, ids=lambda c: str(c))
def test_output_file_checks_name_the_option_and_the_file(tmp_path: Path, command: list[str], option: str,
                                                         name: str) -> None:
    folder = tmp_path / name  # a folder where the file should go
    folder.mkdir()
    line = one_error_line(runner.invoke(app, [*command, option, str(folder)]))
    assert line == f"error: {option} {folder}: is a directory; expected a file path"
    afile = tmp_path / "afile"
    afile.write_text("keep")
    line = one_error_line(runner.invoke(app, [*command, option, str(afile / name)]))
    assert line == f"error: {option} {afile / name}: {afile} exists and is not a directory"


@pytest.mark.parametrize(("command", "option", "name"), [*_FILE_OUTPUTS[:2], (["report", "table3"], "--out", "r")],
                         ids=lambda c: str(c))
def test_unwritable_output_folder_is_refused_before_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         command: list[str], option: str, name: str) -> None:
    import errno
    import tempfile

    def denied(*args: object, **kwargs: object) -> None:  # as a read-only folder would for a non-root user
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    out = tmp_path / name
    line = one_error_line(runner.invoke(app, [*command, option, str(out)]))
    assert line == f"error: {option} {out}: cannot write in {tmp_path} (Permission denied)"


# ---- redistribute: the planned work is estimated and bounded before the search starts ---------------
def test_redistribute_work_is_bounded_before_the_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """8 stages x 256 blocks: the local search would score about 373,000 candidates of 1,546
    layers (13 starts x 256 blocks x 8*7*2 neighbours; 6 layers a block + 10), over two minutes:
    refused at once, naming the option and the limit. The same stages with 80 blocks plan 5.7e7."""
    from accelsim.codesign import search as search_module
    from accelsim.limits import MAX_REDISTRIBUTE_WORK

    def no_work(*args: object, **kwargs: object) -> None:
        raise AssertionError("the search started")

    monkeypatch.setattr(search_module, "CandidateEvaluator", no_work)
    result = runner.invoke(app, ["redistribute", "sqnxt23v2", "--depth", "1,1,1,1,1,1,1,1", "--budget", "blocks=256"])
    line = one_error_line(result, "--budget", f"over the limit of {MAX_REDISTRIBUTE_WORK:,}")
    assert line == ("error: --budget: 8 stages and up to 256 blocks plan about 576,249,856 layer evaluations "
                    "(372,736 candidates x 1,546 layers), over the limit of 200,000,000; give fewer blocks or stages")
    space = search_module.DepthSpace((80,), 8, 1)
    candidates, layers = search_module.planned_work(space, search_module.LocalSearchOptions(),
                                                    search_module.EXHAUSTIVE_LIMIT, (1,) * 8)
    starts = search_module.starting_points(space, (1,) * 8, search_module.LocalSearchOptions())
    assert len(starts) == 13 and (candidates, layers) == (13 * 80 * 8 * 7 * 2, 6 * 80 + 10)
    assert candidates * layers < MAX_REDISTRIBUTE_WORK
    # an enumerated space plans exactly its size: 1,140 distributions of 21 blocks over 4 stages
    assert search_module.planned_work(search_module.DepthSpace((21,), 4, 1), search_module.LocalSearchOptions(),
                                      search_module.EXHAUSTIVE_LIMIT, (6, 6, 8, 1)) == (1140, 136)


# ---- ONNX files: regular files only, size-capped like specs -------------------------------------------
def test_onnx_fifo_and_folder_are_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "model.onnx"
    os.mkfifo(fifo)  # reading it would block until a writer appears
    one_error_line(runner.invoke(app, ["run", str(fifo)]), f"error: {fifo}: not a regular file; expected an ONNX "
                                                           "model file")
    folder = tmp_path / "folder.onnx"
    folder.mkdir()
    one_error_line(runner.invoke(app, ["run", str(folder)]), f"error: {folder}: is a directory; expected an ONNX")
    one_error_line(runner.invoke(app, ["run", str(tmp_path / "none.onnx")]), f"{tmp_path / 'none.onnx'}: no such file")


def test_oversized_onnx_names_the_file_and_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import accelsim.workload.onnx as onnx_module
    from accelsim.limits import ONNX_FILE_MAX_BYTES

    assert ONNX_FILE_MAX_BYTES == 2 << 30  # protobuf's own ceiling for one serialised message
    monkeypatch.setattr(onnx_module, "ONNX_FILE_MAX_BYTES", 1024)
    big = tmp_path / "big.onnx"
    big.write_bytes(b"\0" * 2000)
    one_error_line(runner.invoke(app, ["run", str(big)]),
                   f"error: {big}: 2,000 bytes is larger than the 1 KB limit for an ONNX model file")


def test_onnx_external_data_must_be_a_regular_file_within_the_cap(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import onnx
    from onnx import TensorProto, helper

    import accelsim.workload.onnx as onnx_module

    weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 1, 1], [0.0] * 12)
    weight.ClearField("float_data")
    weight.data_location = TensorProto.EXTERNAL
    weight.external_data.add(key="location", value="w.bin")
    node = helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[1, 1])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])], [weight])
    model = tmp_path / "ext.onnx"
    model.write_bytes(helper.make_model(graph).SerializeToString())
    os.mkfifo(tmp_path / "w.bin")  # the loader would block on it
    one_error_line(runner.invoke(app, ["run", str(model)]),
                   f"error: {tmp_path / 'w.bin'}: not a regular file; expected the external weight data of {model}")
    (tmp_path / "w.bin").unlink()
    one_error_line(runner.invoke(app, ["run", str(model)]), f"error: {tmp_path / 'w.bin'}: no such file")
    (tmp_path / "w.bin").write_bytes(b"\0" * 48)
    monkeypatch.setattr(onnx_module, "ONNX_FILE_MAX_BYTES", model.stat().st_size + 47)
    limit = model.stat().st_size + 47
    one_error_line(runner.invoke(app, ["run", str(model)]),
                   f"error: {model}: the model and its external weight data ({tmp_path / 'w.bin'} and before) are "
                   f"larger than the {limit} bytes limit for an ONNX model")
    assert onnx.load(str(model), load_external_data=False).graph.initializer[0].data_location == TensorProto.EXTERNAL


def test_measurements_fifo_and_oversized_csv_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """calibrate read its CSV with read_text: a FIFO blocked it forever, /dev/zero never ended."""
    import accelsim.calibration.measurements as measurements

    fifo = tmp_path / "m.csv"
    os.mkfifo(fifo)
    one_error_line(runner.invoke(app, ["calibrate", str(fifo), "--fit", "model.fuse_pool"]),
                   f"error: {fifo}: not a regular file; expected a measurements CSV file")
    monkeypatch.setattr(measurements, "MEASUREMENTS_FILE_MAX_BYTES", 100)
    big = tmp_path / "big.csv"
    big.write_text("network,hardware,cycles\n" + "sqnxt23,16x16,1\n" * 20)
    one_error_line(runner.invoke(app, ["calibrate", str(big), "--fit", "model.fuse_pool"]),
                   f"error: {big}: 344 bytes is larger than the 100 bytes limit for a measurements CSV file")


def test_training_data_fifo_is_named_as_such(tmp_path: Path) -> None:
    fifo = tmp_path / "d.npz"
    os.mkfifo(fifo)  # it exists: "no such file" was wrong, and opening it would block
    one_error_line(runner.invoke(app, ["train", "sqnxt23", "--data", str(fifo), "--epochs", "1"]),
                   f"error: {fifo}: not a regular file or a folder; expected a .npz archive or a folder of class "
                   "folders")
