"""One run in detail: per-layer energy by memory level, and a roofline of every layer.

**Energy panel**: one stacked bar per layer (execution order) with the energy spent at each
level (``mac``, ``register_file``, ``inter_pe``, ``global_buffer``, ``dram``; MAC units).

**Roofline panel** (log-log): each MAC layer at (arithmetic intensity, MACs per cycle), with

* arithmetic intensity = pure MACs / DRAM bytes moved by the layer (MACs/byte);
* the compute roof ``Pr*Pc`` MACs/cycle (dense) and, when OS is allowed and the spec has
  weight sparsity sigma, the effective OS roof ``Pr*Pc / (1 - sigma)``: OS skips zero
  weights, so in dense-MAC terms it can exceed the PE count;
* the bandwidth roof ``AI * B`` with ``B = bandwidth_bytes_per_s / clock_hz`` bytes/cycle.

Points are coloured by the dataflow the layer ran in. Layers that move no DRAM bytes have no
finite intensity and are left out of the roofline (counted in the panel title).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from accelsim.hardware.spec import Dataflow
from accelsim.results import LEVELS, NetworkResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_LEVEL_COLOURS = {"mac": "#4c72b0", "register_file": "#55a868", "inter_pe": "#8172b2",
                  "global_buffer": "#ccb974", "dram": "#c44e52"}
_FLOW_STYLE = {Dataflow.WS: ("#1f77b4", "o"), Dataflow.OS: ("#ff7f0e", "s"), Dataflow.STREAM: ("#7f7f7f", "^")}


def breakdown_records(result: NetworkResult) -> list[dict[str, Any]]:
    """One row per layer: dataflow, cycles, MACs, DRAM bytes, intensity, efficiency, energy by level."""
    out = []
    for lr in result.layers:
        record: dict[str, Any] = {
            "layer": lr.layer.name, "kind": lr.layer.op, "dataflow": lr.dataflow.value, "bound": lr.bound,
            "cycles": lr.cycles, "macs": lr.macs, "dram_bytes": lr.dram_bytes,
            "arithmetic_intensity_macs_per_byte": lr.macs / lr.dram_bytes if lr.dram_bytes else math.nan,
            "efficiency_macs_per_cycle": lr.efficiency, "utilisation": lr.utilisation,
        }
        record |= {f"energy_{level}": getattr(lr.energy, level) for level in LEVELS}
        record["energy_total"] = lr.energy.total
        out.append(record)
    return out


def roofs(result: NetworkResult) -> dict[str, float]:
    """The roofline's constants: ``compute`` and ``os_effective`` (MACs/cycle; equal if OS is not
    allowed or sigma = 0) and ``bandwidth_bytes_per_cycle``."""
    spec = result.hardware
    peak = float(spec.pe_array.rows * spec.pe_array.cols)
    sigma = spec.sparsity.weight_sparsity if Dataflow.OS in spec.dataflows else 0.0
    return {"compute": peak, "os_effective": peak / (1.0 - sigma),
            "bandwidth_bytes_per_cycle": spec.dram.bandwidth_bytes_per_s / spec.clock_hz}


def _tick_labels(names: list[str]) -> list[str]:
    """Readable x tick labels for many layers: each unit's first layer (``s1u1``), other blocks
    by name; a layer within the same block as the previous one gets no label."""
    from accelsim.reporting.figure6 import unit_position

    labels, previous = [], None
    for name in names:
        pos = unit_position(name)
        block = f"s{pos[0]}u{pos[1]}" if pos else name.split(".")[0]
        labels.append(block if block != previous else "")
        previous = block
    last = -10
    for i, label in enumerate(labels):  # rotated labels closer than 3 bars would overlap
        if label:
            if i - last < 3:
                labels[i] = ""
            else:
                last = i
    if sum(1 for label in labels if label) > 60:
        step = math.ceil(sum(1 for label in labels if label) / 60)
        kept = 0
        for i, label in enumerate(labels):
            if label:
                labels[i] = label if kept % step == 0 else ""
                kept += 1
    return labels


def plot_breakdown(result: NetworkResult, title: str | None = None) -> Figure:
    """Stacked per-layer energy (top) and the roofline (bottom) of one run.

    Returns the Figure; ``fig.axes[0]`` holds one bar container per energy level (in
    :data:`~accelsim.results.LEVELS` order), ``fig.axes[1]`` the roofline (the roofs are
    its lines, the layers its scatter collections, one per dataflow used).
    """
    import numpy as np

    from accelsim.reporting.plotting import new_figure

    layers = [lr for lr in result.layers if lr.energy.total > 0]
    fig, (ax_e, ax_r) = new_figure(max(12.0, 0.09 * len(layers) + 4.0), 10.5, nrows=2, ncols=1,
                                   height_ratios=[1.0, 1.15])
    x = np.arange(len(layers))
    bottom = np.zeros(len(layers))
    for level in LEVELS:
        values = np.array([getattr(lr.energy, level) for lr in layers]) / 1e6
        ax_e.bar(x, values, 0.85, bottom=bottom, color=_LEVEL_COLOURS[level], label=level.replace("_", " "))
        bottom += values
    ax_e.set_xticks(x, _tick_labels([lr.layer.name for lr in layers]), rotation=90, fontsize=7)
    ax_e.tick_params(axis="x", length=0)
    ax_e.set_xlim(-0.7, len(layers) - 0.3)
    ax_e.set_ylabel("energy per layer (millions of MAC-energy units)")
    ax_e.set_xlabel("layers in execution order (tick: first layer of each unit/block)")
    ax_e.legend(ncols=len(LEVELS), fontsize=8, loc="upper right", title="memory level", title_fontsize=8)
    ax_e.set_title(f"Energy by memory level: total {result.energy:.3g} MAC units", loc="left", fontsize=10,
                   fontweight="bold")
    ax_e.grid(axis="y", linewidth=0.4, alpha=0.5)
    ax_e.set_axisbelow(True)

    roof = roofs(result)
    points = [lr for lr in result.layers if lr.macs > 0 and lr.dram_bytes > 0]
    skipped = sum(1 for lr in result.layers if lr.macs > 0 and lr.dram_bytes <= 0)
    ai = [lr.macs / lr.dram_bytes for lr in points]
    lo = min(ai + [1.0]) / 3
    hi = max(ai + [roof["os_effective"] / roof["bandwidth_bytes_per_cycle"]]) * 3
    grid = np.geomspace(lo, hi, 200)
    bw = roof["bandwidth_bytes_per_cycle"]
    ax_r.plot(grid, np.minimum(grid * bw, roof["compute"]), color="black", linewidth=1.5,
              label=f"roof: min(Pr*Pc = {roof['compute']:g}, AI x {bw:g} B/cycle)")
    if roof["os_effective"] > roof["compute"]:
        ax_r.plot(grid, np.minimum(grid * bw, roof["os_effective"]), color="black", linewidth=1.0,
                  linestyle="--", label=f"OS effective roof Pr*Pc/(1-sigma) = {roof['os_effective']:.4g}")
    for flow, (col, marker) in _FLOW_STYLE.items():
        sel = [(a, lr) for a, lr in zip(ai, points, strict=True) if lr.dataflow is flow]
        if sel:
            ax_r.scatter([a for a, _ in sel], [lr.efficiency for _, lr in sel], s=22, color=col, marker=marker,
                         alpha=0.75, edgecolors="0.2", linewidths=0.4, label=f"layers in {flow.value.upper()}",
                         zorder=3)
    ax_r.set_xscale("log")
    ax_r.set_yscale("log")
    ax_r.set_xlim(lo, hi)
    slowest = sorted(range(len(points)), key=lambda i: (-points[i].cycles, i))[:3]
    for i in slowest:  # name the layers that cost the most time
        ax_r.annotate(points[i].layer.name, (ai[i], points[i].efficiency), xytext=(6, -10), textcoords="offset points",
                      fontsize=7.5, color="0.2")
    ax_r.set_xlabel("arithmetic intensity (MACs per DRAM byte, log scale)")
    ax_r.set_ylabel("performance (MACs/cycle, log scale)")
    note = f"; {skipped} layers without DRAM traffic not shown" if skipped else ""
    ax_r.set_title(f"Roofline: one point per MAC layer (the 3 slowest named){note}", loc="left", fontsize=10,
                   fontweight="bold")
    ax_r.grid(True, which="both", linewidth=0.4, alpha=0.4)
    ax_r.legend(fontsize=8, loc="lower right")
    fig.suptitle(title or f"{result.network} on {result.hardware.label}: energy breakdown and roofline",
                 fontsize=11)
    return fig
