"""``accelsim report``: regenerate the paper's Table 3, Figure 6 and Figure 7, and per-run breakdowns.

    accelsim report all --out reports                  # everything + reports/README.md
    accelsim report table3 --json                      # {"rows": [...]} on stdout, no files
    accelsim report table3 --hw 16x16 --hw my.yaml     # columns named after each spec's label
    accelsim report figure6 1.0-SqNxt-23 1.0-SqNxt-23v5
    accelsim report figure7 --energy-scale 1.0
    accelsim report breakdown sqnxt23 --hw 8x8 --out /tmp/r

A progress bar is drawn on stderr while networks are simulated (not with --quiet or when stderr
is not a terminal). The written files are listed on stdout, one per line.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from accelsim.cli.common import (
    BufferOption,
    HwListOption,
    HwOption,
    InputShapeOption,
    PeOption,
    SetOption,
    check_output_dir,
    cli_errors,
    fail,
    parse_input_shape,
)

if TYPE_CHECKING:
    from accelsim.hardware.spec import HardwareSpec

OutOption = Annotated[Path | None, typer.Option("--out", metavar="DIR", help="Folder for the files [reports].")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")]
EnergyScaleOption = Annotated[float, typer.Option(
    "--energy-scale", metavar="F",
    help="Multiply our energies by F before comparing with the paper (default 1.0: raw model units; "
         "the paper's cost table is unpublished, so use a documented calibration).")]

NoBandOption = Annotated[bool, typer.Option(
    "--no-band", help="Skip the error bands (the calibration ensemble's spread; one simulation per member).")]

DEFAULT_OUT = Path("reports")
PAPER_HW = ("8x8", "16x16")


@contextmanager
def progress_bar(quiet: bool) -> Iterator[Callable[[int, int, str], None] | None]:
    """A ``progress(done, total, description)`` callback drawing a rich bar on stderr, or
    ``None`` when ``quiet`` or stderr is not a terminal."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), console=Console(stderr=True), transient=True)
    task = bar.add_task("", total=None)

    def update(done: int, total: int, description: str) -> None:
        bar.update(task, completed=done, total=total, description=description)

    with bar:
        yield update


def _command(name: str, *options: tuple[str, object], args: Sequence[str] = ()) -> str:
    """The canonical command line of a report, for the files' provenance (defaults left out)."""
    words = ["accelsim", "report", name, *(_quote(a) for a in args)]
    for flag, value in options:
        if value is None or value is False or value == []:
            continue
        for v in value if isinstance(value, list) else [value]:
            words += [flag] if v is True else [flag, str(v)]
    return " ".join(words)


def _hw_options(hws: Sequence[Path] | Path | None, pe: str | None, buffer: str | None,
                sets: Sequence[str] | None) -> tuple[tuple[str, object], ...]:
    """The hardware flags of a report command, as ``_command`` options."""
    hw_list = [str(h) for h in hws] if isinstance(hws, (list, tuple)) else ([str(hws)] if hws else [])
    return ("--hw", hw_list), ("--pe", pe), ("--buffer", buffer), ("--set", list(sets or []))


def _specs(hws: Sequence[Path] | None, pe: str | None, buffer: str | None, sets: Sequence[str] | None,
           default: Sequence[str] = PAPER_HW) -> list[HardwareSpec]:
    from accelsim.cli.common import hardware_list_from_options

    return hardware_list_from_options(hws, pe, buffer, sets, default=default)


def _check_scale(energy_scale: float) -> None:
    """Reject a bad --energy-scale before any simulation runs."""
    if not (energy_scale > 0 and math.isfinite(energy_scale)):
        fail(f"--energy-scale: must be a positive number (got {energy_scale:g})")


def _echo_paths(paths: Sequence[Path]) -> None:
    for path in paths:
        typer.echo(str(path))


@cli_errors
def table3(
    out: OutOption = None,
    hws: HwListOption = None,
    pe: PeOption = None,
    buffer: BufferOption = None,
    sets: SetOption = None,
    energy_scale: EnergyScaleOption = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print {\"rows\": [...], ...} on stdout; "
                                          "write files only if --out is given.")] = False,
    quiet: QuietOption = False,
    no_band: NoBandOption = False,
) -> None:
    """SqNxt Table 3: the 13 networks on 8x8/32KB and 16x16/128KB (or each --hw), with the paper's
    cells and our deviation; writes table3.md/.csv/.json.

    Example: accelsim report table3 --out reports
    """
    from accelsim.reporting.suite import new_cache, simulate_networks, table3_bands, write_table3
    from accelsim.reporting.table3 import TABLE3_NETWORKS, build_table3
    from accelsim.reporting.writers import Provenance, json_text

    _check_scale(energy_scale)
    if out or not as_json:
        check_output_dir(out or DEFAULT_OUT, "--out")
    specs = _specs(hws, pe, buffer, sets)
    cache = new_cache()
    with progress_bar(quiet) as progress:
        results = simulate_networks(TABLE3_NETWORKS, specs, cache=cache, progress=progress)
        bands = None if no_band else table3_bands(TABLE3_NETWORKS, specs, cache=cache, progress=progress)
    table = build_table3(results, energy_scale=energy_scale, bands=bands)
    command = _command("table3", ("--out", out), *_hw_options(hws, pe, buffer, sets),
                       ("--energy-scale", energy_scale if energy_scale != 1.0 else None), ("--json", as_json),
                       ("--no-band", no_band))
    paths = write_table3(table, out or DEFAULT_OUT, command) if (out or not as_json) else []
    if as_json:
        prov = Provenance(command, table.version, tuple(c.label for c in table.configs), table.networks,
                          energy_scale)
        typer.echo(json_text(table.to_dict(), prov), nl=False)
    else:
        _echo_paths(paths)


@cli_errors
def figure6(
    networks: Annotated[list[str] | None, typer.Argument(
        metavar="[NETWORK]...", help="Networks to compare [1.0-SqNxt-23 and v2-v5].")] = None,
    out: OutOption = None,
    hws: HwListOption = None,
    pe: PeOption = None,
    buffer: BufferOption = None,
    sets: SetOption = None,
    quiet: QuietOption = False,
) -> None:
    """SqNxt Figure 6: per-item cycles (layers of one configuration summed) and MACs/cycle, one
    panel per configuration; writes figure6.png/.svg/.csv.

    Example: accelsim report figure6 1.0-SqNxt-23 1.0-SqNxt-23v5 --hw 16x16
    """
    from accelsim.reporting.figure6 import FIGURE6_NETWORKS
    from accelsim.reporting.suite import figure6_panels, simulate_networks, write_figure6

    names = list(networks or FIGURE6_NETWORKS)
    check_output_dir(out or DEFAULT_OUT, "--out")
    specs = _specs(hws, pe, buffer, sets)
    with progress_bar(quiet) as progress:
        results = simulate_networks(names, specs, progress=progress)
    command = _command("figure6", ("--out", out), *_hw_options(hws, pe, buffer, sets), args=networks or ())
    _echo_paths(write_figure6(figure6_panels(results, names), out or DEFAULT_OUT, command))


@cli_errors
def figure7(
    out: OutOption = None,
    hws: HwListOption = None,
    pe: PeOption = None,
    buffer: BufferOption = None,
    sets: SetOption = None,
    energy_scale: EnergyScaleOption = 1.0,
    quiet: QuietOption = False,
    no_band: NoBandOption = False,
) -> None:
    """SqNxt Figure 7: top-1 against energy and against inference time for the Table 3 networks,
    circle area ~ sqrt(params); writes figure7.png/.svg/.csv.

    Example: accelsim report figure7 --out reports
    """
    from accelsim.reporting.suite import new_cache, simulate_networks, table3_bands, write_figure7
    from accelsim.reporting.table3 import TABLE3_NETWORKS, build_table3

    _check_scale(energy_scale)
    check_output_dir(out or DEFAULT_OUT, "--out")
    specs = _specs(hws, pe, buffer, sets)
    cache = new_cache()
    with progress_bar(quiet) as progress:
        results = simulate_networks(TABLE3_NETWORKS, specs, cache=cache, progress=progress)
        bands = None if no_band else table3_bands(TABLE3_NETWORKS, specs, cache=cache, progress=progress)
    command = _command("figure7", ("--out", out), *_hw_options(hws, pe, buffer, sets),
                       ("--energy-scale", energy_scale if energy_scale != 1.0 else None), ("--no-band", no_band))
    table = build_table3(results, energy_scale=energy_scale, bands=bands)
    _echo_paths(write_figure7(table, out or DEFAULT_OUT, command))


@cli_errors
def breakdown(
    network: Annotated[str, typer.Argument(
        help="Network name or alias, e.g. 1.0-SqNxt-23 or sqnxt23, a layer-graph JSON or an ONNX file.")],
    out: OutOption = None,
    hw: HwOption = None,
    pe: PeOption = None,
    buffer: BufferOption = None,
    sets: SetOption = None,
    quiet: QuietOption = False,
    input_shape: InputShapeOption = None,
) -> None:
    """Per-layer energy by memory level (stacked) and a roofline of one run; writes
    breakdown_<network>_<hardware>.png/.csv (e.g. breakdown_1.0-SqNxt-23_8x8_32KB).

    Example: accelsim report breakdown 1.0-SqNxt-23 --hw 16x16
    """
    from accelsim.cli.common import hardware_from_options
    from accelsim.reporting.suite import simulate_networks, write_breakdown

    check_output_dir(out or DEFAULT_OUT, "--out")
    spec = hardware_from_options(hw, pe, buffer, sets)
    with progress_bar(quiet) as progress:
        result = simulate_networks([network], [spec], progress=progress,
                                   input_shape=parse_input_shape(input_shape))[network][0]
    command = _command("breakdown", ("--out", out), ("--input-shape", input_shape), *_hw_options(hw, pe, buffer, sets),
                       args=[network])
    _echo_paths(write_breakdown(result, out or DEFAULT_OUT, command))


@cli_errors
def all_reports(
    out: OutOption = None,
    hws: HwListOption = None,
    pe: PeOption = None,
    buffer: BufferOption = None,
    sets: SetOption = None,
    energy_scale: EnergyScaleOption = 1.0,
    quiet: QuietOption = False,
    no_band: NoBandOption = False,
) -> None:
    """Everything: Table 3, Figures 6 and 7, the 1.0-SqNxt-23 breakdown and a README.md saying
    what produced each file, into --out (default reports/). Deterministic.

    Example: accelsim report all --out reports
    """
    from accelsim.reporting.suite import report_all

    _check_scale(energy_scale)
    check_output_dir(out or DEFAULT_OUT, "--out")
    specs = _specs(hws, pe, buffer, sets)
    command = _command("all", ("--out", out), *_hw_options(hws, pe, buffer, sets),
                       ("--energy-scale", energy_scale if energy_scale != 1.0 else None), ("--no-band", no_band))
    with progress_bar(quiet) as progress:
        done = report_all(out or DEFAULT_OUT, specs=specs, energy_scale=energy_scale, command=command,
                          progress=progress, bands=not no_band)
    _echo_paths([p for p, _ in done.files])


def _quote(word: str) -> str:
    return f"'{word}'" if any(c.isspace() for c in word) else word


def register(app: typer.Typer) -> None:
    """Add the ``report`` command group to ``app``."""
    report = typer.Typer(name="report", no_args_is_help=True, rich_markup_mode=None,
                         help="Regenerate the paper's Table 3, Figure 6, Figure 7 and per-run breakdowns.")
    for fn, name in ((table3, "table3"), (figure6, "figure6"), (figure7, "figure7"), (breakdown, "breakdown"),
                     (all_reports, "all")):
        report.command(name)(fn)
    app.add_typer(report, name="report")

