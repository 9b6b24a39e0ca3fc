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


Box = tuple[float, float, float, float]

_DIRECTIONS = ((1, 0), (-1, 0), (0, 1), (0, -1), (1, 1), (-1, 1), (1, -1), (-1, -1))
_STEPS = (0.0, 1.0, 2.0, 3.2, 4.6)  # label distance from its marker, in units of 11 pt
_LEADER_COST = 40.0  # px^2 charged for a label moved away from its marker (leader line)


def place_labels(ax: Axes, xs: Sequence[float], ys: Sequence[float], texts: Sequence[str],
                 radii_px: Sequence[float], fontsize: float = 7.5, renderer: Any = None) -> list[Any]:
    """Annotate points without overlapping labels, deterministically.

    Greedy placement: each label tries offsets around its point (right, left, above, below,
    diagonals, then the same further out) and takes the cheapest, where the cost is the area
    overlapping placed labels, markers and the outside of the axes, plus a penalty when another
    point is nearer to the label than its own (an ambiguous label) and a small one for needing a
    leader line. The greedy pass runs in four fixed point orders (largest marker first, left to
    right, top to bottom, right to left) and the cheapest layout is kept.

    Args:
        ax: axes whose limits and layout are final (``renderer`` comes from a draw after them).
        xs, ys: data coordinates of the points.
        texts: one label per point.
        radii_px: marker radius of each point, in display pixels.
        renderer: the canvas renderer after a draw (drawn here if ``None``).

    Returns the annotations, in the order of ``texts``.
    """
    from matplotlib.font_manager import FontProperties
    from matplotlib.text import Text

    fig = ax.figure
    if renderer is None:
        fig.canvas.draw()  # limits and layout are final only after a draw
        renderer = fig.canvas.get_renderer()
    font = FontProperties(size=fontsize)
    frame = ax.get_window_extent(renderer)
    frame_box = (frame.x0, frame.y0, frame.x1, frame.y1)
    centres = [tuple(ax.transData.transform((x, y))) for x, y in zip(xs, ys, strict=True)]
    # the box an annotation really gets (matplotlib pads single lines to the "lp" line height)
    probes = [Text(0, 0, t, fontproperties=font, figure=fig).get_window_extent(renderer) for t in texts]
    sizes = [(b.width, b.height) for b in probes]
    px_per_pt = fig.dpi / 72.0
    n = len(texts)
    orders = [sorted(range(n), key=lambda i: (-radii_px[i], i)), sorted(range(n), key=lambda i: (centres[i][0], i)),
              sorted(range(n), key=lambda i: (-centres[i][1], i)), sorted(range(n), key=lambda i: (-centres[i][0], i))]
    best_layout: tuple[float, dict[int, tuple[float, float, float]]] | None = None
    for order in orders:
        layout = _greedy(order, centres, radii_px, sizes, frame_box, px_per_pt)
        total = sum(cost for cost, _, _ in layout.values())
        if best_layout is None or total < best_layout[0] - 1e-9:
            best_layout = (total, layout)
    assert best_layout is not None
    annotations = []
    for i in range(n):
        _, x0, y0 = best_layout[1][i]
        cx, cy = centres[i]
        w, h = sizes[i]
        adjacent = _distance((x0, y0, x0 + w, y0 + h), (cx, cy)) <= radii_px[i] + 3.0 * px_per_pt
        annotations.append(ax.annotate(
            texts[i], (xs[i], ys[i]), xytext=((x0 - cx) / px_per_pt, (y0 - cy) / px_per_pt),
            textcoords="offset points", ha="left", va="bottom", fontsize=fontsize,
            arrowprops=None if adjacent else {"arrowstyle": "-", "color": "0.45", "lw": 0.6, "shrinkA": 1,
                                              "shrinkB": radii_px[i] / px_per_pt},
        ))
    return annotations


def _greedy(order: Sequence[int], centres: Sequence[tuple[float, float]], radii: Sequence[float],
            sizes: Sequence[tuple[float, float]], frame: Box,
            px_per_pt: float) -> dict[int, tuple[float, float, float]]:
    """One greedy pass in ``order``: point index -> (cost, x0, y0) of its label's lower-left corner (px)."""
    markers = [(cx - r, cy - r, cx + r, cy + r) for (cx, cy), r in zip(centres, radii, strict=True)]
    placed: list[Box] = []
    out: dict[int, tuple[float, float, float]] = {}
    for i in order:
        w, h = sizes[i]
        cx, cy = centres[i]
        best: tuple[float, float, float] | None = None
        for step in _STEPS:
            for dx, dy in _DIRECTIONS:
                gap = radii[i] + (2.0 + 11.0 * step) * px_per_pt
                x0 = cx + dx * gap - (w if dx < 0 else 0 if dx > 0 else w / 2)
                y0 = cy + dy * gap - (h if dy < 0 else 0 if dy > 0 else h / 2)
                box = (x0, y0, x0 + w, y0 + h)
                # overlapping another label is the worst outcome, then covering a marker
                cost = 10.0 * sum(_overlap(box, b) for b in placed) + 3.0 * sum(_overlap(box, m) for m in markers)
                cost += _outside(box, frame) + (_LEADER_COST * step if step else 0.0)
                own = _distance(box, centres[i]) - radii[i]
                if any(_distance(box, c) - r < own for k, (c, r) in enumerate(zip(centres, radii, strict=True))
                       if k != i):
                    cost += 0.5 * w * h  # another point is nearer to this label than its own: ambiguous
                if best is None or cost < best[0] - 1e-9:
                    best = (cost, x0, y0)
            if best is not None and best[0] == 0:
                break
        assert best is not None
        out[i] = best
        placed.append((best[1], best[2], best[1] + w, best[2] + h))
    return out


def _distance(box: tuple[float, float, float, float], point: tuple[float, float]) -> float:
    """Distance from ``point`` to the nearest point of ``box`` (0 inside)."""
    dx = max(box[0] - point[0], 0.0, point[0] - box[2])
    dy = max(box[1] - point[1], 0.0, point[1] - box[3])
    return (dx * dx + dy * dy) ** 0.5


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    return w * h if w > 0 and h > 0 else 0.0


def _outside(box: Box, frame: Box) -> float:
    """Area of ``box`` outside the axes frame, weighted so leaving the axes is avoided."""
    inside = _overlap(box, frame)
    return 4.0 * ((box[2] - box[0]) * (box[3] - box[1]) - inside)
