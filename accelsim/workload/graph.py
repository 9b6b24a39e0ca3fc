"""A network as a directed acyclic graph of ``Layer`` s, over ``networkx``.

``LayerGraph.add`` checks each layer against its producers at once (shapes must chain), so a
graph that exists is consistent. ``add`` only accepts a layer whose producers are already in
the graph, so insertion order is a topological order: ``layers()`` returns it as is. Graphs
round-trip exactly through JSON and can be written as GraphML for graph tools.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import networkx as nx
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from accelsim import atomic
from accelsim.errors import WorkloadError
from accelsim.limits import GRAPH_FILE_MAX_BYTES, GRAPH_MAX_LAYERS, MAX_DIMENSION, read_input_file
from accelsim.workload.layer import INPUT, Layer, LayerKind, Shape

JSON_FORMAT = "accelsim.layergraph/1"


# ---- the file schema --------------------------------------------------------------------------
Dim = Annotated[StrictInt, Field(ge=1, le=MAX_DIMENSION)]
Pad = Annotated[StrictInt, Field(ge=0, le=MAX_DIMENSION)]
Name = Annotated[StrictStr, Field(min_length=1, max_length=1000)]


class LayerRecord(BaseModel):
    """One layer as a graph file stores it: every field of :class:`Layer`, required.

    A file that lacks ``stride`` is refused rather than read as stride 1; only ``dilation``,
    ``pad_end`` and ``mode``, which ``Layer.to_dict`` leaves out at their defaults, may be absent.
    Values are bounded (``accelsim.limits.MAX_DIMENSION``) so no file can ask for unbounded work.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Name
    kind: Literal[tuple(k.value for k in LayerKind)]  # type: ignore[valid-type]
    inputs: Annotated[list[Name], Field(min_length=1, max_length=GRAPH_MAX_LAYERS)]
    in_shape: tuple[Dim, Dim, Dim]
    out_shape: tuple[Dim, Dim, Dim]
    kernel: tuple[Dim, Dim]
    stride: tuple[Dim, Dim]
    padding: tuple[Pad, Pad]
    groups: Dim
    # Left out of a file at their defaults (``Layer.to_dict``), so graphs without dilated,
    # asymmetrically padded or resize layers read as they always have: the only optional fields.
    dilation: tuple[Dim, Dim] = (1, 1)
    pad_end: tuple[Pad, Pad] | None = None
    mode: Annotated[StrictStr, Field(max_length=100)] = ""
    ceil_mode: StrictBool
    global_pool: StrictBool
    bias: StrictBool
    bn: StrictBool
    act: Annotated[StrictStr, Field(max_length=100)] | None
    post_ops: Annotated[list[Annotated[StrictStr, Field(max_length=100)]], Field(max_length=100)]
    flattened_from: tuple[Dim, Dim, Dim] | None
    source: Annotated[StrictStr, Field(max_length=1000)]


class GraphRecord(BaseModel):
    """A layer-graph file (``accelsim export -o``): format tag, name, input shape, meta, layers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["accelsim.layergraph/1"]
    name: Name
    input_shape: tuple[Dim, Dim, Dim]
    meta: dict[str, Any]
    layers: Annotated[list[LayerRecord], Field(min_length=1, max_length=GRAPH_MAX_LAYERS)]
    #: SHA-256 of the other fields (:func:`content_digest`); ``save_json`` writes it, and the
    #: graph cache refuses an entry whose content does not match it.
    digest: Annotated[StrictStr, Field(pattern="^[0-9a-f]{64}$")] | None = None


def content_digest(data: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a graph's JSON form without its ``digest``, keys sorted, compact separators."""
    body = {k: v for k, v in data.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def check_out_shape(layer: Layer, where: str) -> None:
    """``out_shape`` must be what the layer computes from in_shape, kernel, stride, padding,
    dilation and groups (``accelsim.workload.ops``' rules, the importers' own); a pool keeps its
    channels, an fc outputs ``(K, 1, 1)``. Kinds whose output size is free (add, concat: checked
    against their producers; resize, transpose, reshape, deconv) pass."""
    from accelsim.workload import ops

    c, h, w = layer.in_shape
    k = layer.out_shape[0]
    end = layer.pad_end or layer.padding
    if layer.kind is LayerKind.FC:
        expected = (k, 1, 1)
    elif layer.kind is LayerKind.CONV:
        expected = (k, *(ops.conv_out(where, n, kk, st, pb, pe, d) for n, kk, st, pb, pe, d in
                         zip((h, w), layer.kernel, layer.stride, layer.padding, end, layer.dilation, strict=True)))
    elif layer.kind.is_pool:
        if k != c or layer.groups != 1:
            raise WorkloadError(f"{where}: a pool keeps its {c} channels and has no groups; got {k} channels, "
                                f"groups={layer.groups}")
        expected = (c, *(ops.pool_out(where, n, kk, st, pb, pe, layer.ceil_mode) for n, kk, st, pb, pe in
                         zip((h, w), layer.kernel, layer.stride, layer.padding, end, strict=True)))
    else:
        return
    if tuple(layer.out_shape) != expected:
        raise WorkloadError(
            f"{where}: out_shape {list(layer.out_shape)} does not follow from in_shape {list(layer.in_shape)}, "
            f"kernel {list(layer.kernel)}, stride {list(layer.stride)}, padding {list(layer.padding)}"
            f"{', ceil_mode' if layer.ceil_mode else ''}; expected {list(expected)}")


def _validation_line(exc: ValidationError, data: Any) -> str:
    """``layers.3 ('conv1').stride: Field required`` for the first error, with a count of the rest."""
    errors = exc.errors()
    error = errors[0]
    if not isinstance(data, Mapping):
        return f"expected a JSON object (a layer graph); got {type(data).__name__} {str(data)[:40]}"
    if error["loc"] == ("layers",) and error["type"] == "too_short":
        return "layers: a graph needs at least one layer; got none"
    loc = list(error["loc"])
    where = ".".join(str(k) for k in loc)
    if len(loc) >= 2 and loc[0] == "layers" and isinstance(loc[1], int):
        try:
            name = data["layers"][loc[1]].get("name")
        except (AttributeError, IndexError, KeyError, TypeError):
            name = None
        if isinstance(name, str) and name:
            where = f"layers.{loc[1]} ({name[:60]!r})" + "".join(f".{k}" for k in loc[2:])
    message = error["msg"]
    if error["type"] == "missing":
        message = "missing; every field is required (no defaults)"
    elif "input" in error and error["type"] not in ("missing",):
        got = repr(error["input"])
        message += f" (got {got[:60] + '...' if len(got) > 60 else got})"
    text = f"{where}: {message}" if where else message
    return text + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")


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
        check_out_shape(layer, f"{self.name}: layer {layer.name!r}")
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
    def from_dict(cls, data: Any, where: str = "graph") -> LayerGraph:
        """Build a graph from its JSON form, validated against :class:`GraphRecord`.

        Every field of every layer is required, every ``out_shape`` must follow from the
        layer's input shape, kernel, stride, padding and groups, every producer must come
        earlier, and a graph has at least one layer. Raises one-line WorkloadErrors.
        """
        if isinstance(data, Mapping) and data.get("format") != JSON_FORMAT:
            raise WorkloadError(f"{where}: format: expected {JSON_FORMAT!r}; got {str(data.get('format'))[:60]!r}")
        try:
            record = GraphRecord.model_validate(data)
        except ValidationError as exc:
            raise WorkloadError(f"{where}: {_validation_line(exc, data)}") from None
        graph = cls(record.name, record.input_shape, record.meta)
        for index, item in enumerate(record.layers):
            try:
                graph.add(Layer(**item.model_dump()))
            except WorkloadError as exc:
                raise WorkloadError(f"{where}: layers.{index}: {exc}") from None
        return graph

    def save_json(self, path: str | Path) -> None:
        """Write the graph as JSON with its :func:`content_digest`, atomically (a reader never sees half a file)."""
        data = self.to_dict()
        atomic.write_text(path, json.dumps({**data, "digest": content_digest(data)}, indent=1) + "\n")

    @classmethod
    def load_json(cls, path: str | Path, *, verify_digest: bool = False) -> LayerGraph:
        """Read a graph file (a regular file of at most ``GRAPH_FILE_MAX_BYTES``); one-line errors.

        With ``verify_digest`` the file must carry a ``digest`` that matches its content (the
        graph cache's integrity check); otherwise a digest is accepted as it is, so a graph
        edited by hand still loads, checked like any other.
        """
        data = read_graph_json(path)
        if verify_digest and isinstance(data, Mapping):
            stored = data.get("digest")
            if stored is None:
                raise WorkloadError(f"{path}: no content digest")
            if stored != content_digest(data):
                raise WorkloadError(f"{path}: content does not match its digest (edited or corrupted)")
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


def read_graph_json(path: str | Path) -> Any:
    """The parsed JSON of a graph file, read within ``GRAPH_FILE_MAX_BYTES``; one-line WorkloadErrors."""
    raw = read_input_file(path, GRAPH_FILE_MAX_BYTES, "a layer-graph JSON file", WorkloadError)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WorkloadError(f"{path}: not UTF-8 text (byte {exc.start}); expected a layer-graph JSON file") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise WorkloadError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    except (RecursionError, ValueError) as exc:  # nesting beyond the parser's stack, an over-long number
        reason = "nested too deeply" if isinstance(exc, RecursionError) else " ".join(str(exc).split())[:100]
        raise WorkloadError(f"{path}: not valid JSON ({reason})") from None


def is_graph_path(text: str) -> bool:
    """Whether a network argument names a file rather than a preset: it ends in ``.json``/``.onnx`` or
    has a directory part (no preset name does), so a missing file is "no such file", not an
    unknown network."""
    return text.lower().endswith((".json", ".onnx")) or "/" in text or os.sep in text
