"""The redistribution figure shows what it claims: every feasible candidate, the front, v1-v5, the base."""

from __future__ import annotations

import numpy as np

from accelsim.codesign import Accuracy, redistribute
from accelsim.reporting.redistribute_plot import plot_redistribution


def test_figure_contents() -> None:
    result = redistribute("1.0-SqNxt-23v2", "16x16", budgets=["blocks<=7"])
    fig = plot_redistribution(result)
    ax, bar = fig.axes[0], fig.axes[1]
    dots, ring, stars, base = ax.collections[:4]
    feasible = result.ranked()
    # C(3,3) + C(4,3) + C(5,3) + C(6,3) = 1 + 4 + 10 + 20 vectors with 4..7 blocks
    assert len(feasible) == 35
    assert np.allclose(dots.get_offsets(), [(c.params / 1e6, c.cycles) for c in feasible])
    assert np.allclose(dots.get_array(), [c.energy for c in feasible])
    assert len(ring.get_offsets()) == len(result.pareto_front()) == sum(c.pareto for c in feasible)
    assert len(stars.get_offsets()) == 5  # the paper's v1-v5 at width 1.0
    assert np.allclose(base.get_offsets(), [(result.base.params / 1e6, result.base.cycles)])
    assert "MAC" in bar.get_ylabel()
    texts = {t.get_text() for t in ax.texts}
    assert {"v1 [6,6,8,1]", "base = v2 [6,6,8,1]", "v5 [2,4,14,1]"} <= texts
    assert f"best (cycles) [{','.join(map(str, result.best.depth))}]" in texts


def test_accuracy_panel_when_trained() -> None:
    result = redistribute("1.0-SqNxt-23v2", "16x16", budgets=["blocks=5"])
    trained = result.with_measured({result.best.depth: Accuracy(40.0, 80.0, "test"),
                                    result.base.depth: Accuracy(45.0, 85.0, "test")},
                                   {"data": "digits", "epochs": 3, "seed": 0})
    fig = plot_redistribution(trained)
    acc = fig.axes[1]
    assert acc.get_ylabel() == "measured top-1 accuracy (%)"
    assert sorted(map(tuple, acc.collections[0].get_offsets())) == sorted(
        [(result.best.cycles, 40.0), (result.base.cycles, 45.0)])
    assert "3 epoch(s)" in acc.get_title() and result.best.measured is None  # input left unchanged
