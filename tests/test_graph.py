"""LayerGraph invariants: shape checks on add, execution order, serialisation."""

from __future__ import annotations

import networkx as nx
import pytest

from accelsim.errors import WorkloadError
from accelsim.workload import Layer, LayerGraph
from accelsim.workload.zoo import load_graph


def _residual_block() -> LayerGraph:
    g = LayerGraph("block", (8, 6, 6))
    g.add(Layer("a", "conv", ("data",), (8, 6, 6), (8, 6, 6), bn=True, act="relu"))
    g.add(Layer("b", "conv", ("a",), (8, 6, 6), (8, 6, 6), kernel=(3, 3), padding=(1, 1)))
    g.add(Layer("add", "add", ("a", "b"), (8, 6, 6), (8, 6, 6), act="relu"))
    g.add(Layer("cat", "concat", ("add", "a"), (16, 6, 6), (16, 6, 6)))
    g.add(Layer("fc", "fc", ("cat",), (576, 1, 1), (10, 1, 1), bias=True, flattened_from=(16, 6, 6)))
    return g


def test_counts_by_hand() -> None:
    g = _residual_block()
    # a: 8*8 weights + 16 BN; b: 8*8*9 = 576; fc: 576*10 + 10 bias -> 64+16+576+5770 = 6426
    assert g.params == 6426
    # a: 8*36*8 = 2304; b: 8*36*72 = 20736; fc: 5760 -> 28800 pure; +1/output: 288+288+10 -> 29386
    assert (g.macs, g.macs_paper) == (28800, 29386)


@pytest.mark.parametrize("name", ["sqnxt23", "squeezenet1_0", "mobilenet"])
def test_layers_are_a_topological_order(name: str) -> None:
    # add() admits a layer only after its producers, so insertion order is topological.
    g = load_graph(name)
    seen = {"data"}
    for layer in g.layers():
        assert set(layer.inputs) <= seen, layer.name
        seen.add(layer.name)
    assert nx.is_directed_acyclic_graph(g.graph)
    assert len(g.layers()) == len(g)


@pytest.mark.parametrize(("layer", "message"), [
    (Layer("x", "conv", ("a",), (4, 6, 6), (8, 6, 6)), "does not match producer output"),
    (Layer("x", "add", ("a", "b"), (8, 6, 6), (8, 3, 3)), "must all equal the output"),
    (Layer("x", "concat", ("a", "b"), (8, 6, 6), (8, 6, 6)), "do not stack"),
    (Layer("x", "fc", ("a",), (100, 1, 1), (10, 1, 1)), "fc expects 100 inputs"),
    (Layer("x", "conv", ("nope",), (8, 6, 6), (8, 6, 6)), "unknown producer 'nope'"),
    (Layer("a", "conv", ("data",), (8, 6, 6), (8, 6, 6)), "duplicate layer name 'a'"),
])
def test_add_rejects_inconsistent_layers(layer: Layer, message: str) -> None:
    g = LayerGraph("g", (8, 6, 6))
    g.add(Layer("a", "conv", ("data",), (8, 6, 6), (8, 6, 6)))
    g.add(Layer("b", "conv", ("a",), (8, 6, 6), (8, 6, 6)))
    with pytest.raises(WorkloadError, match=message):
        g.add(layer)


def test_json_round_trip_and_graphml(tmp_path) -> None:
    g = _residual_block()
    g.save_json(tmp_path / "g.json")
    back = LayerGraph.load_json(tmp_path / "g.json")
    assert back == g and back.layers() == g.layers()
    g.write_graphml(tmp_path / "g.graphml")
    read = nx.read_graphml(tmp_path / "g.graphml")
    assert sorted(read.nodes) == sorted(layer.name for layer in g.layers())
    assert read.nodes["fc"]["params"] == 5770


def test_bad_json_is_one_line_error(tmp_path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(WorkloadError, match=r"bad\.json: not valid JSON \(line 1"):
        LayerGraph.load_json(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"format": "x"}')
    with pytest.raises(WorkloadError, match="format: expected 'accelsim.layergraph/1'"):
        LayerGraph.load_json(tmp_path / "other.json")
