"""Where many runs execute: in this process, in local worker processes, or on a dask cluster.

Every kind is a `concurrent.futures.Executor`; results do not depend on which one runs them, because
each task is a pure function of (scenario, seeds) and results are gathered in submission order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any, Literal

ExecutorKind = Literal["local", "dask"]

# Imported once by the forkserver, so each worker starts with them loaded instead of importing numpy,
# pandas and mesa itself (about a second of a short ensemble's wall time).
WORKER_PRELOAD = ["sim.model.model", "sim.results.recorder", "sim.results.summary"]


class InlineExecutor(Executor):
    """Runs each task at once in this process (one worker: no process start-up, same results)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed to the caller through the future
            future.set_exception(exc)
        return future


class ExecutorError(Exception):
    """An executor could not be started (e.g. dask missing or the cluster unreachable)."""


@contextmanager
def make_executor(
    kind: ExecutorKind = "local", workers: int | None = None, address: str | None = None
) -> Iterator[Executor]:
    """An executor of the given kind; `workers` defaults to all cores."""
    workers = workers or os.cpu_count() or 1
    if kind == "local":
        if workers == 1:
            yield InlineExecutor()
            return
        # forkserver: workers start clean, not as forks of a process that may hold threads (dask, BLAS).
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        if method == "forkserver":
            context.set_forkserver_preload(WORKER_PRELOAD)
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            yield pool
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ExecutorError("--executor dask needs dask: pip install 'critical-minerals-sim[dask]'") from None
    cluster = None
    try:
        if address:
            client = Client(address, timeout="10s")
        else:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
    except (OSError, TimeoutError) as exc:
        raise ExecutorError(f"cannot reach the dask scheduler {address or '(local)'}: {exc}") from None
    try:
        yield client.get_executor()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def map_batches(
    fn: Callable[..., list[Any]],
    items: Sequence[Any],
    *args: Any,
    batch_size: int = 10,
    executor: ExecutorKind = "local",
    workers: int | None = None,
    address: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[Any]:
    """`fn(batch, *args)` over batches of `items` on an executor; results flattened in item order.

    `fn` must be a top-level function returning one result per item, so any executor can ship it.
    `progress(n)` is called as each batch of n items finishes."""
    batches = [list(items[i : i + batch_size]) for i in range(0, len(items), batch_size)]
    results: list[list[Any] | None] = [None] * len(batches)
    with make_executor(executor, workers, address) as pool:
        futures = {pool.submit(fn, batch, *args): i for i, batch in enumerate(batches)}
        for future in as_completed(futures):
            i = futures[future]
            results[i] = future.result()
            if progress is not None:
                progress(len(batches[i]))
    return [result for batch in results for result in batch or []]
