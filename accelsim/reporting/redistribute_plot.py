"""The depth-redistribution figure: every candidate's cycles against its params, coloured by energy.

**Main panel**: one dot per feasible candidate at (params in millions, cycles per inference),
its colour the simulated energy (colour bar, units of one MAC's energy). The Pareto front over
(cycles, energy, params) is ringed and joined in order of params; since the front is
three-dimensional, a ringed point can sit above its neighbours here when it wins on energy.
The base network is a large diamond; the paper's networks of the same width (v1-v5 at width
1.0) are stars labelled ``v1`` ... ``v5``; the best candidate is labelled with its depth.

**Accuracy panel** (only when candidates were trained, ``--train-top``): measured top-1
against cycles for the trained candidates and the base, each labelled with its depth.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accelsim.codesign.result import Candidate, RedistributionResult, ReferencePoint
from accelsim.reporting.plotting import new_figure, place_labels

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_MILLION = 1e6


def _depth_text(c: Candidate | ReferencePoint) -> str:
    return "[" + ",".join(map(str, c.depth)) + "]"


def plot_redistribution(result: RedistributionResult, title: str | None = None) -> Figure:
    """Build the figure (not saved: ``fig.savefig(path)``); see the module docstring."""
    trained = [c for c in (*result.ranked(), result.base) if c.measured is not None]
    trained = list({c.depth: c for c in trained}.values())
    fig, axes = new_figure(12.5 if trained else 8.0, 5.6, ncols=2 if trained else 1, squeeze=False)
    ax = axes[0][0]
    feasible = result.ranked()
    xs = [c.params / _MILLION for c in feasible]
    ys = [c.cycles for c in feasible]
    dots = ax.scatter(xs, ys, c=[c.energy for c in feasible], cmap="viridis", s=14, linewidths=0,
                      zorder=2, label=f"candidates ({len(feasible)})")
    bar = fig.colorbar(dots, ax=ax, pad=0.01)
    bar.set_label("energy per inference (units of one MAC's energy)")

    front = sorted(result.pareto_front(), key=lambda c: (c.params, c.cycles))
    ax.plot([c.params / _MILLION for c in front], [c.cycles for c in front], color="0.25", lw=0.8,
            ls="--", zorder=3)
    ax.scatter([c.params / _MILLION for c in front], [c.cycles for c in front], s=46, facecolors="none",
               edgecolors="crimson", linewidths=1.1, zorder=4,
               label=f"Pareto front over cycles, energy, params ({len(front)})")

    label_x, label_y, label_text, label_r = [], [], [], []
    refs = result.references
    if refs:
        ax.scatter([r.params / _MILLION for r in refs], [r.cycles for r in refs], marker="*", s=150,
                   color="orange", edgecolors="black", linewidths=0.6, zorder=5,
                   label="paper's networks (" + ", ".join(r.label for r in refs) + ")")
    base = result.base
    for r in refs:
        same_as_base = r.depth == base.depth and r.params == base.params and r.cycles == base.cycles
        label_x.append(r.params / _MILLION)
        label_y.append(r.cycles)
        label_text.append(("base = " if same_as_base else "") + f"{r.label} {_depth_text(r)}")
        label_r.append(8.0)
    base_labelled = any(t.startswith("base = ") for t in label_text)
    ax.scatter([base.params / _MILLION], [base.cycles], marker="D", s=80, facecolors="none",
               edgecolors="black", linewidths=1.5, zorder=6, label=f"base {result.network} {_depth_text(base)}")
    best = result.best
    if not base_labelled:
        label_x.append(base.params / _MILLION)
        label_y.append(base.cycles)
        label_text.append(f"base {_depth_text(base)}")
        label_r.append(7.0)
    label_x.append(best.params / _MILLION)
    label_y.append(best.cycles)
    label_text.append(f"best ({result.objective.value}) {_depth_text(best)}")
    label_r.append(6.0)

    ax.set_xlabel("parameters (millions)")
    ax.set_ylabel(f"cycles per inference ({result.hardware.label})")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 0))
    ax.grid(True, lw=0.3, alpha=0.5)
    ax.legend(loc="best", fontsize=7.5, framealpha=0.85)
    ax.set_title(title or (f"{result.network}: depth redistribution on {result.hardware.label} "
                           f"({result.evaluated} candidates, {result.method.value})"), fontsize=10)
    place_labels(ax, label_x, label_y, label_text, label_r)

    if trained:
        acc = axes[0][1]
        acc.scatter([c.cycles for c in trained], [c.measured.top1 for c in trained if c.measured],
                    c=["black" if c.depth == base.depth else "tab:blue" for c in trained], zorder=3)
        acc.set_xlabel(f"cycles per inference ({result.hardware.label})")
        acc.set_ylabel("measured top-1 accuracy (%)")
        info = result.training or {}
        acc.set_title(f"measured accuracy: {info.get('epochs', '?')} epoch(s), seed {info.get('seed', '?')}\n"
                      f"data {info.get('data', '?')}", fontsize=9)
        acc.ticklabel_format(axis="x", style="sci", scilimits=(0, 0))
        acc.grid(True, lw=0.3, alpha=0.5)
        place_labels(acc, [c.cycles for c in trained], [c.measured.top1 for c in trained if c.measured],
                     [("base " if c.depth == base.depth else "") + _depth_text(c) for c in trained],
                     [4.0] * len(trained))
    return fig
