"""The co-design figure: two projections of the joint Pareto front, coloured by energy.

**Left**: cycles per inference against silicon area (mm², log scale). Every feasible design
point is a light grey dot (at most 60,000 drawn, evenly spaced in the result's order, so the
picture does not depend on chance); the Pareto front over (cycles, energy, area, params) is
drawn in colour, its colour the energy (colour bar, units of one MAC's energy), and its lower
envelope in this projection (the fastest design at each area or less) is a staircase. The
paper's networks v1-v5 on the paper's two accelerators (8x8/32KB and 16x16/128KB) are stars
(black edge: the point is on the joint front; white edge: dominated), labelled ``v5 16x16``.

**Right**: cycles against parameters (millions), the same points and colours, so the front's
trade of model size for speed reads next to its trade of area for speed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from accelsim.codesign.joint import CodesignResult
from accelsim.reporting.plotting import new_figure, place_labels

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_MAX_BACKGROUND = 60_000


def _staircase(x: np.ndarray, y: np.ndarray) -> tuple[list[float], list[float]]:
    """The running minimum of ``y`` over increasing ``x``, as steps."""
    order = np.lexsort((y, x))
    xs, ys = [], []
    best = np.inf
    for k in order:
        if y[k] < best:
            if xs:
                xs.append(float(x[k]))
                ys.append(best)
            xs.append(float(x[k]))
            ys.append(float(y[k]))
            best = y[k]
    return xs, ys


def _clusters(refs: tuple) -> list[list[int]]:  # type: ignore[type-arg]
    """Reference indices grouped by hardware, runs of cycles within 3% sharing one label."""
    order = sorted(range(len(refs)), key=lambda k: (refs[k].hardware, refs[k].cycles))
    groups: list[list[int]] = []
    for k in order:
        last = groups[-1] if groups else None
        if last and refs[last[0]].hardware == refs[k].hardware and refs[k].cycles <= refs[last[0]].cycles * 1.03:
            last.append(k)
        else:
            groups.append([k])
    return groups


def _cluster_label(members: list) -> str:  # type: ignore[type-arg]
    """``v2-v5 8x8`` for a run of consecutive versions, ``v1, v3 8x8`` otherwise."""
    labels = sorted(r.label for r in members)
    numbers = [int(x[1:]) for x in labels if x[1:].isdigit()]
    hardware = members[0].hardware.split("/")[0]
    if len(numbers) == len(labels) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"v{numbers[0]}-v{numbers[-1]} {hardware}"
    return f"{', '.join(labels)} {hardware}"


def plot_codesign(result: CodesignResult, title: str | None = None) -> Figure:
    """Build the figure (not saved: ``fig.savefig(path)``); see the module docstring."""
    from matplotlib.colors import LogNorm

    fig, (left, right) = new_figure(13.0, 5.4, ncols=2)
    m = result.n_points
    feasible = np.flatnonzero(result.feasible.ravel())
    step = max(1, len(feasible) // _MAX_BACKGROUND)
    background = feasible[::step]
    bi, bj = np.divmod(background, m)
    front = result.front
    fi, fj = np.divmod(front, m)
    cycles = result.cycles.ravel()
    energy = result.energy.ravel()
    f_energy = energy[front]
    norm = LogNorm(vmin=float(f_energy.min()), vmax=float(max(f_energy.max(), f_energy.min() * 1.0001)))
    panels = ((left, result.area, "silicon area (mm², log scale)", bj, fj, True),
              (right, result.params / 1e6, "parameters (millions)", bi, fi, False))
    dots = None
    for ax, values, xlabel, b_index, f_index, is_area in panels:
        ax.scatter(values[b_index], cycles[background], s=3, color="0.82", linewidths=0, zorder=1,
                   label=f"feasible designs ({len(feasible):,}" + (f", 1 in {step} drawn)" if step > 1 else ")"))
        dots = ax.scatter(values[f_index], cycles[front], c=f_energy, cmap="viridis", norm=norm, s=12,
                          linewidths=0, zorder=3, label=f"Pareto front over cycles, energy, area, params "
                                                             f"({len(front):,})")
        sx, sy = _staircase(values[f_index], cycles[front])
        ax.plot(sx, sy, color="crimson", lw=1.0, zorder=4, label="fastest design at this " +
                ("area" if is_area else "size") + " or less")
        refs = result.references
        if refs:
            rx = [r.area_mm2 if is_area else r.params / 1e6 for r in refs]
            ry = [r.cycles for r in refs]
            edges = ["black" if r.on_front else "white" for r in refs]
            ax.scatter(rx, ry, marker="*", s=170, color="orange", edgecolors=edges, linewidths=1.0, zorder=6,
                       label="paper's v1-v5 on 8x8/32KB and 16x16/128KB (black edge: on the front)")
        if is_area:
            ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("cycles per inference (log scale)")
        ax.grid(True, which="both", lw=0.3, alpha=0.5)
        if refs:
            fig.canvas.draw()
            lx, ly, texts = [], [], []
            for members in _clusters(refs):
                lx.append(float(np.mean([rx[k] for k in members])))
                ly.append(float(np.exp(np.mean([np.log(ry[k]) for k in members]))))
                texts.append(_cluster_label([refs[k] for k in members]))
            place_labels(ax, lx, ly, texts, [9.0] * len(texts), fontsize=7.0)
    left.legend(loc="upper center", fontsize=7.0, framealpha=0.9)
    bar = fig.colorbar(dots, ax=[left, right], pad=0.01)
    bar.set_label("energy per inference of front designs (units of one MAC's energy)")
    fig.suptitle(title or (f"codesign {result.network}: {result.size:,} design points "
                           f"({result.n_candidates:,} networks x {result.n_points} hardware points), "
                           f"objective {result.objective.value}"), fontsize=10)
    return fig
