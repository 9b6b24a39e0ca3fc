"""``accelsim train`` and ``accelsim evaluate``: train zoo networks on small image sets, on the CPU.

The work is done by :mod:`networks.training`; this module parses options,
renders a progress bar and prints results.  torch is imported inside the
commands so that ``accelsim --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from accelsim.cli.common import (
    DepthOption,
    FirstUnitOption,
    GroupsOption,
    NetworkOptions,
    StemOption,
    WidthOption,
    cli_errors,
    fail,
)

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from networks.training import EpochMetrics, EvalMetrics, RunPlan, StepInfo, TrainConfig

DATA_HELP = (
    "Data source: a folder of class folders (optionally train/ and val/), a .npz file "
    "(x_train/y_train, x_val/y_val or x/y), 'synthetic' or 'synthetic:classes=10,size=64,train=2000,val=500,seed=0' "
    "(the defaults), or 'digits' (scikit-learn's 8x8 digits)."
)
HYPER = "Training options"


def _describe(network: str | None, overrides: dict[str, Any]) -> str:
    args = ", ".join(f"{k}={','.join(map(str, v)) if isinstance(v, list | tuple) else v}" for k, v in overrides.items())
    name = network or "custom module"
    return f"{name} ({args})" if args else name


def _eval_line(prefix: str, metrics: EvalMetrics) -> str:
    return f"{prefix} loss {metrics.loss:.4f}  top-1 {metrics.top1:.2%}  top-{metrics.k} {metrics.top5:.2%}"


def _epoch_line(metrics: EpochMetrics, epochs: int) -> str:
    state = "" if metrics.complete else f" (stopped after {metrics.steps} steps)"
    return (
        f"epoch {metrics.epoch}/{epochs}{state}: train loss {metrics.train_loss:.4f} top-1 {metrics.train_top1:.2%} | "
        + _eval_line("val", metrics.val)
        + f" | {metrics.images_per_second:.0f} img/s"
    )


class ProgressReporter:
    """Training callback (see :class:`networks.training.TrainCallback`) driving one rich progress bar.

    The bar spans every step of the run; epoch summaries print above it.
    """

    def __init__(self, bar: Progress) -> None:
        self.bar = bar
        self.task = bar.add_task("train", total=None, epoch=0, epochs=0, loss=float("nan"), acc=0.0)
        self.epochs = 0

    def on_start(self, plan: RunPlan) -> None:
        self.epochs = plan.epochs
        self.bar.console.print(
            f"training on {plan.train_images} images, validating on {plan.val_images}, "
            f"{plan.image_size}x{plan.image_size} px, {plan.num_classes} classes, {plan.steps_per_epoch} steps/epoch"
        )
        epoch = plan.start_step // plan.steps_per_epoch + 1
        self.bar.update(self.task, total=plan.total_steps, completed=plan.start_step, epoch=epoch, epochs=plan.epochs)
        self.bar.start()

    def on_step(self, info: StepInfo) -> None:
        self.bar.update(self.task, completed=info.step, epoch=info.epoch, loss=info.mean_loss, acc=info.mean_top1)

    def on_epoch(self, metrics: EpochMetrics) -> None:
        self.bar.console.print(_epoch_line(metrics, self.epochs))


def _progress_bar(console: Console) -> Progress:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("epoch {task.fields[epoch]}/{task.fields[epochs]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]:.3f}  acc {task.fields[acc]:.1%}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def _check_squeezenext_options(network: str | None, overrides: dict[str, Any]) -> None:
    """Reject --width/--depth/--stem/--first-unit/--groups for networks outside the SqueezeNext family."""
    from networks.registry import get_preset

    if network is None or not overrides:
        return
    preset = get_preset(network)
    if preset.family != "squeezenext":
        flag = {"stem_kernel": "stem"}.get(next(iter(overrides)), next(iter(overrides))).replace("_", "-")
        fail(f"--{flag}: applies to SqueezeNext networks only; {preset.name} is of family {preset.family}")


def train(
    network: Annotated[
        str | None, typer.Argument(help="Preset name or alias, e.g. 1.0-SqNxt-23, sqnxt23v5, alexnet.")
    ] = None,
    data: Annotated[str | None, typer.Option("--data", help=DATA_HELP)] = None,
    width: WidthOption = None,
    depth: DepthOption = None,
    stem: StemOption = None,
    first_unit: FirstUnitOption = None,
    groups: GroupsOption = None,
    epochs: Annotated[int | None, typer.Option(help="Epochs (default: 10).", rich_help_panel=HYPER)] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Images per step (default: 32).", rich_help_panel=HYPER)
    ] = None,
    lr: Annotated[float | None, typer.Option(help="Peak learning rate (default: 0.05).", rich_help_panel=HYPER)] = None,
    momentum: Annotated[float | None, typer.Option(help="SGD momentum (default: 0.9).", rich_help_panel=HYPER)] = None,
    weight_decay: Annotated[
        float | None, typer.Option(help="L2 on weights (default: 5e-4).", rich_help_panel=HYPER)
    ] = None,
    label_smoothing: Annotated[
        float | None, typer.Option(help="Label smoothing (default: 0).", rich_help_panel=HYPER)
    ] = None,
    schedule: Annotated[
        str | None, typer.Option(help="cosine or poly (default: cosine).", rich_help_panel=HYPER)
    ] = None,
    image_size: Annotated[
        int | None,
        typer.Option(help="Crop side in px (default: the data's size, else the preset's).", rich_help_panel=HYPER),
    ] = None,
    num_classes: Annotated[
        int | None, typer.Option(help="Outputs (default: the data's class count).", rich_help_panel=HYPER)
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default: 0).", rich_help_panel=HYPER)] = None,
    val_fraction: Annotated[
        float | None,
        typer.Option(help="Held-out share when the data has no val split (default: 0.1).", rich_help_panel=HYPER),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="DataLoader worker processes (default: 0).", rich_help_panel=HYPER)
    ] = None,
    max_steps: Annotated[
        int | None, typer.Option(help="Stop after this many steps (smoke runs).", rich_help_panel=HYPER)
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Checkpoint to write after every epoch (default: --resume's path, else none)."),
    ] = None,
    resume: Annotated[Path | None, typer.Option("--resume", help="Checkpoint to continue from.")] = None,
) -> None:
    """Train a zoo network on an image data set (CPU), with validation top-1/top-5 each epoch."""
    from dataclasses import replace

    from rich.console import Console

    from networks.training import TrainConfig, load_checkpoint
    from networks.training import train as run_train

    given: dict[str, Any] = {
        "epochs": epochs, "batch_size": batch_size, "lr": lr, "momentum": momentum, "weight_decay": weight_decay,
        "label_smoothing": label_smoothing, "schedule": schedule, "image_size": image_size,
        "num_classes": num_classes, "seed": seed, "val_fraction": val_fraction, "workers": workers,
        "max_steps": max_steps,
    }  # fmt: skip
    given = {k: v for k, v in given.items() if v is not None}
    overrides = NetworkOptions.parse(width, depth, stem, first_unit, groups).overrides()
    _check_squeezenext_options(network, overrides)
    config: TrainConfig | None
    if resume is not None:
        stored = TrainConfig.from_dict({**load_checkpoint(resume)["options"]["config"], "max_steps": None})
        config = replace(stored, **given)
        out = out or resume
    else:
        if network is None or data is None:
            fail("train: give NETWORK and --data (or --resume CKPT)")
        config = TrainConfig(**given)
    console = Console(highlight=False, soft_wrap=True)
    bar = _progress_bar(console)
    try:
        result = run_train(
            network,
            data,
            config,
            overrides=overrides or None,
            callbacks=[ProgressReporter(bar)],
            out=out,
            resume=resume,
        )
    finally:
        if bar.live.is_started:
            bar.stop()
    opts = result.options
    console.print(f"network: {_describe(opts['network'], opts['overrides'])}  data: {opts['data']}")
    if result.final is not None:
        console.print(_eval_line(f"final (epoch {result.final.epoch}) val", result.final.val))
    console.print(f"checkpoint: {result.checkpoint}" if result.checkpoint else "no --out given: weights not saved")


def evaluate(
    checkpoint: Annotated[Path, typer.Argument(help="Checkpoint written by accelsim train --out.")],
    data: Annotated[str | None, typer.Option("--data", help=DATA_HELP[:-1] + " (default: the checkpoint's).")] = None,
    split: Annotated[str, typer.Option(help="Split to evaluate: val or train.")] = "val",
    batch_size: Annotated[int | None, typer.Option(help="Images per batch (default: the training batch size).")] = None,
    workers: Annotated[int, typer.Option(help="DataLoader worker processes.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Rebuild a trained network from its checkpoint and print loss, top-1 and top-5."""
    from networks.training import evaluate_checkpoint, load_checkpoint

    ckpt = load_checkpoint(checkpoint)
    metrics = evaluate_checkpoint(ckpt, data, split=split, batch_size=batch_size, workers=workers)
    opts = ckpt["options"]
    source = data if data is not None else opts["data"]
    if as_json:
        record = {
            "checkpoint": str(checkpoint), "network": opts["network"], "overrides": opts["overrides"],
            "data": source, "split": split, "epoch": ckpt["epoch"], "image_size": opts["image_size"],
            **metrics.to_dict(),
        }  # fmt: skip
        typer.echo(json.dumps(record))
        return
    typer.echo(f"network     {_describe(opts['network'], opts['overrides'])}")
    typer.echo(f"data        {source} ({split} split, {metrics.images} images, {opts['image_size']} px)")
    typer.echo(f"epochs      {ckpt['epoch']}")
    typer.echo(f"loss        {metrics.loss:.4f}")
    typer.echo(f"top-1       {metrics.top1:.2%}")
    typer.echo(f"top-{metrics.k}       {metrics.top5:.2%}")


def register(app: typer.Typer) -> None:
    """Add the ``train`` and ``evaluate`` commands to ``app``."""
    app.command("train")(cli_errors(train))
    app.command("evaluate")(cli_errors(evaluate))
