"""The training loop: SGD with momentum, a per-step schedule, validation and checkpoints.

Determinism: with the same seed a CPU run is bit-for-bit repeatable on one machine,
and a run resumed from a checkpoint takes exactly the steps the uninterrupted
run would have taken.  The shuffle of epoch ``e`` and the augmentation of
sample ``i`` in epoch ``e`` are derived from ``(seed, e[, i])``, the learning
rate is a pure function of the step, and the checkpoint stores the global
torch RNG state (dropout).  On GPUs cuDNN picks its fastest kernels instead, so
GPU runs agree only to float rounding.
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
from torch.utils.data import DataLoader, DistributedSampler

from networks.training.checkpoint import save_checkpoint
from networks.training.config import EpochMetrics, EvalMetrics, RunPlan, StepInfo, TrainCallback, TrainConfig
from networks.training.data import AugmentedDataset, DataSplits, derive_seed
from networks.training.errors import ConfigError, TrainingError
from networks.training.placement import (
    Placement,
    barrier,
    broadcast_buffers,
    gather_objects,
    max_across,
    rng_state,
    set_rng_state,
    sum_across,
)
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


@contextmanager
def cudnn_autotune() -> Iterator[None]:
    """Let cuDNN time its convolution kernels and keep the fastest (``cudnn.benchmark``), restored on exit.

    Used instead of :func:`deterministic_algorithms` on GPUs: deterministic cuDNN kernels can
    be several times slower, so GPU runs are repeatable only to float rounding.
    """
    before = torch.backends.cudnn.benchmark
    torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = before


class EpochSampler(DistributedSampler[int]):
    """This process's share of a permutation of ``range(size)`` seeded by ``(seed, epoch)``.

    One process (``num_replicas=1``) gets the whole permutation, minus its
    first ``skip`` entries.  Under torchrun the permutation is cut to a
    multiple of the process count and rank ``r`` takes every ``W``-th entry
    from ``r`` (as torch's :class:`DistributedSampler` does), so the ``k``-th
    batches of all ranks together hold exactly the images of the ``k``-th
    batch of a one-process run with the same global batch.
    """

    def __init__(self, size: int, seed: int, *, num_replicas: int = 1, rank: int = 0) -> None:
        super().__init__(range(size), num_replicas=num_replicas, rank=rank, shuffle=True, seed=seed, drop_last=True)
        self.size = size
        self.skip = 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        """Select the permutation of ``epoch`` and drop this rank's first ``skip`` indices (mid-epoch resume)."""
        self.epoch, self.skip = epoch, skip

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator().manual_seed(derive_seed(self.seed, self.epoch))
        order = torch.randperm(self.size, generator=generator)
        if self.num_replicas > 1:
            order = order[: self.size - self.size % self.num_replicas][self.rank :: self.num_replicas]
        yield from order[self.skip :].tolist()

    def __len__(self) -> int:
        return self.size // self.num_replicas - self.skip


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.SGD:
    """SGD with momentum; weight decay applies to tensors of rank >= 2 (conv and linear weights) only."""
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum)


def evaluate_dataset(
    model: nn.Module, dataset: AugmentedDataset, *, batch_size: int, workers: int, place: Placement | None = None
) -> EvalMetrics:
    """Mean cross-entropy, top-1 and top-k (``k = min(5, outputs)``) of ``model`` over ``dataset``.

    Under torchrun each process evaluates every ``W``-th image (from its rank)
    with rank 0's batch-norm statistics, and the sums are added across
    processes, so every rank gets the metrics of the whole split.
    """
    place = place or Placement(torch.device("cpu"))
    if len(dataset) == 0:
        raise TrainingError("evaluation split is empty; expected at least one image")
    share = range(place.rank, len(dataset), place.world_size) if place.distributed else None
    # A private generator: iterating a loader draws a worker base seed, which must not advance the
    # global RNG that dropout uses (or a mid-epoch validation would change the rest of the run).
    loader = DataLoader(
        dataset,
        batch_size=batch_size // place.world_size,
        shuffle=False,
        sampler=share,
        num_workers=workers,
        generator=torch.Generator(),
        pin_memory=place.pin_memory,
    )
    loss_sum, top1, topk, images, k = 0.0, 0, 0, 0, 1
    was_training = model.training
    broadcast_buffers(model, place)
    model.eval()
    try:
        with torch.no_grad():
            for x, y in loader:
                x = x.to(place.device, non_blocking=True, memory_format=place.memory_format)
                y = y.to(place.device, non_blocking=True)
                with place.autocast():
                    logits = model(x)
                logits = logits.float()
                k = min(5, logits.shape[1])
                loss_sum += float(nn.functional.cross_entropy(logits, y, reduction="sum"))
                hits = logits.topk(k, dim=1).indices == y[:, None]
                top1 += int(hits[:, 0].sum())
                topk += int(hits.any(dim=1).sum())
                images += len(y)
    finally:
        model.train(was_training)
    if place.distributed:
        loss_sum, top1_f, topk_f, images_f = sum_across([loss_sum, top1, topk, images], place)
        top1, topk, images = round(top1_f), round(topk_f), round(images_f)
        k = round(max_across(k, place))
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

    ``options`` is the checkpoint's ``options`` dict (see :mod:`networks.training.checkpoint`);
    ``restored`` the checkpoint a resumed run continues (its RNG and scaler states), or ``None``.
    """

    model: nn.Module
    data: DataSplits
    config: TrainConfig
    options: dict[str, Any]
    optimizer: torch.optim.SGD
    progress: Progress
    restored: dict[str, Any] | None = None


def pipelines(options: dict[str, Any]) -> tuple[ImagePipeline, ImagePipeline]:
    """Training and evaluation pipelines for a run's ``options`` (``augment`` defaults to ``crop``)."""
    common = {"image_size": options["image_size"], "mean": tuple(options["mean"]), "std": tuple(options["std"])}
    augment = options.get("augment", "crop")
    return ImagePipeline(train=True, flip=options["flip"], augment=augment, **common), ImagePipeline(
        train=False, **common
    )


def _cpu(value: Any) -> Any:
    """``value`` with every tensor (in nested dicts and lists) copied to the CPU."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, dict):
        return {k: _cpu(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_cpu(v) for v in value)
    return value


def _checkpoint(run: Run, place: Placement, rngs: list[dict[str, torch.Tensor]], scaler: Any) -> dict[str, Any]:
    progress = run.progress
    checkpoint = {
        "model_state": _cpu(run.model.state_dict()),
        "optimizer_state": _cpu(run.optimizer.state_dict()),
        "epoch": progress.epoch,
        "step_in_epoch": progress.step_in_epoch,
        "step": progress.step,
        "partial": dict(progress.partial),
        "rng_state": rngs[0]["cpu"],
        "rank_rng": rngs,
        "processes": place.world_size,
        "options": run.options,
        "history": [m.to_dict() for m in progress.history],
    }
    if scaler is not None:
        checkpoint["scaler_state"] = scaler.state_dict()
    return checkpoint


def _restore_rng(run: Run, place: Placement) -> None:
    """Give this process the generator state the run needs before its first step.

    Fresh runs: one process keeps the state left by seeding and building the
    model (as always); under torchrun rank ``r`` reseeds from ``(seed, 1, r)``
    so dropout differs per rank but is determined by the one seed.  Resumed
    runs restore the checkpoint's state of this rank; a run resumed with a
    different process count reseeds from ``(seed, 2, rank, step)`` instead.
    """
    saved = run.restored
    seed = run.config.seed
    if saved is None:
        if place.distributed:
            torch.manual_seed(derive_seed(seed, 1, place.rank))
        return
    ranks = saved.get("rank_rng")
    if ranks is not None and len(ranks) == place.world_size:
        set_rng_state(ranks[place.rank], place)
    elif not place.distributed:
        torch.set_rng_state(saved["rng_state"])
    else:
        torch.manual_seed(derive_seed(seed, 2, place.rank, run.progress.step))


def _place_model(run: Run, place: Placement) -> nn.Module:
    """Move the model (and the optimiser's state) to the device; wrap it for DDP. Returns the module to train."""
    model = run.model
    if place.device.type != "cpu" or place.channels_last:
        model.to(device=place.device, memory_format=place.memory_format)
        # re-loading its own state moves the optimiser's momentum buffers to the parameters' device
        run.optimizer.load_state_dict(run.optimizer.state_dict())
    if not place.distributed:
        return model
    from torch.nn.parallel import DistributedDataParallel

    if run.config.sync_bn:
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        run.model = model
    device_ids = [place.device.index] if place.device.type == "cuda" else None
    return DistributedDataParallel(model, device_ids=device_ids)


def run_training(
    run: Run, callbacks: Sequence[TrainCallback], out: str | Path | None, place: Placement | None = None
) -> tuple[EpochMetrics | None, Path | None]:
    """Train from ``run.progress`` to the end of the schedule or ``max_steps``.

    Updates ``run.progress`` in place; rank 0 writes a checkpoint to ``out``
    after every epoch and when ``max_steps`` stops the run.  Every process
    calls its ``callbacks`` with metrics of the whole (global) batch.

    Returns:
        The metrics of the last (possibly partial) epoch run, or ``None`` if
        nothing was left to do, and the checkpoint path if this process wrote one.
    """
    place = place or Placement(torch.device("cpu"))
    config, progress = run.config, run.progress
    world = place.world_size
    train_pipe, eval_pipe = pipelines(run.options)
    train_set = AugmentedDataset(run.data.train, train_pipe, config.seed)
    val_set = AugmentedDataset(run.data.val, eval_pipe, config.seed)
    batch = config.batch_size
    drop_last = len(train_set) >= batch
    if place.distributed and not drop_last:
        raise ConfigError(f"batch_size: {batch} exceeds the {len(train_set)} training images of a distributed run")
    steps_per_epoch = len(train_set) // batch if drop_last else 1
    total_steps = config.epochs * steps_per_epoch
    end_step = min(total_steps, config.max_steps or total_steps)
    local_batch = batch // world
    sampler = EpochSampler(len(train_set), config.seed, num_replicas=world, rank=place.rank)
    generator = torch.Generator()
    loader = DataLoader(
        train_set,
        batch_size=local_batch,
        sampler=sampler,
        drop_last=drop_last,
        num_workers=config.workers,
        generator=generator,
        pin_memory=place.pin_memory,
    )
    criterion = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    _restore_rng(run, place)
    trained = _place_model(run, place)
    model = run.model
    scaler = place.grad_scaler()
    if scaler is not None and run.restored is not None and "scaler_state" in run.restored:
        scaler.load_state_dict(run.restored["scaler_state"])
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
    with deterministic_algorithms() if place.device.type == "cpu" else cudnn_autotune():
        while progress.epoch < config.epochs and progress.step < end_step:
            train_set.set_epoch(progress.epoch)
            sampler.set_epoch(progress.epoch, progress.step_in_epoch * local_batch)
            generator.manual_seed(derive_seed(config.seed, progress.epoch, 1))
            sums = progress.partial
            trained.train()
            started = time.perf_counter()
            local_images = 0
            lr = 0.0
            for x, y in loader:
                lr = lr_at(progress.step, total_steps, config)
                for group in run.optimizer.param_groups:
                    group["lr"] = lr
                x = x.to(place.device, non_blocking=True, memory_format=place.memory_format)
                y = y.to(place.device, non_blocking=True)
                with place.autocast():
                    logits = trained(x)
                loss = criterion(logits.float(), y)
                correct_t = (logits.argmax(dim=1) == y).sum()
                if place.distributed:
                    loss_sum, correct_f, count_f = sum_across(
                        [float(loss.detach()) * len(y), float(correct_t), float(len(y))], place
                    )
                    step_loss, correct, count = loss_sum / count_f, round(correct_f), round(count_f)
                else:
                    step_loss, correct, count = float(loss.detach()), int(correct_t), len(y)
                if not math.isfinite(step_loss):
                    raise TrainingError(f"step {progress.step + 1}: training loss is {step_loss}; lower lr ({lr:g})")
                run.optimizer.zero_grad(set_to_none=True)
                if scaler is None:
                    loss.backward()
                    run.optimizer.step()
                else:
                    scaler.scale(loss).backward()
                    scaler.step(run.optimizer)
                    scaler.update()
                sums["loss_sum"] += step_loss * count
                sums["correct"] += correct
                sums["images"] += count
                local_images += len(y)
                progress.step += 1
                progress.step_in_epoch += 1
                info = StepInfo(
                    progress.epoch + 1,
                    progress.step,
                    progress.step_in_epoch,
                    step_loss,
                    correct / count,
                    sums["loss_sum"] / sums["images"],
                    sums["correct"] / sums["images"],
                    lr,
                )
                for callback in callbacks:
                    callback.on_step(info)
                if progress.step >= end_step:
                    break
            if place.device.type == "cuda":
                torch.cuda.synchronize(place.device)
            own_seconds = time.perf_counter() - started
            sums["seconds"] += max_across(own_seconds, place)
            rank_rates = gather_objects(local_images / max(own_seconds, 1e-9), place)
            complete = progress.step_in_epoch >= steps_per_epoch
            last = EpochMetrics(
                epoch=progress.epoch + 1,
                steps=progress.step_in_epoch,
                complete=complete,
                train_loss=sums["loss_sum"] / sums["images"],
                train_top1=sums["correct"] / sums["images"],
                val=evaluate_dataset(model, val_set, batch_size=batch, workers=config.workers, place=place),
                lr=lr,
                seconds=sums["seconds"],
                images_per_second=sums["images"] / max(sums["seconds"], 1e-9),
                processes=world,
                rank_images_per_second=tuple(rank_rates),
            )
            if complete:
                progress.history.append(last)
                progress.epoch += 1
                progress.step_in_epoch = 0
                progress.partial = Progress().partial
            if out is not None:
                rngs = gather_objects(rng_state(place), place)
                if place.main:
                    written = save_checkpoint(out, _checkpoint(run, place, rngs, scaler))
                barrier(place)  # the file is complete for every rank once train() returns
            for callback in callbacks:
                callback.on_epoch(last)
    model.eval()
    return last, written
