"""``accelsim redistribute``: search how a SqueezeNext network's blocks should be spread over its stages.

    accelsim redistribute 1.0-SqNxt-23v2 --pe 16x16 --buffer 128KB --budget blocks=21
    accelsim redistribute sqnxt23v2 --hw 8x8 --budget 'blocks<=24' --budget 'params<=0.9M' --objective edp
    accelsim redistribute sqnxt23v2 --budget blocks=21 --json --csv all.csv --plot front.png

A thin wrapper over :func:`accelsim.codesign.redistribute`; the table, JSON, CSV and plot
are renderings of its ``RedistributionResult``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from accelsim.cli.common import (
    BufferOption,
    DepthOption,
    FirstUnitOption,
    GroupsOption,
    HwOption,
    NetworkOptions,
    PeOption,
    SchedulerOption,
    SetOption,
    StemOption,
    WidthOption,
    WorkersOption,
    check_output_files,
    cli_errors,
    executor_from_options,
    fail,
    hardware_from_options,
)

if TYPE_CHECKING:
    from rich.console import Console

    from accelsim.codesign import RedistributionResult
    from accelsim.codesign.train import TrainingPlan

TRAIN = "Co-design loop (train the best candidates)"
BUDGET_HELP = ("Budget, repeatable (all must hold): blocks=N (total units; default the base's), blocks<=N, "
               "params<=1.0M, macs<=250M, cycles<=1.5M, energy<=2.5G (K/M/G are 1e3/1e6/1e9).")


def _depth(depth: tuple[int, ...] | list[int]) -> str:
    return "[" + ",".join(map(str, depth)) + "]"


def _table(result: RedistributionResult, top: int) -> Any:
    """The ranked table: the ``top`` best feasible candidates, plus the base if it ranked lower."""
    from rich.table import Table

    measured = [c.measured for c in (*result.candidates, result.base) if c.measured]
    trained = bool(measured)
    table = Table(title=f"best {min(top, len(result.ranked()))} of {len(result.ranked())} feasible candidates "
                        f"by {result.objective.value}", title_justify="left", header_style="bold")
    columns = ["rank", "depth", "params (M)", "MACs (M)", "cycles", "time vs base", "energy", "EDP",
               "paper top-1", "pareto"]
    if trained:
        columns += ["top-1 (%)", f"top-{measured[0].k} (%)"]
    for name in columns:
        table.add_column(name, justify="left" if name in ("depth", "paper top-1", "pareto") else "right")
    ranked = result.ranked()
    rows = list(enumerate(ranked[:top], start=1))
    base_rank = next((i for i, c in enumerate(ranked, start=1) if c.depth == result.base.depth), None)
    if base_rank is None or base_rank > top:
        rows.append((base_rank, result.base))
    for rank, c in rows:
        is_base = c.depth == result.base.depth
        cells = [
            str(rank) if rank else "-",
            _depth(c.depth) + (" (base)" if is_base else ""),
            f"{c.params / 1e6:.3f}",
            f"{c.macs / 1e6:.1f}",
            f"{c.cycles:,.0f}",
            f"x{c.cycles / result.base.cycles:.3f}",
            f"{c.energy:.3e}",
            f"{c.edp:.3e}",
            f"{c.paper.top1:.2f} ({c.paper_name})" if c.paper else "",
            "yes" if c.pareto else "",
        ]
        if trained:
            cells += [f"{c.measured.top1:.2f}" if c.measured else "", f"{c.measured.top5:.2f}" if c.measured else ""]
        table.add_row(*cells, style="bold" if is_base else None)
    return table


def _print_report(console: Console, result: RedistributionResult, top: int) -> None:
    hits, misses = result.cache_hits, result.cache_misses
    share = hits / (hits + misses) if hits + misses else 0.0
    from accelsim.hardware.area import area_of

    console.print(f"{result.network} {dict(result.options)} on {result.hardware.label} "
                  f"({area_of(result.hardware).total:.3g} mm² at {result.hardware.area.technology_nm:g} nm)")
    console.print(f"budgets: {', '.join(result.budgets.to_list()) or 'none'} "
                  f"(block totals {result.meta.get('totals')}, >= {result.min_per_stage} per stage); "
                  f"objective: {result.objective.value}")
    console.print(f"{result.method.value}: {result.evaluated} of {result.space_size} candidates evaluated, "
                  f"{len(result.ranked())} feasible; layer cache {hits} hits / {misses} misses ({share:.2%} hits)")
    console.print(_table(result, top))
    front = result.pareto_front()
    scope = "" if result.method.value == "exhaustive" else " of the evaluated candidates"
    console.print(f"Pareto front{scope} over (cycles, energy, params): {len(front)} candidate(s): "
                  + " ".join(_depth(c.depth) for c in front[:12]) + (" ..." if len(front) > 12 else ""))
    base = result.base
    where = ("outside the searched space" if result.candidate(base.depth) is None
             else ("on" if base.pareto else "not on") + " the Pareto front")
    console.print(f"base {_depth(base.depth)}: {where}; best {_depth(result.best.depth)} is "
                  f"x{result.best.cycles / base.cycles:.3f} the base's cycles and "
                  f"x{result.best.energy / base.energy:.3f} its energy")
    if result.training:
        console.print(f"measured accuracy: {result.training['epochs']} epoch(s) on {result.training['data']}, "
                      f"seed {result.training['seed']} (small-data accuracy compares candidates; it is not ImageNet)")


@cli_errors
def redistribute(
    network: Annotated[str, typer.Argument(help="SqueezeNext preset or alias, e.g. 1.0-SqNxt-23v2 or sqnxt23v5.")],
    budget: Annotated[list[str] | None, typer.Option("--budget", metavar="SPEC", help=BUDGET_HELP)] = None,
    hw: HwOption = None,
    pe: PeOption = None,
    buffer: BufferOption = None,
    sets: SetOption = None,
    objective: Annotated[str, typer.Option(help="Rank by cycles, energy or edp (energy x cycles).")] = "cycles",
    min_per_stage: Annotated[int, typer.Option("--min-per-stage", metavar="N",
                                               help="Fewest units a stage may keep.")] = 1,
    top: Annotated[int | None, typer.Option(
        metavar="K", help="Rows of the ranked table [10]; with --json, candidates listed [all].")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the table.")] = False,
    csv: Annotated[Path | None, typer.Option("--csv", metavar="FILE", help="Write every candidate as CSV.")] = None,
    plot: Annotated[Path | None, typer.Option("--plot", metavar="FILE.png",
                                              help="Plot cycles against params, coloured by energy.")] = None,
    width: WidthOption = None,
    depth: DepthOption = None,
    stem: StemOption = None,
    first_unit: FirstUnitOption = None,
    groups: GroupsOption = None,
    train_top: Annotated[int, typer.Option("--train-top", metavar="K", rich_help_panel=TRAIN,
                                           help="Train the K best candidates and the base; add measured "
                                                "top-1/top-5 to the table, JSON and plot.")] = 0,
    data: Annotated[str | None, typer.Option("--data", metavar="SOURCE", rich_help_panel=TRAIN,
                                             help="Training data: a folder of class folders, a .npz, 'digits' "
                                                  "or 'synthetic[:classes=10,size=64,...]'.")] = None,
    epochs: Annotated[int, typer.Option(metavar="N", rich_help_panel=TRAIN, help="Epochs per candidate.")] = 10,
    image_size: Annotated[int | None, typer.Option("--image-size", metavar="S", rich_help_panel=TRAIN,
                                                   help="Training crop side in px [the data's size].")] = None,
    seed: Annotated[int, typer.Option(metavar="N", rich_help_panel=TRAIN,
                                      help="Seed of every training run (same for all candidates).")] = 0,
    device: Annotated[str, typer.Option(metavar="DEV", rich_help_panel=TRAIN,
                                        help="auto, cpu, cuda or cuda:N; with several GPUs, one candidate "
                                             "trains per GPU at a time.")] = "auto",
    amp: Annotated[bool, typer.Option("--amp", rich_help_panel=TRAIN,
                                      help="Mixed-precision training (bf16 on the CPU).")] = False,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Search every distribution of a block budget over the stages; rank, Pareto front, plot.

    Example: accelsim redistribute 1.0-SqNxt-23v2 --pe 16x16 --buffer 128KB --budget blocks=21
    """
    from rich.console import Console

    from accelsim.codesign import Objective
    from accelsim.codesign import redistribute as search
    from accelsim.codesign.train import TrainingPlan

    if network.lower().endswith((".onnx", ".json")):
        fail(f"{network}: redistribute searches a SqueezeNext preset's blocks per stage, and a file's network "
             "has fixed stages; give a preset (e.g. sqnxt23v5), or simulate the file with accelsim run")
    if objective not in {o.value for o in Objective}:
        fail(f"--objective: expected one of {', '.join(o.value for o in Objective)}; got {objective!r}")
    if top is not None and top < 1:
        fail(f"--top: must be >= 1; got {top}")
    if plot is not None and plot.suffix.lower() not in (".png", ".svg", ".pdf"):
        fail(f"--plot: expected a .png, .svg or .pdf file; got {str(plot)!r}")
    for flag, value, least in (("--train-top", train_top, 0), ("--epochs", epochs, 1), ("--image-size", image_size, 1)):
        if value is not None and value < least:
            fail(f"{flag}: expected an integer >= {least}; got {value}")
    check_output_files(("--csv", csv), ("--plot", plot))
    if train_top and data is None:
        fail("--train-top: needs --data SOURCE (e.g. --data digits)")
    network_options = NetworkOptions.parse(width, depth, stem, first_unit, groups)
    spec = hardware_from_options(hw, pe, buffer, sets)
    err = Console(stderr=True)
    with executor_from_options(workers, scheduler) as executor:
        with _progress(err) as bar:
            task = bar.add_task("candidates", total=None)
            result = search(
                network, spec, budgets=budget or (), objective=objective, min_per_stage=min_per_stage,
                width=network_options.width, depth=network_options.depth, stem_kernel=network_options.stem_kernel,
                first_unit=network_options.first_unit, groups=network_options.groups, executor=executor,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
        if train_top:
            result = _train(result, err, TrainingPlan(train_top, str(data), epochs, image_size, seed,
                                                      device=device, amp=amp), executor)
    _write_outputs(result, csv, plot)
    if as_json:
        typer.echo(json.dumps(result.to_dict(top=top), indent=1))
        return
    out = Console(width=200)
    _print_report(out, result, 10 if top is None else top)
    for path, what in ((csv, "candidates"), (plot, "plot")):
        if path is not None:
            out.print(f"wrote {what}: {path}")


def _progress(console: Console) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    # off without a terminal (pipes, CI logs): a bar there is only noise
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True, disable=not console.is_terminal)


def _train(result: RedistributionResult, console: Console, plan: TrainingPlan,
           executor: Any = None) -> RedistributionResult:
    from accelsim.codesign.train import train_candidates

    with _progress(console) as bar:
        task = bar.add_task("training", total=None)

        def step(done: int, total: int, depth: tuple[int, ...] | None) -> None:
            bar.update(task, completed=done, total=total,
                       description="training" if depth is None else f"training {_depth(depth)}")

        return train_candidates(result, plan, progress=step, executor=executor)


def _write_outputs(result: RedistributionResult, csv: Path | None, plot: Path | None) -> None:
    from accelsim.reporting.writers import write_dataframe_csv, write_plot

    if csv is not None:
        write_dataframe_csv(result.to_dataframe(), csv)
    if plot is not None:
        from accelsim.reporting.redistribute_plot import plot_redistribution

        write_plot(plot_redistribution(result), plot)


def register(app: typer.Typer) -> None:
    app.command("redistribute", no_args_is_help=True)(redistribute)
