"""Searches on a real Dask cluster give byte-identical JSON to the in-process run, even when a worker dies.

One ``distributed.LocalCluster`` for the module (``accelsim.execution.local_cluster``, what
``--workers 2`` starts): 2 worker processes of 1 thread each, everything on 127.0.0.1, no
dashboard; every wait on it is bounded (SIGALRM fails a test that hangs). The
oracle is the in-process run of the same call: the JSON text (``json.dumps`` of ``to_dict``,
cache counts included) must be equal byte for byte.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from typing import Any

import pytest

distributed = pytest.importorskip("distributed")

from typer.testing import CliRunner  # noqa: E402

from accelsim.cli import app  # noqa: E402
from accelsim.codesign import codesign, redistribute, sweep  # noqa: E402
from accelsim.codesign.train import TrainingPlan, train_candidates  # noqa: E402
from accelsim.execution import DaskExecutor, local_cluster  # noqa: E402

LIMIT_S = 240  # per test, on a shared 2-core machine; a healthy run takes a few seconds

VARY = {"pe": ["8x8", "16x16"], "buffer": ["32KB", "128KB"]}


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster, client = local_cluster(2)  # a distributed.LocalCluster: 2 processes x 1 thread, 127.0.0.1 only
    try:
        client.wait_for_workers(2, timeout=120)
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.fixture(autouse=True)
def bounded() -> Iterator[None]:
    def expire(signum: int, frame: Any) -> None:
        raise TimeoutError(f"test exceeded {LIMIT_S} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(LIMIT_S)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _json(result: Any) -> str:
    return json.dumps(result.to_dict(), indent=1)


def test_sweep_is_identical_on_the_cluster(client: Any) -> None:
    local = sweep(["sqnxt23", "sqnxt23v5"], "16x16", VARY)
    calls: list[tuple[int, int]] = []
    remote = sweep(["sqnxt23", "sqnxt23v5"], "16x16", VARY, executor=client,
                   progress=lambda done, total: calls.append((done, total)))
    assert _json(remote) == _json(local)
    # 4 points in 4 tasks of one point (8 would be the aim for 2 workers), 2 networks each
    assert sorted(calls) == [(2, 8), (4, 8), (6, 8), (8, 8)]


def test_sweep_cli_on_an_existing_scheduler(client: Any) -> None:
    args = ["sweep", "sqnxt23", "--pe", "8x8,16x16", "--buffer", "64B,128KB", "--json"]
    local = CliRunner().invoke(app, args)
    remote = CliRunner().invoke(app, [*args, "--scheduler", client.scheduler.address])
    assert local.exit_code == 0 and remote.exit_code == 0, remote.stderr
    assert remote.stdout == local.stdout
    assert '"feasible": false' in remote.stdout  # the 64B points travel back as infeasible rows


def test_redistribute_is_identical_on_the_cluster(client: Any) -> None:
    options = {"budgets": ["blocks<=10"], "objective": "edp"}
    local = redistribute("1.0-SqNxt-23v2", "8x8", **options)
    remote = redistribute("1.0-SqNxt-23v2", "8x8", **options, executor=client)
    # 4..10 blocks over 4 stages: C(3,3) + C(4,3) + ... + C(9,3) = 210 candidates, 3 tasks of 64 or more
    assert local.space_size == 210
    assert _json(remote) == _json(local)


def _without_timings(result: Any) -> str:
    """The joint search's JSON minus its wall/CPU timings (two in-process runs differ there too)."""
    data = result.to_dict()
    data["stats"] = {k: v for k, v in data["stats"].items() if "second" not in k}
    return json.dumps(data, indent=1)


def test_joint_codesign_is_identical_on_the_cluster(client: Any) -> None:
    options = {"vary": {"pe": ["8x8", "16x16"], "buffer": ["32KB", "128KB"]}, "widths": [1.0, 2.0],
               "budgets": ["blocks<=8"], "objective": "edap"}
    local = codesign("sqnxt23v2", **options)
    calls: list[tuple[int, int]] = []
    remote = codesign("sqnxt23v2", **options, executor=client, price_progress=lambda d, t: calls.append((d, t)))
    # 2 widths x (1 + 4 + 10 + 20 + 35 = 70 depth vectors of 4..8 blocks) x 4 hardware points
    assert local.stats["design_points"] == 560
    assert _without_timings(remote) == _without_timings(local)
    # every distinct layer job went to the workers (one map per width, then the paper's references)
    # the same distinct jobs as in-process (their number depends on the model's fusion settings)
    jobs = local.stats["layer_jobs_priced"]
    assert jobs > 0 and remote.stats["layer_jobs_priced"] == jobs
    assert all(done == total for done, total in calls) and sum(total for _, total in calls) >= jobs


def test_training_the_top_candidates_is_identical_on_the_cluster(client: Any) -> None:
    small = redistribute("1.0-SqNxt-23v2", "16x16", budgets=["blocks=5"], width=0.25, depth=(2, 1, 1, 1))
    plan = TrainingPlan(top_k=1, data="synthetic:classes=3,size=32,train=24,val=12,seed=1", epochs=1,
                        image_size=32, seed=0, max_steps=2)
    local = train_candidates(small, plan)
    remote = train_candidates(small, plan, executor=client)
    assert len(remote.training["trained"]) == 2  # the best and the base, one task each
    assert _json(remote) == _json(local)


def test_a_worker_killed_mid_run_is_retried_and_the_result_is_identical(client: Any) -> None:
    vary = {**VARY, "clock": ["500MHz", "667MHz", "1GHz"]}  # 12 points, 8 tasks of 1 or 2
    local = sweep(["sqnxt23"], "16x16", vary)
    killed: list[str] = []

    def kill_a_busy_worker(done: int, total: int) -> None:
        if killed:
            return
        busy = [w for w, tasks in client.processing().items() if tasks]
        assert busy, "no task left running to interrupt"
        pid = client.run(os.getpid, workers=[busy[0]])[busy[0]]
        os.kill(pid, signal.SIGKILL)
        killed.append(busy[0])

    remote = sweep(["sqnxt23"], "16x16", vary, executor=DaskExecutor(client), progress=kill_a_busy_worker)
    assert killed and killed[0] not in client.scheduler_info()["workers"]  # that worker is gone
    assert _json(remote) == _json(local)
    client.wait_for_workers(2, timeout=120)  # the nanny restarts it for the next test


def test_an_interrupt_cancels_every_outstanding_task(client: Any) -> None:
    """Ctrl-C arrives as KeyboardInterrupt in the loop gathering futures: nothing may keep running."""
    def interrupt(done: int, total: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sweep(["sqnxt23"], "16x16", {**VARY, "clock": ["500MHz", "1GHz"]}, executor=client, progress=interrupt)
    deadline = 30
    while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) and deadline:
        time.sleep(0.5)
        deadline -= 0.5
    assert client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) == 0
