"""Where many runs execute: in this process, in local worker processes, or on a dask cluster.

Every kind is a `concurrent.futures.Executor`; results do not depend on which one runs them, because
each task is a pure function of (scenario, seeds) and results are gathered in submission order.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from typing import Any, Literal
from urllib.parse import urlsplit

ExecutorKind = Literal["local", "dask"]
Advance = Callable[[int], None]  # told that n more items are done
StartProgress = Callable[[str, int], Advance]  # (what is running, how many items) -> the Advance to call


def no_progress(label: str, total: int) -> Advance:
    """A StartProgress that shows nothing (the default outside the command line)."""
    return lambda n: None


# Imported once by the forkserver, so each worker starts with them loaded instead of importing numpy,
# pandas and mesa itself (about a second of a short ensemble's wall time).
WORKER_PRELOAD = ["sim.executors", "sim.model.model", "sim.results.recorder", "sim.results.summary"]
DASK_SCHEMES = ("tcp", "tls", "ws", "wss")  # what dask.distributed can reach a remote scheduler by
CONNECT_TIMEOUT_S = 10  # to reach a dask scheduler, before giving up with a clear error
PARENT_POLL_S = 0.5  # how often a worker checks its parent where pidfd is unavailable


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


def watch_parent(parent_pid: int) -> None:
    """Worker initializer: end this worker as soon as the process that started the pool is gone.

    A forkserver worker's OS parent is the forkserver, not the pool's owner, and it holds the ends of
    its own task queue, so a killed `sim` would otherwise leave its workers (and, through them, the
    forkserver and the resource tracker) waiting forever. Ctrl-C is left to the owner, which stops
    the workers itself: a worker does not print a KeyboardInterrupt traceback of its own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_when_gone, args=(parent_pid,), name="watch-parent", daemon=True).start()


def _exit_when_gone(pid: int) -> None:
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd here (not Linux, old kernel, seccomp): poll instead
        while _alive(pid):
            time.sleep(PARENT_POLL_S)
        os._exit(1)
    select.select([fd], [], [])  # readable once the process has exited
    os._exit(1)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, someone else's (the pid was reused): ours is gone
        return False
    return True


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the workers now, without waiting for their current tasks."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(timeout=10)


def check_address(address: str) -> None:
    """Raise ExecutorError unless `address` can name a dask scheduler: [scheme://]host:port."""
    allowed = f"allowed: {', '.join(f'{s}://host:port' for s in DASK_SCHEMES)}, or host:port"
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    if scheme not in DASK_SCHEMES:
        raise ExecutorError(f"dask scheduler address '{address}' has an unknown scheme '{scheme}' ({allowed})")
    try:
        parts = urlsplit(f"//{rest}")
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number in 0-65535
        host, port = None, None
    if not host or not port or parts.path or parts.query or parts.fragment:
        raise ExecutorError(f"dask scheduler address '{address}' needs a host and a port number 1-65535 ({allowed})")


async def _handshake(address: str) -> None:
    """Connect to a dask scheduler and close again, raising TimeoutError if that takes too long: dask's
    own timeout covers the connection but not the greeting, so a server that accepts the connection and
    never answers (not a dask scheduler) would keep `Client(address)` waiting forever."""
    from distributed.comm import connect
    from distributed.security import Security

    args = Security().get_connection_args("client")
    try:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            comm = await connect(address, timeout=CONNECT_TIMEOUT_S, **args)
    except TimeoutError:
        raise TimeoutError(f"no dask greeting within {CONNECT_TIMEOUT_S} s (is it a dask scheduler?)") from None
    await comm.close()


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
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=context, initializer=watch_parent, initargs=(os.getpid(),)
        )
        try:
            yield pool
        except BaseException:  # a failed task, Ctrl-C or SIGTERM: do not wait for the rest of the work
            _stop_workers(pool)
            raise
        pool.shutdown(wait=True)
        return
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ExecutorError("--executor dask needs dask: pip install 'critical-minerals-sim[dask]'") from None
    if address is not None:
        check_address(address)
    cluster = None
    try:
        if address is not None:
            asyncio.run(_handshake(address))
            client = Client(address, timeout=f"{CONNECT_TIMEOUT_S}s")
        else:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
            client = Client(cluster)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:  # TypeError: tls:// without TLS settings
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
