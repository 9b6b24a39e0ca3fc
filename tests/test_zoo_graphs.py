"""Exported zoo graphs against the project's reference layer lists (``tests/data/zoo_layers.json``),
and the zoo bridge's cache.

Every network of the reference is loaded through ``zoo.load_graph`` (export + cache) and
compared layer by layer. Layers are matched by name: our dotted module paths with ``.``
replaced by the network's ``layer_name_sep`` equal the reference names for every network, so
no network needs matching by topological order.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from accelsim.errors import WorkloadError
from accelsim.workload import LayerGraph, zoo

REFERENCE = Path(__file__).resolve().parent / "data" / "zoo_layers.json"  # source: tests/data/README.md
NETWORKS = json.loads(REFERENCE.read_text())["networks"]
SEPARATOR = {"AlexNet": "/", "SqueezeNet v1.0": "/", "SqueezeNet v1.1": "/", "Tiny Darknet": "/",
             "MobileNet": "/"}  # SqueezeNext joins with "_"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(zoo.CACHE_ENV, str(root))
        yield root


def _preset_name(reference_name: str) -> str:
    return reference_name.removesuffix(" (guess)")  # the 34 family is flagged as a guess in the reference


def _ours(layer, sep: str) -> dict:
    out = {
        "op": layer.op, "in_ch": layer.in_shape[0], "out_ch": layer.out_shape[0], "groups": layer.groups,
        "in_h": layer.in_shape[1], "in_w": layer.in_shape[2], "out_h": layer.out_shape[1],
        "out_w": layer.out_shape[2], "inputs": [src.replace(".", sep) for src in layer.inputs],
        "weights": layer.weights, "params": layer.weights + layer.biases, "bn_params": layer.bn_params,
        "macs": layer.macs, "macs_bias": layer.macs_paper,
    }
    if layer.op not in ("add", "concat"):  # the reference writes kernel 0 for these; Layer keeps 1x1
        out.update(kernel_h=layer.kernel[0], kernel_w=layer.kernel[1], stride=list(layer.stride),
                   pad=list(layer.padding))
    if layer.op in ("conv", "dwconv", "fc"):
        out.update(bias=layer.bias, bn=layer.bn)
    if layer.op == "fc":
        out["flattened_from"] = list(layer.flattened_from)
    return out


def _reference(entry: dict) -> dict:
    want = {key: entry[key] for key in ("op", "in_ch", "out_ch", "groups", "in_h", "in_w", "out_h", "out_w",
                                        "inputs", "weights", "params", "bn_params", "macs", "macs_bias")}
    if entry["op"] not in ("add", "concat"):
        want.update(kernel_h=entry["kernel_h"], kernel_w=entry["kernel_w"], stride=[entry["stride"]] * 2,
                    pad=entry["pad"])
    if entry["op"] in ("conv", "dwconv", "fc"):
        want.update(bias=entry["bias"], bn=entry["bn"])
    if entry["op"] == "fc":
        want["flattened_from"] = entry["flattened_from"]
    return want


@pytest.mark.parametrize("reference_name", list(NETWORKS))
def test_graph_matches_reference_layer_by_layer(cache: Path, reference_name: str) -> None:
    reference = NETWORKS[reference_name]
    graph = zoo.load_graph(_preset_name(reference_name))
    sep = SEPARATOR.get(reference_name, "_")
    ours = {layer.name.replace(".", sep): layer for layer in graph.layers()}
    names = [entry["name"] for entry in reference["layers"]]
    assert sorted(ours) == sorted(names)  # same layers (conv/fc/pool/add/concat), same count
    assert len(graph) == len(names)
    assert list(graph.input_shape) == reference["meta"]["input"]
    for entry in reference["layers"]:
        got, want = _ours(ours[entry["name"]], sep), _reference(entry)
        assert got == want, entry["name"]
        if "act" in entry and entry["act"] is not None and reference_name != "MobileNet":
            assert ours[entry["name"]].act == entry["act"], entry["name"]
    if reference_name == "MobileNet":  # TF-slim uses ReLU6; the reference writes every act as 'relu'
        assert {layer.act for layer in graph.layers() if layer.op in ("conv", "dwconv")} == {"relu6"}
    totals = reference["totals"]
    assert graph.params == totals["params_paper_convention"]
    assert graph.macs == totals["macs"] and graph.macs_paper == totals["macs_paper_convention"]
    assert graph.weights == totals["weights"]


def test_cache_hit_equals_fresh_export_and_is_used(cache: Path) -> None:
    fresh = zoo.load_graph("sqnxt23v5", use_cache=False)
    cached = zoo.load_graph("1.0-SqNxt-23v5")
    assert cached == fresh and cached.name == "1.0-SqNxt-23v5"
    assert cached.meta == {"preset": "1.0-SqNxt-23v5", "family": "squeezenext", "overrides": {},
                           "input_size": 227, "num_classes": 1000, "input_shape": [3, 227, 227],
                           "accelsim_version": fresh.meta["accelsim_version"]}
    key = zoo.cache_key("1.0-SqNxt-23v5", {}, 227, 1000)
    path = zoo.cache_dir() / f"{key}.json"
    assert path.is_file() and LayerGraph.load_json(path) == fresh


def test_cache_hit_does_not_import_torch(cache: Path) -> None:
    zoo.load_graph("sqnxt23")
    code = ("import sys; from accelsim.workload.zoo import load_graph; g = load_graph('sqnxt23'); "
            "print(len(g), 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["135", "False"]


def test_cache_key_covers_sources_and_options(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = zoo.cache_key("1.0-SqNxt-23", {}, 227, 1000)
    assert zoo.cache_key("1.0-SqNxt-23", {"depth": (2, 4, 14, 1)}, 227, 1000) != base
    assert zoo.cache_key("1.0-SqNxt-23", {}, 224, 1000) != base
    assert zoo.cache_key("1.0-SqNxt-23", {}, 227, 10) != base
    monkeypatch.setattr(zoo, "source_digest", lambda: "an edited network definition")
    assert zoo.cache_key("1.0-SqNxt-23", {}, 227, 1000) != base


def test_corrupt_cache_entry_is_replaced(cache: Path) -> None:
    path = zoo.cache_dir() / f"{zoo.cache_key('Tiny Darknet', {}, 224, 1000)}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"format": "accelsim.layergraph/1", "layers": [')  # a torn write
    with pytest.warns(zoo.CacheWarning, match="not valid JSON"):
        graph = zoo.load_graph("tinydarknet")
    assert len(graph) == 21 and LayerGraph.load_json(path) == graph


def test_overrides_name_the_variant_and_change_the_graph(cache: Path) -> None:
    graph = zoo.load_graph("sqnxt23", depth=[2, 4, 14, 1], stem_kernel=5, first_unit="serial")
    assert graph.name == "1.0-SqNxt-23[depth=2,4,14,1;stem_kernel=5;first_unit=serial]"
    assert graph.meta["overrides"] == {"depth": [2, 4, 14, 1], "stem_kernel": 5, "first_unit": "serial"}
    again = zoo.load_graph("sqnxt23", depth=(2, 4, 14, 1), stem_kernel=5, first_unit="serial")  # cache hit
    assert again == graph
    # the same structure as the 23v5 preset: its reference totals
    assert graph.params == 930016 and graph.macs_paper == 228018984
    # an override equal to the preset's own value is no override
    assert zoo.load_graph("sqnxt23v5", depth=(2, 4, 14, 1)).name == "1.0-SqNxt-23v5"
    small = zoo.load_graph("sqnxt23", num_classes=10, input_size=224)
    assert small.name == "1.0-SqNxt-23[num_classes=10;input_size=224]"
    assert small["fc"].out_shape == (10, 1, 1) and small.input_shape == (3, 224, 224)


def test_variant_name() -> None:
    assert zoo.variant_name("sqnxt23", {"depth": (2, 4, 14, 1)}) == "1.0-SqNxt-23[depth=2,4,14,1]"
    assert zoo.variant_name("sqnxt23", {"groups": 2, "width": 2.0}) == "1.0-SqNxt-23[width=2;groups=2]"
    assert zoo.variant_name("alexnet", {}) == "AlexNet"
    assert zoo.effective_overrides("sqnxt23", {"width": 1, "depth": [6, 6, 8, 1], "groups": None}) == {}
    assert zoo.effective_overrides("sqnxt23", {"width": 2}) == {"width": 2.0}


@pytest.mark.parametrize(("name", "options", "message"), [
    ("sqnxt99", {}, "unknown network 'sqnxt99'; did you mean: sqnxt44, sqnxt34, sqnxt23?"),
    ("sqnxt23", {"depth": (0, 4, 14, 1)}, "1.0-SqNxt-23: depth entries: expected an integer >= 1, got 0"),
    ("sqnxt23", {"width": -1.0}, "1.0-SqNxt-23: width: expected a finite number > 0, got -1.0"),
    ("sqnxt23", {"input_size": 0}, "1.0-SqNxt-23: input_size: expected an integer >= 1; got 0"),
    ("alexnet", {"width": 2.0}, "AlexNet: has no option 'width' (--width is for SqueezeNext networks); "
                                "its options: none"),
])
def test_bad_requests_are_one_line_workload_errors(cache: Path, name: str, options: dict, message: str) -> None:
    with pytest.raises(WorkloadError) as info:
        zoo.load_graph(name, **options)
    assert str(info.value) == message


def test_list_presets_passthrough() -> None:
    names = zoo.list_presets()
    assert names[:5] == ("AlexNet", "SqueezeNet v1.0", "SqueezeNet v1.1", "Tiny Darknet", "1.0-SqNxt-23")
    assert set(NETWORKS) - {f"{n} (guess)" for n in names} <= set(names)
    assert zoo.resolve_name("SQNXT23V5") == "1.0-SqNxt-23v5"
