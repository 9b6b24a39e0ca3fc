"""``accelsim networks`` and ``accelsim export``: the network zoo and its layer graphs.

    accelsim networks                      # every preset: params, MACs, layers, beside the paper's numbers
    accelsim networks --json               # the same as a JSON list
    accelsim export sqnxt23v5              # per-layer table of one network
    accelsim export sqnxt23 --depth 2,4,14,1 --stem 5 --first-unit serial -o v5like.json
    accelsim export mobilenet -o mobilenet.graphml
    accelsim export sqnxt23 -o sqnxt23.onnx     # an ONNX file (torch's exporter, seeded weights)
    accelsim export model.onnx                  # the layers of an ONNX file

Graphs come from ``accelsim.workload.zoo.load_graph`` and its disk cache, so only the first
run pays for importing torch and exporting.
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
    InputShapeOption,
    NetworkOptions,
    StemOption,
    WidthOption,
    check_output_files,
    cli_errors,
    fail,
    parse_input_shape,
)

if TYPE_CHECKING:
    from accelsim.paper import Printed
    from accelsim.workload.graph import LayerGraph

_FORMATS = (".json", ".graphml", ".onnx")


def _match(printed: Printed | None, ours: float) -> bool | None:
    return None if printed is None else printed.agrees(ours)


def _delta(label: str, printed: Printed | None, ours: float) -> str:
    if printed is None or printed.agrees(ours):
        return ""
    return f"{label} {printed.relative_error(ours):+.1%}"


def network_rows() -> list[dict[str, Any]]:
    """One JSON-ready row per preset: our counts beside the paper's printed params and MACs."""
    from accelsim import paper
    from accelsim.workload import zoo
    from networks.registry import get_preset

    rows = []
    for name in zoo.list_presets():
        preset, graph = get_preset(name), zoo.load_graph(name)
        params_p, macs_p = paper.printed_params(name), paper.printed_macs(name)
        rows.append({
            "name": (preset.aliases or (name,))[0], "paper_name": name, "aliases": list(preset.aliases),
            "family": preset.family, "input_size": preset.input_size, "layers": len(graph),
            "params": graph.params, "macs": graph.macs, "macs_paper": graph.macs_paper,
            "paper_params_M": None if params_p is None else params_p.text,
            "paper_macs_M": None if macs_p is None else macs_p.text,
            "params_match": _match(params_p, graph.params / 1e6),
            "macs_match": _match(macs_p, graph.macs_paper / 1e6),
            "mismatch": ", ".join(filter(None, (_delta("params", params_p, graph.params / 1e6),
                                                _delta("MACs", macs_p, graph.macs_paper / 1e6)))),
            "notes": preset.notes,
        })
    return rows


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> str:
    """Plain fixed-width table; columns in ``right`` are right-aligned (numbers)."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


@cli_errors
def networks(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON list instead of a table.")] = False,
) -> None:
    """List every network preset with params and MACs beside the SqueezeNext paper's numbers.

    MACs: 'pure' counts multiply-accumulates; 'paper' adds one per conv/FC output (the
    convention that reproduces the paper's Table 3). 'match' is ok when every printed value
    agrees at the paper's precision, else the signed differences (explained in networks.md).
    Example: accelsim networks --json
    """
    rows = network_rows()
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        return
    body = [[r["name"], r["paper_name"], f"{r['input_size']}", f"{r['layers']}", f"{r['params'] / 1e6:.4f}",
             r["paper_params_M"] or "-", f"{r['macs'] / 1e6:.2f}", f"{r['macs_paper'] / 1e6:.2f}",
             r["paper_macs_M"] or "-",
             "-" if r["params_match"] is None and r["macs_match"] is None else (r["mismatch"] or "ok")]
            for r in rows]
    header = ["name", "paper name", "input", "layers", "params M", "paper", "MACs M", "paper-conv M",
              "paper", "match"]
    typer.echo(_table(header, body, right={2, 3, 4, 5, 6, 7, 8}))


def _layer_table(graph: LayerGraph) -> str:
    rows = []
    for layer in graph.layers():
        folded = "+".join(filter(None, ("bias" if layer.bias else "", "bn" if layer.bn else "", layer.act or "",
                                        *layer.post_ops)))
        geometry = "" if layer.op in ("add", "concat", "fc") else (
            "global" if layer.global_pool else
            f"{layer.kernel[0]}x{layer.kernel[1]}/{layer.stride[0]},{layer.stride[1]}"
            f" p{layer.padding[0]},{layer.padding[1]}")
        rows.append([layer.name, layer.op, "x".join(map(str, layer.in_shape)), "x".join(map(str, layer.out_shape)),
                     geometry, f"{layer.groups}", folded, f"{layer.params:,}", f"{layer.macs:,}"])
    header = ["layer", "op", "in CxHxW", "out CxHxW", "k/s pad", "g", "folded", "params", "MACs"]
    total = (f"{graph.name}: {len(graph)} layers, {graph.params:,} params, {graph.macs:,} MACs "
             f"({graph.macs_paper:,} under the paper's convention), input {'x'.join(map(str, graph.input_shape))}")
    return _table(header, rows, right={5, 7, 8}) + "\n" + total


@cli_errors
def export(
    network: Annotated[str, typer.Argument(
        help="Preset name or alias (see: accelsim networks), or an ONNX / layer-graph JSON file to convert.")],
    output: Annotated[Path | None, typer.Option(
        "-o", "--output", metavar="FILE", help="Write the graph: FILE.json (accelsim layer graph), "
        "FILE.graphml (graph tools) or FILE.onnx (the network as ONNX, presets only). Without it, print a "
        "per-layer table.")] = None,
    width: WidthOption = None,
    depth: DepthOption = None,
    stem: StemOption = None,
    first_unit: FirstUnitOption = None,
    groups: GroupsOption = None,
    num_classes: Annotated[int | None, typer.Option("--num-classes", metavar="K", help="Classifier outputs.")] = None,
    input_size: Annotated[int | None, typer.Option(
        "--input-size", metavar="S", help="Square input side in pixels (default: the preset's, 227 or 224).")] = None,
    input_shape: InputShapeOption = None,
) -> None:
    """Export a network's layer graph (JSON or GraphML) or the network itself (ONNX), or print its layers.

    Example: accelsim export sqnxt23 --depth 2,4,14,1 -o variant.json
    """
    from accelsim.workload.zoo import load_graph, resolve, write_onnx

    suffix = output.suffix.lower() if output is not None else None
    if output is not None and suffix not in _FORMATS:
        fail(f"{output}: unknown extension {output.suffix or '(none)'!r}; expected .json, .graphml or .onnx")
    check_output_files(("--output", output))
    options = NetworkOptions.parse(width, depth, stem, first_unit, groups).overrides()
    shape = parse_input_shape(input_shape)
    is_file = network.lower().endswith((".onnx", ".json"))
    if is_file and (num_classes is not None or input_size is not None):
        fail(f"{network}: --num-classes and --input-size apply to presets; use --input-shape for a file")
    if is_file and suffix == ".onnx":
        fail(f"{output}: writing ONNX needs a zoo preset (a torch module to export); {network} is a file")
    if not is_file and shape is not None:
        if input_size is not None or shape[1] != shape[2]:
            fail(f"--input-shape {input_shape}: a preset takes a square input; give --input-size or C,H,H")
        input_size = shape[1]
    if suffix == ".onnx":
        graph = write_onnx(network, output, num_classes=num_classes, input_size=input_size, **options)  # type: ignore
    elif is_file:
        graph = resolve(network, shape, **options)
    else:
        graph = load_graph(network, num_classes=num_classes, input_size=input_size, **options)
    if output is None:
        typer.echo(_layer_table(graph))
        return
    if suffix == ".json":
        graph.save_json(output)
    elif suffix == ".graphml":
        graph.write_graphml(output)
    typer.echo(f"{output}: {graph.name}, {len(graph)} layers, {graph.params:,} params, {graph.macs:,} MACs")


def register(app: typer.Typer) -> None:
    """Add the ``networks`` and ``export`` commands."""
    app.command("networks")(networks)
    app.command("export")(export)
