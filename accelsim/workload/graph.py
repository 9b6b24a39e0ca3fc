"""A network as a directed acyclic graph of ``Layer`` s, over ``networkx``.

``LayerGraph.add`` checks each layer against its producers at once (shapes must chain), so a
graph that exists is consistent. ``add`` only accepts a layer whose producers are already in
the graph, so insertion order is a topological order: ``layers()`` returns it as is. Graphs
round-trip exactly through JSON and can be written as GraphML for graph tools.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import networkx as nx

from accelsim import atomic
from accelsim.errors import WorkloadError
from accelsim.workload.layer import INPUT, Layer, LayerKind, Shape

JSON_FORMAT = "accelsim.layergraph/1"


class LayerGraph:
    """An ordered, shape-checked DAG of layers.

    Args:
        name: the network's name (e.g. the paper's ``"1.0-SqNxt-23"``).
        input_shape: ``(C, H, W)`` of the input image.
        meta: JSON-ready facts about where the graph came from (preset, options, version).
    """

    def __init__(self, name: str, input_shape: Shape, meta: Mapping[str, Any] | None = None) -> None:
        self.name = name
        self.input_shape: Shape = tuple(input_shape)  # type: ignore[assignment]
        self.meta: dict[str, Any] = dict(meta or {})
        self._graph = nx.DiGraph()
        self._order: list[str] = []

    # ---- building -----------------------------------------------------------------------
    def add(self, layer: Layer) -> Layer:
        """Append a layer whose producers are already in the graph; check that shapes chain."""
        if layer.name == INPUT or layer.name in self._graph:
            raise WorkloadError(f"{self.name}: duplicate layer name {layer.name!r}")
        shapes = [self._shape_of(src, layer) for src in layer.inputs]
        self._check_shapes(layer, shapes)
        self._graph.add_node(layer.name, layer=layer)
        for src in layer.inputs:
            if src != INPUT:
                self._graph.add_edge(src, layer.name)
        self._order.append(layer.name)
        return layer

    def _shape_of(self, src: str, layer: Layer) -> Shape:
        if src == INPUT:
            return self.input_shape
        if src not in self._graph:
            raise WorkloadError(f"{self.name}: layer {layer.name!r} reads unknown producer {src!r}")
        return self._graph.nodes[src]["layer"].out_shape

    def _check_shapes(self, layer: Layer, shapes: list[Shape]) -> None:
        where = f"{self.name}: layer {layer.name!r}"
        if layer.kind is LayerKind.ADD:
            if any(s != layer.out_shape for s in shapes) or layer.in_shape != layer.out_shape:
                raise WorkloadError(f"{where}: add operands {shapes} must all equal the output {layer.out_shape}")
        elif layer.kind is LayerKind.CONCAT:
            if any(s[1:] != layer.out_shape[1:] for s in shapes) or sum(s[0] for s in shapes) != layer.out_channels:
                raise WorkloadError(f"{where}: concat operands {shapes} do not stack to {layer.out_shape}")
        elif layer.kind is LayerKind.FC:
            flat = shapes[0][0] * shapes[0][1] * shapes[0][2]
            if len(shapes) != 1 or flat != layer.in_channels:
                raise WorkloadError(f"{where}: fc expects {layer.in_channels} inputs; producer gives {shapes[0]}")
        elif len(shapes) != 1 or shapes[0] != layer.in_shape:
            raise WorkloadError(f"{where}: input shape {layer.in_shape} does not match producer output {shapes}")

    # ---- reading ------------------------------------------------------------------------
    @property
    def graph(self) -> nx.DiGraph:
        """The underlying DiGraph; node attribute ``layer`` holds the ``Layer``."""
        return self._graph

    def layers(self) -> list[Layer]:
        """All layers in execution order: insertion order, which ``add`` makes topological."""
        return list(self._iter_nodes())

    def __getitem__(self, name: str) -> Layer:
        try:
            return self._graph.nodes[name]["layer"]
        except KeyError:
            raise WorkloadError(f"{self.name}: no layer named {name!r}") from None

    def __contains__(self, name: object) -> bool:
        return name in self._graph

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers())

    def __len__(self) -> int:
        return len(self._order)

    def consumers(self, name: str) -> list[str]:
        return sorted(self._graph.successors(name), key=self._order.index)

    def producers(self, name: str) -> list[str]:
        return list(self[name].inputs)

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self._iter_nodes())

    @property
    def weights(self) -> int:
        return sum(layer.weights for layer in self._iter_nodes())

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self._iter_nodes())

    @property
    def macs_paper(self) -> int:
        return sum(layer.macs_paper for layer in self._iter_nodes())

    @property
    def output_shape(self) -> Shape:
        return self[self._order[-1]].out_shape

    def _iter_nodes(self) -> Iterator[Layer]:
        return (self._graph.nodes[n]["layer"] for n in self._order)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LayerGraph):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"LayerGraph({self.name!r}, {len(self)} layers, {self.params} params, {self.macs} MACs)"

    # ---- serialisation ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": JSON_FORMAT,
            "name": self.name,
            "input_shape": list(self.input_shape),
            "meta": self.meta,
            "layers": [self[n].to_dict() for n in self._order],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "graph") -> LayerGraph:
        if data.get("format") != JSON_FORMAT:
            raise WorkloadError(f"{where}: format: expected {JSON_FORMAT!r}; got {data.get('format')!r}")
        try:
            graph = cls(data["name"], tuple(data["input_shape"]), data.get("meta", {}))
            for item in data["layers"]:
                graph.add(Layer.from_dict(item))
        except (KeyError, TypeError) as exc:
            raise WorkloadError(f"{where}: malformed layer graph ({exc})") from None
        return graph

    def save_json(self, path: str | Path) -> None:
        """Write the graph as JSON, atomically (a reader never sees half a file)."""
        atomic.write_text(path, json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load_json(cls, path: str | Path) -> LayerGraph:
        try:
            data = json.loads(Path(path).read_text())
        except FileNotFoundError:
            raise WorkloadError(f"{path}: file not found") from None
        except json.JSONDecodeError as exc:
            raise WorkloadError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
        return cls.from_dict(data, where=str(path))

    def write_graphml(self, path: str | Path) -> None:
        """Write GraphML; list-valued layer fields become strings (GraphML has no lists)."""
        out = nx.DiGraph(name=self.name, input_shape=str(list(self.input_shape)))
        for name in self._order:
            attrs = {k: (json.dumps(v) if isinstance(v, list) else ("" if v is None else v))
                     for k, v in self[name].to_dict().items()}
            attrs.update(params=self[name].params, macs=self[name].macs, macs_paper=self[name].macs_paper)
            out.add_node(name, **attrs)
        out.add_edges_from(self._graph.edges)
        with atomic.atomic_open(path, "wb") as handle:
            nx.write_graphml(out, handle)
