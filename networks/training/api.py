"""Public entry points: :func:`train`, :func:`evaluate`, :func:`evaluate_checkpoint`, :func:`train_variant`."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from networks.registry import get_preset
from networks.training.checkpoint import load_checkpoint
from networks.training.config import EpochMetrics, EvalMetrics, TrainCallback, TrainConfig, TrainResult
from networks.training.data import AugmentedDataset, DataSplits, FileImages, load_data
from networks.training.errors import CheckpointError, ConfigError, DataError, one_line
from networks.training.loop import (
    Progress,
    Run,
    evaluate_dataset,
    make_optimizer,
    pipelines,
    run_training,
    seed_everything,
)
from networks.training.model import build_model, check_input_size, training_overrides
from networks.training.placement import Placement, process_group, resolve

#: Config fields that may differ between a checkpoint and the run resuming it.
RESUMABLE_FIELDS = ("epochs", "max_steps", "workers", "device", "channels_last")

Data = str | DataSplits


def _load(data: Data, val_fraction: float) -> DataSplits:
    splits = load_data(data, val_fraction=val_fraction) if isinstance(data, str) else data
    if len(splits.val) == 0:
        raise DataError(f"{splits.source}: validation split is empty; expected at least one image")
    return splits


def _plain(value: Any) -> Any:
    """Lists become tuples (recursively) so stored and given overrides compare equal."""
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _start(
    model_or_name: nn.Module | str | None, data: Data | None, config: TrainConfig, overrides: dict[str, Any]
) -> Run:
    if data is None:
        raise ConfigError("data: a data source is required (a folder, a .npz file, 'synthetic' or 'digits')")
    splits = _load(data, config.val_fraction)
    num_classes = config.num_classes or splits.num_classes
    if num_classes < splits.num_classes:
        raise ConfigError(
            f"num_classes: {num_classes} is fewer than the {splits.num_classes} classes of {splits.source}"
        )
    seed_everything(config.seed)
    if isinstance(model_or_name, str):
        preset = get_preset(model_or_name)
        network: str | None = preset.name
        image_size = config.image_size or splits.native_size or preset.input_size
        overrides = training_overrides(preset.name, overrides, image_size)
        model = build_model(preset.name, overrides, num_classes, image_size)
    elif isinstance(model_or_name, nn.Module):
        if overrides:
            raise ConfigError("overrides: only apply to a preset name, not to an nn.Module")
        network, model = None, model_or_name
        image_size = config.image_size or splits.native_size or 0
        if not image_size:
            raise ConfigError(f"image_size: required to train a custom module on {splits.source}")
        check_input_size(model, image_size, num_classes, type(model).__name__)
    else:
        raise ConfigError("network: expected a preset name or an nn.Module")
    options = {
        "network": network,
        "overrides": overrides,
        "data": splits.source,
        "config": config.to_dict(),
        "image_size": image_size,
        "num_classes": num_classes,
        "class_names": list(splits.class_names),
        "mean": list(splits.mean),
        "std": list(splits.std),
        "flip": splits.flip,
        "augment": _augment(config, splits),
    }
    return Run(model, splits, config, options, make_optimizer(model, config), Progress())


def _augment(config: TrainConfig, splits: DataSplits) -> str:
    """The training crop: ``config.augment``, or for ``auto`` ``rrc`` on image folders and ``crop`` otherwise."""
    if config.augment != "auto":
        return config.augment
    return "rrc" if isinstance(splits.train.images, FileImages) else "crop"


def _resume(
    checkpoint: dict[str, Any],
    where: str,
    model_or_name: nn.Module | str | None,
    data: Data | None,
    config: TrainConfig | None,
    overrides: dict[str, Any] | None,
) -> Run:
    opts = checkpoint["options"]
    stored = TrainConfig.from_dict(opts["config"])
    config = config or replace(stored, max_steps=None)
    for f in fields(TrainConfig):
        if f.name not in RESUMABLE_FIELDS and getattr(config, f.name) != getattr(stored, f.name):
            raise CheckpointError(
                f"{where}: config.{f.name} is {getattr(stored, f.name)!r} in the checkpoint, got "
                f"{getattr(config, f.name)!r}; only {', '.join(RESUMABLE_FIELDS)} may change on resume"
            )
    if isinstance(model_or_name, nn.Module):
        if opts["network"] is not None:
            raise CheckpointError(f"{where}: checkpoint is of network {opts['network']}, not a custom module")
        model = model_or_name
    else:
        if opts["network"] is None:
            raise CheckpointError(f"{where}: checkpoint is of a custom module; pass that nn.Module to resume")
        asked = None if model_or_name is None else get_preset(model_or_name).name
        if asked not in (None, opts["network"]):
            raise CheckpointError(f"{where}: checkpoint is of network {opts['network']}, not {asked}")
        if overrides is not None:
            wanted = training_overrides(opts["network"], overrides, opts["image_size"])
            if _plain(wanted) != _plain(opts["overrides"]):
                raise CheckpointError(f"{where}: checkpoint has overrides {opts['overrides']}, got {wanted}")
        model = build_model(opts["network"], opts["overrides"], opts["num_classes"], opts["image_size"])
    splits = _load(opts["data"] if data is None else data, config.val_fraction)
    if splits.source != opts["data"]:
        raise CheckpointError(f"{where}: checkpoint was trained on {opts['data']}, not {splits.source}")
    optimizer = make_optimizer(model, config)
    try:
        model.load_state_dict(checkpoint["model_state"])
        optimizer.load_state_dict(checkpoint["optimizer_state"])
    except (RuntimeError, ValueError, KeyError) as exc:
        raise CheckpointError(f"{where}: state does not fit the model ({one_line(exc)})") from exc
    history = [EpochMetrics.from_dict(m) for m in checkpoint.get("history", [])]
    progress = Progress(
        checkpoint["epoch"], checkpoint["step_in_epoch"], checkpoint["step"], dict(checkpoint["partial"]), history
    )
    return Run(model, splits, config, {**opts, "config": config.to_dict()}, optimizer, progress, checkpoint)


def train(
    model_or_name: nn.Module | str | None = None,
    data: Data | None = None,
    config: TrainConfig | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    callbacks: Sequence[TrainCallback] = (),
    out: str | Path | None = None,
    resume: str | Path | None = None,
) -> TrainResult:
    """Train a zoo network (or any module) on a data source.

    Args:
        model_or_name: Preset name or alias (``"sqnxt23"``), or an ``nn.Module``
            mapping ``(N, 3, S, S)`` to ``(N, classes)``.  ``None`` when resuming
            takes the checkpoint's network.
        data: Source string for :func:`load_data` or already loaded splits;
            ``None`` when resuming takes the checkpoint's source.
        config: Hyper-parameters and placement (device, AMP); ``None`` means
            defaults, or the checkpoint's when resuming (where only ``epochs``,
            ``max_steps``, ``workers``, ``device`` and ``channels_last`` may
            differ from the checkpoint's).
        overrides: Constructor options replacing the preset's, e.g.
            ``{"width": 0.5, "depth": (2, 4, 14, 1)}``.
        callbacks: Receive :class:`RunPlan`, :class:`StepInfo` and :class:`EpochMetrics`.
        out: Checkpoint path, rewritten after every epoch and at ``max_steps``.
        resume: Checkpoint to continue from.  With the checkpoint's ``epochs``
            the run continues exactly as if never interrupted; more epochs
            stretch the schedule over the longer run from the current step.

    Under ``torchrun`` (``RANK``/``WORLD_SIZE`` set) every process calls this
    with the same arguments: it joins the process group (gloo on the CPU, NCCL
    on GPUs), trains its share of each global batch under
    ``DistributedDataParallel``, and only rank 0 writes ``out``.  Resuming
    restores every rank's random state when the process count is unchanged.

    Raises:
        TrainingError: (subclasses) bad options, data or checkpoint, or a diverging loss.
        networks.registry.UnknownNetworkError: Unknown network name.
    """
    if resume is not None:
        run = _resume(load_checkpoint(resume), str(resume), model_or_name, data, config, overrides)
    else:
        run = _start(model_or_name, data, config or TrainConfig(), overrides or {})
    place = resolve(run.config)
    with process_group(place):
        last, written = run_training(run, callbacks, out, place)
    final = last or (run.progress.history[-1] if run.progress.history else None)
    return TrainResult(run.model, run.progress.history, final, run.options, written)


def evaluate(
    model: nn.Module,
    data: Data,
    *,
    image_size: int,
    batch_size: int = 64,
    workers: int = 0,
    split: str = "val",
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    val_fraction: float = 0.1,
) -> EvalMetrics:
    """Loss, top-1 and top-k (``k = min(5, outputs)``) of ``model`` on a split, centre-cropped at ``image_size``.

    ``mean``/``std`` default to the data's own statistics; pass the training
    run's (``TrainResult.options``) when evaluating on other data.
    """
    if split not in ("train", "val"):
        raise ConfigError(f"split: expected 'train' or 'val', got {split!r}")
    splits = _load(data, val_fraction)
    options = {
        "image_size": image_size,
        "flip": False,
        "mean": list(mean or splits.mean),
        "std": list(std or splits.std),
    }
    dataset = AugmentedDataset(splits.train if split == "train" else splits.val, pipelines(options)[1], seed=0)
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    return evaluate_dataset(model, dataset, batch_size=batch_size, workers=workers, place=Placement(device))


def evaluate_checkpoint(
    checkpoint: str | Path | dict[str, Any],
    data: Data | None = None,
    *,
    split: str = "val",
    batch_size: int | None = None,
    workers: int = 0,
) -> EvalMetrics:
    """Rebuild a checkpoint's network and evaluate it on ``data`` (default: its training source).

    Raises:
        CheckpointError: Unreadable checkpoint, or one of a custom module.
        DataError: The data's class count differs from that of the data the checkpoint was
            trained on (or exceeds the network's outputs).
    """
    ckpt = checkpoint if isinstance(checkpoint, dict) else load_checkpoint(checkpoint)
    opts = ckpt["options"]
    if opts["network"] is None:
        raise CheckpointError("checkpoint is of a custom module; rebuild it and call evaluate()")
    model = build_model(opts["network"], opts["overrides"], opts["num_classes"], opts["image_size"])
    try:
        model.load_state_dict(ckpt["model_state"])
    except RuntimeError as exc:
        raise CheckpointError(f"model state does not fit {opts['network']} ({one_line(exc)})") from exc
    config = TrainConfig.from_dict(opts["config"])
    splits = _load(opts["data"] if data is None else data, config.val_fraction)
    trained = len(opts.get("class_names") or ()) or opts["num_classes"]
    if splits.num_classes != trained or splits.num_classes > opts["num_classes"]:
        raise DataError(f"{splits.source}: has {splits.num_classes} classes; the checkpoint was trained on {trained} "
                        f"({opts['num_classes']} outputs), so its scores would mean nothing here")
    return evaluate(
        model,
        splits,
        image_size=opts["image_size"],
        batch_size=batch_size or config.batch_size,
        workers=workers,
        split=split,
        mean=opts["mean"],
        std=opts["std"],
    )


def train_variant(
    preset_name: str,
    overrides: dict[str, Any],
    data: Data,
    epochs: int,
    image_size: int,
    seed: int,
    **hyper: Any,
) -> dict[str, Any]:
    """Train one network variant and summarise it, for design-space searches.

    Args:
        preset_name: Preset name or alias, e.g. ``"1.0-SqNxt-23v5"``.
        overrides: Constructor options, e.g. ``{"depth": (2, 4, 14, 1)}``.
        data: Source string, or splits from :func:`load_data` (load once, reuse).
        epochs: Training epochs.
        image_size: Square training side, pixels.
        seed: Run seed.
        **hyper: Further :class:`TrainConfig` fields (``batch_size``, ``lr``,
            ``device``, ``amp``, ...).

    Returns:
        ``{"network", "overrides", "params", "epochs", "steps", "top1", "top5",
        "k", "loss", "train_loss", "seconds"}``: parameter count, completed
        epochs, SGD steps done (fewer than the schedule's with ``max_steps``),
        and the last validation metrics (accuracies 0..1, loss in nats per
        image, seconds of wall time).
    """
    try:
        config = TrainConfig(epochs=epochs, image_size=image_size, seed=seed, **hyper)
    except TypeError as exc:
        raise ConfigError(f"train_variant: {one_line(exc)}") from exc
    started = time.perf_counter()
    result = train(preset_name, data, config, overrides=overrides)
    if result.final is None:
        raise ConfigError("epochs: the run did no training step")
    return {
        "network": result.options["network"],
        "overrides": dict(overrides),
        "params": sum(p.numel() for p in result.model.parameters()),
        "epochs": len(result.history),
        "steps": sum(m.steps for m in result.history) + (0 if result.final.complete else result.final.steps),
        "top1": result.final.val.top1,
        "top5": result.final.val.top5,
        "k": result.final.val.k,
        "loss": result.final.val.loss,
        "train_loss": result.final.train_loss,
        "seconds": time.perf_counter() - started,
    }
