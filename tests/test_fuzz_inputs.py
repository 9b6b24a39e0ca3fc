"""Property tests over hostile input: YAML spec text, layer-graph JSON, graph-cache entries and
command lines (issue 13's probe classes: hang, traceback, multi-line error, silent wrong answer,
stale cache).

Every example must end in one of two ways: a valid result (exit 0; for the library a value that
passes its own checks), or exactly one line ``error: ...`` and exit code 2. Each example runs
under a guard that fails it if it runs for more than a minute (a hang detector, not a speed
test) and, for the parsers, if it allocates more than 256 MB (``tracemalloc``). Command lines
run in-process with typer's ``CliRunner``. Hypothesis is derandomised (``conftest.py``), and the
example counts are small so the file runs in well under a minute.
"""

from __future__ import annotations

import json
import math
import signal
import string
import tracemalloc
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.errors import AccelsimError, SpecError, WorkloadError
from accelsim.hardware.load import parse_spec
from accelsim.hardware.spec import HardwareSpec
from accelsim.workload import zoo
from accelsim.workload.graph import LayerGraph

runner = CliRunner()
# No shrinking: a failure is reported as found (the runs are derandomised, so it reproduces), and
# shrinking a hostile input can take minutes.
FUZZ = settings(max_examples=60, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
HANG_S = 60
MEMORY_BYTES = 256 << 20


@contextmanager
def bounded(memory: bool = True) -> Iterator[None]:
    """Fail the example if it runs for more than HANG_S seconds or (``memory``) allocates more
    than MEMORY_BYTES at its peak."""
    def hang(signum: int, frame: Any) -> None:
        raise AssertionError(f"no answer within {HANG_S} s: a hang")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(HANG_S)
    if memory:
        tracemalloc.start()
    try:
        yield
        if memory:
            peak = tracemalloc.get_traced_memory()[1]
            assert peak < MEMORY_BYTES, f"peak allocation {peak / 2**20:.0f} MB"
    finally:
        if memory:
            tracemalloc.stop()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def one_line(message: str) -> None:
    assert message and "\n" not in message and "Traceback" not in message, message


def check_cli(args: list[str], validate_ok: Callable[[str], None] | None = None) -> None:
    """The CLI contract: exit 0 (and ``validate_ok(stdout)``), or exit 2 with one ``error:`` line."""
    with bounded(memory=False):
        result = runner.invoke(app, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{args}: {type(result.exception).__name__}: {result.exception}") from result.exception
    assert result.exit_code in (0, 2), (args, result.exit_code, result.output)
    if result.exit_code == 2:
        lines = [line for line in result.stderr.splitlines() if not line.startswith("warning: ")]
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, result.stderr)
        assert "Traceback" not in result.output
    elif validate_ok is not None:
        validate_ok(result.stdout)


# ---- YAML spec text ----------------------------------------------------------------------------
SPEC_KEYS = ["name", "description", "pe_array", "rows", "cols", "global_buffer", "size_bytes", "dram",
             "bandwidth_bytes_per_s", "latency_cycles", "clock_hz", "sparsity", "weight_sparsity", "dataflows",
             "energy", "mac", "scale", "model", "psum_words", "<<", "x"]
SCALARS = st.one_of(
    st.integers(-10, 10**6).map(str),
    st.sampled_from(["9" * 5000, "1e-300", "1e308", ".nan", ".inf", "-.inf", "16GB/s", "32KB", "0x10", "true",
                     "null", "~", "ws", "os", "!!python/object:os.system x", "!!binary AAAA", "'q'", '"\\x00"']),
    st.text(string.ascii_letters + string.digits + "._-/", max_size=12))


@st.composite
def yaml_text(draw: st.DrawFn) -> str:
    """Spec-like YAML with anchors, aliases, deep flow nesting, tags and junk mixed in."""
    lines = []
    anchors: list[str] = []
    for _ in range(draw(st.integers(0, 8))):
        indent = "  " * draw(st.integers(0, 2))
        key = draw(st.sampled_from(SPEC_KEYS))
        kind = draw(st.integers(0, 6))
        if kind == 0:
            value = draw(SCALARS)
        elif kind == 1:
            name = f"a{len(anchors)}"
            anchors.append(name)
            value = f"&{name} [{', '.join(draw(st.lists(SCALARS, max_size=4)))}]"
        elif kind == 2 and anchors:
            value = "[" + ", ".join(f"*{draw(st.sampled_from(anchors))}" for _ in range(draw(st.integers(1, 9)))) + "]"
        elif kind == 3:
            depth = draw(st.sampled_from([1, 5, 33, 40, 2000]))  # 50,000: test_hardening
            value = "[" * depth + draw(SCALARS) + "]" * draw(st.sampled_from([0, depth]))
        elif kind == 4:
            value = "{" + ", ".join(f"{draw(st.sampled_from(SPEC_KEYS))}: {draw(SCALARS)}"
                                    for _ in range(draw(st.integers(0, 3)))) + "}"
        else:
            value = ""
        lines.append(f"{indent}{key}: {value}")
    if draw(st.booleans()):
        lines.append(draw(st.text(max_size=30)))
    return "\n".join(lines) + "\n"


@FUZZ
@given(yaml_text())
def test_spec_text_is_a_spec_or_one_error(text: str) -> None:
    with bounded():
        try:
            spec = parse_spec(text)
        except SpecError as exc:
            one_line(str(exc))
            assert str(exc).startswith("<spec>"), exc
            return
    assert isinstance(spec, HardwareSpec)
    assert math.isfinite(spec.dram_words_per_cycle) and spec.dram_words_per_cycle > 0


@settings(FUZZ, max_examples=25)
@given(yaml_text())
def test_hw_validate_file_contract(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    path = tmp_path_factory.mktemp("spec") / "s.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))

    def ok(stdout: str) -> None:
        assert stdout.startswith(f"{path}: ok ("), stdout

    check_cli(["hw", "validate", str(path)], ok)


# ---- layer-graph JSON ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_graph() -> dict[str, Any]:
    return zoo.load_graph("tinydarknet").to_dict()


JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 300), st.sampled_from([0, -1, 10**20, 2**20 + 1]),
              st.floats(allow_nan=False, allow_infinity=False, width=32), st.text(max_size=8)),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=3),
    max_leaves=8)
LAYER_KEYS = ["name", "kind", "inputs", "in_shape", "out_shape", "kernel", "stride", "padding", "groups",
              "ceil_mode", "global_pool", "bias", "bn", "act", "post_ops", "flattened_from", "source", "extra"]


@st.composite
def mutated_graph(draw: st.DrawFn, base: dict[str, Any]) -> Any:
    """A real graph's JSON with a few edits: keys dropped or retyped, numbers changed, layers
    reordered or removed, or the whole document replaced."""
    data = json.loads(json.dumps(base))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.integers(0, 6))
        layers = data.get("layers") if isinstance(data, dict) else None
        if op == 0:
            return draw(JSON_VALUES)
        if not isinstance(layers, list) or not layers:
            continue
        i = draw(st.integers(0, len(layers) - 1))
        layer = layers[i]
        key = draw(st.sampled_from(LAYER_KEYS))
        if op == 1 and isinstance(layer, dict):
            layer.pop(key, None)
        elif op == 2 and isinstance(layer, dict):
            layer[key] = draw(JSON_VALUES)
        elif op == 3 and isinstance(layer, dict) and isinstance(layer.get(key), list) and layer[key]:
            j = draw(st.integers(0, len(layer[key]) - 1))
            if isinstance(layer[key][j], int):
                layer[key][j] = draw(st.integers(0, 300))
        elif op == 4:
            layers.insert(draw(st.integers(0, len(layers))), layers.pop(i))
        elif op == 5:
            del layers[i:]
        elif op == 6:
            data[draw(st.sampled_from(["format", "name", "input_shape", "meta", "layers", "digest"]))] = \
                draw(JSON_VALUES)
    return data


def _valid_graph(graph: LayerGraph) -> None:
    """A graph that loads passes its own checks: a layer, producers first, shapes consistent."""
    assert len(graph) >= 1
    seen = {"data"}
    for layer in graph.layers():
        assert set(layer.inputs) <= seen
        seen.add(layer.name)
    assert LayerGraph.from_dict(graph.to_dict()) == graph


@FUZZ
@given(st.data())
def test_graph_json_is_a_graph_or_one_error(small_graph: dict[str, Any], data: st.DataObject) -> None:
    doc = data.draw(mutated_graph(small_graph))
    with bounded():
        try:
            graph = LayerGraph.from_dict(doc, where="g.json")
        except WorkloadError as exc:
            one_line(str(exc))
            return
    _valid_graph(graph)


@settings(FUZZ, max_examples=30)
@given(st.data())
def test_graph_file_bytes_are_a_graph_or_one_error(tmp_path_factory: pytest.TempPathFactory,
                                                   small_graph: dict[str, Any], data: st.DataObject) -> None:
    text = json.dumps(small_graph).encode()
    cut = data.draw(st.integers(0, len(text)))
    noise = data.draw(st.binary(max_size=8))
    raw = data.draw(st.sampled_from([text[:cut], text[:cut] + noise + text[cut:], noise, b"[" * 5_000, text]))
    path = tmp_path_factory.mktemp("graph") / "g.json"
    path.write_bytes(raw)
    with bounded():
        try:
            graph = LayerGraph.load_json(path)
        except WorkloadError as exc:
            one_line(str(exc))
            assert str(path) in str(exc)
            return
    _valid_graph(graph)


@settings(FUZZ, max_examples=12)
@given(st.data())
def test_run_on_a_mutated_graph_file(tmp_path_factory: pytest.TempPathFactory, small_graph: dict[str, Any],
                                     data: st.DataObject) -> None:
    path = tmp_path_factory.mktemp("run") / "g.json"
    path.write_text(json.dumps(data.draw(mutated_graph(small_graph))))

    def ok(stdout: str) -> None:
        totals = json.loads(stdout)["totals"]
        assert math.isfinite(totals["cycles"]) and totals["cycles"] >= 0 and math.isfinite(totals["energy"])

    check_cli(["run", str(path), "--json"], ok)


# ---- the graph cache: no stale or corrupt entry is ever served ----------------------------------------
@settings(FUZZ, max_examples=20)
@given(st.data())
def test_a_damaged_cache_entry_is_never_served(tmp_path_factory: pytest.TempPathFactory,
                                               monkeypatch: pytest.MonkeyPatch, data: st.DataObject) -> None:
    root = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv(zoo.CACHE_ENV, str(root))
    monkeypatch.setattr(zoo, "_warned", set())
    fresh = zoo.load_graph("tinydarknet")
    path = zoo.cache_dir() / f"{zoo.cache_key('Tiny Darknet', {}, 224, 1000)}.json"
    raw = bytearray(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):  # edit digits (a plausible, schema-valid change) or bytes
        digits = [i for i, b in enumerate(raw) if chr(b).isdigit()]
        i = data.draw(st.sampled_from(digits))
        raw[i] = data.draw(st.sampled_from(b"0123456789" if data.draw(st.booleans()) else bytes(range(256))))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    path.write_bytes(bytes(raw))
    with bounded(memory=False), warnings.catch_warnings():
        warnings.simplefilter("ignore", zoo.CacheWarning)
        served = zoo.load_graph("tinydarknet")
    assert served == fresh  # an unchanged entry is a hit, any change a miss: never a different graph


# ---- command lines ------------------------------------------------------------------------------------
NETWORKS = st.sampled_from(["tinydarknet", "sqnxt23", "alexnet", "missing.json", "dir/missing", "sqnxt99", "",
                            "-x", "mobilenet", "sqnxt23v5", "SqueezeNet v1.1"])
PE = st.sampled_from(["8x8", "16x16", "1x1", "0x16", "4097x1", "abc", "8x", "x8", "-1x2", "1e9x1", "64x2", "8x8x8"])
BUFFER = st.sampled_from(["32KB", "64B", "0", "-1KB", "1e400", "16GB", "17GB", "abc", "1.5KB", "128kb", "1 KB"])
SETS = st.sampled_from([
    "dram.bandwidth=1e-300", "dram.bandwidth=32GB/s", "dram.latency_cycles=" + "9" * 50, "clock=1GHz",
    "clock=0", "energy.mac=1e308", "model.psum_words=2", "model.fuse_pool=true", "dataflows=[ws]",
    "dataflows=[&a [ws], *a]", "description=" + "[" * 5000, "pe_array.rows=3", "nosuch.field=1", "=", "x",
    "sparsity.weight_sparsity=1", "sparsity.weight_sparsity=0.99", "model.os_input_words_per_cycle=1",
    "global_buffer.size=1KB", "name=", "model.activation_residency=true"])
DEPTH = st.sampled_from(["1,1,1,1", "2,4,14,1", "2,4,99999999,1", "0,1", "a,b", "", "[1, 2]", "1,1,1,1,1,1,1,1,1",
                         "300,300,300,300"])
WIDTH = st.sampled_from(["0.5", "1", "1e6", "nan", "-1", "0.3", "inf", "17"])
JUNK = st.text(string.printable, max_size=6)


@st.composite
def run_args(draw: st.DrawFn) -> list[str]:
    args = ["run", draw(NETWORKS)]
    options = {"--pe": PE, "--buffer": BUFFER, "--set": SETS, "--depth": DEPTH, "--width": WIDTH,
               "--stem": st.sampled_from(["5", "7", "4", "99", "-3", "x"]),
               "--groups": st.sampled_from(["1", "2", "3", "0", "4096"]),
               "--dataflow": st.sampled_from(["auto", "ws", "os", "is"]),
               "--hw": st.sampled_from(["8x8", "16x16", "/dev/zero", "/nonexistent.yaml", "/tmp", "hwconfigs"]),
               "--bogus": JUNK}
    for flag in draw(st.lists(st.sampled_from(sorted(options)), max_size=3)):
        args += [flag, draw(options[flag])]
    if draw(st.booleans()):
        args.append("--json")
    return args


def _run_ok(stdout: str) -> None:
    if stdout.startswith("{"):
        totals = json.loads(stdout)["totals"]
        assert math.isfinite(totals["cycles"]) and totals["cycles"] > 0 and math.isfinite(totals["energy"])
    else:
        assert " on " in stdout.splitlines()[0] and "cycles" in stdout


@settings(FUZZ, max_examples=40)
@given(run_args())
def test_run_command_lines(args: list[str]) -> None:
    check_cli(args, _run_ok)


@st.composite
def other_args(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from([
        ["hw", "show"], ["hw", "validate"], ["hw", "schema"], ["export"], ["networks"], ["frobnicate"], [],
        ["report", "all"], ["redistribute"], ["sweep"], ["train"], ["evaluate"]]))
    args = list(command)
    if command in (["export"], ["redistribute"], ["sweep"]):
        args.append(draw(NETWORKS))
    tail = {"hw show": [["--pe", draw(PE)], ["--buffer", draw(BUFFER)], ["--set", draw(SETS)], ["--hw", "8x8"]],
            "export": [["--depth", draw(DEPTH)], ["--width", draw(WIDTH)],
                       ["--stem", draw(st.sampled_from(["5", "99"]))]],
            "redistribute": [["--budget", draw(st.sampled_from(["blocks=100000", "blocks<=257", "blocks=2", "x",
                                                                "params<=1", "blocks=abc"]))],
                             ["--top", draw(st.sampled_from(["abc", "-1", "0"]))], ["--min-per-stage", "999"]],
            "sweep": [["--vary", draw(st.sampled_from(["dram.bandwith=8GB/s", "pe=", "x=1", "clock=1e-9"]))],
                      ["--max-points", "0"]],
            "train": [["--data", draw(st.sampled_from(["synthetic:train=100000000000", "synthetic:size=100000",
                                                       "synthetic:classes=1", "/nonexistent", "nosuch"]))]],
            "evaluate": [["/nonexistent.pt"], ["/dev/zero"]],
            "report all": [["--json"]], "networks": [["--bogus"]]}
    for extra in draw(st.lists(st.sampled_from(tail.get(" ".join(command), [["--help"]])), max_size=2)):
        args += extra
    if command == ["train"]:
        args = ["train", "sqnxt23", *args[1:]]  # always a network: without one it would be a usage error
    return args


@settings(FUZZ, max_examples=40)
@given(other_args())
def test_other_command_lines(args: list[str]) -> None:
    if args[:2] == ["report", "all"] and "--json" not in args:
        args = [*args, "--json"]  # a real report run is minutes of work: keep the usage-error path
    if args[:1] in (["redistribute"], ["sweep"]) and not any(a.startswith("--") for a in args[2:]):
        args = [*args, "--bogus"]  # a full search or sweep is not what this fuzzes
    check_cli(args)


def test_library_errors_are_one_line_accelsim_errors() -> None:
    """The contract above relies on every user error being an AccelsimError with a one-line message."""
    for bad in ("pe_array: {rows: 0}\n", "[" * 100, "a: &x 1\nb: *x\n"):
        with pytest.raises(AccelsimError) as caught:
            parse_spec(bad)
        one_line(str(caught.value))
