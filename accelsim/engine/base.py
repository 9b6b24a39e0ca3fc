"""One skeleton for every dataflow: a model proposes candidate tiles and prices compute;
the shared loop nest prices traffic and footprint; the generic search picks the best.

A dataflow is one class implementing :class:`DataflowModel` (``ws.py``, ``os.py``,
``streaming.py``); nothing here knows a dataflow's formulas. :func:`map_best` runs the
search for one work and dataflow; :func:`map_fixed` prices one given tiling (used by the
oracle tests and for what-if studies).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from accelsim.engine.timing import DmaStream, buffer_copies, dma_busy_cycles, layer_cycles, steady_cost_per_word
from accelsim.engine.traffic import LoopNest, Traffic
from accelsim.engine.work import Work, WorkKind
from accelsim.hardware.spec import Dataflow, HardwareSpec
from accelsim.mapping.search import Bounds, CandidateTable, Evaluation, Objective, search
from accelsim.mapping.tiling import LOOP_ORDERS
from accelsim.results import LEVELS, AccessCounts, Tiling

Tiles = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
Index = np.ndarray


class ComputeModel(Protocol):
    """A dataflow's compute side, prepared for one loop nest (per-dimension tables built once).

    ``cp`` / ``sp`` index the nest's channel pairs / spatial pairs (see ``LoopNest``).
    """

    def cycles(self, cp: Index, sp: Index, n_tiles: np.ndarray) -> np.ndarray:
        """PE-array cycles of one repetition, ``(len(cp), len(sp))`` (vectorised);
        ``n_tiles`` is ``nest.n_tiles(cp, sp)``, computed once by the caller."""
        ...

    def accesses(self, cp: int, sp: int, traffic: Traffic) -> AccessCounts:
        """Accesses per level of one repetition for one candidate (``traffic``: its DRAM words)."""
        ...


class DataflowModel(Protocol):
    """A dataflow: which layers it runs, which tile sizes it proposes, how it computes."""

    dataflow: Dataflow

    def supports(self, work: Work) -> bool: ...

    def candidate_tiles(self, work: Work, spec: HardwareSpec) -> Tiles:
        """Candidate tile sizes for ``k`` (units of ``work.k_units``), ``c``, ``y``, ``x``."""
        ...

    def compute_model(self, nest: LoopNest, spec: HardwareSpec) -> ComputeModel: ...


@dataclass(frozen=True)
class Mapped:
    """A work mapped onto the array with one dataflow and one tiling, fully priced.

    Cycles are for the whole layer (all repetitions); ``traffic`` and ``counts`` likewise.
    ``evaluated`` / ``feasible``: candidates the search priced / that fit the buffer.
    """

    dataflow: Dataflow
    tiling: Tiling | None
    cycles: float
    compute_cycles: float
    dram_cycles: float
    traffic: Traffic
    counts: AccessCounts
    footprint_words: int
    evaluated: int = 1
    feasible: int = 1
    #: non-zero MACs (conv/FC: ``MACs * (1 - sigma)``) or compares/adds (streaming), whole layer
    useful_ops: float = 0.0

    @property
    def dram_words(self) -> float:
        return float(self.traffic.total)


def _scale(counts: AccessCounts, factor: float) -> AccessCounts:
    return AccessCounts(*(getattr(counts, level) * factor for level in LEVELS))


#: Spec fields the DRAM timing and the tiling objective read, and no part of a search before
#: them (``grid_key``): the loop nest, compute cycles, footprint and lower bounds are the same
#: for specs that differ only here (ensemble members that differ in the clock, say).
_TIMING_FIELDS: dict[str, Any] = {
    "name": True, "description": True, "area": True, "calibration": True, "energy": True, "clock_hz": True,
    "dram": {"latency_cycles", "bandwidth_bytes_per_s"},
    "global_buffer": {"dma_conflict_fraction"},
    "model": {"tiling_cost", "tiling_dram_weight", "tiling_joint_weight", "layer_overhead_cycles"},
}


def grid_key(spec: HardwareSpec) -> str:
    """The part of ``spec`` a :class:`Prepared` search depends on (every field but the DRAM
    timing's, the objective's and those that change no cost), as a :class:`GridMemo` key."""
    return spec.model_dump_json(exclude=_TIMING_FIELDS)


class Prepared:
    """What a work's search under one dataflow computes before any DRAM timing: the loop nest,
    the compute model, the candidate grid (footprint, compute cycles) and its coarse lower
    bounds. A function of the work and ``grid_key(spec)``, so a :class:`GridMemo` shares it
    between specs that differ only in the clock, the DRAM bandwidth and latency, the bank
    conflicts, the fixed per-layer overhead or the objective.

    The grid is the channel pairs by spatial pairs that pass pruning rule 3 wholesale.
    """

    def __init__(self, nest: LoopNest, compute: ComputeModel, spec: HardwareSpec) -> None:
        self.nest, self.compute = nest, compute
        # Resident tensors hold one copy for the whole layer; double buffering halves the rest.
        self.capacity = (spec.buffer_words - nest.work.reserved_words) // buffer_copies(spec)
        self._grid: tuple[np.ndarray, ...] | None = None
        self._bounds: Bounds | None = None

    @classmethod
    def of(cls, model: DataflowModel, work: Work, spec: HardwareSpec) -> Prepared:
        nest = LoopNest(work, model.candidate_tiles(work, spec), spec.model.psum_words)
        return cls(nest, model.compute_model(nest, spec), spec)

    @property
    def table(self) -> CandidateTable:
        nest = self.nest
        return CandidateTable((nest.k.tile, nest.c.tile, nest.y.tile, nest.x.tile))

    def grid(self) -> tuple[np.ndarray, ...]:
        """``(cp, sp, misfit, compute cycles)``: the grid's channel and spatial pairs, and 2-D
        ``(len(cp), len(sp))`` arrays over it (whole layer: repetitions included); ``(cp, sp)``
        alone when either is empty."""
        if self._grid is None:
            nest, work = self.nest, self.nest.work
            # Pruning rule 3, first on whole rows / columns of the grid (a channel pair that does
            # not fit with the smallest spatial tile never fits, and vice versa), then per cell
            # (misfits get infinite cycles, which is cheaper than compressing every array).
            a, wt, b, in_area, out_area = nest.footprint_terms()
            cp = np.flatnonzero(a * in_area.min() + wt + b * out_area.min() <= self.capacity)
            sp = np.flatnonzero(a.min() * in_area + wt.min() + b.min() * out_area <= self.capacity)
            if cp.size == 0 or sp.size == 0:
                self._grid = (cp, sp)
                return self._grid
            cycles_c = self.compute.cycles(cp, sp, nest.n_tiles(cp, sp))
            if work.reps != 1:  # the groups run back to back: one pipeline, one first load, one last write
                cycles_c *= work.reps
            self._grid = (cp, sp, nest.footprint(cp, sp) > self.capacity, cycles_c)
        return self._grid

    def bounds(self) -> Bounds:
        """Lower bounds of every grid cell: its compute cycles (a layer takes at least its
        compute; infinite for a misfit) and the words every loop order moves."""
        if self._bounds is None:
            grid = self.grid()
            if len(grid) == 2:
                self._bounds = Bounds(np.zeros(0), np.zeros(0))
            else:
                cp, sp, misfit, cycles_c = grid
                words = self.nest.min_dma_words(sp)[None, :] * float(self.nest.work.reps)
                self._bounds = Bounds(np.where(misfit, np.inf, cycles_c), words)
        return self._bounds

    @property
    def cells(self) -> int:
        """Grid cells (what a :class:`GridMemo` entry holds per array)."""
        grid = self.grid()
        return 0 if len(grid) == 2 else int(grid[3].size)


class _Evaluator:
    """Prices a :class:`Prepared` grid on one spec's DRAM timing (a
    :class:`~accelsim.mapping.search.BoundedEvaluator`).

    The DMA side (the best order's words and transfers, ``LoopNest.best_dma``, the first
    tile's loads, the last write-back) is computed either over the whole grid (``__call__``)
    or only at the positions the search asks for (``price``, the same numbers element for
    element).

    Lower bounds for the pruned search (the pipeline's closed form is non-decreasing in
    compute, words and transfers, ``engine.timing``): ``bounds`` gives the compute cycles
    alone (``Prepared.bounds``); ``refine`` the closed form with what every loop order moves
    at least (``LoopNest.min_dma_words`` / ``min_transfers_at``: one fetch of every tensor
    tile, no re-walk) and the exact first and last transfers.
    """

    def __init__(self, prepared: Prepared, spec: HardwareSpec) -> None:
        self.prepared, self.nest, self.spec = prepared, prepared.nest, spec
        self.latency, self.word_cost = float(spec.dram.latency_cycles), steady_cost_per_word(spec)

    def __call__(self, table: CandidateTable) -> Evaluation:
        grid = self.prepared.grid()
        if len(grid) == 2:
            return Evaluation(np.zeros(0, dtype=np.int64), *(np.zeros(0),) * 3)
        cp, sp, misfit, cycles_c = grid
        nest = self.nest
        words, transfers = nest.best_dma(cp, sp, self.latency, self.word_cost)  # best loop order, closed form
        cycles = self._cycles(cycles_c, words, transfers, nest.first_tile_words(cp, sp), nest.last_words(cp, sp))
        cycles[misfit] = np.inf
        index = cp[:, None] * nest.pairs[1] + sp[None, :]
        return Evaluation(index=index.ravel(), cycles=cycles.ravel(), dram_words=words.ravel(),
                          compute_cycles=cycles_c.ravel())

    def _cycles(self, compute: np.ndarray, words: np.ndarray, transfers: np.ndarray, first_words: np.ndarray,
                last_words: np.ndarray) -> np.ndarray:
        """The pipeline's cycles from one repetition's DMA words and transfers (scaled here)."""
        reps = self.nest.work.reps
        if reps != 1:  # one pipeline over all repetitions
            words *= reps
            transfers *= reps
        dma = DmaStream(words, transfers, first_words, self.nest.first_transfers, last_words)
        return layer_cycles(compute, dma, self.spec)

    def _at(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Channel pairs, spatial pairs, compute cycles and misfit flags at flat grid positions."""
        cp, sp, misfit, cycles_c = self.prepared.grid()
        i, j = np.divmod(positions, sp.size)
        return cp[i], sp[j], cycles_c.ravel()[positions], misfit.ravel()[positions]

    def bounds(self, table: CandidateTable) -> Bounds:
        return self.prepared.bounds()

    def refine(self, bounds: Bounds, positions: np.ndarray) -> Bounds:
        nest = self.nest
        cp, sp, compute, misfit = self._at(positions)
        words = nest.min_dma_words(sp)
        cycles = self._cycles(compute, words, nest.min_transfers_at(cp, sp), nest.first_tile_words_at(cp, sp),
                              nest.last_words_at(cp, sp))
        cycles[misfit] = np.inf
        return Bounds(cycles, words)

    def price(self, bounds: Bounds, positions: np.ndarray) -> Evaluation:
        nest = self.nest
        cp, sp, compute, misfit = self._at(positions)
        words, transfers = nest.best_dma_at(cp, sp, self.latency, self.word_cost)
        cycles = self._cycles(compute, words, transfers, nest.first_tile_words_at(cp, sp), nest.last_words_at(cp, sp))
        cycles[misfit] = np.inf
        return Evaluation(index=cp * nest.pairs[1] + sp, cycles=cycles, dram_words=words, compute_cycles=compute)


def _evaluator(nest: LoopNest, compute: ComputeModel, spec: HardwareSpec) -> _Evaluator:
    return _Evaluator(Prepared(nest, compute, spec), spec)


class GridMemo:
    """:class:`Prepared` searches by (dataflow, work, ``grid_key(spec)``), least recently used
    first out once they hold more than ``max_cells`` grid cells (about 40 bytes each with the loop
    nest and compute tables: the default holds about 160 MB, the grids of one 2.0-width SqueezeNext
    on one configuration, which is what the error bands reuse).

    Simulating the same layers on specs that differ only in DRAM timing (a calibration
    ensemble's clocks) then searches each grid once: only the timing-dependent part of the
    search (the incumbent, the refined bounds of the survivors, their exact prices) runs
    again. The results are those of a fresh search: a ``Prepared`` is a pure function of
    its key.
    """

    def __init__(self, max_cells: int = 4_000_000) -> None:
        self.max_cells = max_cells
        self._store: OrderedDict[tuple[Any, ...], Prepared] = OrderedDict()
        self._cells = 0

    def __len__(self) -> int:
        return len(self._store)

    def clear(self) -> None:
        self._store.clear()
        self._cells = 0

    def get(self, model: DataflowModel, work: Work, spec: HardwareSpec, key: str) -> Prepared:
        """The prepared search of ``work`` under ``model`` on ``spec``, whose ``grid_key`` is ``key``."""
        memo_key = (model.dataflow, work, key)
        prepared = self._store.get(memo_key)
        if prepared is not None:
            self._store.move_to_end(memo_key)
            return prepared
        prepared = Prepared.of(model, work, spec)
        self._store[memo_key] = prepared
        self._cells += prepared.cells
        while self._cells > self.max_cells and len(self._store) > 1:
            _, old = self._store.popitem(last=False)
            self._cells -= old.cells
        return prepared


def _mapped(model: DataflowModel, nest: LoopNest, compute: ComputeModel, spec: HardwareSpec, index: int,
            order: int | None, evaluated: int, feasible: int) -> Mapped:
    work = nest.work
    ik, ic, iy, ix = (int(i) for i in np.unravel_index(index, nest.shape))
    cp, sp = nest.pair_index(ik, ic, iy, ix)
    if order is None:
        order = nest.best_order(int(cp[0]), int(sp[0]), float(spec.dram.latency_cycles), steady_cost_per_word(spec))
    per_rep = nest.traffic_at(int(cp[0]), int(sp[0]), order)
    total = per_rep.scaled(work.reps)
    n_tiles = nest.n_tiles(cp, sp)
    cycles_c = float(work.reps * compute.cycles(cp, sp, n_tiles)[0, 0])
    dma = DmaStream(float(total.total), float(work.reps * nest.transfers_at(int(cp[0]), int(sp[0]), order)),
                    float(nest.first_tile_words(cp, sp)[0, 0]), float(nest.first_transfers),
                    float(nest.last_words(cp, sp)[0, 0]))
    cycles = float(layer_cycles(cycles_c, dma, spec))
    counts = _scale(compute.accesses(int(cp[0]), int(sp[0]), per_rep), work.reps)
    kt, ct = int(nest.k.tile[ik]), int(nest.c.tile[ic])
    if work.packed:  # report channels, not groups
        kt, ct = kt * work.k_per_group, kt * work.c_per_group
    tiling = Tiling(kt=kt, ct=ct, ht=int(nest.y.tile[iy]), wt=int(nest.x.tile[ix]), order=LOOP_ORDERS[order],
                    n_k=int(nest.k.count[ik]), n_c=int(nest.c.count[ic]), n_y=int(nest.y.count[iy]),
                    n_x=int(nest.x.count[ix]))
    return Mapped(dataflow=model.dataflow, tiling=tiling, cycles=cycles, compute_cycles=cycles_c,
                  dram_cycles=float(dma_busy_cycles(dma, spec)), traffic=total, counts=counts,
                  footprint_words=int(nest.footprint(cp, sp)[0, 0]) * buffer_copies(spec),
                  evaluated=evaluated, feasible=feasible, useful_ops=useful_ops(work))


def useful_ops(work: Work) -> float:
    """Operations that keep a PE usefully busy, whole layer: the non-zero MACs of a conv/FC
    (a pruned layer's zero weights are wasted PE-cycles in WS and skipped in OS), or the
    compares/adds of a streaming layer."""
    if work.kind is WorkKind.STREAM:
        return float(work.ops)
    return work.macs * (1.0 - work.sigma)


def map_best(model: DataflowModel, work: Work, spec: HardwareSpec, objective: Objective, *,
             memo: GridMemo | None = None, key: str | None = None) -> Mapped | None:
    """The best tiling and loop order of ``work`` under ``model``; None if no tile fits the buffer.

    ``memo``: a :class:`GridMemo` to take the timing-independent part of the search from (and
    keep it in); ``key`` is ``grid_key(spec)``, computed by the caller once per spec.
    """
    if memo is None:
        prepared = Prepared.of(model, work, spec)
    else:
        prepared = memo.get(model, work, spec, key if key is not None else grid_key(spec))
    choice = search(prepared.table, _Evaluator(prepared, spec), objective)
    if choice is None:
        return None
    order = None if choice.order < 0 else choice.order
    return _mapped(model, prepared.nest, prepared.compute, spec, choice.index, order, choice.evaluated,
                   choice.feasible)


def candidate_space(model: DataflowModel, work: Work, spec: HardwareSpec) -> Evaluation:
    """Every feasible candidate tiling of ``work`` under ``model``, priced (cycles, DRAM words,
    compute cycles; each under its best loop order): for trade-off studies and tests, e.g.
    the fewest DRAM words any tiling achieves is ``candidate_space(...).dram_words.min()``."""
    nest = LoopNest(work, model.candidate_tiles(work, spec), spec.model.psum_words)
    table = CandidateTable((nest.k.tile, nest.c.tile, nest.y.tile, nest.x.tile))
    ev = _evaluator(nest, model.compute_model(nest, spec), spec)(table)
    keep = np.isfinite(ev.cycles)
    return Evaluation(ev.index[keep], ev.cycles[keep], ev.dram_words[keep], ev.compute_cycles[keep])


def map_fixed(model: DataflowModel, work: Work, spec: HardwareSpec, tiles: tuple[int, int, int, int],
              order: tuple[str, str, str]) -> Mapped:
    """Price one tiling ``(kt, ct, ht, wt)`` (``kt`` in ``work.k_units``) and loop order.

    The buffer capacity is not enforced; compare ``footprint_words`` with the buffer.
    """
    nest = LoopNest(work, tuple(np.array([t]) for t in tiles), spec.model.psum_words)  # type: ignore[arg-type]
    return _mapped(model, nest, model.compute_model(nest, spec), spec, 0, LOOP_ORDERS.index(tuple(order)), 1, 1)


def min_buffer_words(work: Work, spec: HardwareSpec) -> int:
    """Buffer words the smallest legal tile (one unit along every loop) needs, copies included,
    plus the words resident tensors reserve: ``work`` is feasible iff this is at most
    ``spec.buffer_words`` (with a resident output, the unit tile under ``k > s > c`` spills
    nothing, so the no-spill rule never makes a fitting work infeasible)."""
    nest = LoopNest(work, (np.array([1]),) * 4, spec.model.psum_words)
    return int(nest.footprint(np.array([0]), np.array([0]))[0, 0]) * buffer_copies(spec) + work.reserved_words
