"""``accelsim sweep``: simulate networks over a grid of hardware specs; rank, Pareto front, plot.

    accelsim sweep sqnxt23 --pe 8x8,16x16,32x32 --buffer 32KB,128KB,512KB --vary dram.bandwidth=8GB/s,16GB/s,32GB/s
    accelsim sweep sqnxt23 sqnxt23v5 --hw 8x8 --vary clock=500MHz,667MHz,1GHz --objective energy
    accelsim sweep sqnxt23 --pe 8x8,16x16 --vary dataflows=[ws],[os],[ws,os] --json --csv all.csv --plot grid.png

A thin wrapper over :func:`accelsim.codesign.sweep`; the tables, JSON, CSV and plot are
renderings of its ``SweepResult``. Axes come in the order ``--pe``, ``--buffer``, then each
``--vary`` as given (the first varies slowest in the CSV and JSON).
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
    HwOption,
    InputShapeOption,
    NetworkOptions,
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
    parse_input_shape,
)

if TYPE_CHECKING:
    from rich.console import Console

    from accelsim.codesign import SweepPoint, SweepResult

VARY_HELP = ("Vary a spec field over comma-separated values, e.g. dram.bandwidth=8GB/s,16GB/s or "
             "model.fuse_pool=false,true or dataflows=[ws],[ws,os]; repeatable: the grid is the product. "
             "Fields as for --set (accelsim hw show); shorthands pe=8x8,16x16 and buffer=32KB,128KB.")


def _where(result: SweepResult, p: SweepPoint) -> str:
    from accelsim.reporting.sweep_plot import axis_title

    return " ".join(f"{axis_title(a.key)}={label}" for a, label in zip(result.axes, p.labels, strict=True)) or "base"


def _band(band: tuple[float, float] | None, point: float) -> str:
    """``-2.1%/+0.4%``: the band's ends relative to the point value."""
    if band is None or not point:
        return "-"
    return f"{100 * (band[0] / point - 1):+.1f}%/{100 * (band[1] / point - 1):+.1f}%"


def _table(result: SweepResult, network: str, top: int) -> Any:
    from rich.table import Table

    from accelsim.reporting.sweep_plot import axis_title

    ranked = result.ranked(network)
    table = Table(title=f"{network}: best {min(top, len(ranked))} of {len(ranked)} feasible points by "
                        f"{result.objective.value}", title_justify="left", header_style="bold")
    banded = any(p.cycles_band is not None for p in ranked)
    columns = ["rank", *(axis_title(a.key) for a in result.axes), "cycles", *(["cycles band"] if banded else []),
               "time (ms)", "energy", *(["energy band"] if banded else []), "EDP", "MACs/cycle", "util", "DRAM MB",
               "area mm²", "pareto"]
    for k, name in enumerate(columns):
        table.add_column(name, justify="left" if 0 < k <= len(result.axes) or name == "pareto" else "right")
    for p in ranked[:top]:
        assert p.cycles is not None and p.energy is not None and p.edp is not None
        table.add_row(
            str(p.rank), *p.labels, f"{p.cycles:,.0f}", *([_band(p.cycles_band, p.cycles)] if banded else []),
            f"{(p.time_s or 0) * 1e3:.3f}", f"{p.energy:.3e}", *([_band(p.energy_band, p.energy)] if banded else []),
            f"{p.edp:.3e}", f"{p.efficiency:.1f}", f"{p.utilisation:.0%}", f"{(p.dram_bytes or 0) / 2**20:.2f}",
            f"{p.area.total:.3g}", "yes" if p.pareto else "")
    return table


def _print_report(console: Console, result: SweepResult, top: int) -> None:
    from accelsim.hardware.load import format_frequency
    from accelsim.reporting.sweep_plot import axis_title

    base = result.base
    counts = " x ".join(f"{len(a.values)} {axis_title(a.key)}" for a in result.axes) or "the base only"
    hits, misses = result.cache_hits, result.cache_misses
    console.print(f"sweep: {result.size} hardware points ({counts}) x {len(result.networks)} network(s) around "
                  f"{base.name} ({base.label}, {format_frequency(base.clock_hz)}); objective: {result.objective.value}")
    console.print(f"{len(result.points)} simulations, {len(result.infeasible())} infeasible; layer cache {hits} hits / "
                  f"{misses} misses")
    for network in result.networks:
        console.print()
        console.print(_table(result, network, top))
        front = result.pareto(network)
        console.print(f"Pareto front over (cycles, energy): {len(front)} point(s): "
                      + "; ".join(_where(result, p) for p in front[:8]) + (" ..." if len(front) > 8 else ""))
        bad = result.infeasible(network)
        for p in bad[:3]:
            console.print(f"infeasible: {_where(result, p)}: {p.reason}", soft_wrap=True)
        if len(bad) > 3:
            console.print(f"... and {len(bad) - 3} more infeasible point(s) (all in --json / --csv)")
    best = result.best_overall()
    if len(result.networks) > 1 and best is not None:
        point = next(p for p in result.points if p.point == best[0])
        console.print(f"\nbest point for all {len(result.networks)} networks (geometric mean of "
                      f"{result.objective.value} {best[1]:.4g}): {_where(result, point)}")


def _progress(console: Console) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    # off without a terminal (pipes, CI logs): a bar there is only noise
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True, disable=not console.is_terminal)


def grid_axes(pe: str | None, buffer: str | None, vary: list[str] | None, sets: list[str] | None,
              plot: Path | None) -> dict[str, list[str]]:
    """The hardware grid of ``--pe``/``--buffer``/``--vary`` (shared by sweep and codesign), checked
    against ``--set`` and the ``--plot`` suffix; one-line errors."""
    from accelsim.codesign.hw_sweep import parse_vary, split_values

    if plot is not None and plot.suffix.lower() not in (".png", ".svg", ".pdf"):
        fail(f"--plot: expected a .png, .svg or .pdf file; got {str(plot)!r}")
    check_output_files(("--plot", plot))
    axes: dict[str, list[str]] = {}
    for key, text in (("pe", pe), ("buffer", buffer)):
        if text is not None:
            axes[key] = split_values(text)
    for item in vary or []:
        key, values = parse_vary(item)
        if key in axes:
            fail(f"--vary {key}: given twice; list all its values in one --vary")
        axes[key] = values
    _check_sets(list(sets or []), axes)
    return axes


def _check_sets(sets: list[str], vary: dict[str, list[str]]) -> None:
    """A field may be fixed by --set or varied, not both: which should win is a guess."""
    from accelsim.codesign.hw_sweep import SHORTHANDS
    from accelsim.hardware import resolve_field_path

    varied: set[str] = set()
    for key in vary:
        if key in SHORTHANDS:
            varied.update(SHORTHANDS[key])
        else:
            try:
                varied.add(resolve_field_path(key).path)
            except Exception:  # noqa: BLE001 -- reported with the --vary prefix by the library
                continue
    for item in sets:
        path = item.partition("=")[0].strip()
        try:
            resolved = resolve_field_path(path).path
        except Exception:  # noqa: BLE001 -- the --set itself is reported by hardware_from_options
            continue
        if resolved in varied:
            fail(f"--set {path}: {resolved} is also varied (--vary/--pe/--buffer); fix it in one place")


@cli_errors
def sweep(
    networks: Annotated[list[str], typer.Argument(
        help="Preset names or aliases (accelsim networks), layer-graph JSON files or ONNX files (.onnx).")],
    hw: HwOption = None,
    vary: Annotated[list[str] | None, typer.Option("--vary", metavar="FIELD=V1,V2,...", help=VARY_HELP)] = None,
    pe: Annotated[str | None, typer.Option(
        "--pe", metavar="RxC,...", help="PE arrays to sweep, e.g. 8x8,16x16,32x32 (shorthand for --vary pe=...).")]
    = None,
    buffer: Annotated[str | None, typer.Option(
        "--buffer", metavar="SIZE,...", help="Global buffers to sweep, e.g. 32KB,128KB,512KB (KB = 1024 B).")] = None,
    sets: SetOption = None,
    objective: Annotated[str, typer.Option(help="Rank by cycles, energy or edp (energy x cycles).")] = "cycles",
    top: Annotated[int | None, typer.Option(
        metavar="K", help="Rows per network in the table [10]; with --json, points per network [all].")] = None,
    max_points: Annotated[int, typer.Option(
        "--max-points", metavar="N", help="Refuse grids with more hardware points than this.")] = 10_000,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of the tables.")] = False,
    csv: Annotated[Path | None, typer.Option("--csv", metavar="FILE", help="Write every (point, network) as CSV.")]
    = None,
    plot: Annotated[Path | None, typer.Option(
        "--plot", metavar="FILE.png",
        help="Plot: a line per network for one field, heatmaps for two, energy vs cycles for more.")] = None,
    colour_by: Annotated[str | None, typer.Option(
        "--colour-by", metavar="FIELD", help="Field that colours the energy-vs-cycles plot [the first varied].")]
    = None,
    no_band: Annotated[bool, typer.Option(
        "--no-band", help="Skip the error bands (the calibration ensemble's spread; one simulation per member).")]
    = False,
    width: WidthOption = None,
    depth: DepthOption = None,
    stem: StemOption = None,
    first_unit: FirstUnitOption = None,
    groups: GroupsOption = None,
    input_shape: InputShapeOption = None,
    workers: WorkersOption = None,
    scheduler: SchedulerOption = None,
) -> None:
    """Sweep a hardware design space: every combination of the varied fields, every network.

    Example: accelsim sweep sqnxt23 --pe 8x8,16x16,32x32 --buffer 32KB,128KB,512KB --vary dram.bandwidth=8GB/s,32GB/s
    """
    from rich.console import Console

    from accelsim.codesign import Objective
    from accelsim.codesign import sweep as run_sweep

    if objective not in {o.value for o in Objective}:
        fail(f"--objective: expected one of {', '.join(o.value for o in Objective)}; got {objective!r}")
    if top is not None and top < 1:
        fail(f"--top: must be >= 1; got {top}")
    if max_points < 1:
        fail(f"--max-points: must be >= 1; got {max_points}")
    axes = grid_axes(pe, buffer, vary, sets, plot)
    check_output_files(("--csv", csv))
    options = NetworkOptions.parse(width, depth, stem, first_unit, groups).overrides()
    base = hardware_from_options(hw, None, None, sets)
    err = Console(stderr=True)
    with executor_from_options(workers, scheduler) as executor, _progress(err) as bar:
        task = bar.add_task("simulations", total=None)
        result = run_sweep(networks, base, axes, objective=objective, max_points=max_points,
                           network_options=options, input_shape=parse_input_shape(input_shape),
                           executor=executor, bands=not no_band,
                           progress=lambda done, total: bar.update(task, completed=done, total=total))
    if csv is not None:
        from accelsim.reporting.writers import write_dataframe_csv

        write_dataframe_csv(result.to_dataframe(), csv)
    if plot is not None:
        from accelsim.reporting.sweep_plot import plot_sweep
        from accelsim.reporting.writers import write_plot

        write_plot(plot_sweep(result, colour_by=colour_by), plot)
    if as_json:
        typer.echo(json.dumps(result.to_dict(top=top), indent=1))
        return
    out = Console(width=200)
    _print_report(out, result, 10 if top is None else top)
    for path, what in ((csv, "points"), (plot, "plot")):
        if path is not None:
            out.print(f"wrote {what}: {path}")


def register(app: typer.Typer) -> None:
    app.command("sweep", no_args_is_help=True)(sweep)
