"""Compositional pricing: price each distinct (layer, hardware point) once, compose candidates by sums.

A network's cycles, energy and DRAM words are the sums of its layers' (``simulate_graph``), and
its params and MACs too. Candidates of a co-design space share their layers: SqueezeNext depth
variants are a stem, per stage a first unit and copies of two unit templates, and a head
(``VariantBuilder.blocks``), so a whole space is a few dozen distinct layers per hardware
point. This module prices those once and composes every candidate with one matrix product per
metric: ``totals[candidate, point] = counts[candidate, piece] @ cost[piece, point]``.

**Exactness.** A layer's cost depends on its shapes, the spec and its network context
(``simulation.Fusion``), which ``simulation.plan_fusion`` decides for the whole graph. A *piece*
is a run of consecutive blocks whose contexts cannot depend on anything outside it, so its cost
is the same in every candidate that contains it:

* Fusion (a residual add into its conv, a pool into its conv, the dense first conv) pairs
  layers of one block in SqueezeNext; this is checked on every plan, and a space where a pair
  crosses blocks is not composed but simulated whole, candidate by candidate.
* Activation residency (``model.activation_residency``) decides edges in execution order, each
  from the previous one's outcome, and only edges whose tensor has one consumer reading it as
  its only input can be taken. A block whose input is read by two layers (a unit with an
  identity shortcut: the squeeze conv and the add) or by a layer with two inputs therefore
  starts a new chain: the boundary before it is *closed*. Before any other block (a serial
  first unit's transition conv, the head's conv) it is *open*, and blocks joined by open
  boundaries form one piece (e.g. the last unit of stage 1 with the first unit of stage 2).
  Such cross-block pieces are planned on a full graph that contains them, a *representative*
  candidate, by the simulator itself ("fall back to full simulation"), and then reused.

So every composed total equals ``simulate_graph`` of the stitched graph up to float summation
order (``tests/test_compose.py`` checks 200+ random joint candidates, fusion and residency on and
off). :class:`Composed.stats` says how many pieces crossed block boundaries and how many
representative graphs were planned.

**Pricing** is separable: the distinct (layer signature, context, spec) jobs of the whole space
are collected first, then priced in one call of ``accelsim.pricing.price_jobs`` (or any
function of the same signature, ``Composer(pricer=...)``, e.g. a Dask executor), then composed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import numpy as np

from accelsim.codesign.variants import VariantBuilder, kind_sequence
from accelsim.errors import WorkloadError
from accelsim.hardware.spec import HardwareSpec
from accelsim.pricing import LayerJob, LayerPrice, job_key, price_jobs
from accelsim.simulation import Fusion, SimCache, plan_fusion, spec_key
from accelsim.workload.graph import LayerGraph
from accelsim.workload.layer import INPUT, Layer

Pricer = Callable[[list[LayerJob]], list[LayerPrice]]
Piece = tuple[str, ...]
Progress = Callable[[int, int], None]


class NetworkSpace(Protocol):
    """Candidates made of blocks: what :class:`Composer` needs of a network space."""

    name: str
    candidates: tuple[Hashable, ...]
    seeds: tuple[Hashable, ...]  #: candidates planned first as representatives (they hold every block kind)

    def sequence(self, candidate: Hashable) -> list[str]:
        """Block kinds in execution order."""

    def blocks(self, candidate: Hashable) -> list[tuple[str, tuple[Layer, ...]]]:
        """``(kind, layers)`` per block, in execution order."""

    def graph(self, candidate: Hashable) -> LayerGraph:
        """The candidate's full layer graph."""

    def open_in(self, kind: str) -> bool:
        """Whether a tensor may stay resident across the boundary into a block of ``kind``."""


def _reads_input_alone(layers: Sequence[Layer]) -> bool:
    """A block's external input is read by exactly one of its layers, and as that layer's only input."""
    own = {layer.name for layer in layers}
    outside = {src for layer in layers for src in layer.inputs if src not in own}
    if len(outside) != 1 or INPUT in outside:
        return False
    source = outside.pop()
    readers = [layer for layer in layers if source in layer.inputs]
    return len(readers) == 1 and readers[0].inputs == (source,)


class FamilySpace:
    """Depth vectors of one SqueezeNext family (fixed width, stem, first unit, groups).

    ``builder`` stitches the graphs; ``name(depth)`` labels a candidate.
    """

    def __init__(self, name: str, builder: VariantBuilder, depths: Iterable[Sequence[int]],
                 options: dict[str, Any] | None = None) -> None:
        self.name, self.builder, self.options = name, builder, dict(options or {})
        self.candidates = tuple(tuple(int(x) for x in d) for d in depths)
        probe = (3,) * builder.n_stages
        self.seeds = (probe,)
        self._open = {kind: _reads_input_alone(layers) for kind, layers in builder.blocks(probe)}

    def sequence(self, candidate: Hashable) -> list[str]:
        return kind_sequence(candidate)  # type: ignore[arg-type]

    def kind_counts(self, candidates: Sequence[Hashable]) -> tuple[list[str], np.ndarray]:
        """Block kinds and how many of each every candidate holds, vectorised (``kind_sequence`` counted).

        Stage ``s`` with ``d`` units holds one first unit, ``d // 2`` even and ``(d - 1) // 2`` odd units.
        """
        depth = np.asarray(candidates, dtype=np.int64).reshape(len(candidates), self.builder.n_stages)
        kinds = ["stem"]
        columns = [np.ones(len(depth), dtype=np.int64)]
        for s in range(self.builder.n_stages):
            d = depth[:, s]
            kinds += [f"s{s + 1}u1", f"s{s + 1}even", f"s{s + 1}odd"]
            columns += [np.ones_like(d), d // 2, (d - 1) // 2]
        kinds.append("head")
        columns.append(np.ones(len(depth), dtype=np.int64))
        return kinds, np.stack(columns, axis=1)

    def blocks(self, candidate: Hashable) -> list[tuple[str, tuple[Layer, ...]]]:
        return self.builder.blocks(candidate)  # type: ignore[arg-type]

    def graph(self, candidate: Hashable) -> LayerGraph:
        return self.builder.build(candidate)  # type: ignore[arg-type]

    def open_in(self, kind: str) -> bool:
        return self._open[kind]


class NamedSpace:
    """A list of fixed networks; each is one block of its own."""

    def __init__(self, graphs: Sequence[LayerGraph]) -> None:
        self._graphs = {g.name: g for g in graphs}
        if len(self._graphs) != len(graphs):
            raise WorkloadError("codesign: a network is listed twice")
        self.name = "networks"
        self.candidates = tuple(self._graphs)
        self.seeds = ()

    def sequence(self, candidate: Hashable) -> list[str]:
        return [str(candidate)]

    def blocks(self, candidate: Hashable) -> list[tuple[str, tuple[Layer, ...]]]:
        return [(str(candidate), tuple(self._graphs[str(candidate)].layers()))]

    def graph(self, candidate: Hashable) -> LayerGraph:
        return self._graphs[str(candidate)]

    def open_in(self, kind: str) -> bool:
        return False


def split_pieces(kinds: Sequence[str], is_open: Callable[[str], bool]) -> list[tuple[int, int]]:
    """``[start, stop)`` block ranges of the pieces: a new piece starts at every closed boundary."""
    cuts = [0] + [i for i in range(1, len(kinds)) if not is_open(kinds[i])] + [len(kinds)]
    return list(zip(cuts[:-1], cuts[1:], strict=True))


@dataclass
class ComposeStats:
    """What composition did: points composed, distinct layer prices, pieces and representative plans."""

    points: int = 0
    jobs_priced: int = 0
    pieces: int = 0
    cross_block_pieces: int = 0
    representative_plans: int = 0
    whole_networks: int = 0  #: candidates simulated whole (fusion across blocks: nothing to compose)
    price_seconds: float = 0.0  #: wall time planning pieces and pricing layers
    compose_seconds: float = 0.0  #: wall time of the rest: piece sums and the matrix products
    price_cpu_seconds: float = 0.0
    compose_cpu_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class _Group:
    """Hardware points that share one piece structure (the residency flag), composed together."""

    columns: list[int]
    pieces: list[Piece]
    counts: np.ndarray  # (n_candidates, n_pieces)
    bad: np.ndarray  # (n_pieces, n_columns) infeasible
    reasons: dict[tuple[int, int], str] = field(default_factory=dict)  # (piece, column) -> first failing layer


@dataclass
class Composed:
    """Totals of every candidate on every hardware point (rows: candidates, columns: specs).

    ``cycles``, ``energy`` (MAC units) and ``dram_words`` are ``(n, m)`` float arrays (0 where
    infeasible); ``feasible`` a boolean ``(n, m)``; ``params``, ``macs``, ``macs_paper``
    ``(n,)`` integers. ``reason(i, j)`` explains an infeasible point.
    """

    candidates: tuple[Hashable, ...]
    specs: tuple[HardwareSpec, ...]
    cycles: np.ndarray
    energy: np.ndarray
    dram_words: np.ndarray
    feasible: np.ndarray
    params: np.ndarray
    macs: np.ndarray
    macs_paper: np.ndarray
    stats: ComposeStats
    groups: list[_Group]

    def reason(self, i: int, j: int) -> str | None:
        """Why candidate ``i`` does not run on spec ``j`` (the first layer that does not fit), or None."""
        if self.feasible[i, j]:
            return None
        for group in self.groups:
            if j in group.columns:
                col = group.columns.index(j)
                for p in np.nonzero(group.counts[i])[0]:
                    if group.bad[p, col]:
                        return group.reasons[(int(p), col)]
        return None


class Composer:
    """Prices and composes network spaces on lists of specs; keeps prices and plans between calls.

    Args:
        cache: the ``SimCache`` the representative plans and the default pricer share.
        pricer: ``pricer(jobs) -> prices`` (default ``accelsim.pricing.price_jobs`` on ``cache``).
        dataflow: ``auto``, ``ws`` or ``os``, as for ``simulate``.
    """

    def __init__(self, cache: SimCache | None = None, pricer: Pricer | None = None, dataflow: str = "auto") -> None:
        self.cache = cache if cache is not None else SimCache()
        self.pricer: Pricer = pricer if pricer is not None else (lambda jobs: price_jobs(jobs, self.cache))
        self.dataflow = dataflow
        self._prices: dict[tuple[Any, ...], LayerPrice] = {}
        # (space id, plan key) -> piece -> ((base job key, layer, fusion), ...)
        self._contexts: dict[tuple[int, Hashable], dict[Piece, tuple[tuple[tuple[Any, ...], Layer, Fusion], ...]]] = {}
        self._whole: set[int] = set()  # spaces whose fusion crosses blocks: candidates are priced whole
        self._piece_layers: dict[tuple[int, Piece], tuple[Layer, ...]] = {}
        self._seen_pieces: set[tuple[int, Piece]] = set()
        self._fusion_checked: dict[tuple[int, tuple[bool, bool]], bool] = {}
        self._spaces: dict[int, NetworkSpace] = {}  # keeps every space alive, so its id stays its own
        self.stats = ComposeStats()

    # ---- planning --------------------------------------------------------------------------
    @staticmethod
    def _plan_key(spec: HardwareSpec, key: str) -> Hashable:
        """Without residency the plan depends only on the fusion flags; with it, on the whole spec."""
        if spec.model.activation_residency:
            return ("residency", key)
        return ("fusion", spec.model.fuse_eltwise, spec.model.fuse_pool, spec.sparsity.sparse_first_layer)

    def _is_open(self, space: NetworkSpace, residency: bool) -> Callable[[str], bool]:
        if id(space) in self._whole:
            return lambda kind: True
        if not residency:
            return lambda kind: False
        return space.open_in

    def _fusion_stays_in_blocks(self, space: NetworkSpace, spec: HardwareSpec) -> bool:
        """Whether every fused pair (add or pool into its conv) lies in one block, on a seed graph."""
        flags = (spec.model.fuse_eltwise, spec.model.fuse_pool)
        key = (id(space), flags)
        if key not in self._fusion_checked:
            ok = True
            for seed in space.seeds:
                blocks = space.blocks(seed)
                block_of = {layer.name: b for b, (_, block) in enumerate(blocks) for layer in block}
                plain = spec.with_changes({"model.activation_residency": False}) if spec.model.activation_residency \
                    else spec
                plan = plan_fusion(space.graph(seed), plain)
                ok = ok and all(block_of[name] == block_of[f.fused_into] for name, f in plan.items()
                                if f.fused_into is not None)
            self._fusion_checked[key] = ok
        return self._fusion_checked[key]

    def _piece_graph(self, space: NetworkSpace, candidate: Hashable, start: int, stop: int,
                     blocks: list[tuple[str, tuple[Layer, ...]]]) -> tuple[LayerGraph, bool]:
        """The graph of blocks ``[start, stop)`` of ``candidate`` on their own, and whether it holds the stem.

        The piece's input (the previous block's output) becomes the graph input: a closed boundary
        means no layer of the piece could keep it resident anyway, and the piece's output has no
        resident consumer for the same reason, so the plan of the piece alone is its plan in the network.
        """
        if start == 0 and stop == len(blocks):
            return space.graph(candidate), True
        layers = [layer for _, block in blocks[start:stop] for layer in block]
        own = {layer.name for layer in layers}
        outside = {src for layer in layers for src in layer.inputs if src not in own} - {INPUT}
        if len(outside) > 1:
            raise WorkloadError(f"{space.name}: blocks {start}..{stop - 1} read {sorted(outside)}; "
                                "expected one input")
        source = next(iter(outside), None)
        shape = next(layer.in_shape for layer in layers if source in layer.inputs) if source else None
        first = blocks[0][1][0] if start == 0 else None
        graph = LayerGraph(f"{space.name}:{start}-{stop}", shape or (first.in_shape if first else layers[0].in_shape))
        for layer in layers:
            if source is not None and source in layer.inputs:
                layer = replace(layer, inputs=tuple(INPUT if x == source else x for x in layer.inputs))
            graph.add(layer)
        return graph, start == 0

    def _plan_piece(self, space: NetworkSpace, candidate: Hashable, start: int, stop: int, spec: HardwareSpec,
                    store: dict[Piece, Any]) -> None:
        """Plan blocks ``[start, stop)`` of ``candidate`` (one piece) and record its layers' contexts."""
        blocks = space.blocks(candidate)
        graph, has_stem = self._piece_graph(space, candidate, start, stop, blocks)
        plan_spec = spec
        if not has_stem and not spec.sparsity.sparse_first_layer:
            # only the network's first conv runs dense, and it is in the stem: not in this piece
            plan_spec = spec.with_changes({"sparsity.sparse_first_layer": True})
        plan = plan_fusion(graph, plan_spec, dataflow=self.dataflow, cache=self.cache)
        self.stats.representative_plans += 1
        entries = []
        piece = tuple(kind for kind, _ in blocks[start:stop])
        for _, block in blocks[start:stop]:
            for layer in block:
                fusion = plan[layer.name]
                full = job_key(LayerJob(layer, fusion, spec, self.dataflow), "")
                entries.append((full if full == ("fused",) else full[:-2], layer, fusion))
        store[piece] = tuple(entries)
        self._piece_layers.setdefault((id(space), piece), tuple(layer for _, layer, _ in entries))

    # ---- composing -------------------------------------------------------------------------
    def compose(self, space: NetworkSpace, specs: Sequence[HardwareSpec], candidates: Sequence[Hashable] | None = None,
                progress: Progress | None = None) -> Composed:
        """Totals of ``candidates`` (default: all of the space) on every spec; see the module docstring."""
        started, started_cpu = time.perf_counter(), time.process_time()
        self._spaces[id(space)] = space
        cands = tuple(space.candidates if candidates is None else candidates)
        keys = [spec_key(s) for s in specs]
        n, m = len(cands), len(specs)
        cycles, energy, dram = np.zeros((n, m)), np.zeros((n, m)), np.zeros((n, m))
        feasible = np.ones((n, m), dtype=bool)
        params = np.zeros(n, dtype=np.int64)
        macs, macs_paper = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
        groups: list[_Group] = []
        price_time = price_cpu = 0.0
        by_flag: dict[bool, list[int]] = {}
        for j, spec in enumerate(specs):
            by_flag.setdefault(spec.model.activation_residency, []).append(j)
        done = 0
        for residency, columns in by_flag.items():
            cpu0 = time.process_time()
            wall0 = time.perf_counter()
            group, _ = self._compose_group(space, cands, [specs[j] for j in columns], [keys[j] for j in columns],
                                           columns, residency, progress, done, m)
            done += len(columns)
            price_time += time.perf_counter() - wall0
            price_cpu += time.process_time() - cpu0
            groups.append(group)
        # the products, one per metric, over every group
        for group in groups:
            counts = group.counts.astype(np.float64)
            cols = group.columns
            costs = self._cost_arrays(group, [specs[j] for j in cols], [keys[j] for j in cols], space)
            cycles[:, cols] = counts @ costs[0]
            energy[:, cols] = counts @ costs[1]
            dram[:, cols] = counts @ costs[2]
            feasible[:, cols] = (counts @ group.bad.astype(np.float64)) == 0
        first = groups[0] if groups else None
        if first is not None:
            stat = self._static(space, first)
            params[:] = first.counts @ stat[0]
            macs[:] = first.counts @ stat[1]
            macs_paper[:] = first.counts @ stat[2]
        for arr in (cycles, energy, dram):
            arr[~feasible] = 0.0
        self.stats.points += n * m
        self.stats.price_seconds += price_time
        self.stats.compose_seconds += time.perf_counter() - started - price_time
        self.stats.price_cpu_seconds += price_cpu
        self.stats.compose_cpu_seconds += time.process_time() - started_cpu - price_cpu
        stats = ComposeStats(**self.stats.to_dict())
        return Composed(cands, tuple(specs), cycles, energy, dram, feasible, params, macs, macs_paper, stats, groups)

    def _compose_group(self, space: NetworkSpace, cands: tuple[Hashable, ...], specs: list[HardwareSpec],
                       keys: list[str], columns: list[int], residency: bool, progress: Progress | None,
                       done: int, total: int) -> tuple[_Group, float]:
        is_open = self._is_open(space, residency)
        pieces, counts, first_holder = self._decompose(space, cands, is_open, residency)
        # contexts of every piece, per plan key, each planned once on its own graph
        spent = 0.0
        for spec, key in zip(specs, keys, strict=True):
            if id(space) not in self._whole and not self._fusion_stays_in_blocks(space, spec):
                self._whole.add(id(space))
                self.stats.whole_networks += len(cands)
                return self._compose_group(space, cands, specs, keys, columns, residency, progress, done, total)
            store = self._contexts.setdefault((id(space), self._plan_key(spec, key)), {})
            t0 = time.perf_counter()
            for p in pieces:
                if p not in store:
                    self._plan_piece(space, cands[first_holder[p][0]], *first_holder[p][1:], spec, store)
            spent += time.perf_counter() - t0
        # price every distinct job of the group in one call
        t0 = time.perf_counter()
        jobs: list[LayerJob] = []
        wanted: list[tuple[Any, ...]] = []
        seen: set[tuple[Any, ...]] = set()
        for spec, key in zip(specs, keys, strict=True):
            store = self._contexts[(id(space), self._plan_key(spec, key))]
            for p in pieces:
                for base, layer, fusion in store[p]:
                    if base == ("fused",):
                        continue
                    full = (*base, key, self.dataflow)
                    if full not in self._prices and full not in seen:
                        seen.add(full)
                        wanted.append(full)
                        jobs.append(LayerJob(layer, fusion, spec, self.dataflow))
        if jobs:
            # one call of the pricer, or chunks of it when someone watches the progress, unless the
            # pricer chunks and reports by itself (a cluster's: one call keeps all its workers busy)
            whole = progress is None or getattr(self.pricer, "chunks_itself", False)
            size = len(jobs) if whole else max(16, len(jobs) // 50)
            for start in range(0, len(jobs), size):
                prices = self.pricer(jobs[start:start + size])
                for full, price in zip(wanted[start:start + size], prices, strict=True):
                    self._prices[full] = price
                if progress is not None:
                    progress(done + len(specs) * min(start + size, len(jobs)) // len(jobs), total)
            self.stats.jobs_priced += len(jobs)
        spent += time.perf_counter() - t0
        new = [p for p in pieces if (id(space), p) not in self._seen_pieces]
        self.stats.pieces += len(new)
        self.stats.cross_block_pieces += sum(len(p) > 1 for p in new)
        self._seen_pieces.update((id(space), p) for p in new)
        if progress is not None:
            progress(done + len(specs), total)
        return _Group(columns, pieces, counts, np.zeros((len(pieces), len(columns)), dtype=bool)), spent

    def _decompose(self, space: NetworkSpace, cands: tuple[Hashable, ...], is_open: Callable[[str], bool],
                   residency: bool) -> tuple[list[Piece], np.ndarray, dict[Piece, tuple[int, int, int]]]:
        """The pieces, their counts per candidate, and where each piece first occurs (candidate, blocks)."""
        if not residency and id(space) not in self._whole and hasattr(space, "kind_counts") and cands:
            kinds, counts = space.kind_counts(cands)
            held = counts > 0
            first = held.argmax(axis=0)
            keep = held.any(axis=0)
            holder: dict[Piece, tuple[int, int, int]] = {}
            for k, kind in enumerate(kinds):
                if keep[k]:
                    position = space.sequence(cands[first[k]]).index(kind)
                    holder[(kind,)] = (int(first[k]), position, position + 1)
            return [(kind,) for k, kind in enumerate(kinds) if keep[k]], counts[:, keep], holder
        index: dict[Piece, int] = {}
        rows: list[list[int]] = []
        first_holder: dict[Piece, tuple[int, int, int]] = {}
        for i, c in enumerate(cands):
            kinds = space.sequence(c)
            row = []
            for start, stop in split_pieces(kinds, is_open):
                piece = tuple(kinds[start:stop])
                k = index.setdefault(piece, len(index))
                first_holder.setdefault(piece, (i, start, stop))
                row.append(k)
            rows.append(row)
        pieces = list(index)
        counts = np.zeros((len(cands), len(pieces)), dtype=np.int64)
        for i, row in enumerate(rows):
            np.add.at(counts[i], row, 1)
        return pieces, counts, first_holder

    def _cost_arrays(self, group: _Group, specs: list[HardwareSpec], keys: list[str],
                     space: NetworkSpace) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(cycles, energy, dram words) per (piece, column); fills ``group.bad`` and its reasons.

        Columns that share a plan share their pieces' layer contexts: a piece is then a count
        vector over the distinct contexts, and the prices of the contexts on every such column
        form a matrix, so the piece costs are one product (one price lookup per distinct context
        and column, not per layer).
        """
        shape = (len(group.pieces), len(specs))
        out = (np.zeros(shape), np.zeros(shape), np.zeros(shape))
        by_plan: dict[Hashable, list[int]] = {}
        for col, (spec, key) in enumerate(zip(specs, keys, strict=True)):
            by_plan.setdefault(self._plan_key(spec, key), []).append(col)
        for plan_key, cols in by_plan.items():
            store = self._contexts[(id(space), plan_key)]
            bases: dict[tuple[Any, ...], int] = {}
            weights_rows = []
            for piece in group.pieces:
                row: dict[int, int] = {}
                for base, _, _ in store[piece]:
                    if base != ("fused",):
                        k = bases.setdefault(base, len(bases))
                        row[k] = row.get(k, 0) + 1
                weights_rows.append(row)
            weights = np.zeros((len(group.pieces), len(bases)))
            for p, row in enumerate(weights_rows):
                for k, count in row.items():
                    weights[p, k] = count
            prices = np.zeros((3, len(bases), len(cols)))
            bad = np.zeros((len(bases), len(cols)), dtype=bool)
            reasons: dict[tuple[int, int], str] = {}
            for c, col in enumerate(cols):
                tail = (keys[col], self.dataflow)
                for base, k in bases.items():
                    price = self._prices[(*base, *tail)]
                    prices[0, k, c], prices[1, k, c], prices[2, k, c] = price.cycles, price.energy, price.dram_words
                    if price.reason is not None:
                        bad[k, c] = True
                        reasons[(k, c)] = price.reason
            for metric in range(3):
                out[metric][:, cols] = weights @ prices[metric]
            piece_bad = (weights > 0).astype(np.float64) @ bad.astype(np.float64) > 0
            group.bad[:, cols] = piece_bad
            for p, c in zip(*np.nonzero(piece_bad), strict=True):
                # the first failing layer of the piece, in execution order
                first = next(k for base, _, _ in store[group.pieces[p]] if base != ("fused",)
                             and bad[(k := bases[base]), c])
                group.reasons[(int(p), cols[c])] = reasons[(first, c)]
        return out

    def _static(self, space: NetworkSpace, group: _Group) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Params, MACs and paper-convention MACs per piece (spec-independent)."""
        layers = [self._piece_layers[(id(space), p)] for p in group.pieces]
        params = np.array([sum(x.params for x in ls) for ls in layers], dtype=np.int64)
        macs = np.array([sum(x.macs for x in ls) for ls in layers], dtype=np.int64)
        paper = np.array([sum(x.macs_paper for x in ls) for ls in layers], dtype=np.int64)
        return params, macs, paper
