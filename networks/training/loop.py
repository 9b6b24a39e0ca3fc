"""The training loop: SGD with momentum, a per-step schedule, validation and checkpoints.

Determinism: with the same seed a run is bit-for-bit repeatable on one machine,
and a run resumed from a checkpoint takes exactly the steps the uninterrupted
run would have taken.  The shuffle of epoch ``e`` and the augmentation of
sample ``i`` in epoch ``e`` are derived from ``(seed, e[, i])``, the learning
rate is a pure function of the step, and the checkpoint stores the global
torch RNG state (dropout).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler

from networks.training.checkpoint import save_checkpoint
from networks.training.config import EpochMetrics, EvalMetrics, RunPlan, StepInfo, TrainCallback, TrainConfig
from networks.training.data import AugmentedDataset, DataSplits, derive_seed
from networks.training.errors import TrainingError
from networks.training.transforms import ImagePipeline


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch's global generator."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def lr_at(step: int, total_steps: int, config: TrainConfig) -> float:
    """Learning rate of step ``step`` (0-based) out of ``total_steps``.

    ``cosine``: ``lr * (1 + cos(pi * t)) / 2``; ``poly``: ``lr * (1 - t) ** poly_power``;
    with ``t = step / total_steps`` clamped to [0, 1].
    """
    t = min(max(step / total_steps, 0.0), 1.0)
    if config.schedule == "cosine":
        return config.lr * 0.5 * (1.0 + math.cos(math.pi * t))
    return config.lr * (1.0 - t) ** config.poly_power


@contextmanager
def deterministic_algorithms() -> Iterator[None]:
    """Enable ``torch.use_deterministic_algorithms`` (warning, not failing, where an op has none).

    Its NaN-filling of uninitialised memory, a debugging aid that costs ~8% of a
    CPU training step, is switched off; both settings are restored on exit.
    """
    enabled = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    fill = torch.utils.deterministic.fill_uninitialized_memory  # type: ignore[attr-defined]
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.utils.deterministic.fill_uninitialized_memory = False  # type: ignore[attr-defined]
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(enabled, warn_only=warn_only)
        torch.utils.deterministic.fill_uninitialized_memory = fill  # type: ignore[attr-defined]


class EpochSampler(Sampler[int]):
    """Yields a permutation of ``range(size)`` seeded by ``(seed, epoch)``, minus its first ``skip`` entries."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.seed = seed
        self.epoch = 0
        self.skip = 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        """Select the permutation of ``epoch`` and drop its first ``skip`` indices (mid-epoch resume)."""
        self.epoch, self.skip = epoch, skip

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(derive_seed(self.seed, self.epoch))
        yield from torch.randperm(self.size, generator=generator)[self.skip :].tolist()

    def __len__(self) -> int:
        return self.size - self.skip


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.SGD:
    """SGD with momentum; weight decay applies to tensors of rank >= 2 (conv and linear weights) only."""
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum)


def evaluate_dataset(model: nn.Module, dataset: AugmentedDataset, *, batch_size: int, workers: int) -> EvalMetrics:
    """Mean cross-entropy, top-1 and top-k (``k = min(5, outputs)``) of ``model`` over ``dataset``."""
    if len(dataset) == 0:
        raise TrainingError("evaluation split is empty; expected at least one image")
    # A private generator: iterating a loader draws a worker base seed, which must not advance the
    # global RNG that dropout uses (or a mid-epoch validation would change the rest of the run).
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=workers, generator=torch.Generator())
    loss_sum, top1, topk, images, k = 0.0, 0, 0, 0, 1
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for x, y in loader:
                logits = model(x)
                k = min(5, logits.shape[1])
                loss_sum += float(nn.functional.cross_entropy(logits, y, reduction="sum"))
                hits = logits.topk(k, dim=1).indices == y[:, None]
                top1 += int(hits[:, 0].sum())
                topk += int(hits.any(dim=1).sum())
                images += len(y)
    finally:
        model.train(was_training)
    return EvalMetrics(loss=loss_sum / images, top1=top1 / images, top5=topk / images, k=k, images=images)


@dataclass
class Progress:
    """Where a run stands: completed epochs, steps, and the unfinished epoch's running sums."""

    epoch: int = 0
    step_in_epoch: int = 0
    step: int = 0
    partial: dict[str, float] = field(
        default_factory=lambda: {"loss_sum": 0.0, "correct": 0, "images": 0, "seconds": 0.0}
    )
    history: list[EpochMetrics] = field(default_factory=list)


@dataclass
class Run:
    """Everything :func:`run_training` needs, resolved by :func:`networks.training.train`.

    ``options`` is the checkpoint's ``options`` dict (see :mod:`networks.training.checkpoint`).
    """

    model: nn.Module
    data: DataSplits
    config: TrainConfig
    options: dict[str, Any]
    optimizer: torch.optim.SGD
    progress: Progress


def pipelines(options: dict[str, Any]) -> tuple[ImagePipeline, ImagePipeline]:
    """Training and evaluation pipelines for a run's ``options``."""
    common = {"image_size": options["image_size"], "mean": tuple(options["mean"]), "std": tuple(options["std"])}
    return ImagePipeline(train=True, flip=options["flip"], **common), ImagePipeline(train=False, **common)


def _checkpoint(run: Run) -> dict[str, Any]:
    progress = run.progress
    return {
        "model_state": run.model.state_dict(),
        "optimizer_state": run.optimizer.state_dict(),
        "epoch": progress.epoch,
        "step_in_epoch": progress.step_in_epoch,
        "step": progress.step,
        "partial": dict(progress.partial),
        "rng_state": torch.get_rng_state(),
        "options": run.options,
        "history": [m.to_dict() for m in progress.history],
    }


def run_training(
    run: Run, callbacks: Sequence[TrainCallback], out: str | Path | None
) -> tuple[EpochMetrics | None, Path | None]:
    """Train from ``run.progress`` to the end of the schedule or ``max_steps``.

    Updates ``run.progress`` in place; writes a checkpoint to ``out`` after
    every epoch and when ``max_steps`` stops the run.

    Returns:
        The metrics of the last (possibly partial) epoch run, or ``None`` if
        nothing was left to do, and the checkpoint path if one was written.
    """
    config, progress, model = run.config, run.progress, run.model
    train_pipe, eval_pipe = pipelines(run.options)
    train_set = AugmentedDataset(run.data.train, train_pipe, config.seed)
    val_set = AugmentedDataset(run.data.val, eval_pipe, config.seed)
    batch = config.batch_size
    drop_last = len(train_set) >= batch
    steps_per_epoch = len(train_set) // batch if drop_last else 1
    total_steps = config.epochs * steps_per_epoch
    end_step = min(total_steps, config.max_steps or total_steps)
    sampler = EpochSampler(len(train_set), config.seed)
    generator = torch.Generator()
    loader = DataLoader(
        train_set,
        batch_size=batch,
        sampler=sampler,
        drop_last=drop_last,
        num_workers=config.workers,
        generator=generator,
    )
    criterion = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    plan = RunPlan(
        config.epochs,
        steps_per_epoch,
        max(end_step, progress.step),
        progress.step,
        len(train_set),
        len(val_set),
        run.options["image_size"],
        run.options["num_classes"],
    )
    for callback in callbacks:
        callback.on_start(plan)
    last: EpochMetrics | None = None
    written: Path | None = None
    with deterministic_algorithms():
        while progress.epoch < config.epochs and progress.step < end_step:
            train_set.set_epoch(progress.epoch)
            sampler.set_epoch(progress.epoch, progress.step_in_epoch * batch)
            generator.manual_seed(derive_seed(config.seed, progress.epoch, 1))
            sums = progress.partial
            model.train()
            started = time.perf_counter()
            lr = 0.0
            for x, y in loader:
                lr = lr_at(progress.step, total_steps, config)
                for group in run.optimizer.param_groups:
                    group["lr"] = lr
                logits = model(x)
                loss = criterion(logits, y)
                if not torch.isfinite(loss):
                    raise TrainingError(f"step {progress.step + 1}: training loss is {float(loss)}; lower lr ({lr:g})")
                run.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                run.optimizer.step()
                correct = int((logits.argmax(dim=1) == y).sum())
                sums["loss_sum"] += float(loss.detach()) * len(y)
                sums["correct"] += correct
                sums["images"] += len(y)
                progress.step += 1
                progress.step_in_epoch += 1
                info = StepInfo(
                    progress.epoch + 1,
                    progress.step,
                    progress.step_in_epoch,
                    float(loss.detach()),
                    correct / len(y),
                    sums["loss_sum"] / sums["images"],
                    sums["correct"] / sums["images"],
                    lr,
                )
                for callback in callbacks:
                    callback.on_step(info)
                if progress.step >= end_step:
                    break
            sums["seconds"] += time.perf_counter() - started
            complete = progress.step_in_epoch >= steps_per_epoch
            last = EpochMetrics(
                epoch=progress.epoch + 1,
                steps=progress.step_in_epoch,
                complete=complete,
                train_loss=sums["loss_sum"] / sums["images"],
                train_top1=sums["correct"] / sums["images"],
                val=evaluate_dataset(model, val_set, batch_size=batch, workers=config.workers),
                lr=lr,
                seconds=sums["seconds"],
                images_per_second=sums["images"] / max(sums["seconds"], 1e-9),
            )
            if complete:
                progress.history.append(last)
                progress.epoch += 1
                progress.step_in_epoch = 0
                progress.partial = Progress().partial
            if out is not None:
                written = save_checkpoint(out, _checkpoint(run))
            for callback in callbacks:
                callback.on_epoch(last)
    model.eval()
    return last, written
