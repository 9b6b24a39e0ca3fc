"""The hardware-sweep figure; its form follows the number of varied fields.

* **One field** (``line``): two panels, cycles and energy per inference against the field's
  values, one line per network. A numeric field is a real x axis (logarithmic when its values
  span 8x or more, as sizes and bandwidths usually do); any other field (``pe``, booleans) is
  spaced evenly in the order given. Infeasible points leave a gap.
* **Two fields** (``heatmap``): per network a cycles and an energy heatmap, first field down
  the rows, second across the columns, every cell annotated; infeasible cells are grey and
  marked, Pareto-front cells (over cycles and energy) have a red outline.
* **Three or more, or none** (``scatter``): per network, energy against cycles, one colour per
  value of ``colour_by`` (default the first field), the Pareto front drawn as a staircase.

Units: cycles per inference at the point's clock; energy in units of one MAC's energy.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from accelsim.codesign.hw_sweep import SweepPoint, SweepResult
from accelsim.errors import SpecError
from accelsim.hardware.overrides import UNIT_SUFFIXES
from accelsim.reporting.plotting import colour, new_figure

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_METRICS = (("cycles", "cycles per inference"), ("energy", "energy per inference (MAC units)"))


def axis_title(key: str) -> str:
    """A field path without its unit suffix (``dram.bandwidth_bytes_per_s`` -> ``dram.bandwidth``)."""
    return next((key.removesuffix(s) for s in UNIT_SUFFIXES if key.endswith(s)), key)


def plot_kind(result: SweepResult) -> str:
    """``"line"``, ``"heatmap"`` or ``"scatter"`` (see the module docstring)."""
    return {1: "line", 2: "heatmap"}.get(len(result.axes), "scatter")


def plot_sweep(result: SweepResult, colour_by: str | None = None, title: str | None = None) -> Figure:
    """Build the figure (not saved: ``fig.savefig(path)``).

    ``colour_by``: the field that colours the scatter (an axis key, its unit-free title, or
    ``pe``); ignored by the line and heatmap forms. Raises SpecError for a field not varied.
    """
    kind = plot_kind(result)
    head = title or (f"{', '.join(result.networks)}: {result.size} hardware points around "
                     f"{result.base.name} ({result.base.label})")
    if kind == "line":
        fig = _line(result)
    elif kind == "heatmap":
        fig = _heatmaps(result)
        head += "\nred outline: on the network's Pareto front over (cycles, energy); grey: infeasible"
    else:
        fig = _scatter(result, _colour_axis(result, colour_by))
    fig.suptitle(head, fontsize=10)
    return fig


def _value(p: SweepPoint, metric: str) -> float:
    value = getattr(p, metric)
    return math.nan if value is None else float(value)


def _line(result: SweepResult) -> Figure:
    axis = result.axes[0]
    fig, axes = new_figure(11.0, 4.4, ncols=2)
    numeric = axis.numeric
    xs = [float(v) for v in axis.values] if numeric else list(range(len(axis.values)))
    log_x = numeric and min(xs) > 0 and max(xs) / min(xs) >= 8
    for ax, (metric, label) in zip(axes, _METRICS, strict=True):
        for n, network in enumerate(result.networks):
            rows = sorted(result.rows(network), key=lambda p: p.point)
            ys = [_value(p, metric) for p in rows]
            ax.plot(xs, ys, marker="o", ms=4, lw=1.4, color=colour(n), label=network)
        ax.set_xticks(xs, list(axis.labels), rotation=30 if len(xs) > 6 else 0)
        if log_x:
            ax.set_xscale("log")
            ax.set_xticks(xs, list(axis.labels))
            ax.minorticks_off()
        ax.set_xlabel(axis_title(axis.key))
        ax.set_ylabel(label)
        ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
        ax.grid(True, lw=0.3, alpha=0.5)
        ax.legend(fontsize=8, loc="best")
    infeasible = sorted({p.labels[0] for p in result.infeasible()})
    if infeasible:
        axes[0].set_title(f"infeasible (gap): {', '.join(infeasible)}", fontsize=8)
    return fig


def _short(value: float) -> str:
    """Compact cell text: 1,212,813 -> '1.21M', 2.56e9 -> '2.56G'."""
    for factor, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.3g}{suffix}"
    return f"{value:.3g}"


def _heatmaps(result: SweepResult) -> Figure:
    import numpy as np

    rows_axis, cols_axis = result.axes
    n_rows, n_cols = len(rows_axis.values), len(cols_axis.values)
    cell_in = 0.62 if n_cols <= 8 else 0.4
    fig, grid = new_figure(max(8.0, 2 * (n_cols * cell_in + 2.2)),
                           len(result.networks) * max(2.6, n_rows * 0.42 + 1.4),
                           nrows=len(result.networks), ncols=2, squeeze=False)
    annotate = n_rows * n_cols <= 144
    for r, network in enumerate(result.networks):
        rows = result.rows(network)
        for c, (metric, label) in enumerate(_METRICS):
            ax: Axes = grid[r][c]
            data = np.full((n_rows, n_cols), np.nan)
            for k, p in enumerate(rows):  # grid order: first axis slowest
                data[k // n_cols, k % n_cols] = _value(p, metric)
            finite = data[np.isfinite(data)]
            # a tiny buffer can cost 10x the rest: a log scale keeps the other cells apart
            log = finite.size > 0 and finite.min() > 0 and finite.max() / finite.min() >= 10
            image = ax.imshow(np.ma.masked_invalid(data), cmap=_cmap(), aspect="auto", origin="upper",
                              norm="log" if log else None)
            bar = fig.colorbar(image, ax=ax, pad=0.02)
            bar.set_label(label + (", log scale" if log else ""), fontsize=8)
            if not log:
                bar.formatter.set_powerlimits((0, 0))
            ax.set_xticks(range(n_cols), list(cols_axis.labels), rotation=30 if n_cols > 6 else 0, fontsize=8)
            ax.set_yticks(range(n_rows), list(rows_axis.labels), fontsize=8)
            ax.set_xlabel(axis_title(cols_axis.key))
            ax.set_ylabel(axis_title(rows_axis.key))
            ax.set_title(f"{network}: {metric}", fontsize=9)
            scale = np.log if log else (lambda v: v)
            middle = float(scale(finite.min()) + scale(finite.max())) / 2 if finite.size else 0.0
            for k, p in enumerate(rows):
                y, x = divmod(k, n_cols)
                if not p.feasible:
                    ax.text(x, y, "infeasible", ha="center", va="center", fontsize=6.5, color="0.2")
                    continue
                if annotate:
                    ax.text(x, y, _short(data[y, x]), ha="center", va="center", fontsize=7,
                            color="white" if scale(data[y, x]) < middle else "black")
                if p.pareto:
                    ax.add_patch(_outline(x, y))
    return fig


def _cmap() -> Any:
    from matplotlib import colormaps

    return colormaps["viridis"].with_extremes(bad="0.85")  # infeasible cells: light grey


def _outline(x: float, y: float) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x - 0.46, y - 0.46), 0.92, 0.92, fill=False, edgecolor="crimson", lw=1.6)


def _colour_axis(result: SweepResult, colour_by: str | None) -> int | None:
    if not result.axes:
        return None
    if colour_by is None:
        return 0
    for i, axis in enumerate(result.axes):
        if colour_by in (axis.key, axis_title(axis.key)):
            return i
    raise SpecError(f"--colour-by {colour_by}: not a varied field; expected one of "
                    f"{', '.join(axis_title(a.key) for a in result.axes)}")


def _scatter(result: SweepResult, colour_index: int | None) -> Figure:
    count = len(result.networks)
    ncols = min(count, 2)
    nrows = math.ceil(count / ncols)
    fig, grid = new_figure(6.2 * ncols + 0.6, 4.8 * nrows, nrows=nrows, ncols=ncols, squeeze=False)
    for i, network in enumerate(result.networks):
        ax: Axes = grid[i // ncols][i % ncols]
        feasible = [p for p in result.rows(network) if p.feasible]
        if colour_index is None:
            groups = [("all points", feasible)]
        else:
            axis = result.axes[colour_index]
            groups = [(f"{axis_title(axis.key)} = {label}", [p for p in feasible if p.labels[colour_index] == label])
                      for label in axis.labels]
        for g, (label, points) in enumerate(groups):
            ax.scatter([p.cycles for p in points], [p.energy for p in points], s=18, color=colour(g), alpha=0.85,
                       linewidths=0, zorder=2, label=f"{label} ({len(points)})")
        front = result.pareto(network)
        if front:
            xs, ys = [p.cycles for p in front], [p.energy for p in front]
            ax.step(xs, ys, where="post", color="crimson", lw=1.1, zorder=3)
            ax.scatter(xs, ys, s=60, facecolors="none", edgecolors="crimson", linewidths=1.2, zorder=4,
                       label=f"Pareto front ({len(front)})")
        ax.set_xlabel("cycles per inference")
        ax.set_ylabel("energy per inference (MAC units)")
        ax.ticklabel_format(axis="both", style="sci", scilimits=(0, 0))
        infeasible = len(result.infeasible(network))
        ax.set_title(network + (f" ({infeasible} infeasible points not shown)" if infeasible else ""), fontsize=9)
        ax.grid(True, lw=0.3, alpha=0.5)
        ax.legend(fontsize=7.5, loc="best", framealpha=0.85)
    for j in range(count, nrows * ncols):
        grid[j // ncols][j % ncols].set_visible(False)
    return fig
