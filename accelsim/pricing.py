"""Pricing distinct layers: the one separable, pure step of compositional pricing.

**The entry point is** :func:`price_jobs` ``(jobs) -> list[LayerPrice]``. A :class:`LayerJob` is a
compact, picklable record: a layer's description (``accelsim.workload.layer.Layer``, a frozen
dataclass of shapes and names, no torch objects), its network context (``Fusion``: fused
shortcut reads, a fused pool, a dense first conv, resident input/output and the buffer words
reserved for them), the ``HardwareSpec`` (a pydantic model) and the dataflow option. The
function returns one :class:`LayerPrice` (cycles, energy in MAC units, DRAM words, or why the
layer does not fit) per job, in order. It is pure: the same jobs give the same prices in any
process and any order, so a caller may split the list over workers (a Dask executor, issue 12)
and concatenate the results. :func:`job_key` identifies jobs that price identically, so a
caller can send each distinct (layer signature, context, spec) once.

``accelsim.codesign.compose`` builds the jobs of a whole co-design space (every distinct block
layer on every hardware point), hands them to ``price_jobs`` (or any function with its
signature: ``Composer(pricer=...)``), and composes candidates from the prices by vectorised sums.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from accelsim.errors import InfeasibleError
from accelsim.hardware.spec import HardwareSpec
from accelsim.simulation import Fusion, SimCache, simulate_layer, spec_key
from accelsim.workload.layer import Layer


@dataclass(frozen=True, slots=True)
class LayerJob:
    """One layer to price: its shapes, its network context, the spec and the dataflow option."""

    layer: Layer
    fusion: Fusion
    spec: HardwareSpec
    dataflow: str = "auto"


@dataclass(frozen=True, slots=True)
class LayerPrice:
    """What one job costs: ``cycles``, ``energy`` (MAC units), ``dram_words``; ``reason`` if infeasible.

    An infeasible layer (no tile fits the buffer) has zero costs and the one-line reason.
    """

    cycles: float
    energy: float
    dram_words: float
    reason: str | None = None

    @property
    def feasible(self) -> bool:
        return self.reason is None


FREE = LayerPrice(0.0, 0.0, 0.0)


def job_key(job: LayerJob, key_of_spec: str | None = None) -> tuple[Any, ...]:
    """Jobs with equal keys price identically (the layer's name and fused-into target are not in it).

    ``key_of_spec``: ``spec_key(job.spec)`` if the caller has it (it is the slow part).
    """
    f = job.fusion
    if f.fused_into is not None:
        return ("fused",)
    return (job.layer.signature, f.shortcut_tensors, f.pooled_shape, f.dense, f.input_resident, f.output_resident,
            f.reserved_words, key_of_spec if key_of_spec is not None else spec_key(job.spec), job.dataflow)


def price_jobs(jobs: Sequence[LayerJob] | Iterable[LayerJob], cache: SimCache | None = None) -> list[LayerPrice]:
    """Price every job (``simulate_layer`` with its context); one ``LayerPrice`` per job, in order.

    Pure: no state survives the call unless ``cache`` (a ``SimCache``) is passed, and then only
    memoised layer costs, which do not change any price.
    """
    cache = cache if cache is not None else SimCache()
    keys: dict[int, str] = {}
    out: list[LayerPrice] = []
    for job in jobs:
        if job.fusion.fused_into is not None:
            out.append(FREE)
            continue
        key = keys.get(id(job.spec))
        if key is None:
            key = keys[id(job.spec)] = spec_key(job.spec)
        try:
            r = simulate_layer(job.layer, job.spec, dataflow=job.dataflow, fusion=job.fusion, cache=cache,
                               spec_key=key)
        except InfeasibleError as exc:
            out.append(LayerPrice(0.0, 0.0, 0.0, str(exc)))
        else:
            out.append(LayerPrice(r.cycles, r.energy.total, r.dram_words))
    return out


#: Fewest jobs per cluster task: a distinct layer costs about 2 ms to price (both dataflows), Dask
#: a few ms per task, so 128 or more keep the overhead near 1 %; fewer jobs than that stay one task.
JOBS_PER_TASK = 128
#: Most jobs per cluster task (about 1 to 2 s of work), so progress and retries stay fine-grained.
MAX_JOBS_PER_TASK = 1024


def _price_alone(job: LayerJob) -> tuple[LayerPrice, Any]:
    """One job on a worker, on a cache of its own: its price and the layer cost it added there."""
    cache = SimCache()
    price = price_jobs([job], cache)[0]
    return price, cache.delta_since((0, 0, 0, 0))


def executor_pricer(executor: Any, cache: SimCache,
                    progress: Callable[[int, int], None] | None = None) -> Callable[[list[LayerJob]], list[LayerPrice]]:
    """A ``pricer(jobs)`` for ``compose.Composer`` that prices on ``executor`` (``accelsim.execution``).

    In-process it is ``price_jobs(jobs, cache)``. On a cluster the jobs go out in chunks
    (``JOBS_PER_TASK`` to ``MAX_JOBS_PER_TASK`` each); each comes back with its layer cost,
    absorbed into ``cache`` so that its contents and counts are the in-process ones.
    ``progress(done, total)`` counts jobs as chunks come back.
    """
    if not executor.distributed:
        return lambda jobs: price_jobs(jobs, cache)

    def pricer(jobs: list[LayerJob]) -> list[LayerPrice]:
        outcomes = executor.map(_price_alone, list(jobs), min_chunk=JOBS_PER_TASK, max_chunk=MAX_JOBS_PER_TASK,
                                progress=progress, name="accelsim-price")
        for _, delta in outcomes:
            cache.absorb(delta)
        return [price for price, _ in outcomes]

    pricer.chunks_itself = True  # type: ignore[attr-defined]  # Composer: hand it every job at once
    return pricer
