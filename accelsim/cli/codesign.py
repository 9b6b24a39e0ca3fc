"""``accelsim codesign``: search a hardware grid and a network space together; best designs, Pareto front.

    accelsim codesign sqnxt23v2 --pe 8x8,16x16 --buffer 32KB,128KB --width 1.0,2.0 --budget blocks=21
    accelsim codesign sqnxt23v2 --pe 8x8,12x12,16x16 --vary area.technology_nm=22,45,65 \
        --budget 'area<=2mm2' --objective edap
    accelsim codesign sqnxt23 sqnxt23v5 squeezenet --pe 8x8,16x16 --json --csv all.csv --plot front.png

A thin wrapper over :func:`accelsim.codesign.codesign`; the tables, JSON, CSV and plot are
renderings of its ``CodesignResult``. The hardware grid is parsed exactly as ``sweep``'s
(``--pe``, ``--buffer``, then each ``--vary``); one SqueezeNext base gives the family space
(``--width``/``--stem``/``--first-unit``/``--groups`` lists times every depth vector the block
budgets allow), several networks are searched as they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from accelsim.cli.common import (
    HwOption,
    SchedulerOption,
    SetOption,
    WorkersOption,
    check_output_files,
    cli_errors,
    executor_from_options,
    fail,
    hardware_from_options,
)
from accelsim.cli.sweep import VARY_HELP, _progress, grid_axes

if TYPE_CHECKING:
    from rich.console import Console

    from accelsim.codesign import CodesignResult, Design

BUDGET_HELP = ("Budget, repeatable (all must hold): blocks=N (default the base's total), blocks<=N, params<=1.0M, "
               "macs<=250M, cycles<=1.5M, energy<=2.5G, area<=1.5mm2.")


def _list(text: str | None, option: str, convert: Callable[[str], Any]) -> list[Any] | None:
    if text is None:
        return None
    from accelsim.codesign.hw_sweep import split_values

    try:
        return [convert(v) for v in split_values(text)]
    except ValueError:
        fail(f"{option} {text}: expected comma-separated values such as {'1.0,2.0' if option == '--width' else '5,7'}")


def _hardware(result: CodesignResult, d: Design) -> str:
    from accelsim.reporting.sweep_plot import axis_title

    return " ".join(f"{axis_title(a.key)}={label}" for a, label in zip(result.axes, d.labels, strict=True)) or "base"


def _table(result: CodesignResult, designs: list[Design], title: str) -> Any:
    from rich.table import Table

    from accelsim.reporting.sweep_plot import axis_title

    table = Table(title=title, title_justify="left", header_style="bold")
    columns = ["rank", "network", *(axis_title(a.key) for a in result.axes), "cycles", "energy", "area mm²",
               "EDAP", "params (M)", "pareto", "paper"]
    for k, name in enumerate(columns):
        table.add_column(name, justify="left" if 0 < k <= 1 + len(result.axes) or name in ("pareto", "paper")
                         else "right")
    for d in designs:
        table.add_row(str(d.rank) if d.rank else "-", _short(result, d), *d.labels, f"{d.cycles:,.0f}",
                      f"{d.energy:.3e}", f"{d.area_mm2:.3g}", f"{d.edap:.3e}", f"{d.params / 1e6:.3f}",
                      "yes" if d.pareto else "", d.paper or "")
    return table


def _short(result: CodesignResult, d: Design) -> str:
    """``w2.0 s7 parallel [2,4,14,1]``: what differs between the families, then the depth."""
    if d.depth is None:
        return d.network
    varied = [k for k in ("width", "stem_kernel", "first_unit", "groups")
              if len({f.options[k] for f in result.families}) > 1]
    short = {"width": "w", "stem_kernel": "stem ", "first_unit": "", "groups": "g"}
    prefix = " ".join(f"{short[k]}{d.options[k]}" for k in varied)
    return (prefix + " " if prefix else "") + "[" + ",".join(map(str, d.depth)) + "]"


def _print_report(console: Console, result: CodesignResult, top: int) -> None:
    from accelsim.reporting.sweep_plot import axis_title

    s = result.stats
    counts = " x ".join(f"{len(a.values)} {axis_title(a.key)}" for a in result.axes) or "the base only"
    if result.mode == "family":
        fam = len(result.families)
        per = len(result.families[0].candidates)
        budget = ", ".join(result.budgets.to_list()) or "the base's block total"
        space = (f"{result.network}: {fam} famil{'y' if fam == 1 else 'ies'} x {per:,} depth vectors ({budget}) "
                 f"= {result.n_candidates:,} networks")
    else:
        space = f"{result.n_candidates} networks ({result.network})"
    console.print(f"codesign: {space}; {result.n_points} hardware points ({counts}) around {result.base.name}; "
                  f"{result.size:,} design points; objective: {result.objective.value}")
    rate = s["compose_points_per_second"]
    console.print(f"priced {s['distinct_layers_simulated']:,} distinct layers ({s['layer_jobs_priced']:,} layer "
                  f"jobs, {s['pieces']} pieces) in {s['price_seconds']:.2f} s; composed {result.size:,} points in "
                  f"{s['compose_seconds']:.3f} s" + (f" ({rate:,.0f} points/s)" if rate else "")
                  + f"; {s['composition']}", soft_wrap=True)
    runs = int(result.runs.sum())
    console.print(f"feasible: {result.feasible_count:,} of {result.size:,} "
                  f"({result.size - runs:,} cannot run, {runs - result.feasible_count:,} over budget)")
    for reason, k in result.infeasible[:3]:
        console.print(f"  cannot run ({k:,} points): {reason}", soft_wrap=True)
    if len(result.infeasible) > 3:
        console.print(f"  ... and {len(result.infeasible) - 3} more reasons (all in --json)")
    for budget, k in result.budget_failures.items():
        if k:
            console.print(f"  over budget {budget}: {k:,} points")
    console.print()
    console.print(_table(result, result.best(top), f"best {min(top, result.feasible_count)} of "
                                                   f"{result.feasible_count:,} feasible designs by "
                                                   f"{result.objective.value}"))
    front = result.pareto_front()
    by_point: dict[str, int] = {}
    for d in front:
        by_point[d.hardware_label] = by_point.get(d.hardware_label, 0) + 1
    console.print(f"Pareto front over (cycles, energy, area, params): {len(front):,} design(s); by hardware: "
                  + ", ".join(f"{label} {k}" for label, k in sorted(by_point.items(), key=lambda kv: -kv[1])),
                  soft_wrap=True)
    for ref in result.references:
        if ref.label in ("v5",) or ref.in_space:
            where = "in the space" if ref.in_space else "not in the space"
            stand = "on the joint front" if ref.on_front else f"dominated by {ref.dominated_by:,} design point(s)"
            console.print(f"paper {ref.label} {list(ref.depth)} on {ref.hardware} ({ref.area_mm2:.3g} mm², "
                          f"{ref.cycles:,.0f} cycles): {where}, {stand}")


@cli_errors
def codesign(
    networks: Annotated[list[str], typer.Argument(
        help="One SqueezeNext preset (the base of the network space), or several presets / layer-graph JSON files.")],
    hw: HwOption = None,
    vary: Annotated[list[str] | None, typer.Option("--vary", metavar="FIELD=V1,V2,...", help=VARY_HELP)] = None,
    pe: Annotated[str | None, typer.Option(
        "--pe", metavar="RxC,...", help="PE arrays, e.g. 8x8,16x16 (shorthand for --vary pe=...).")] = None,
    buffer: Annotated[str | None, typer.Option(
        "--buffer", metavar="SIZE,...", help="Global buffers, e.g. 32KB,128KB (KB = 1024 B).")] = None,
    sets: SetOption = None,
    width: Annotated[str | None, typer.Option(
        "--width", metavar="W,...", help="SqueezeNext width multipliers, e.g. 1.0,1.5,2.0 [the base's].")] = None,
    stem: Annotated[str | None, typer.Option(
        "--stem", metavar="K,...", help="SqueezeNext first conv kernels, e.g. 5,7 [the base's].")] = None,
    first_unit: Annotated[str | None, typer.Option(
        "--first-unit", metavar="parallel|serial,...", help="SqueezeNext first-unit designs [the base's].")] = None,
    groups: Annotated[str | None, typer.Option(
        "--groups", metavar="G,...", help="SqueezeNext groups, e.g. 1,2 [the base's].")] = None,
    budget: Annotated[list[str] | None, typer.Option("--budget", metavar="KEY<=VALUE", help=BUDGET_HELP)] = None,
    min_per_stage: Annotated[int, typer.Option(
        "--min-per-stage", metavar="N", help="Fewest units any stage keeps.")] = 1,
    objective: Annotated[str, typer.Option(
        help="Rank by cycles, energy, edp (energy x cycles), area or edap (energy x cycles x area).")] = "cycles",
    top: Annotated[int, typer.Option(metavar="K", help="Designs in the table and in --json's best list.")] = 10,
    max_points: Annotated[int, typer.Option(
        "--max-points", metavar="N", help="Refuse spaces with more design points than this.")] = 5_000_000,
    max_hardware_points: Annotated[int, typer.Option(
        "--max-hardware-points", metavar="N", help="Refuse grids with more hardware points than this.")] = 10_000,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the tables.")] = False,
    csv: Annotated[Path | None, typer.Option("--csv", metavar="FILE", help="Write every design point as CSV.")]
    = None,
    plot: Annotated[Path | None, typer.Option(
        "--plot", metavar="FILE.png", help="Plot the front: cycles vs area coloured by energy, energy vs cycles.")]
    = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Co-design: every network candidate on every hardware point, composed; best designs and Pareto front.

    Example: accelsim codesign sqnxt23v2 --pe 8x8,16x16 --buffer 32KB,128KB --width 1.0,2.0 --budget blocks=21
    """
    from rich.console import Console

    from accelsim.codesign import JointObjective
    from accelsim.codesign import codesign as run_codesign

    if objective not in {o.value for o in JointObjective}:
        fail(f"--objective: expected one of {', '.join(o.value for o in JointObjective)}; got {objective!r}")
    if top < 1:
        fail(f"--top: must be >= 1; got {top}")
    if max_points < 1 or max_hardware_points < 1:
        fail(f"--max-points and --max-hardware-points: must be >= 1; got {max_points}, {max_hardware_points}")
    axes = grid_axes(pe, buffer, vary, sets, plot)
    check_output_files(("--csv", csv))
    widths = _list(width, "--width", float)
    stems = _list(stem, "--stem", int)
    first_units = _list(first_unit, "--first-unit", str)
    group_list = _list(groups, "--groups", int)
    _check_options(widths, stems, first_units, group_list)
    base = hardware_from_options(hw, None, None, sets)
    err = Console(stderr=True)
    with executor_from_options(workers, scheduler) as executor, _progress(err) as bar:
        task = bar.add_task("design points", total=None)
        jobs = bar.add_task("layer jobs on the cluster", total=None, visible=False)
        result = run_codesign(networks, base, axes, widths=widths, stems=stems, first_units=first_units,
                              groups=group_list, budgets=budget or (), min_per_stage=min_per_stage,
                              objective=objective, max_points=max_points, max_hardware_points=max_hardware_points,
                              progress=lambda done, total: bar.update(task, completed=done, total=total),
                              executor=executor,
                              price_progress=lambda done, total: bar.update(jobs, completed=done, total=total,
                                                                            visible=True))
    _write_outputs(result, csv, plot)
    if as_json:
        typer.echo(json.dumps(result.to_dict(top=top), indent=1))
        return
    out = Console(width=200)
    _print_report(out, result, top)
    for path, what in ((csv, "design points"), (plot, "plot")):
        if path is not None:
            out.print(f"wrote {what}: {path}")


def _check_options(widths: list[float] | None, stems: list[int] | None, first_units: list[str] | None,
                   groups: list[int] | None) -> None:
    """Each listed value must be valid on its own (``NetworkOptions.parse``'s checks)."""
    from accelsim.cli.common import NetworkOptions

    for w in widths or [None]:
        for s in stems or [None]:
            NetworkOptions.parse(width=w, stem=s)
    for f in first_units or []:
        NetworkOptions.parse(first_unit=f)
    for g in groups or []:
        NetworkOptions.parse(groups=g)


def _write_outputs(result: CodesignResult, csv: Path | None, plot: Path | None) -> None:
    if csv is not None:
        from accelsim.reporting.writers import write_dataframe_csv

        write_dataframe_csv(result.to_dataframe(), csv)
    if plot is not None:
        from accelsim.reporting.codesign_plot import plot_codesign
        from accelsim.reporting.writers import write_plot

        write_plot(plot_codesign(result), plot)


def register(app: typer.Typer) -> None:
    app.command("codesign", no_args_is_help=True)(codesign)
