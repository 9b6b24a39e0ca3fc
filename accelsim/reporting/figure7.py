"""SqNxt Figure 7 regenerated: top-1 accuracy against energy and against inference time.

One row of two panels per hardware configuration (the larger PE array on top): energy on the
left, normalised inference time on the right, both from a :class:`~accelsim.reporting.table3.Table3`.
Each network is a labelled circle whose **area is proportional to the square root of its
parameter count** (the paper's encoding of model size). Accuracy is the paper's top-1 (not
simulated); rows without a paper accuracy are left out.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from accelsim.reporting.table3 import Table3

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Marker area (points^2) per sqrt(params in millions): 1.0-SqNxt-23 (0.72 M) gets ~100 pt^2,
#: AlexNet (61 M) ~900 pt^2, so the smallest circle stays visible and the largest hides nothing.
AREA_PER_SQRT_MPARAMS = 115.0


def marker_area(params: int) -> float:
    """Scatter marker area (points^2) of a network with ``params`` parameters."""
    return AREA_PER_SQRT_MPARAMS * math.sqrt(params / 1e6)


def figure7_records(table: Table3) -> list[dict[str, Any]]:
    """One row per (configuration, network) with a paper top-1: the data behind Figure 7."""
    out = []
    for c in table.configs:
        for r in table.rows:
            if r.paper is None:
                continue
            cell = r.cells[c.key]
            out.append({
                "hardware": c.label, "network": r.network, "top1": r.paper.top1, "params": r.params,
                "energy": cell.energy, "time": cell.time, "cycles": cell.cycles,
                "energy_low": cell.energy_band[0] if cell.energy_band else None,
                "energy_high": cell.energy_band[1] if cell.energy_band else None,
                "time_low": cell.time_band[0] if cell.time_band else None,
                "time_high": cell.time_band[1] if cell.time_band else None,
                "marker_area_pt2": marker_area(r.params),
            })
    return out


def plot_figure7(table: Table3, title: str | None = None) -> Figure:
    """Top-1 vs energy (left) and vs normalised time (right), one row per configuration.

    Returns the Figure; ``fig.axes`` are ``[energy_0, time_0, energy_1, time_1, ...]``, each
    with one scatter collection whose offsets are (x, top-1) per network in table order.
    """
    from matplotlib.lines import Line2D

    from accelsim.reporting.plotting import colour, new_figure, place_labels

    configs = sorted(table.configs, key=lambda c: -(c.spec.pe_array.rows * c.spec.pe_array.cols))
    rows = [r for r in table.rows if r.paper is not None]
    fig, axes = new_figure(13.0, 5.4 * len(configs) + 0.9, nrows=len(configs), ncols=2, squeeze=False)
    families = {r.network: _family(r.network) for r in rows}
    family_colours = {f: colour(i) for i, f in enumerate(dict.fromkeys(families.values()))}
    areas = [marker_area(r.params) for r in rows]
    ys = [r.paper.top1 for r in rows if r.paper]
    to_label = []
    for (ax_e, ax_t), config in zip(axes, configs, strict=True):
        for ax, metric in ((ax_e, "energy"), (ax_t, "time")):
            xs = [getattr(r.cells[config.key], metric) for r in rows]
            ax.scatter(xs, ys, s=areas, c=[family_colours[families[r.network]] for r in rows], alpha=0.55,
                       edgecolors="0.2", linewidths=0.7, zorder=3)
            bands = [getattr(r.cells[config.key], f"{metric}_band") for r in rows]
            if all(b is not None for b in bands):
                # the calibration ensemble's spread: horizontal error bars from low to high
                err = [[x - b[0] for x, b in zip(xs, bands, strict=True)],
                       [b[1] - x for x, b in zip(xs, bands, strict=True)]]
                ax.errorbar(xs, ys, xerr=err, fmt="none", ecolor="0.15", elinewidth=1.1, capsize=3.5, zorder=4)
                xs_range = [b[0] for b in bands] + [b[1] for b in bands]
            else:
                xs_range = xs
            _log_axis(ax, xs_range, metric)
            ax.set_ylim(min(ys) - 1.2, max(ys) + 1.2)
            ax.grid(True, which="both", linewidth=0.4, alpha=0.5)
            ax.set_ylabel("top-1 accuracy (%, paper)")
            if metric == "energy":
                spec_scale = table.spec_energy_scales()[config.label] * table.energy_scale
                scale = "" if spec_scale == 1.0 else f", cost table x {spec_scale:g}"
                ax.set_xlabel(f"energy per inference (10^9 MAC-energy units{scale}, log scale)")
            else:
                ax.set_xlabel(f"inference time (x the fastest on {config.label}, log scale)")
            ax.set_title(f"{config.label}: top-1 vs {'energy' if metric == 'energy' else 'inference time'}",
                         loc="left", fontsize=10, fontweight="bold")
            to_label.append((ax, xs))
    handles = [Line2D([], [], marker="o", linestyle="", markersize=8, markerfacecolor=c, markeredgecolor="0.2",
                      alpha=0.7, label=f) for f, c in family_colours.items()]
    handles += [Line2D([], [], marker="o", linestyle="", markersize=math.sqrt(marker_area(int(p * 1e6))),
                       markerfacecolor="none", markeredgecolor="0.3", label=f"{p:g} M params")
                for p in (1, 4, 60)]
    banded = any(r.cells[c.key].time_band is not None for r in rows for c in configs)
    legend_title = "colour: family; circle area proportional to sqrt(params)" + (
        "; bars: the calibration ensemble's band (low to high)" if banded else "")
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8.5, frameon=False,
               title=legend_title, title_fontsize=8.5,
               handletextpad=1.2, columnspacing=2.2, borderpad=1.0)
    fig.suptitle(title or "Top-1 accuracy against energy and inference time (Table 3 networks)", fontsize=11)
    fig.canvas.draw()  # fix the layout once; labels are then placed in display coordinates
    renderer = fig.canvas.get_renderer()
    radii = [math.sqrt(a) / 2 * fig.dpi / 72 for a in areas]
    for ax, xs in to_label:
        place_labels(ax, xs, ys, [short_name(r.network) for r in rows], radii, renderer=renderer)
    # labels were placed in display coordinates of this layout: keep it (and skip re-solving it)
    fig.set_layout_engine("none")
    return fig


def short_name(name: str) -> str:
    """Point label: SqueezeNext rows drop the family word (``1.0-SqNxt-23v5`` -> ``1.0-23v5``),
    which the colour legend carries; other names are kept."""
    return name.replace("-SqNxt-", "-")


def _family(name: str) -> str:
    if "SqNxt" in name:
        return name.split("-")[0] + "-SqNxt-23"
    return name.split(" v")[0]


def _log_axis(ax: Any, xs: list[float], metric: str) -> None:
    """Log x axis with room for circles and labels, and plain tick labels (``1.5``, not
    ``1.5x10^0``): times as multiples of the fastest, energies in units of 10^9."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    lo, hi = min(xs), max(xs)
    span = math.log10(hi / lo) if hi > lo else 0.3
    ax.set_xlim(lo / 10 ** (0.1 * span + 0.04), hi * 10 ** (0.22 * span + 0.04))
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 1.5, 2.0, 3.0, 5.0, 7.0)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    if metric == "energy":
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1e9:g}"))
    else:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"x{v:g}"))
