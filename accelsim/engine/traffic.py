"""DRAM traffic, re-fetch factors and buffer footprint of a tiled loop nest.

Conventions (all counts in words, per repetition of a :class:`~accelsim.engine.work.Work`):

* **Halo, exactly.** A tile of output rows ``[a, b)`` reads the input rows
  ``{y*s - p + i : a <= y < b, 0 <= i < R}`` that lie inside the image (padding rows are
  never fetched; with ``s > R`` the skipped rows are not fetched either). model.md's
  ``rows_in(h) = min((h-1)*min(s,R) + R, H)`` is the same count for interior tiles; border
  tiles read fewer rows, and we count them exactly. Columns likewise; a tile's input is the
  product of its rows and columns times its input channels.
* **Re-fetch (model.md eq. 5.3, Timeloop's rule).** One tile of each tensor is resident; a
  tensor's tile is fetched again whenever the tile loop changes it. Inputs depend on
  ``{c, s}``, weights on ``{k, c}``, outputs on ``{k, s}`` (packed small-group convs: inputs
  also follow ``k``). Each tensor then has exactly one irrelevant loop ``l``, and its
  re-fetch factor is ``n_l`` if some relevant loop nested *inside* ``l`` has a count above 1,
  else 1. (A relevant loop with count 1 changes nothing, which is why model.md says
  "innermost relevant loop with n > 1".)
* **Partial sums (eq. 5.4).** Outputs are resident ``f_out`` times; the first residency
  starts from zero, every later one reads the partial sums back (``psum_words`` per element)
  and every eviction but the last writes partial sums; the last writes the final output
  (1 word per element, or the pooled output when a pool is fused). So
  ``out_write = final + (f_out - 1)*psum_words*Out`` and ``out_read = (f_out -
  1)*psum_words*Out``; model.md's ``Out*(1 + 2*spill*psum_words)``. This holds for every
  loop order: the brute-force walker in ``tests/oracle.py`` agrees exactly.
* **Fused residual add.** The shortcut operand(s) are read once per output element, at the
  final write (``shortcut_tensors * Out``); their tile shares the output's buffer space.
* **Footprint (eq. 5.1).** The buffer must hold the largest input tile (largest touched rows
  x largest touched columns x input channels of a tile, per operand), the weight tile and
  the output tile (``psum_words`` per element, plus one word per fused shortcut operand).
  Taking each maximum separately is an upper bound of every real tile, exact whenever the
  row- and column-maximal tiles are full tiles (the usual case); the walker checks the bound.
* **DMA transfers** (for the pipeline of ``engine.timing``). Each fetch of a tensor tile is
  one transfer, and so is each eviction of an output tile (partial sums or final values),
  each partial-sum read-back and each fused shortcut tile read: a tensor's transfers are its
  relevant loops' trip counts times its re-fetch factor. Zero-word moves (a resident tensor)
  are no transfers. The *best order* is then the one with the least steady-state DMA time
  ``L * transfers + (1 + beta) / w_d * words`` (``best_dma``; ties: fewer words): the same
  "save the largest penalty" closed form as for words, with each tensor's penalty priced in
  DMA cycles. Checked against the walker (transfers) and all six explicit orders.
* **Inter-layer residency** (``Work.input_resident`` / ``output_resident``). A resident input
  is read in place from the buffer: no DRAM words, no input tile in the footprint and none in
  the DMA prologue. A resident output's final values stay in the buffer: its final write
  costs no DRAM words, but its output tile (the partial-sum accumulators, a fused pool's or
  shortcut's operands) is still staged. The best-order closed form then admits only orders
  that never spill partial sums (c innermost when ``n_c > 1``): a spilled partial sum would
  leave the buffer and come back, which is what residency avoids, and a resident region
  holds final values only. A *given* order (``traffic(order=...)``, ``traffic_at``) is
  priced as it runs, spills included, so it can be checked against the walker.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from accelsim.engine.work import Work
from accelsim.mapping.tiling import LOOP_ORDERS, Split


@dataclass(frozen=True, eq=False)
class Touched:
    """Input rows (or columns) read by the tiles of a split, per candidate tile size (V,)."""

    total: np.ndarray  #: summed over all tiles (halo re-reads included)
    largest: np.ndarray  #: of the largest tile
    first: np.ndarray  #: of the first tile (the DMA prologue)


def window_rows(n_out: int, n_in: int, kernel: int, stride: int, pad: int) -> tuple[np.ndarray, np.ndarray]:
    """Per output row: rows its window reads, and rows not read by the previous output row
    (in-image rows only: padding is never read). :func:`band_rows` sums them over a band."""
    y = np.arange(n_out)
    lo = np.maximum(y * stride - pad, 0)
    hi = np.minimum(y * stride - pad + kernel - 1, n_in - 1)
    full = np.maximum(hi - lo + 1, 0)
    overlap = np.zeros_like(full)
    overlap[1:] = np.maximum(np.minimum(hi[1:], hi[:-1]) - np.maximum(lo[1:], lo[:-1]) + 1, 0)
    # Windows have equal length and increasing starts, so a row shared with any earlier
    # window is shared with the previous one: the union of a band is full[a] + sum(new).
    return full, full - overlap


def band_rows(full, cum, start, stop):
    """Input rows a band of output rows ``start..stop-1`` reads: the first row's window plus
    what each later row adds (``full`` and ``cum[j] = sum(new[:j])`` from :func:`window_rows`;
    ints or index arrays)."""
    return full[start] + cum[stop] - cum[start + 1]


@lru_cache(maxsize=8192)
def touched(n_out: int, n_in: int, kernel: int, stride: int, pad: int, tiles: tuple[int, ...]) -> Touched:
    """Exact input rows read by each tiling of an output dimension into bands of ``tiles``."""
    full, new = window_rows(n_out, n_in, kernel, stride, pad)
    cum = np.concatenate([[0], np.cumsum(new)])  # cum[j] = sum(new[:j])
    t = np.asarray(tiles, dtype=np.int64)[:, None]
    start = np.arange(n_out, dtype=np.int64)[None, :] * t
    valid = start < n_out
    start = np.where(valid, start, 0)
    stop = np.minimum(start + t, n_out)
    rows = np.where(valid, band_rows(full, cum, start, stop), 0)
    out = Touched(total=rows.sum(axis=1), largest=rows.max(axis=1), first=rows[:, 0])
    for arr in (out.total, out.largest, out.first):
        arr.setflags(write=False)
    return out


@dataclass(frozen=True, eq=False)
class Traffic:
    """DRAM words per tensor (arrays over candidates, or floats for one mapping).

    ``output_writes`` include partial-sum spills; ``output_reads`` are partial sums read back;
    ``shortcut`` is the fused residual operand read at the final write.
    """

    inputs: np.ndarray | float
    weights: np.ndarray | float
    output_writes: np.ndarray | float
    output_reads: np.ndarray | float
    shortcut: np.ndarray | float

    @property
    def total(self) -> np.ndarray | float:
        return self.inputs + self.weights + self.output_writes + self.output_reads + self.shortcut

    def scaled(self, factor: float) -> Traffic:
        return Traffic(*(getattr(self, f) * factor for f in ("inputs", "weights", "output_writes",
                                                             "output_reads", "shortcut")))


def refetch_factors(
    order: tuple[str, str, str], n_k: np.ndarray, n_c: np.ndarray, n_s: np.ndarray, inputs_follow_k: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Re-fetch factors ``(f_in, f_w, f_out)`` of each candidate under one loop order."""
    counts = {"k": n_k, "c": n_c, "s": n_s}
    shape = np.broadcast_shapes(np.shape(n_k), np.shape(n_c), np.shape(n_s))

    def factor(irrelevant: str) -> np.ndarray:
        inner = order[order.index(irrelevant) + 1:]
        changes = np.zeros(shape, dtype=bool)
        for loop in inner:
            changes |= counts[loop] > 1
        return np.where(changes, counts[irrelevant], 1)

    f_in = np.ones(shape, dtype=np.int64) if inputs_follow_k else factor("k")
    return f_in, factor("s"), factor("c")


class LoopNest:
    """The tile loops of one :class:`Work` over per-dimension candidate tile sizes.

    Candidates form the grid ``k x c x y x x``; evaluation works on its flattened 2-D view,
    *channel pairs* ``cp = ik*Vc + ic`` by *spatial pairs* ``sp = iy*Vx + ix``, whose C-order
    ravel is the flat candidate index. Every quantity below is a product or sum of a
    channel-pair factor and a spatial-pair factor, so one broadcast op prices a whole block
    of candidates without gathers.

    Args:
        work: the layer's normalised work.
        tiles: candidate tile sizes for ``k`` (units of ``work.k_units``), ``c``, ``y``, ``x``.
        psum_words: words per stored partial sum.
    """

    def __init__(self, work: Work, tiles: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
                 psum_words: int) -> None:
        self.work = work
        self.psum_words = psum_words
        (ho, wo), (h, w) = work.out_hw, work.in_hw
        self.k = Split.of(work.k_units, tiles[0])
        self.c = Split.of(work.c_units, tiles[1])
        self.y = Split.of(ho, tiles[2])
        self.x = Split.of(wo, tiles[3])
        self.rows = touched(ho, h, work.kernel[0], work.stride[0], work.padding[0], tuple(self.y.tile.tolist()))
        self.cols = touched(wo, w, work.kernel[1], work.stride[1], work.padding[1], tuple(self.x.tile.tolist()))
        # channel pairs
        ik, ic = (a.ravel() for a in np.meshgrid(np.arange(len(self.k)), np.arange(len(self.c)), indexing="ij"))
        self.cp_k, self.cp_c = ik, ic
        kt, ct = self.k.tile[ik], self.c.tile[ic]
        self.n_k, self.n_c = self.k.count[ik], self.c.count[ic]
        if work.packed:  # a tile of kt groups carries its own input channels
            self.in_channels = kt * work.c_per_group
            self.out_channels = kt * work.k_per_group
            self.weight_tile = kt * (work.k_per_group * work.c_per_group * work.taps)
        else:
            self.in_channels, self.out_channels, self.weight_tile = ct, kt, kt * ct * work.taps
        if not work.has_weights:
            self.weight_tile = np.zeros_like(self.weight_tile)
        # spatial pairs
        iy, ix = (a.ravel() for a in np.meshgrid(np.arange(len(self.y)), np.arange(len(self.x)), indexing="ij"))
        self.sp_y, self.sp_x = iy, ix
        self.n_s = self.y.count[iy] * self.x.count[ix]
        self.halo = self.rows.total[iy] * self.cols.total[ix]
        self.in_area = self.rows.largest[iy] * self.cols.largest[ix]
        self.first_area = self.rows.first[iy] * self.cols.first[ix]
        self.out_area = self.y.tile[iy] * self.x.tile[ix]

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return len(self.k), len(self.c), len(self.y), len(self.x)

    @property
    def pairs(self) -> tuple[int, int]:
        """``(channel pairs, spatial pairs)``."""
        return self.cp_k.size, self.sp_y.size

    def pair_index(self, ik: int, ic: int, iy: int, ix: int) -> tuple[np.ndarray, np.ndarray]:
        """One candidate as 1-element channel-pair and spatial-pair index arrays."""
        return np.array([ik * len(self.c) + ic]), np.array([iy * len(self.x) + ix])

    def _staged_inputs(self) -> int:
        """Input operands streamed from DRAM through tiles: 0 when the input is resident."""
        return 0 if self.work.input_resident else self.work.n_inputs

    def _final_words(self) -> int:
        """Final output words written to DRAM per repetition: 0 when the output stays resident."""
        return 0 if self.work.output_resident else self.work.final_out_words

    def footprint_terms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(in_per_area, weights, out_per_area)`` per channel pair and ``(in_area, out_area)``
        per spatial pair: footprint = in_per_area*in_area + weights + out_per_area*out_area."""
        w = self.work
        return (self._staged_inputs() * self.in_channels, self.weight_tile,
                self.out_channels * (self.psum_words + w.shortcut_tensors), self.in_area, self.out_area)

    def footprint(self, cp: np.ndarray, sp: np.ndarray) -> np.ndarray:
        """Words of the largest tile, one copy, ``(len(cp), len(sp))``."""
        a, wt, b, in_area, out_area = self.footprint_terms()
        return a[cp, None] * in_area[None, sp] + wt[cp, None] + b[cp, None] * out_area[None, sp]

    def n_tiles(self, cp: np.ndarray, sp: np.ndarray) -> np.ndarray:
        return (self.n_k[cp] * self.n_c[cp])[:, None] * self.n_s[None, sp]

    def first_tile_words(self, cp: np.ndarray, sp: np.ndarray) -> np.ndarray:
        """Words loaded before the first tile can start: its inputs and weights, ``(len(cp), len(sp))``.

        Like :meth:`last_words`, :meth:`min_transfers` and :meth:`best_dma`, it has an ``_at``
        form for paired 1-D index arrays (candidates ``(cp[i], sp[i])``) that gives the same
        numbers element for element (one element-wise formula on broadcast indices)."""
        return self.first_tile_words_at(cp[:, None], sp[None, :])

    def first_tile_words_at(self, cp: np.ndarray, sp: np.ndarray) -> np.ndarray:
        return (self._staged_inputs() * self.in_channels[cp]) * self.first_area[sp] + self.weight_tile[cp]

    def traffic(self, cp: np.ndarray, sp: np.ndarray, order: int | None = None) -> Traffic:
        """DRAM words per tensor, ``(len(cp), len(sp))`` arrays, under loop order ``order``
        (index into ``LOOP_ORDERS``), or under each candidate's best order when None.

        Closed form of the best order: with ``P_X = (n_irr - 1) * words_X`` the extra words
        tensor X costs when its irrelevant loop re-walks it, the tensor whose irrelevant loop
        is innermost (among loops with count > 1) pays nothing and every other one pays in
        full, so the best order saves the largest penalty: ``D = D0 + sum(P) - max(P)``
        (checked against all six explicit orders in the tests).
        """
        w = self.work
        n_k, n_c = self.n_k[cp, None], self.n_c[cp, None]
        n_s = self.n_s[None, sp]
        inputs = float(self._staged_inputs() * w.in_channels) * self.halo[None, sp]
        weights = float(w.weight_words)
        out = float(w.out_words)
        spill_unit = self.psum_words * out
        if order is not None:
            f_in, f_w, f_out = refetch_factors(LOOP_ORDERS[order], n_k, n_c, n_s, w.packed)
            ins, wts, spill = inputs * f_in, weights * f_w, (f_out - 1) * spill_unit
        else:
            p_in = np.zeros_like(inputs * n_k) if w.packed else inputs * (n_k - 1)
            p_w = weights * (n_s - 1)
            p_out = (2 * spill_unit) * (n_c - 1)
            # Save the largest penalty; on equal penalties any choice gives the same words.
            save_in = (p_in >= p_w) & (p_in >= p_out)
            save_w = ~save_in & (p_w >= p_out)
            if w.output_resident:  # no spills allowed: c innermost, i.e. save P_out, when n_c > 1
                save_in, save_w = save_in & (n_c == 1), save_w & (n_c == 1)
            ins = inputs + np.where(save_in, 0.0, p_in)
            wts = weights + np.where(save_w, 0.0, p_w)
            spill = np.where(save_in | save_w, (n_c - 1) * spill_unit, 0.0)
        shape = np.broadcast_shapes(np.shape(ins), np.shape(wts), np.shape(spill))
        ones = np.ones(shape)
        return Traffic(inputs=ins * ones, weights=wts * ones, output_writes=self._final_words() + spill * ones,
                       output_reads=spill * ones, shortcut=(w.shortcut_tensors * out) * ones)

    def best_words(self, cp: np.ndarray, sp: np.ndarray) -> np.ndarray:
        """Total DRAM words under each candidate's best order, ``(len(cp), len(sp))``.

        The same closed form as :meth:`traffic` with ``order=None``, written for speed (the
        search's hot path): ``D = D0 + P_in + P_w + P_out - max(P_in, P_w, P_out)``.
        """
        w = self.work
        inputs = float(self._staged_inputs() * w.in_channels) * self.halo[sp]
        out = float(w.out_words)
        p_w = float(w.weight_words) * (self.n_s[sp] - 1)
        p_out = (2.0 * self.psum_words * out) * (self.n_c[cp] - 1)
        largest = np.maximum(p_out[:, None], p_w[None, :])
        words = np.add(p_out[:, None], p_w[None, :] + inputs[None, :]
                       + float(w.weight_words + self._final_words() + w.shortcut_tensors * out))
        if not w.packed:
            p_in = inputs[None, :] * (self.n_k[cp] - 1)[:, None]
            np.maximum(largest, p_in, out=largest)
            words += p_in
        if w.output_resident:  # no spills allowed: the saved penalty is P_out whenever n_c > 1
            largest = np.where((self.n_c[cp] > 1)[:, None], p_out[:, None], largest)
        words -= largest
        return words

    def last_words(self, cp: np.ndarray, sp: np.ndarray) -> np.ndarray:
        """Final output words of the last tile (the last k tile x the last spatial tile, every
        loop order ends there), ``(len(cp), len(sp))``; 0 when the output stays resident.
        Proportional to the final words (exact without a fused pool)."""
        return self.last_words_at(cp[:, None], sp[None, :])

    def last_words_at(self, cp: np.ndarray, sp: np.ndarray) -> np.ndarray:
        ho, wo = self.work.out_hw
        k_share = self.k.last[self.cp_k[cp]] / self.work.k_units
        s_share = (self.y.last[self.sp_y[sp]] / ho) * (self.x.last[self.sp_x[sp]] / wo)
        return float(self._final_words()) * k_share * s_share

    @property
    def first_transfers(self) -> int:
        """Transfers of the first tile's loads: one per staged input operand, one weight tile."""
        return self._staged_inputs() + (1 if self.work.has_weights else 0)

    def best_dma(self, cp: np.ndarray, sp: np.ndarray, latency: float,
                 word_cost: float) -> tuple[np.ndarray, np.ndarray]:
        """``(words, transfers)`` under each candidate's best order, ``(len(cp), len(sp))``.

        The best order saves the tensor whose re-walk costs the most steady-state DMA time
        ``Q_X = latency * X_X + word_cost * P_X`` (``P_X`` its extra words, ``X_X`` its extra
        transfers; ties: the larger ``P_X``, then inputs, weights, outputs), exactly as
        ``best_words`` saves the largest ``P_X`` (see the module docstring). With a resident
        output the saved tensor is the output whenever ``n_c > 1`` (no spills allowed).
        """
        return self._best_dma(cp[:, None], sp[None, :], latency, word_cost)

    def best_dma_at(self, cp: np.ndarray, sp: np.ndarray, latency: float,
                    word_cost: float) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`best_dma` of the candidates ``(cp[i], sp[i])`` (paired 1-D arrays), element for
        element the same numbers as the grid form (the search prices only the candidates its
        lower bound cannot rule out)."""
        return self._best_dma(cp, sp, latency, word_cost)

    def _best_dma(self, cp: np.ndarray, sp: np.ndarray, latency: float,
                  word_cost: float) -> tuple[np.ndarray, np.ndarray]:
        """The closed form of :meth:`best_dma` on broadcastable index arrays ``cp``, ``sp``.

        Every word and transfer count is an integer below 2**53, so the float sums are exact
        in any grouping; the ``Q_X`` comparisons use the same two products on the same values
        in every form, so the ranking (ties included) cannot depend on the array shapes.
        """
        w = self.work
        staged = self._staged_inputs()
        has_w = 1.0 if w.has_weights else 0.0
        inputs = float(staged * w.in_channels) * self.halo[sp]
        out = float(w.out_words)
        n_k, n_c = self.n_k[cp].astype(float), self.n_c[cp].astype(float)
        n_s = self.n_s[sp].astype(float)
        ks = n_k * n_s
        w_fetches = has_w * n_k * n_c
        p_w = float(w.weight_words) * (n_s - 1)
        x_w = w_fetches * (n_s - 1)
        p_out = (2.0 * self.psum_words * out) * (n_c - 1)
        x_out = 2.0 * (n_c - 1) * ks
        if w.packed:
            p_in = np.zeros(np.broadcast_shapes(cp.shape, sp.shape))
            x_in = p_in
            in_fetches = staged * ks
        else:
            p_in = inputs * (n_k - 1)
            x_in = staged * (n_c * (n_k - 1)) * n_s
            in_fetches = staged * n_c * n_s
        q_in = latency * x_in + word_cost * p_in
        q_w = latency * x_w + word_cost * p_w
        q_out = latency * x_out + word_cost * p_out

        def beats(qa, pa, qb, pb):
            return (qa > qb) | ((qa == qb) & (pa >= pb))

        save_in = beats(q_in, p_in, q_w, p_w) & beats(q_in, p_in, q_out, p_out)
        save_w = ~save_in & beats(q_w, p_w, q_out, p_out)
        if w.output_resident:
            no_spill = n_c <= 1
            save_in, save_w = save_in & no_spill, save_w & no_spill
        # the two tensors not saved pay their re-walk: all three penalties less the saved one
        base_words = self.min_dma_words(sp)  # one fetch of every tensor tile (the search's bound)
        words = base_words + p_in + p_w + p_out - np.where(save_in, p_in, np.where(save_w, p_w, p_out))
        finals = (1.0 if self._final_words() else 0.0) + w.shortcut_tensors
        transfers = (in_fetches + w_fetches + finals * ks + x_in + x_w + x_out
                     - np.where(save_in, x_in, np.where(save_w, x_w, x_out)))
        return words, transfers

    def min_dma_words(self, sp: np.ndarray) -> np.ndarray:
        """Words every loop order moves at least, per spatial pair (no re-walk penalty): a lower
        bound of :meth:`best_dma`'s words for every channel pair."""
        w = self.work
        inputs = float(self._staged_inputs() * w.in_channels) * self.halo[sp]
        return inputs + float(w.weight_words + self._final_words() + w.shortcut_tensors * float(w.out_words))

    def min_transfers_at(self, cp: np.ndarray, sp: np.ndarray) -> np.ndarray:
        """Transfers every loop order makes at least, for candidates ``(cp[i], sp[i])``: one fetch
        of every input and weight tile and one final write (and shortcut read) per output tile,
        no re-walk: a lower bound of :meth:`best_dma_at`'s transfers."""
        w = self.work
        n_k, n_c = self.n_k[cp].astype(float), self.n_c[cp].astype(float)
        n_s = self.n_s[sp].astype(float)
        finals = (1.0 if self._final_words() else 0.0) + w.shortcut_tensors
        per_s = float(self._staged_inputs()) * (n_k if w.packed else n_c) + finals * n_k  # per s tile
        return per_s * n_s + (1.0 if w.has_weights else 0.0) * n_k * n_c

    def transfers_at(self, cp: int, sp: int, order: int) -> int:
        """DMA transfers of one candidate under one loop order (Python ints)."""
        w = self.work
        n_k, n_c, n_s = int(self.n_k[cp]), int(self.n_c[cp]), int(self.n_s[sp])
        counts = {"k": n_k, "c": n_c, "s": n_s}
        loops = LOOP_ORDERS[order]

        def factor(irrelevant: str) -> int:
            inner = loops[loops.index(irrelevant) + 1:]
            return counts[irrelevant] if any(counts[loop] > 1 for loop in inner) else 1

        staged = self._staged_inputs()
        inputs = staged * (n_k * n_s if w.packed else n_c * n_s * factor("k"))
        weights = n_k * n_c * factor("s") if w.has_weights else 0
        f_out = factor("c")
        outputs = n_k * n_s * ((1 if self._final_words() else 0) + 2 * (f_out - 1) + w.shortcut_tensors)
        return inputs + weights + outputs

    def best_order(self, cp: int, sp: int, latency: float = 0.0, word_cost: float = 1.0) -> int:
        """The first order of ``LOOP_ORDERS`` with the least steady DMA time ``latency *
        transfers + word_cost * words`` (then fewest words); with a resident output, among the
        orders that spill no partial sums. The defaults rank by words alone."""
        best, best_key = 0, None
        for o in range(len(LOOP_ORDERS)):
            t = self.traffic_at(cp, sp, o)
            if self.work.output_resident and t.output_reads:
                continue
            words = float(t.total)
            key = (latency * self.transfers_at(cp, sp, o) + word_cost * words, words)
            if best_key is None or key < best_key:
                best, best_key = o, key
        return best

    def traffic_at(self, cp: int, sp: int, order: int) -> Traffic:
        """DRAM words per tensor of one candidate under one loop order (Python scalars; the
        same rule as :func:`refetch_factors`, without numpy's per-call overhead)."""
        w = self.work
        counts = {"k": int(self.n_k[cp]), "c": int(self.n_c[cp]), "s": int(self.n_s[sp])}
        loops = LOOP_ORDERS[order]

        def factor(irrelevant: str) -> int:
            inner = loops[loops.index(irrelevant) + 1:]
            return counts[irrelevant] if any(counts[loop] > 1 for loop in inner) else 1

        inputs = float(self._staged_inputs() * w.in_channels * int(self.halo[sp]))
        out = float(w.out_words)
        spill = (factor("c") - 1) * self.psum_words * out
        return Traffic(inputs=inputs * (1 if w.packed else factor("k")), weights=float(w.weight_words * factor("s")),
                       output_writes=self._final_words() + spill, output_reads=spill,
                       shortcut=w.shortcut_tensors * out)
