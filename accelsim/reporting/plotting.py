"""Matplotlib helpers shared by the figures: Agg figures without pyplot, label placement.

Figures are built as ``matplotlib.figure.Figure`` objects with an Agg canvas attached, never
through ``pyplot``: no global backend switch (safe inside a notebook or a GUI program), no
figure registry to leak, and the same pixels on every machine. matplotlib is imported inside
the functions so importing :mod:`accelsim.reporting` stays cheap.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: Colours of successive series (matplotlib's tab10, colour-blind friendlier than the default cycle).
PALETTE: tuple[str, ...] = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                            "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


def new_figure(width_in: float, height_in: float, **subplot_kw: Any) -> tuple[Figure, Any]:
    """A Figure of ``width_in`` x ``height_in`` inches on an Agg canvas, with constrained layout,
    and its axes (``Figure.subplots(**subplot_kw)``)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(**subplot_kw)
    return fig, axes


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def place_labels(ax: Axes, xs: Sequence[float], ys: Sequence[float], texts: Sequence[str],
                 radii_px: Sequence[float], fontsize: float = 7.5, renderer: Any = None) -> list[Any]:
    """Annotate points without overlapping labels, deterministically.

    Each label tries, in a fixed order, offsets around its point (right, left, above, below,
    diagonals, then the same further out) and takes the first whose box overlaps no placed
    label, no marker and does not leave the axes; if none is free it takes the least-overlapping
    one. A thin leader line joins a label placed away from its marker. Points are placed
    largest marker first.

    Args:
        ax: axes whose limits and layout are final (``renderer`` comes from a draw after them).
        xs, ys: data coordinates of the points.
        texts: one label per point.
        radii_px: marker radius of each point, in display pixels.
        renderer: the canvas renderer after a draw (drawn here if ``None``).
    """
    from matplotlib.font_manager import FontProperties

    fig = ax.figure
    if renderer is None:
        fig.canvas.draw()  # limits and layout are final only after a draw
        renderer = fig.canvas.get_renderer()
    font = FontProperties(size=fontsize)
    frame = ax.get_window_extent(renderer)
    centres = [tuple(ax.transData.transform((x, y))) for x, y in zip(xs, ys, strict=True)]
    markers = [(cx - r, cy - r, cx + r, cy + r) for (cx, cy), r in zip(centres, radii_px, strict=True)]
    placed: list[tuple[float, float, float, float]] = []
    annotations = []
    directions = [(1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1)]
    px_per_pt = fig.dpi / 72.0
    for i in sorted(range(len(texts)), key=lambda i: (-radii_px[i], i)):
        w, h, _ = renderer.get_text_width_height_descent(texts[i], font, ismath=False)
        cx, cy = centres[i]
        best: tuple[float, float, float, float] | None = None
        for step in (0.0, 1.0, 2.0, 3.2, 4.6):
            for dx, dy in directions:
                gap = radii_px[i] + (2.0 + 11.0 * step) * px_per_pt
                x0 = cx + dx * gap - (w if dx < 0 else 0 if dx > 0 else w / 2)
                y0 = cy + dy * gap - (h if dy < 0 else 0 if dy > 0 else h / 2)
                box = (x0, y0, x0 + w, y0 + h)
                cost = sum(_overlap(box, b) for b in placed) + sum(_overlap(box, m) for m in markers)
                cost += _outside(box, frame)
                if best is None or cost < best[0] - 1e-9:
                    best = (cost, x0, y0, step)
                if cost == 0:
                    break
            if best is not None and best[0] == 0:
                break
        assert best is not None
        _, x0, y0, step = best
        placed.append((x0, y0, x0 + w, y0 + h))
        annotations.append(ax.annotate(
            texts[i], (xs[i], ys[i]), xytext=((x0 - cx) / px_per_pt, (y0 - cy) / px_per_pt),
            textcoords="offset points", ha="left", va="bottom", fontsize=fontsize,
            arrowprops={"arrowstyle": "-", "color": "0.45", "lw": 0.6, "shrinkA": 1, "shrinkB": radii_px[i] / px_per_pt}
            if step > 0 else None,
        ))
    return annotations


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def _outside(box: tuple[float, float, float, float], frame: Any) -> float:
    """Area of ``box`` outside the axes frame, weighted so leaving the axes is avoided."""
    inside = _overlap(box, (frame.x0, frame.y0, frame.x1, frame.y1))
    return 4.0 * ((box[2] - box[0]) * (box[3] - box[1]) - inside)
