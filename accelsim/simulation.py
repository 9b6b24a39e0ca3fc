"""Simulate layers and networks: candidates -> search -> best dataflow -> results, memoised.

Per layer (model.md 2): every allowed dataflow is mapped with its own best tiling
(``accelsim.engine``); the layer runs the one with the fewest (whole) cycles, ties going to
the lower energy, then to the fixed order WS, OS. Layers the array cannot run as WS/OS (pooling,
standalone adds) stream; a concat is free.

Network context a layer's cost depends on (planned once per graph by :func:`plan_fusion`):

* ``model.fuse_eltwise`` (default on): a residual add is fused into the conv that produces
  its *last* operand (in execution order: the block's expand conv) when that conv feeds
  nothing else. The conv's result then includes one DRAM read of every other operand (the
  shortcut), and the add keeps a zero-cost row (dataflow ``stream``, ``fused_into`` set) so
  layer counts stay honest. Otherwise the add is a standalone streaming layer.
* ``model.fuse_pool``: a pooling layer whose input is a conv feeding nothing else is folded
  into that conv's output write (the conv writes the pooled tensor). A pool after a concat
  (SqueezeNet's fire4/fire8 -> maxpool) streams from its producers' output tiles the same
  way: pooling works channel by channel, so ``pool(concat(a, b)) = concat(pool(a), pool(b))``,
  and when the concat feeds only the pool and every concat input is a conv feeding only the
  concat, each producer writes its own channels pooled (``pooled_shape`` = its channels at
  the pool's output size) and the pool costs nothing (``fused_into`` = the last producer,
  which finishes the pooled tensor). The pooled tensor never round-trips DRAM unpooled.
* ``sparsity.sparse_first_layer=False``: the network's first conv runs dense (OS skips nothing).
* ``model.activation_residency`` (default off; model.md 2 item 2 and 11 item 2): a tensor
  may stay in the global buffer between two layers instead of round-tripping through DRAM.
  See :func:`plan_residency` for the rules.

Results are memoised in a :class:`SimCache` by (layer signature, fusion context, dense flag,
residency, spec, dataflow option), so repeated blocks cost nothing and many networks can
share one cache.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from accelsim.energy import energy_of
from accelsim.engine import MODELS, GridMemo, Mapped, build_work, grid_key, map_best, min_buffer_words
from accelsim.engine.work import Work, WorkKind
from accelsim.errors import InfeasibleError, SpecError, WorkloadError
from accelsim.hardware.spec import PAPER_16X16, Dataflow, HardwareSpec, TilingCost
from accelsim.mapping.search import Objective, ObjectiveKind
from accelsim.results import AccessCounts, Alternative, EnergyBreakdown, LayerResult, NetworkResult
from accelsim.units import format_bytes
from accelsim.workload.graph import LayerGraph
from accelsim.workload.layer import INPUT, Layer, LayerKind, Shape

if TYPE_CHECKING:
    from torch import nn

Progress = Callable[[int, int], None]
_PREFERENCE = (Dataflow.WS, Dataflow.OS, Dataflow.STREAM)


@dataclass(frozen=True)
class Fusion:
    """What the network around a layer changes about its cost.

    Attributes:
        shortcut_tensors: residual operands this layer reads at its output write (fused add).
        pooled_shape: output shape of a pooling layer fused into this layer's output write.
        fused_into: the layer that absorbs this one (this layer is then free).
        dense: this is the first conv and ``sparse_first_layer`` is off.
        input_resident: the layer's (single) input is already in the global buffer: no DRAM
            reads, read in place.
        output_resident: the tensor this layer writes stays in the global buffer for the next
            layer: no final DRAM write, and no partial-sum spills.
        reserved_words: buffer words the resident tensors hold during this layer (its
            resident input plus its resident output); its tiles get the rest.
    """

    shortcut_tensors: int = 0
    pooled_shape: Shape | None = None
    fused_into: str | None = None
    dense: bool = False
    input_resident: bool = False
    output_resident: bool = False
    reserved_words: int = 0


class SimCache:
    """Memo of layer costs keyed by (signature, fusion, dense, spec, dataflow option).

    Share one across many simulations (e.g. a depth-redistribution search); ``hits`` and
    ``misses`` count lookups, ``candidates`` the tilings priced by the searches it ran.
    """

    def __init__(self) -> None:
        self._store: dict[tuple[Any, ...], _Cost] = {}
        self.hits = 0
        self.misses = 0
        self.candidates = 0
        #: the timing-independent part of recent tiling searches (``engine.GridMemo``): a miss on
        #: a spec that differs from an earlier one only in DRAM timing re-runs only the rest
        self.grids = GridMemo()

    def __len__(self) -> int:
        return len(self._store)

    def clear(self) -> None:
        self._store.clear()
        self.grids.clear()
        self.hits = self.misses = self.candidates = 0

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["grids"] = None  # a memo of large arrays, rebuilt on demand: never shipped to a worker
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.grids = GridMemo()

    def __repr__(self) -> str:
        return f"SimCache({len(self)} entries, {self.hits} hits, {self.misses} misses)"

    def mark(self) -> tuple[int, int, int, int]:
        """A bookmark for :meth:`delta_since`: (entries, hits, misses, candidates) now."""
        return len(self._store), self.hits, self.misses, self.candidates

    def delta_since(self, mark: tuple[int, int, int, int]) -> CacheDelta:
        """What the simulations since ``mark`` did here: the entries they added (the store only
        grows, in insertion order) and their lookups."""
        size, hits, misses, candidates = mark
        return CacheDelta(tuple(itertools.islice(self._store.items(), size, None)), self.hits - hits,
                          self.misses - misses, self.candidates - candidates)

    def absorb(self, delta: CacheDelta) -> None:
        """Take in simulations run on another cache (an executor's worker) as if they had run here.

        Entries new here are stored. The counts become the ones running the same lookups on
        this cache would give: of the delta's lookups, the misses are its entries new here and
        the lookups that stored nothing there (an infeasible layer is never stored, so it is a
        miss wherever it runs); the rest are hits. ``candidates`` adds the tilings the delta
        priced.
        """
        new = 0
        for key, cost in delta.entries:
            if key not in self._store:
                self._store[key] = cost
                new += 1
        misses = new + delta.misses - len(delta.entries)
        self.misses += misses
        self.hits += delta.hits + delta.misses - misses
        self.candidates += delta.candidates


@dataclass(frozen=True)
class CacheDelta:
    """Simulations run on one :class:`SimCache`, to be absorbed by another (picklable).

    Attributes:
        entries: (key, cost) pairs the simulations added, in the order they were added.
        hits, misses: their lookups there; ``candidates`` the tilings they priced.
    """

    entries: tuple[tuple[tuple[Any, ...], _Cost], ...]
    hits: int
    misses: int
    candidates: int


@dataclass(frozen=True)
class _Cost:
    """A layer's cost without its name: what the cache stores."""

    dataflow: Dataflow
    mapped: Mapped | None
    energy: EnergyBreakdown
    alternatives: tuple[Alternative, ...]


def _objective(spec: HardwareSpec) -> Objective:
    if spec.model.tiling_cost is TilingCost.WEIGHTED:
        return Objective(ObjectiveKind.WEIGHTED, spec.model.tiling_dram_weight)
    if spec.model.tiling_cost is TilingCost.JOINT:
        return Objective(ObjectiveKind.JOINT, joint_weight=spec.model.tiling_joint_weight)
    return Objective(ObjectiveKind.LEXICOGRAPHIC)


def _dataflows(work: Work, spec: HardwareSpec, dataflow: str) -> tuple[Dataflow, ...]:
    if work.kind is WorkKind.STREAM:
        return (Dataflow.STREAM,)
    if dataflow == "auto":
        return tuple(d for d in _PREFERENCE if d in spec.dataflows)
    return (Dataflow(dataflow),)


def _check_dataflow(dataflow: str | Dataflow) -> str:
    value = str(getattr(dataflow, "value", dataflow)).lower()
    if value not in ("auto", "ws", "os"):
        raise SpecError(f"dataflow: expected one of auto, ws, os; got {dataflow!r}")
    return value


def _infeasible(layer: Layer, work: Work, spec: HardwareSpec) -> InfeasibleError:
    need_words = min_buffer_words(work, spec)
    need = need_words * spec.word_bytes
    need_bytes = int(-(-need // 1))
    copies = " (double-buffered: two copies)" if spec.global_buffer.double_buffer else ""
    c, h, w = layer.in_shape
    k, ho, wo = layer.out_shape
    kernel = f"{layer.kernel[0]}x{layer.kernel[1]}"
    where = f"layer {layer.name!r} ({layer.op} {c}x{h}x{w} -> {k}x{ho}x{wo}, kernel {kernel})"
    if need_words <= spec.buffer_words:  # a tile fits: it is the time, not the space, that is infinite
        return InfeasibleError(
            f"{where}: infeasible in time, not space: no tiling has a finite cycle count with "
            f"dram.bandwidth_bytes_per_s={spec.dram.bandwidth_bytes_per_s:g} and clock_hz={spec.clock_hz:g} "
            f"({spec.dram_words_per_cycle:.3g} DRAM words/cycle)")
    return InfeasibleError(
        f"{where}: "
        f"the {format_bytes(spec.global_buffer.size_bytes)} global buffer cannot hold even the smallest tile; "
        f"it needs at least {need_bytes} bytes{f' ({format_bytes(need_bytes)})' if need_bytes >= 1024 else ''}"
        f"{copies}")


def _network_minimum(layers: list[Layer], plan: dict[str, Fusion], spec: HardwareSpec, failed: Layer) -> str:
    """``; the whole network needs at least N bytes (layer 'x')`` when that is more than ``failed`` needs.

    The smallest buffer in which *every* layer has a tile: the largest of the layers' minimums,
    so the user's next try is the last one (one layer's minimum only moves the failure on).
    """
    need, worst, own = 0, None, 0
    for layer in layers:
        fusion = plan[layer.name]
        if fusion.fused_into is not None:
            continue
        work = _work(layer, spec, replace(fusion, input_resident=False, output_resident=False, reserved_words=0))
        if work.kind is WorkKind.FREE:
            continue
        words = min_buffer_words(work, spec)
        if layer is failed:
            own = words
        if words > need:
            need, worst = words, layer.name
    if worst is None or need <= max(own, spec.buffer_words):
        return ""
    need_bytes = math.ceil(need * spec.word_bytes)
    shown = f" ({format_bytes(need_bytes)})" if need_bytes >= 1024 else ""
    return f"; the whole network needs at least {need_bytes:,} bytes{shown} (for layer {worst!r})"


def _cost(layer: Layer, work: Work, spec: HardwareSpec, dataflow: str, cache: SimCache, key: str | None) -> _Cost:
    if work.kind is WorkKind.FREE:
        return _Cost(Dataflow.STREAM, None, EnergyBreakdown(), ())
    objective = _objective(spec)
    options: list[tuple[Mapped, EnergyBreakdown]] = []
    for df in _dataflows(work, spec, dataflow):
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # overflow -> inf: _infeasible says why
            mapped = map_best(MODELS[df], work, spec, objective, memo=cache.grids, key=key)
        if mapped is not None:
            cache.candidates += mapped.evaluated
            options.append((mapped, energy_of(mapped.counts, spec.energy)))
    if not options:
        raise _infeasible(layer, work, spec)
    # whole cycles, as in the tiling objective: a sub-cycle difference is a tie
    fastest = min(math.ceil(m.cycles - 1e-6) for m, _ in options)
    tied = [(m, e) for m, e in options if math.ceil(m.cycles - 1e-6) <= fastest]
    best, energy = min(tied, key=lambda me: (me[1].total, _PREFERENCE.index(me[0].dataflow)))
    alternatives = tuple(Alternative(m.dataflow, m.cycles, e.total) for m, e in options if m is not best)
    return _Cost(best.dataflow, best, energy, alternatives)


def simulate_layer(
    layer: Layer,
    spec: HardwareSpec | None = None,
    *,
    dataflow: str | Dataflow = "auto",
    fusion: Fusion | None = None,
    cache: SimCache | None = None,
    spec_key: str | None = None,
    grid_key: str | None = None,
) -> LayerResult:
    """Simulate one layer on ``spec`` (default: the paper's 16x16/128KB accelerator).

    Args:
        dataflow: ``"auto"`` (the faster of the spec's dataflows), ``"ws"`` or ``"os"``
            (forced; pooling and adds still stream).
        fusion: the network context (see :class:`Fusion`); default: a standalone layer.
        cache: memo shared across calls; ``spec_key`` its precomputed key of ``spec`` and
            ``grid_key`` the precomputed ``engine.grid_key(spec)``.

    Raises:
        InfeasibleError: no tile of the layer fits the global buffer (names the minimum size).
    """
    spec = spec or PAPER_16X16
    fusion = fusion or Fusion()
    dataflow = _check_dataflow(dataflow)
    pe_count = spec.pe_array.rows * spec.pe_array.cols
    if fusion.fused_into is not None:
        return LayerResult(layer=layer, dataflow=Dataflow.STREAM, tiling=None, cycles=0.0, compute_cycles=0.0,
                           dram_cycles=0.0, dram_words=0.0, counts=AccessCounts(), energy=EnergyBreakdown(),
                           pe_count=pe_count, word_bytes=spec.word_bytes, fused_into=fusion.fused_into)
    cache = cache if cache is not None else SimCache()
    key = (layer.signature, fusion.shortcut_tensors, fusion.pooled_shape, fusion.dense, fusion.input_resident,
           fusion.output_resident, fusion.reserved_words, spec_key or _spec_key(spec), dataflow)
    cost = cache._store.get(key)
    if cost is None:
        cache.misses += 1
        cost = cache._store[key] = _cost(layer, _work(layer, spec, fusion), spec, dataflow, cache, grid_key)
    else:
        cache.hits += 1
    m = cost.mapped
    if m is None:
        return LayerResult(layer=layer, dataflow=cost.dataflow, tiling=None, cycles=0.0, compute_cycles=0.0,
                           dram_cycles=0.0, dram_words=0.0, counts=AccessCounts(), energy=cost.energy,
                           pe_count=pe_count, word_bytes=spec.word_bytes)
    return LayerResult(layer=layer, dataflow=cost.dataflow, tiling=m.tiling, cycles=m.cycles,
                       compute_cycles=m.compute_cycles, dram_cycles=m.dram_cycles, dram_words=m.dram_words,
                       counts=m.counts, energy=cost.energy, pe_count=pe_count, word_bytes=spec.word_bytes,
                       alternatives=cost.alternatives, useful_ops=m.useful_ops)


def _spec_key(spec: HardwareSpec) -> str:
    return spec.model_dump_json(exclude={"name", "description", "area", "calibration"})  # area changes no cost


def spec_key(spec: HardwareSpec) -> str:
    """The cache key of ``spec``: every field that can change a cost (not its name, description or area)."""
    return _spec_key(spec)


def _work(layer: Layer, spec: HardwareSpec, fusion: Fusion) -> Work:
    return build_work(layer, spec, dense=fusion.dense, shortcut_tensors=fusion.shortcut_tensors,
                      pooled_shape=fusion.pooled_shape, input_resident=fusion.input_resident,
                      output_resident=fusion.output_resident, reserved_words=fusion.reserved_words)


def plan_fusion(graph: LayerGraph, spec: HardwareSpec, layers: list[Layer] | None = None, *,
                dataflow: str | Dataflow = "auto", cache: SimCache | None = None) -> dict[str, Fusion]:
    """The network context of every layer of ``graph`` (see the module docstring).

    ``layers``: ``graph.layers()`` if the caller already has it (saves a topological sort).
    ``dataflow`` and ``cache``: used only with ``model.activation_residency``, whose plan
    prices layers with and without residency (pass the simulation's own, so the prices are
    the ones it reports and the cache already holds them).
    """
    layers = graph.layers() if layers is None else layers
    rank = {layer.name: i for i, layer in enumerate(layers)}
    consumers: dict[str, list[str]] = {layer.name: [] for layer in layers}
    for layer in layers:
        for src in dict.fromkeys(layer.inputs):
            if src != INPUT:
                consumers[src].append(layer.name)
    plan: dict[str, Fusion] = {layer.name: Fusion() for layer in layers}
    first_conv = next((layer.name for layer in layers if layer.kind is LayerKind.CONV), None)
    if first_conv is not None and not spec.sparsity.sparse_first_layer:
        plan[first_conv] = replace(plan[first_conv], dense=True)

    def absorbable(producer: str, consumer: str) -> bool:
        return (producer != INPUT and graph[producer].kind in (LayerKind.CONV, LayerKind.FC)
                and consumers[producer] == [consumer]
                and plan[producer].shortcut_tensors == 0 and plan[producer].pooled_shape is None)

    def concat_parts(pool: Layer) -> list[str]:
        """The producers a pool after a concat can be fused into, or [] (see the module docstring)."""
        src = pool.inputs[0]
        if src == INPUT or graph[src].kind is not LayerKind.CONCAT or consumers[src] != [pool.name]:
            return []
        parts = list(graph[src].inputs)
        if len(set(parts)) != len(parts) or not all(absorbable(p, src) for p in parts):
            return []
        return parts

    for layer in layers:
        if layer.kind is LayerKind.ADD and spec.model.fuse_eltwise:
            producers = [p for p in layer.inputs if p != INPUT]
            if not producers:
                continue
            last = max(producers, key=rank.__getitem__)
            if absorbable(last, layer.name) and layer.inputs.count(last) == 1:
                plan[last] = replace(plan[last], shortcut_tensors=len(layer.inputs) - 1)
                plan[layer.name] = replace(plan[layer.name], fused_into=last)
        elif layer.kind.is_pool and spec.model.fuse_pool and absorbable(layer.inputs[0], layer.name):
            plan[layer.inputs[0]] = replace(plan[layer.inputs[0]], pooled_shape=layer.out_shape)
            plan[layer.name] = replace(plan[layer.name], fused_into=layer.inputs[0])
        elif layer.kind.is_pool and spec.model.fuse_pool and (parts := concat_parts(layer)):
            for part in parts:  # each producer pools its own channels
                channels = graph[part].out_shape[0]
                plan[part] = replace(plan[part], pooled_shape=(channels, *layer.out_shape[1:]))
            plan[layer.name] = replace(plan[layer.name], fused_into=max(parts, key=rank.__getitem__))
    if spec.model.activation_residency:
        dataflow = _check_dataflow(dataflow)
        cache = cache if cache is not None else SimCache()
        key, gkey = _spec_key(spec), grid_key(spec)

        def price(layer: Layer, fusion: Fusion) -> LayerResult:
            return simulate_layer(layer, spec, dataflow=dataflow, fusion=fusion, cache=cache, spec_key=key,
                                  grid_key=gkey)

        plan_residency(graph, spec, layers, plan, consumers, price)
    return plan


def plan_residency(graph: LayerGraph, spec: HardwareSpec, layers: list[Layer], plan: dict[str, Fusion],
                   consumers: dict[str, list[str]], price: Callable[[Layer, Fusion], LayerResult]) -> None:
    """Mark the tensors that stay in the global buffer between two layers (updates ``plan``).

    The layers that *run* are those not fused into another and not free (a concat only
    says where its producers write, so it neither runs nor touches the buffer). A running
    layer P *writes* one tensor: its own output, or the output of the add or pool fused into
    it (that layer's result is what P writes). That tensor stays on chip for the running
    layer C when

    (a) C runs immediately after P: nothing runs in between, so nothing else needs the
        buffer meanwhile; a fused add/pool or a concat between them does not run;
    (b) C is the tensor's only consumer and reads it as its only input (a conv, FC or pool
        whose ``inputs`` are just this tensor), so the tensor is dead once C is done. This
        rules out a tensor a residual add reads as its shortcut (it has a second consumer, or
        is read at another layer's output write), a standalone add's operands, a concat's
        parts, and the network input and output (they live in DRAM);
    (c) the whole tensor fits next to both layers' tiles: it is reserved (one copy, never
        double-buffered) during P and during C, on top of what they already reserve (P's own
        resident input, from the previous decision), and each layer's smallest tile must
        still fit in the rest; P must moreover spill no partial sums (its tiling search only
        considers such orders; the unit tile under k > s > c is one, so fitting suffices);
    (d) it pays: the reservation shrinks both layers' tile space, and on a small buffer the
        smaller tiles can re-fetch more weights or inputs, or pay more per-tile fill, than
        the tensor's round trip saved (without this rule 1.0-SqNxt-23 on 8x8/32KB would take
        3,176,703 cycles instead of 3,171,658 and move 2 % more DRAM words than with no
        residency at all). So the edge is taken only if, summed over P and C and priced by
        ``price`` (their best tilings and dataflows with and without it), none of cycles,
        DRAM words and energy grows and one of them shrinks, as a compiler pinning a tensor
        only when it helps would do.

    Decisions are greedy, edge by edge in execution order; each re-prices both layers with
    every reservation made so far. A decision changes only P and C, and the next one starts
    from C's new context, so the network's cycles, DRAM words and energy never exceed those
    without residency. The plan never makes a layer infeasible: a layer no tile of which
    fits (with or without the reservation) gets no residency and fails as before.
    """
    absorbed = {f.fused_into: name for name, f in plan.items() if f.fused_into is not None}
    running = [layer for layer in layers if plan[layer.name].fused_into is None and not layer.kind.is_free]

    def fits(layer: Layer, fusion: Fusion) -> bool:
        return min_buffer_words(_work(layer, spec, fusion), spec) <= spec.buffer_words

    def metrics(pairs: list[tuple[Layer, Fusion]]) -> tuple[float, float, float]:
        results = [price(layer, fusion) for layer, fusion in pairs]
        return (sum(r.cycles for r in results), sum(r.dram_words for r in results),
                sum(r.energy.total for r in results))

    for producer, consumer in itertools.pairwise(running):
        tensor = absorbed.get(producer.name, producer.name)
        if tensor != producer.name and graph[tensor].inputs[0] != INPUT \
                and graph[graph[tensor].inputs[0]].kind is LayerKind.CONCAT:
            continue  # a pool fused across a concat: its producers each write a part of it
        if consumers[tensor] != [consumer.name] or consumer.inputs != (tensor,):
            continue
        p0, c0 = plan[producer.name], plan[consumer.name]
        if not (fits(producer, p0) and fits(consumer, c0)):
            continue  # infeasible anyway: simulate_graph reports it
        words = math.prod(graph[tensor].out_shape)
        p1 = replace(p0, output_resident=True, reserved_words=p0.reserved_words + words)
        c1 = replace(c0, input_resident=True, reserved_words=c0.reserved_words + words)
        if not (fits(producer, p1) and fits(consumer, c1)):
            continue
        before = metrics([(producer, p0), (consumer, c0)])
        after = metrics([(producer, p1), (consumer, c1)])
        if all(a <= b for a, b in zip(after, before, strict=True)) and after != before:
            plan[producer.name], plan[consumer.name] = p1, c1


def simulate_graph(
    graph: LayerGraph,
    spec: HardwareSpec | None = None,
    *,
    dataflow: str | Dataflow = "auto",
    cache: SimCache | None = None,
    progress: Progress | None = None,
) -> NetworkResult:
    """Simulate every layer of ``graph`` in execution order on ``spec``.

    ``progress(done, total)`` is called after each layer. Raises InfeasibleError naming the
    first layer no tile of which fits the buffer.
    """
    from accelsim import __version__

    spec = spec or PAPER_16X16
    dataflow = _check_dataflow(dataflow)
    cache = cache if cache is not None else SimCache()
    key, gkey = _spec_key(spec), grid_key(spec)
    layers = graph.layers()
    plan = plan_fusion(graph, spec, layers, dataflow=dataflow, cache=cache)
    results = []
    for i, layer in enumerate(layers):
        try:
            results.append(simulate_layer(layer, spec, dataflow=dataflow, fusion=plan[layer.name], cache=cache,
                                          spec_key=key, grid_key=gkey))
        except InfeasibleError as exc:
            raise InfeasibleError(f"{exc}{_network_minimum(layers, plan, spec, layer)}") from None
        if progress is not None:
            progress(i + 1, len(layers))
    return NetworkResult(network=graph.name, hardware=spec, layers=tuple(results), params=graph.params,
                         meta=dict(graph.meta), version=__version__)


def _resolve_graph(network: Any, input_shape: Shape | None, options: dict[str, Any]) -> LayerGraph:
    if isinstance(network, (str, Path, LayerGraph)):
        from accelsim.workload.zoo import resolve

        return resolve(network, input_shape, **options)
    if hasattr(network, "forward"):
        from accelsim.workload.export import export_module

        if options:
            raise WorkloadError("network options apply to preset names only, not to an nn.Module")
        return export_module(network, tuple(input_shape) if input_shape else (3, 227, 227))
    raise WorkloadError(f"network: expected a preset name, a LayerGraph or an nn.Module; got {type(network).__name__}")


def resolve_graph(network: Any, input_shape: Shape | None = None, **options: Any) -> LayerGraph:
    """The layer graph ``simulate`` would run for ``network`` (preset, JSON file, graph or module)."""
    return _resolve_graph(network, input_shape, options)


def simulate(
    network: str | LayerGraph | nn.Module,
    hardware: HardwareSpec | str | Path | None = None,
    *,
    input_shape: Shape | None = None,
    dataflow: str | Dataflow = "auto",
    cache: SimCache | None = None,
    progress: Progress | None = None,
    **network_options: Any,
) -> NetworkResult:
    """Simulate a network on an accelerator.

    Args:
        network: a zoo preset name or alias (``"1.0-SqNxt-23"``, ``"sqnxt23v5"``), a layer-graph
            JSON file, an ONNX file (``"model.onnx"``), a :class:`LayerGraph`, or a torch
            ``nn.Module`` (exported with ``input_shape``, default ``(3, 227, 227)``).
        hardware: a :class:`HardwareSpec`, a YAML file, a built-in name (``"8x8"``,
            ``"16x16"``) or None (the paper's 16x16/128KB accelerator).
        input_shape: ``(C, H, W)`` of the input (presets: square, default the preset's size;
            ONNX files: required when the file's dims are symbolic).
        dataflow: ``"auto"``, ``"ws"`` or ``"os"`` (forced for every conv/FC layer).
        cache: a :class:`SimCache` to share across calls.
        progress: ``callable(done, total)`` after each layer.
        **network_options: preset constructor options, e.g. SqueezeNext ``width``,
            ``depth=(2, 4, 14, 1)``, ``stem_kernel``, ``first_unit``, ``groups``, ``num_classes``.
    """
    from accelsim.hardware import resolve_hardware

    spec = hardware if isinstance(hardware, HardwareSpec) else resolve_hardware(hardware)
    graph = _resolve_graph(network, input_shape, dict(network_options))
    return simulate_graph(graph, spec, dataflow=dataflow, cache=cache, progress=progress)
