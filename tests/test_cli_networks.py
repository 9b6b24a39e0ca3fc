"""``accelsim networks`` and ``accelsim export`` through typer's CliRunner (stdout and stderr apart).

Expected counts are the reference totals of ``tests/data/zoo_layers.json`` (the project's reference
set; source in ``tests/data/README.md``), e.g. 1.0-SqNxt-23: 717,280 params, 277,999,808 pure MACs, 281,991,768
paper-convention MACs, 135 layers.
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.cli.common import NetworkOptions, parse_depth
from accelsim.errors import WorkloadError
from accelsim.workload import LayerGraph, zoo

runner = CliRunner()


@pytest.fixture(scope="module", autouse=True)
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(zoo.CACHE_ENV, str(root))
        yield root


def run(*args: str):  # noqa: ANN201 -- typer's Result
    return runner.invoke(app, list(args))


def assert_usage_error(result, start: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: {start}"), result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_networks_json() -> None:
    result = run("networks", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["paper_name"] for r in rows] == list(zoo.list_presets())
    by_name = {r["name"]: r for r in rows}
    v1 = by_name["sqnxt23"]
    assert v1 == {**v1, "paper_name": "1.0-SqNxt-23", "aliases": ["sqnxt23"], "params": 717280,
                  "macs": 277999808, "macs_paper": 281991768, "input_size": 227, "layers": 135,
                  "paper_params_M": "0.72", "paper_macs_M": "282", "params_match": True, "macs_match": True}
    assert {"notes", "family"} <= set(v1)
    v2 = by_name["sqnxt23v2"]  # networks.md: params -0.9%, MACs +0.4% (no released definition)
    assert (v2["params_match"], v2["macs_match"], v2["mismatch"]) == (False, False, "params -0.9%, MACs +0.4%")
    mobilenet = by_name["mobilenet"]
    assert (mobilenet["input_size"], mobilenet["params"], mobilenet["macs_paper"]) == (224, 4231976, 573784040)
    bypass = by_name["squeezenet1_0_simple_bypass"]  # not in the paper's tables
    assert bypass["paper_params_M"] is None and bypass["params_match"] is None


def test_networks_table_second_run_uses_the_cache(cache: Path) -> None:
    first = run("networks")
    assert first.exit_code == 0, first.output
    files = sorted((cache / "graphs").glob("*.json"))
    assert len(files) == len(zoo.list_presets())
    stamps = [f.stat().st_mtime_ns for f in files]
    second = run("networks")
    assert second.stdout == first.stdout
    assert [f.stat().st_mtime_ns for f in files] == stamps  # read, not rewritten
    lines = first.stdout.splitlines()
    assert lines[0].split()[:4] == ["name", "paper", "name", "input"]
    row = next(line for line in lines if line.startswith("sqnxt23 "))
    assert row.split() == ["sqnxt23", "1.0-SqNxt-23", "227", "135", "0.7173", "0.72", "278.00", "281.99", "282",
                           "ok"]


def test_export_json_and_graphml(tmp_path: Path) -> None:
    out = tmp_path / "v5.json"
    result = run("export", "sqnxt23v5", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == f"{out}: 1.0-SqNxt-23v5, 135 layers, 930,016 params, 224,916,480 MACs\n"
    graph = LayerGraph.load_json(out)
    assert graph == zoo.load_graph("sqnxt23v5")
    graphml = tmp_path / "mobilenet.graphml"
    result = run("export", "mobilenet", "--output", str(graphml))
    assert result.exit_code == 0, result.output
    assert nx.read_graphml(graphml).number_of_nodes() == 29


def test_export_with_squeezenext_options(tmp_path: Path) -> None:
    out = tmp_path / "variant.json"
    result = run("export", "sqnxt23", "--depth", "2,4,14,1", "--stem", "5", "--first-unit", "serial",
                 "--num-classes", "10", "-o", str(out))
    assert result.exit_code == 0, result.output
    graph = LayerGraph.load_json(out)
    assert graph.name == "1.0-SqNxt-23[depth=2,4,14,1;stem_kernel=5;first_unit=serial;num_classes=10]"
    # 23v5's structure with a 10-way FC: 930,016 - 128 * (1000 - 10) weights
    assert graph.params == 930016 - 128 * 990
    wide = run("export", "sqnxt23", "--width", "2", "--groups", "2", "--input-size", "224")
    assert wide.exit_code == 0, wide.output
    assert wide.stdout.splitlines()[-1].startswith("1.0-SqNxt-23[width=2;groups=2;input_size=224]: 135 layers")


def test_export_table_without_output() -> None:
    result = run("export", "alexnet")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["layer", "op", "in", "CxHxW", "out", "CxHxW", "k/s", "pad", "g", "folded", "params",
                                "MACs"]
    conv2 = next(line for line in lines if line.startswith("conv2 ")).split()
    # Caffe AlexNet conv2: 96->256, 5x5 pad 2, groups 2 on 27x27: 307,200 weights + 256 biases; ReLU, LRN
    assert conv2 == ["conv2", "conv", "96x27x27", "256x27x27", "5x5/1,1", "p2,2", "2", "bias+relu+lrn", "307,456",
                     "223,948,800"]
    assert lines[-1] == ("AlexNet: 11 layers, 60,965,224 params, 724,406,816 MACs (725,066,088 under the "
                         "paper's convention), input 3x227x227")


@pytest.mark.parametrize(("args", "start"), [
    (["export", "sqnxt99"], "unknown network 'sqnxt99'; did you mean: sqnxt44, sqnxt34, sqnxt23?"),
    (["export", "sqnxt23", "-o", "graph.txt"],
     "graph.txt: unknown extension '.txt'; expected .json, .graphml or .onnx"),
    (["export", "sqnxt23", "--depth", "2,x,14"], "--depth: expected comma-separated integers >= 1"),
    (["export", "sqnxt23", "--depth", "2,0,14,1"], "--depth: expected comma-separated integers >= 1"),
    (["export", "sqnxt23", "--width", "-1"], "--width: expected a number > 0; got -1"),
    (["export", "sqnxt23", "--stem", "4"], "--stem: expected an odd kernel size >= 1"),
    (["export", "sqnxt23", "--first-unit", "sideways"], "--first-unit: expected 'parallel' or 'serial'"),
    (["export", "sqnxt23", "--width", "0.3"], "1.0-SqNxt-23: width: 32*width must be an integer divisible by 4"),
    (["export", "alexnet", "--width", "2"], "AlexNet: has no option 'width' (--width is for SqueezeNext networks)"),
])
def test_bad_input_is_one_line_exit_2(args: list[str], start: str) -> None:
    assert_usage_error(run(*args), start)


def test_network_options_helper() -> None:
    assert parse_depth("2,4,14,1") == (2, 4, 14, 1) == parse_depth("[2, 4, 14, 1]")
    options = NetworkOptions.parse(width=1.5, depth="6,6,8,1", stem=7, first_unit="parallel", groups=2)
    assert options.overrides() == {"width": 1.5, "depth": (6, 6, 8, 1), "stem_kernel": 7,
                                   "first_unit": "parallel", "groups": 2}
    assert NetworkOptions.parse().overrides() == {}
    with pytest.raises(WorkloadError, match=r"^--depth: .* got ''$"):
        parse_depth("")
    with pytest.raises(WorkloadError, match=r"^--groups: expected an integer >= 1; got 0$"):
        NetworkOptions.parse(groups=0)
