"""``accelsim run``: simulate one network on one accelerator and print the per-layer table.

    accelsim run sqnxt23                          # paper 16x16/128KB accelerator
    accelsim run sqnxt23v5 --hw 8x8               # paper 8x8/32KB accelerator
    accelsim run sqnxt23 --pe 8x8 --buffer 32KB --set dram.latency_cycles=50
    accelsim run sqnxt23 --depth 2,4,14,1 --stem 5 --first-unit serial --dataflow ws
    accelsim run sqnxt23 --json > result.json     # NetworkResult.to_dict()
    accelsim run sqnxt23 --csv layers.csv         # the per-layer table as CSV
    accelsim run model.onnx --input-shape 3,224,224   # an ONNX file (shape needed if symbolic)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from accelsim.cli.common import (
    BufferOption,
    DepthOption,
    FirstUnitOption,
    GroupsOption,
    HwOption,
    InputShapeOption,
    NetworkOptions,
    PeOption,
    SetOption,
    StemOption,
    WidthOption,
    check_output_files,
    cli_errors,
    fail,
    parse_input_shape,
)

if TYPE_CHECKING:
    from accelsim.results import LayerResult, NetworkResult

_DATAFLOWS = ("auto", "ws", "os")


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def _row(r: LayerResult) -> list[str]:
    layer = r.layer
    shape = f"{_shape(layer.in_shape)}>{_shape(layer.out_shape)}"
    if r.fused_into is not None:
        return [layer.name, layer.op, shape, f"{layer.macs:,}", "fused", f"into {r.fused_into}", "0", "-", "-", "-",
                "0", "0"]
    free = r.cycles == 0
    return [
        layer.name, layer.op, shape, f"{layer.macs:,}", r.dataflow.value,
        r.tiling.describe() if r.tiling else "-",
        f"{r.cycles:,.0f}", "-" if free else r.bound,
        "-" if free else f"{r.efficiency:.1f}", "-" if free else f"{r.utilisation:.0%}",
        f"{r.dram_bytes / 1024:,.1f}", f"{r.energy.total:.3g}",
    ]


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def render(result: NetworkResult) -> str:
    """The human-readable report: header line, per-layer table and totals."""
    from accelsim.hardware.load import format_frequency

    spec = result.hardware
    header = ["layer", "kind", "in>out CxHxW", "MACs", "flow", "tile [order]", "cycles", "bound", "MAC/cyc",
              "util", "DRAM KB", "energy"]
    table = _table(header, [_row(r) for r in result.layers], right={3, 6, 8, 9, 10, 11})
    e = result.energy_breakdown
    share = ", ".join(f"{name} {getattr(e, name):.3g} ({getattr(e, name) / e.total:.0%})"
                      for name in ("mac", "register_file", "inter_pe", "global_buffer", "dram")) if e.total else "-"
    dataflows = {d: sum(r.dataflow.value == d and r.fused_into is None for r in result.layers)
                 for d in ("ws", "os", "stream")}
    lines = [
        f"{result.network} on {spec.name} ({spec.label}, {format_frequency(spec.clock_hz)}), accelsim {result.version}",
        "",
        table,
        "",
        f"cycles   {result.cycles:,.0f}  ({result.time_s * 1e3:.3f} ms at {format_frequency(spec.clock_hz)}; "
        f"{result.efficiency:.1f} dense MACs/cycle, PE utilisation {result.utilisation:.0%})",
        f"energy   {result.energy:.4g} MAC units: {share}",
        *_band_lines(result),
        f"work     {result.macs:,} MACs ({result.macs_paper:,} paper convention), {result.params:,} params, "
        f"DRAM {result.dram_words * spec.word_bytes / 2**20:,.2f} MB",
        f"area     {result.area.describe()} at {spec.area.technology_nm:g} nm",
        f"layers   {len(result.layers)}: {dataflows['ws']} WS, {dataflows['os']} OS, {dataflows['stream']} streaming, "
        f"{sum(r.fused_into is not None for r in result.layers)} fused",
        "",
        "tile: output channels k, input channels c, output rows y and columns x per tile, loop order outermost "
        "first; MAC/cyc = dense MACs / cycles (the paper's efficiency; OS skips zero weights, so it can exceed "
        "the PE count); util = PE utilisation, non-zero MACs (or pool/add operations) / (cycles x PEs), "
        "at most 100%.",
    ]
    return "\n".join(lines)


def _band_lines(result: NetworkResult) -> list[str]:
    if result.cycles_band is None or result.energy_band is None:
        return []

    def rel(band: tuple[float, float], point: float) -> str:
        return f"{100 * (band[0] / point - 1):+.1f}%/{100 * (band[1] / point - 1):+.1f}%" if point else "-"

    c, e = result.cycles_band, result.energy_band
    return [f"band     cycles {c[0]:,.0f} .. {c[1]:,.0f} ({rel(c, result.cycles)}), energy {e[0]:.4g} .. {e[1]:.4g} "
            f"({rel(e, result.energy)}): the spread of {result.band_source}"]


@cli_errors
def run(
    network: Annotated[str, typer.Argument(
        help="Preset name or alias (see: accelsim networks), a layer-graph JSON file (accelsim export -o) "
             "or an ONNX file (.onnx).")],
    hw: HwOption = None,
    pe: PeOption = None,
    buffer: BufferOption = None,
    sets: SetOption = None,
    dataflow: Annotated[str, typer.Option(
        "--dataflow", metavar="auto|ws|os",
        help="auto: each layer runs its faster dataflow; ws/os: force it on every conv/FC layer.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as one JSON object.")] = False,
    csv: Annotated[Path | None, typer.Option("--csv", metavar="FILE", help="Also write the per-layer table as CSV.")]
    = None,
    no_band: Annotated[bool, typer.Option(
        "--no-band", help="Skip the error band (the calibration ensemble's spread; one simulation per member).")]
    = False,
    width: WidthOption = None,
    depth: DepthOption = None,
    stem: StemOption = None,
    first_unit: FirstUnitOption = None,
    groups: GroupsOption = None,
    input_shape: InputShapeOption = None,
) -> None:
    """Simulate a network on an accelerator: per-layer dataflow, tiling, cycles, DRAM and energy.

    Example: accelsim run sqnxt23v5 --hw 8x8
    """
    from accelsim.calibration.bands import with_band
    from accelsim.cli.common import hardware_from_options
    from accelsim.simulation import SimCache, resolve_graph, simulate_graph

    if dataflow.lower() not in _DATAFLOWS:
        fail(f"--dataflow: expected one of {', '.join(_DATAFLOWS)}; got {dataflow!r}")
    check_output_files(("--csv", csv))
    options = NetworkOptions.parse(width, depth, stem, first_unit, groups).overrides()
    spec = hardware_from_options(hw, pe, buffer, sets)
    graph = resolve_graph(network, parse_input_shape(input_shape), **options)
    cache = SimCache()
    result = simulate_graph(graph, spec, dataflow=dataflow.lower(), cache=cache)
    if not no_band:
        result = with_band(result, graph, cache=cache, dataflow=dataflow.lower())
    if csv is not None:
        from accelsim.reporting.writers import write_dataframe_csv

        write_dataframe_csv(result.to_dataframe(), csv)
    if as_json:
        typer.echo(json.dumps(result.to_dict()))
    else:
        typer.echo(render(result))
        if csv is not None:
            typer.echo(f"wrote {csv}")


def register(app: typer.Typer) -> None:
    """Add the ``run`` command."""
    app.command("run")(run)
