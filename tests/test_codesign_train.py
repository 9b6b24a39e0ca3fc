"""The co-design loop: train the best candidates and the base, attach measured accuracy.

Oracle: ``networks.training.train_variant`` called directly with the same seed and data is
deterministic (the training module seeds weights, shuffling and augmentation), so the accuracy
attached to a candidate must equal an independent run's. Tiny synthetic data, width 0.25 and
one SGD step keep it fast; the numbers say nothing about the variants' real accuracy.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.codesign import redistribute
from accelsim.codesign.train import TrainingPlan, to_train, train_candidates

DATA = "synthetic:classes=3,size=32,train=24,val=12,seed=1"
runner = CliRunner()


@pytest.fixture(scope="module")
def small():  # type: ignore[no-untyped-def]
    return redistribute("1.0-SqNxt-23v2", "16x16", budgets=["blocks=5"], width=0.25, depth=(2, 1, 1, 1))


def test_trains_the_best_and_the_base(small) -> None:  # type: ignore[no-untyped-def]
    from networks.training import train_variant

    plan = TrainingPlan(top_k=1, data=DATA, epochs=1, image_size=32, seed=0, max_steps=1)
    chosen = to_train(small, 1)
    base = (2, 1, 1, 1)
    assert small.best.depth != base and [c.depth for c in chosen] == [small.best.depth, base]
    calls: list[tuple[int, int, tuple[int, ...]]] = []
    trained = train_candidates(small, plan, progress=lambda d, t, depth: calls.append((d, t, depth)))
    assert calls == [(0, 2, small.best.depth), (1, 2, base), (2, 2, base)]
    measured = {c.depth: c.measured for c in (*trained.candidates, trained.base) if c.measured}
    assert set(measured) == {small.best.depth, base}
    assert trained.base.measured == measured[base] == trained.candidate(base).measured
    direct = train_variant("1.0-SqNxt-23v2", {**small.options, "depth": small.best.depth}, DATA, 1, 32, 0,
                           max_steps=1)
    best = measured[small.best.depth]
    assert (best.top1, best.top5, best.k) == pytest.approx((100 * direct["top1"], 100 * direct["top5"], 3))
    assert trained.training is not None and trained.training["trained"] == [list(small.best.depth), list(base)]
    assert small.best.measured is None  # the input result is not modified


def test_cli_train_top_adds_accuracy_to_json() -> None:
    out = runner.invoke(app, ["redistribute", "sqnxt23v2", "--budget", "blocks=4", "--train-top", "1",
                              "--data", DATA, "--epochs", "1", "--image-size", "32", "--json",
                              "--width", "0.25", "--depth", "1,1,1,1"])
    assert out.exit_code == 0, out.stderr
    data = json.loads(out.stdout)
    # blocks=4 over 4 stages: the single vector [1,1,1,1], which is also the base (one run)
    assert [c["depth"] for c in data["candidates"]] == [[1, 1, 1, 1]]
    for row in (data["candidates"][0], data["base"]):
        assert 0.0 <= row["accuracy_top1"] <= row["accuracy_top5"] <= 100.0 and row["accuracy_k"] == 3
    assert data["training"]["epochs"] == 1 and data["training"]["data"] == DATA


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--train-top", "1"], "--train-top: needs --data SOURCE"),
        (["--train-top", "1", "--data", "nosuchdata"],
         "error: nosuchdata: no such file or folder (expected a folder, a .npz file, or built-in"),
        (["--train-top", "1", "--data", DATA, "--epochs", "0"], "error: --epochs: expected an integer >= 1; got 0"),
        (["--train-top", "-1"], "error: --train-top: expected an integer >= 0; got -1"),
    ],
)
def test_cli_train_errors(args: list[str], message: str) -> None:
    out = runner.invoke(app, ["redistribute", "sqnxt23v2", "--budget", "blocks=4", *args])
    assert out.exit_code == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
