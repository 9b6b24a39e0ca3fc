"""Where the searches run their work: in this process (the default), or on a Dask cluster.

A search hands the seam a pure, top-level function and a list of picklable items, and gets
``[fn(item) for item in items]`` back in item order::

    from accelsim.execution import open_executor

    with open_executor(workers=2) as ex:          # a local Dask cluster of 2 processes
        values = ex.map(price_points, jobs, progress=lambda done, total: ...)

* :class:`InProcess` (``open_executor()``): a plain loop here; no cluster, no extra process.
* ``open_executor(workers=N)``: a ``distributed.LocalCluster`` of N single-threaded worker
  processes on 127.0.0.1, started here and shut down on exit.
* ``open_executor(scheduler="tcp://host:8786")``: a client of an existing cluster (started with
  ``dask scheduler`` / ``dask worker``, or by dask-jobqueue on SLURM, PBS, LSF ...).
* ``open_executor(executor=client)``: a ``distributed.Client`` the caller owns (not closed).

The scheduling, retries and data transfer are Dask's; this module only chunks, submits,
gathers in order, reports progress as futures complete and cancels on an interrupt. A worker
that dies mid-run: the scheduler reruns its tasks elsewhere (up to Dask's
``distributed.scheduler.allowed-failures``, default 3); the functions are pure, so the
gathered values are the ones a serial run computes.

Chunking rule (:func:`chunk_sizes`): items are grouped into contiguous chunks, one task per
chunk, so that every worker gets about ``TASKS_PER_WORKER`` (4) tasks: enough to balance
uneven items and to lose at most a quarter of a worker's share if it dies, few enough that
Dask's cost per task (about 1 to 5 ms round trip on localhost, measured by
``bench/bench_dask.py``) is small next to a task's work. A caller whose items are already
coarse (one training run each) asks for ``chunk=1``; one whose items are cheap sets
``min_chunk`` so that a task carries at least that many.

Dask is the optional ``accelsim[dask]`` extra and is imported only when a cluster is asked for.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from accelsim.errors import AccelsimError

T = TypeVar("T")
R = TypeVar("R")

#: ``progress(done, total)``: items finished so far, of ``total``.
Progress = Callable[[int, int], None]

#: Tasks per worker thread the chunking aims for.
TASKS_PER_WORKER = 4

#: What to install for the distributed options.
INSTALL_HINT = "pip install 'accelsim[dask]'"

#: Seconds to wait for an existing scheduler to answer and for a first worker to join it.
CONNECT_TIMEOUT_S = 20.0


class ExecutionError(AccelsimError):
    """The cluster cannot be used: Dask is not installed, the scheduler is unreachable, no worker."""


def chunk_sizes(n: int, workers: int, *, chunk: int | None = None, min_chunk: int = 1,
                max_chunk: int | None = None) -> list[int]:
    """Sizes of the contiguous chunks ``n`` items are split into (sum ``n``; at most one size apart).

    ``chunk`` fixes the size. Otherwise ``TASKS_PER_WORKER * workers`` chunks, or more if that
    leaves chunks over ``max_chunk`` items, or fewer if that leaves chunks under ``min_chunk``
    (``min_chunk`` wins; never more chunks than items).
    """
    if n <= 0:
        return []
    if chunk is not None:
        if chunk < 1:
            raise ValueError(f"chunk: must be >= 1; got {chunk}")
        return [chunk] * (n // chunk) + ([n % chunk] if n % chunk else [])
    tasks = TASKS_PER_WORKER * max(1, workers)
    if max_chunk is not None:
        tasks = max(tasks, -(-n // max(1, max_chunk)))
    tasks = max(1, min(n, tasks, n // max(1, min_chunk)))
    base, extra = divmod(n, tasks)
    return [base + 1] * extra + [base] * (tasks - extra)


def _run_chunk(fn: Callable[[Any], Any], items: list[Any]) -> list[Any]:
    """One task: the function over its chunk, in order (module level, so workers can unpickle it)."""
    return [fn(item) for item in items]


class Executor:
    """Runs ``fn`` over items; subclasses say where. ``workers``: worker threads available."""

    workers: int = 1
    #: False for the in-process executor: callers may then skip shipping work and share state.
    distributed: bool = False

    def map(self, fn: Callable[[T], R], items: Sequence[T], *, progress: Progress | None = None,
            chunk: int | None = None, min_chunk: int = 1, max_chunk: int | None = None,
            name: str = "accelsim") -> list[R]:
        """``[fn(item) for item in items]``; ``progress(done, total)`` as items finish."""
        raise NotImplementedError

    def describe(self) -> str:
        """One line for humans: where the work runs."""
        raise NotImplementedError


class InProcess(Executor):
    """A loop in this process: the default, with no cluster and no extra process."""

    def map(self, fn: Callable[[T], R], items: Sequence[T], *, progress: Progress | None = None,
            chunk: int | None = None, min_chunk: int = 1, max_chunk: int | None = None,
            name: str = "accelsim") -> list[R]:
        out = []
        for done, item in enumerate(items, start=1):
            out.append(fn(item))
            if progress is not None:
                progress(done, len(items))
        return out

    def describe(self) -> str:
        return "in-process"


class DaskExecutor(Executor):
    """Submits chunks to a ``distributed.Client``'s cluster and gathers them in order."""

    distributed = True

    def __init__(self, client: Any) -> None:
        self.client = client

    @property
    def workers(self) -> int:  # type: ignore[override]
        info = self.client.scheduler_info().get("workers", {})
        return max(1, sum(int(w.get("nthreads", 1)) for w in info.values()))

    def describe(self) -> str:
        info = self.client.scheduler_info()
        return f"Dask scheduler {info.get('address', '?')} ({len(info.get('workers', {}))} workers, " \
               f"{self.workers} threads)"

    def map(self, fn: Callable[[T], R], items: Sequence[T], *, progress: Progress | None = None,
            chunk: int | None = None, min_chunk: int = 1, max_chunk: int | None = None,
            name: str = "accelsim") -> list[R]:
        from distributed import as_completed

        items = list(items)
        sizes = chunk_sizes(len(items), self.workers, chunk=chunk, min_chunk=min_chunk, max_chunk=max_chunk)
        starts = [0, *itertools.accumulate(sizes)]
        token = uuid.uuid4().hex[:12]
        futures = [self.client.submit(_run_chunk, fn, items[a:b], key=f"{name}-{token}-{i}", pure=False)
                   for i, (a, b) in enumerate(itertools.pairwise(starts))]
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[list[R] | None] = [None] * len(futures)
        done = 0
        try:
            for future, value in as_completed(futures, with_results=True):
                i = index[future.key]
                results[i] = value
                done += sizes[i]
                if progress is not None:
                    progress(done, len(items))
        except BaseException:
            # Ctrl-C, a task's own error, a lost cluster: nothing outstanding keeps running
            self.client.cancel(futures, force=True)
            raise
        finally:
            for f in futures:
                f.release()
        return [value for part in results for value in part]  # type: ignore[union-attr]


def _dask() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ExecutionError(f"--workers/--scheduler need Dask, which is not installed: {INSTALL_HINT}") from exc
    return distributed


def quiet_dask_logs() -> None:
    """Keep Dask's INFO/WARNING chatter (worker restarts, start-up notes) off a command's stderr;
    errors still show, and a run's failures arrive as exceptions anyway."""
    global _LOG_LEVEL
    _LOG_LEVEL = logging.ERROR
    for name in ("distributed", "distributed.nanny", "distributed.scheduler", "distributed.worker",
                 "distributed.core", "distributed.client"):
        logging.getLogger(name).setLevel(logging.ERROR)


_LOG_LEVEL = logging.WARNING


def local_cluster(workers: int) -> tuple[Any, Any]:
    """(cluster, client): ``workers`` single-threaded worker processes, everything on 127.0.0.1.

    No dashboard; the scheduler's small HTTP endpoint (health, metrics) takes a free port on
    127.0.0.1 rather than 8787, so several clusters (or a running one) never collide.
    """
    distributed = _dask()
    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None, silence_logs=_LOG_LEVEL,
                                       scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"})
    return cluster, distributed.Client(cluster)


def _worker_version() -> str:
    from accelsim import __version__

    return __version__


def connect(address: str) -> Any:
    """A client of the scheduler at ``address``, once a worker has joined and runs our accelsim version."""
    from accelsim import __version__

    distributed = _dask()
    if "://" not in address:
        raise ExecutionError(f"--scheduler {address}: expected an address such as tcp://127.0.0.1:8786")
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError) as exc:
        raise ExecutionError(f"--scheduler {address}: cannot connect ({' '.join(str(exc).split())})") from exc
    try:
        client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        versions = client.run(_worker_version)
    except (OSError, TimeoutError) as exc:
        client.close()
        raise ExecutionError(f"--scheduler {address}: no worker joined within {CONNECT_TIMEOUT_S:g} s") from exc
    except Exception as exc:  # noqa: BLE001 -- e.g. ModuleNotFoundError raised on a worker
        client.close()
        raise ExecutionError(f"--scheduler {address}: a worker cannot import accelsim "
                             f"({type(exc).__name__}: {exc}); start the workers from accelsim's environment") from exc
    wrong = {w: v for w, v in versions.items() if v != __version__}
    if wrong:
        client.close()
        worker, version = next(iter(wrong.items()))
        raise ExecutionError(f"--scheduler {address}: worker {worker} runs accelsim {version}, "
                             f"this client {__version__}; results would not be comparable")
    return client


@contextlib.contextmanager
def open_executor(executor: Executor | Any = None, *, workers: int | None = None,
                  scheduler: str | None = None) -> Iterator[Executor]:
    """The executor the options ask for; a cluster or client this opened is closed on exit.

    ``executor``: an :class:`Executor` (used as is) or a ``distributed.Client`` (wrapped, not
    closed). Otherwise ``workers`` (a local cluster of N processes) or ``scheduler`` (an
    existing cluster's address); none of them: :class:`InProcess`.

    Raises:
        ExecutionError: both ``workers`` and ``scheduler``, ``workers < 1``, Dask missing, the
            scheduler unreachable or without workers.
    """
    if executor is not None:
        if workers is not None or scheduler is not None:
            raise ExecutionError("executor: give an executor, or workers/scheduler, not both")
        yield executor if isinstance(executor, Executor) else DaskExecutor(executor)
        return
    if workers is not None and scheduler is not None:
        raise ExecutionError("--workers and --scheduler: give one (a local cluster or an existing one), not both")
    if workers is not None:
        if workers < 1 or not math.isfinite(workers):
            raise ExecutionError(f"--workers: must be >= 1; got {workers}")
        cluster, client = local_cluster(int(workers))
        try:
            yield DaskExecutor(client)
        finally:
            client.close()
            cluster.close()
        return
    if scheduler is not None:
        client = connect(scheduler)
        try:
            yield DaskExecutor(client)
        finally:
            client.close()
        return
    yield InProcess()


def as_executor(executor: Executor | Any = None) -> Executor:
    """An :class:`Executor` for a library call's ``executor=`` argument (None: in-process)."""
    if executor is None:
        return InProcess()
    return executor if isinstance(executor, Executor) else DaskExecutor(executor)
