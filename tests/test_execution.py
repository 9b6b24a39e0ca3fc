"""The execution seam without a cluster: chunking, the in-process executor, cache hand-over, Dask missing.

Oracles: chunk sizes derived by hand from the rule in ``accelsim.execution`` (4 tasks per
worker thread, bounded by ``min_chunk``/``max_chunk``); cache counts from running the same
simulations on one shared ``SimCache`` (what an in-process search does).
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from accelsim.cli import app
from accelsim.errors import InfeasibleError
from accelsim.execution import INSTALL_HINT, ExecutionError, InProcess, chunk_sizes, open_executor
from accelsim.hardware import resolve_hardware
from accelsim.simulation import SimCache, simulate_graph
from accelsim.workload.zoo import load_graph


@pytest.mark.parametrize(("n", "workers", "options", "sizes"), [
    (10, 2, {}, [2, 2, 1, 1, 1, 1, 1, 1]),            # 8 tasks for 2 workers; 10 = 2*2 + 6*1
    (5, 2, {}, [1, 1, 1, 1, 1]),                      # never more tasks than items
    (1140, 2, {"min_chunk": 64}, [143, 143, 143, 143, 142, 142, 142, 142]),
    (100, 2, {"min_chunk": 64}, [100]),               # 100 // 64 = 1 task
    (27, 2, {"max_chunk": 16}, [4, 4, 4, 3, 3, 3, 3, 3]),
    (200, 2, {"max_chunk": 16}, [16] * 5 + [15] * 8),  # ceil(200 / 16) = 13 tasks beat 8; 200 = 13*15 + 5
    (7, 3, {"chunk": 3}, [3, 3, 1]),
    (0, 2, {}, []),
])
def test_chunk_sizes(n: int, workers: int, options: dict[str, int], sizes: list[int]) -> None:
    assert chunk_sizes(n, workers, **options) == sizes
    assert sum(sizes) == n


def test_in_process_map_keeps_order_and_reports_each_item() -> None:
    calls: list[tuple[int, int]] = []
    assert InProcess().map(abs, [-3, 1, -2], progress=lambda d, t: calls.append((d, t))) == [3, 1, 2]
    assert calls == [(1, 3), (2, 3), (3, 3)]
    with open_executor() as ex:
        assert isinstance(ex, InProcess) and not ex.distributed


def test_absorbed_deltas_count_like_one_shared_cache() -> None:
    """Two networks on one point priced on separate caches, absorbed: the shared cache's counts."""
    spec = resolve_hardware("16x16")
    a, b = load_graph("sqnxt23"), load_graph("sqnxt23v5")
    shared = SimCache()
    for g in (a, b, a):
        simulate_graph(g, spec, cache=shared)
    target = SimCache()
    for g in (a, b, a):  # each on its own fresh cache, as on three workers
        other = SimCache()
        simulate_graph(g, spec, cache=other)
        target.absorb(other.delta_since((0, 0, 0, 0)))
    assert (target.hits, target.misses, len(target)) == (shared.hits, shared.misses, len(shared))
    assert shared.misses == len(shared)  # every distinct layer missed exactly once
    # and a delta taken from a mark holds only what came after it
    mark = shared.mark()
    simulate_graph(a, spec, cache=shared)
    delta = shared.delta_since(mark)
    alone = SimCache()
    simulate_graph(a, spec, cache=alone)
    assert delta.entries == () and delta.misses == 0 and delta.hits == alone.hits + alone.misses


def test_infeasible_lookups_stay_misses_when_absorbed() -> None:
    """An infeasible layer is never stored, so each attempt is a miss, here or on a worker."""
    spec = resolve_hardware("16x16", None, "64B")
    graph = load_graph("sqnxt23")
    shared, target = SimCache(), SimCache()
    for _ in range(2):
        with pytest.raises(InfeasibleError):
            simulate_graph(graph, spec, cache=shared)
        other = SimCache()
        with pytest.raises(InfeasibleError):
            simulate_graph(graph, spec, cache=other)
        target.absorb(other.delta_since((0, 0, 0, 0)))
    assert (target.hits, target.misses) == (shared.hits, shared.misses)
    assert shared.misses == 2 * (len(shared) + 1) - len(shared)  # stored once, the failing one twice


def test_without_dask_the_distributed_options_say_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(ExecutionError, match=r"pip install 'accelsim\[dask\]'"), open_executor(workers=2):
        pass
    out = CliRunner().invoke(app, ["sweep", "sqnxt23", "--pe", "8x8,16x16", "--workers", "2"])
    assert out.exit_code == 2
    assert out.stderr.strip().splitlines() == [
        f"error: --workers/--scheduler need Dask, which is not installed: {INSTALL_HINT}"]


@pytest.mark.parametrize(("args", "message"), [
    (["--workers", "0"], "error: --workers: must be >= 1; got 0"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "error: --workers and --scheduler: give one"),
    (["--scheduler", "127.0.0.1:8786"], "error: --scheduler 127.0.0.1:8786: expected an address such as"),
])
def test_bad_cluster_options_get_one_line(args: list[str], message: str) -> None:
    out = CliRunner().invoke(app, ["redistribute", "sqnxt23v2", "--budget", "blocks=5", *args])
    assert out.exit_code == 2
    assert len(out.stderr.strip().splitlines()) == 1 and out.stderr.startswith(message)


def test_default_runs_in_process_without_importing_dask() -> None:
    code = ("import sys; from accelsim.codesign import sweep; "
            "r = sweep(['sqnxt23'], '16x16', vary={'pe': ['8x8', '16x16']}); "
            "assert len(r.points) == 2 and 'distributed' not in sys.modules and 'dask' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
