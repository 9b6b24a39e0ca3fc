"""The co-design loop's last step: train the best candidates (and the base) and attach measured accuracy.

Hardware cost alone cannot pick a network; the paper reports v5 is both faster *and* more
accurate than v2. This trains the ``top_k`` best feasible candidates of a search and the base
network on the same data, schedule and seed with ``networks.training.train_variant`` (imported
here, on first use: torch loads only when training is asked for), and returns the result with
``measured`` accuracies (percent) on those candidates. On small data sets (``digits``,
``synthetic``) the numbers compare candidates with each other; they are not ImageNet accuracy.

``TrainingPlan.device``/``amp`` hand each run to ``networks.training``'s device and mixed-precision
machinery. With ``cuda`` or ``auto`` on a machine with several GPUs, candidate ``i`` trains on
``cuda:(i mod G)`` and up to ``G`` candidates train at once, each in its own spawned process (a
process per GPU keeps each run's seeding private, so results equal those of one-at-a-time runs).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from accelsim.codesign.result import Accuracy, Candidate, RedistributionResult
from accelsim.codesign.space import Depth
from accelsim.execution import as_executor

#: ``progress(done, total, depth)``: called before each training run (done = runs finished so far);
#: on a cluster after each finished run, with ``depth`` None.
TrainProgress = Callable[[int, int, Depth | None], None]


@dataclass(frozen=True)
class TrainingPlan:
    """What to train and how.

    Attributes:
        top_k: best feasible candidates to train (the base is always trained as well).
        data: a ``networks.training`` data source (folder, .npz, ``digits``, ``synthetic:...``).
        epochs: training epochs per candidate.
        image_size: square training side in pixels; None uses the data's native size.
        seed: one seed for every run, so candidates differ only in their depth.
        max_steps: stop each run after this many SGD steps (smoke runs); None trains fully.
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (see ``networks.training.TrainConfig``).
        amp: mixed precision (bf16 on the CPU, bf16/fp16 autocast on GPUs).
    """

    top_k: int
    data: str
    epochs: int
    image_size: int | None = None
    seed: int = 0
    max_steps: int | None = None
    device: str = "cpu"
    amp: bool = False


def candidate_devices(count: int, device: str) -> list[str]:
    """The device of each of ``count`` runs: round-robin over the GPUs for ``cuda``/``auto`` with 2+ GPUs."""
    import torch

    gpus = torch.cuda.device_count() if device in ("cuda", "auto") and torch.cuda.is_available() else 0
    if gpus < 2:
        return [device] * count
    return [f"cuda:{i % gpus}" for i in range(count)]


def _train_one(args: tuple[str, dict[str, object], str, int, int | None, int, dict[str, object]]) -> dict[str, object]:
    """One ``train_variant`` run (a top-level function, so a spawned worker process can run it)."""
    from networks.training import train_variant

    network, overrides, data, epochs, image_size, seed, extra = args
    return train_variant(network, overrides, data, epochs, image_size, seed, **extra)  # type: ignore[arg-type]


def to_train(result: RedistributionResult, top_k: int) -> list[Candidate]:
    """The ``top_k`` best feasible candidates, then the base if it is not among them."""
    chosen = list(result.ranked()[:top_k])
    if all(c.depth != result.base.depth for c in chosen):
        chosen.append(result.base)
    return chosen


def _on_gpus(jobs: list, gpus: int, chosen: list[Candidate], progress: TrainProgress | None) -> list[dict]:
    """Run ``jobs`` in ``gpus`` spawned processes at once (job ``i`` already names ``cuda:(i mod gpus)``)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    runs: list[dict] = []
    with ProcessPoolExecutor(max_workers=gpus, mp_context=multiprocessing.get_context("spawn")) as pool:
        for done, run in enumerate(pool.map(_train_one, jobs)):
            runs.append(run)
            if progress is not None and done + 1 < len(chosen):
                progress(done + 1, len(chosen), chosen[done + 1].depth)
    return runs


@functools.lru_cache(maxsize=2)
def _worker_data(source: str) -> Any:
    """The data a cluster worker loads from ``source`` (once per worker process and source)."""
    from networks.training import load_data

    return load_data(source)


TrainJob = tuple[str, dict[str, object], str, int, int | None, int, dict[str, object]]


def _train_on_worker(args: TrainJob) -> dict[str, object]:
    """One candidate's run on a cluster worker: as ``_train_one``, the data loaded there from its source."""
    from networks.training import train_variant

    network, overrides, data, epochs, image_size, seed, extra = args
    return train_variant(network, overrides, _worker_data(data), epochs, image_size, seed, **extra)  # type: ignore[arg-type]


def train_candidates(result: RedistributionResult, plan: TrainingPlan,
                     progress: TrainProgress | None = None, executor: Any = None) -> RedistributionResult:
    """Train the chosen candidates and return ``result`` with their measured top-1/top-5 (percent).

    ``executor`` (``accelsim.execution``): None trains them one after another here; a
    ``distributed.Client`` or a Dask ``Executor`` runs one task per candidate on its workers,
    each loading the data from ``plan.data`` itself (a folder or .npz must be readable at that
    path on the workers; ``digits`` and ``synthetic`` need nothing). Every run has the same
    seed, so the measured accuracies are the ones the serial run gives. ``progress(done,
    total, depth)`` comes before each serial run; on a cluster after each finished one, with
    ``depth`` None.

    Raises:
        networks.training.TrainingError: bad data source, image size or training option (one line).
    """
    from networks.training import load_data

    if plan.top_k < 1 or plan.epochs < 1:
        from networks.training import ConfigError

        raise ConfigError(f"train-top and epochs must be >= 1; got {plan.top_k} and {plan.epochs}")
    from networks.training import train_variant

    chosen = to_train(result, plan.top_k)
    ex = as_executor(executor)
    devices = [plan.device] * len(chosen) if ex.distributed else candidate_devices(len(chosen), plan.device)
    measured: dict[Depth, Accuracy] = {}
    extra: dict[str, object] = {"device": plan.device, "amp": plan.amp}
    if plan.max_steps is not None:
        extra["max_steps"] = plan.max_steps
    jobs = [(result.network, {**result.options, "depth": c.depth}, plan.data, plan.epochs, plan.image_size,
             plan.seed, {**extra, "device": device}) for c, device in zip(chosen, devices, strict=True)]
    if ex.distributed:
        load_data(plan.data)  # a bad source fails here, in one line, before any worker trains
        runs = ex.map(_train_on_worker, jobs, chunk=1, name="accelsim-train",
                      progress=None if progress is None else lambda done, total: progress(done, total, None))
    elif len(set(devices)) > 1:
        runs = _on_gpus(jobs, len(set(devices)), chosen, progress)
    else:
        splits = load_data(plan.data)  # loaded once, shared by every run
        runs = []
        for done, (candidate, job) in enumerate(zip(chosen, jobs, strict=True)):
            if progress is not None:
                progress(done, len(chosen), candidate.depth)
            network, overrides, _, epochs, image_size, seed, options = job
            runs.append(train_variant(network, overrides, splits, epochs, image_size,  # type: ignore[arg-type]
                                      seed, **options))
    for candidate, run in zip(chosen, runs, strict=True):
        source = f"trained {run['epochs']} epoch(s) on {plan.data}, seed {plan.seed}"
        measured[candidate.depth] = Accuracy(100.0 * run["top1"], 100.0 * run["top5"], source,  # type: ignore[arg-type]
                                             int(run["k"]))  # type: ignore[call-overload]
    if progress is not None and not ex.distributed:
        progress(len(chosen), len(chosen), chosen[-1].depth)
    info = {"data": plan.data, "epochs": plan.epochs, "image_size": plan.image_size, "seed": plan.seed,
            "max_steps": plan.max_steps, "device": plan.device, "amp": plan.amp,
            "trained": [list(c.depth) for c in chosen]}
    return result.with_measured(measured, info)
