"""``accelsim train`` and ``accelsim evaluate``: train zoo networks on the CPU, a GPU, or many.

The work is done by :mod:`networks.training`; this module parses options,
renders a progress bar and prints results.  torch is imported inside the
commands so that ``accelsim --help`` stays fast.

Distributed runs: ``accelsim train --nproc N ...`` hands the same command to
torchrun's launcher (:func:`torch.distributed.run.run`), which starts ``N``
processes of ``python -m accelsim.train ...`` on this machine (:func:`main`);
``torchrun ... -m accelsim.train ...`` does the same by hand, on one node or
many.  In those processes only rank 0 prints.
"""

from __future__ import annotations

import json
import os
import warnings
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
    check_output_file,
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
PLACE = "Devices and processes"


def _describe(network: str | None, overrides: dict[str, Any]) -> str:
    args = ", ".join(f"{k}={','.join(map(str, v)) if isinstance(v, list | tuple) else v}" for k, v in overrides.items())
    name = network or "custom module"
    return f"{name} ({args})" if args else name


def _eval_line(prefix: str, metrics: EvalMetrics) -> str:
    return f"{prefix} loss {metrics.loss:.4f}  top-1 {metrics.top1:.2%}  top-{metrics.k} {metrics.top5:.2%}"


def _throughput_line(metrics: EpochMetrics) -> str:
    ranks = ", ".join(f"rank {r}: {rate:.1f}" for r, rate in enumerate(metrics.rank_images_per_second))
    plural = "process" if metrics.processes == 1 else "processes"
    return (
        f"throughput epoch {metrics.epoch}: {metrics.images_per_second:.1f} img/s total over {metrics.processes} "
        f"{plural} ({ranks}), {metrics.seconds / max(metrics.steps, 1):.3f} s/step"
    )


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

    def __init__(self, bar: Progress, throughput: bool = False) -> None:
        self.bar = bar
        self.throughput = throughput
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
        if self.throughput:
            self.bar.console.print(_throughput_line(metrics))


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
    ctx: typer.Context,
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
        int | None, typer.Option(help="Images per step, over all processes (default: 32).", rich_help_panel=HYPER)
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
    augment: Annotated[
        str | None,
        typer.Option(
            help="Training crop: rrc (random-resized crop, the ImageNet recipe), crop (resize + random crop) or "
            "auto (rrc for image folders, crop otherwise; the default).",
            rich_help_panel=HYPER,
        ),
    ] = None,
    device: Annotated[
        str | None,
        typer.Option(
            help="auto (CUDA when available; the default), cpu, cuda or cuda:N. Under torchrun each process "
            "takes cuda:LOCAL_RANK.",
            rich_help_panel=PLACE,
        ),
    ] = None,
    amp: Annotated[
        bool | None,
        typer.Option("--amp/--no-amp", help="Mixed precision (autocast; default: off).", rich_help_panel=PLACE),
    ] = None,
    amp_dtype: Annotated[
        str | None,
        typer.Option(
            help="auto (bf16 on the CPU and on GPUs that have it, else fp16 with a gradient scaler), bf16 or fp16.",
            rich_help_panel=PLACE,
        ),
    ] = None,
    channels_last: Annotated[
        bool | None,
        typer.Option(
            "--channels-last/--no-channels-last", help="NHWC layout (default: on for CUDA).", rich_help_panel=PLACE
        ),
    ] = None,
    sync_bn: Annotated[
        bool | None,
        typer.Option(
            "--sync-bn/--no-sync-bn",
            help="Batch-norm statistics over the global batch (multi-GPU only).",
            rich_help_panel=PLACE,
        ),
    ] = None,
    nproc: Annotated[
        int | None,
        typer.Option(
            help="Train with N processes on this machine via torchrun's launcher (DDP; gloo on the CPU, NCCL on "
            "GPUs). --batch-size is the global batch.",
            rich_help_panel=PLACE,
        ),
    ] = None,
    master_port: Annotated[
        int | None,
        typer.Option(help="Port of the --nproc rendezvous on 127.0.0.1 (default: a free one).", rich_help_panel=PLACE),
    ] = None,
    throughput: Annotated[
        bool,
        typer.Option("--throughput", help="Print images/s per process and in total after each epoch."),
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Checkpoint to write after every epoch (default: --resume's path, else none)."),
    ] = None,
    resume: Annotated[Path | None, typer.Option("--resume", help="Checkpoint to continue from.")] = None,
) -> None:
    """Train a zoo network on an image data set (CPU or GPUs, one process or many), with val top-1/top-5."""
    if nproc is not None:
        if resume is None and (network is None or data is None):
            fail("train: give NETWORK and --data (or --resume CKPT)")
        _launch(ctx, nproc, master_port)
        return
    if master_port is not None:
        fail("--master-port: only applies with --nproc")
    rank = int(os.environ.get("RANK", "0") or 0)
    try:
        _train(
            network, data, width, depth, stem, first_unit, groups, out, resume, throughput, rank,
            {
                "epochs": epochs, "batch_size": batch_size, "lr": lr, "momentum": momentum,
                "weight_decay": weight_decay, "label_smoothing": label_smoothing, "schedule": schedule,
                "image_size": image_size, "num_classes": num_classes, "seed": seed, "val_fraction": val_fraction,
                "workers": workers, "max_steps": max_steps, "augment": augment, "device": device, "amp": amp,
                "amp_dtype": amp_dtype, "channels_last": channels_last, "sync_bn": sync_bn,
            },
        )  # fmt: skip
    except (ValueError, OSError):
        if rank == 0:
            raise
        raise typer.Exit(2) from None  # rank 0 reports the same error once


def _train(
    network: str | None,
    data: str | None,
    width: float | None,
    depth: str | None,
    stem: int | None,
    first_unit: str | None,
    groups: int | None,
    out: Path | None,
    resume: Path | None,
    throughput: bool,
    rank: int,
    options: dict[str, Any],
) -> None:
    from dataclasses import replace

    from rich.console import Console

    from networks.training import TrainConfig, load_checkpoint
    from networks.training import train as run_train
    from networks.training.placement import resolve

    given = {k: v for k, v in options.items() if v is not None}
    overrides = NetworkOptions.parse(width, depth, stem, first_unit, groups).overrides()
    _check_squeezenext_options(network, overrides)
    config: TrainConfig | None
    if resume is not None:
        stored = TrainConfig.from_dict({**load_checkpoint(resume)["options"]["config"], "max_steps": None})
        config = replace(stored, **{"device": "auto", **given})
        out = out or resume
    else:
        if network is None or data is None:
            fail("train: give NETWORK and --data (or --resume CKPT)")
        config = TrainConfig(**{"device": "auto", **given})
    if out is not None and rank == 0:
        check_output_file(out, "--out")
    place = resolve(config)
    console = Console(highlight=False, soft_wrap=True, quiet=rank != 0)
    precision = "float32" if place.amp_dtype is None else f"autocast {str(place.amp_dtype).removeprefix('torch.')}"
    layout = f", {place.world_size} processes ({place.backend})" if place.distributed else ""
    console.print(f"device: {place.device}{layout}, {precision}{', channels_last' if place.channels_last else ''}")
    bar = _progress_bar(console)
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:  # torch's, held back: a failure says it all
            warnings.simplefilter("default")
            result = run_train(network, data, config, overrides=overrides or None,
                               callbacks=[ProgressReporter(bar, throughput)] if rank == 0 else [],
                               out=out, resume=resume)
    finally:
        if bar.live.is_started:
            bar.stop()
    if rank != 0:
        return
    for message in caught:  # the run succeeded: its warnings are news (one line each)
        warnings.showwarning(message.message, message.category, message.filename, message.lineno)
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


def _free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _forwarded_args(ctx: typer.Context, drop: tuple[str, ...]) -> list[str]:
    """The command's parsed options as command-line arguments again, without those named in ``drop``."""
    positional: list[str] = []
    flags: list[str] = []
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if param.name in drop or value is None:
            continue
        if param.param_type_name == "argument":
            positional.append(str(value))
        elif getattr(param, "is_flag", False):
            if param.secondary_opts:
                flags.append(param.opts[0] if value else param.secondary_opts[0])
            elif value:
                flags.append(param.opts[0])
        else:
            flags += [param.opts[0], str(value)]
    return positional + flags


def _launch(ctx: typer.Context, nproc: int, master_port: int | None) -> None:
    """Run this command in ``nproc`` processes via torchrun's launcher API, rendezvous on 127.0.0.1."""
    if os.environ.get("WORLD_SIZE"):
        fail("--nproc: already running under torchrun; drop --nproc")
    if nproc < 1:
        fail(f"--nproc: expected an integer >= 1, got {nproc}")
    import logging

    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    argv = _forwarded_args(ctx, ("nproc", "master_port"))
    port = master_port or _free_port()
    launcher = ["--nnodes", "1", "--nproc_per_node", str(nproc), "--master_addr", "127.0.0.1"]
    args = get_args_parser().parse_args([*launcher, "--master_port", str(port), "-m", "accelsim.train", *argv])
    # torchrun would set 1 thread per process (with a warning); share this machine's cores instead
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    # the agent logs each failed worker; the workers' own one-line errors already said why
    logging.getLogger("torch.distributed.elastic").setLevel(logging.CRITICAL)
    try:
        run(args)
    except ChildFailedError as exc:
        failed_rank, failure = exc.get_first_failure()
        if failure.exitcode == 2:
            raise typer.Exit(2) from None
        fail(f"--nproc: training process rank {failed_rank} exited with code {failure.exitcode}")


def main() -> None:
    """``python -m accelsim.train ARGS``: the ``train`` command alone (what torchrun starts)."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
    app.command("train")(cli_errors(train))
    app()


def register(app: typer.Typer) -> None:
    """Add the ``train`` and ``evaluate`` commands to ``app``."""
    app.command("train")(cli_errors(train))
    app.command("evaluate")(cli_errors(evaluate))
