"""Where a sweep's chunks run: this process, a local process pool, or a Dask cluster.

Each executor yields ``(chunk index, table)`` as chunks finish; closing the iterator
(Ctrl-C, an error) cancels the chunks not started and tears the workers down. Pool
workers ignore SIGINT, so that a terminal's Ctrl-C reaches only the sweep's own process,
which stops cleanly.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Protocol

from compress.errors import InputError
from simulator.sweep.store import Table

__all__ = ["run_dask", "run_local", "with_progress"]


class Task(Protocol):
    index: int


def _ignore_sigint() -> None:
    """In a worker: leave Ctrl-C to the parent, which stops the sweep cleanly."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_local(
    evaluate: Callable[[Task], Table], tasks: Sequence[Task], workers: int
) -> Iterator[tuple[int, Table]]:
    """``(task.index, evaluate(task))`` as chunks finish, in this process (``workers``
    1) or a process pool; closing the iterator cancels the chunks not started."""
    if workers <= 1:
        for task in tasks:
            yield task.index, evaluate(task)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_ignore_sigint) as pool:
        futures = {pool.submit(evaluate, task): task.index for task in tasks}
        try:
            for future in as_completed(futures):
                # Popped: a finished future holds its chunk's table until dropped.
                yield futures.pop(future), future.result()
        finally:
            # Pending chunks never start; the running ones finish, then the workers exit.
            pool.shutdown(wait=True, cancel_futures=True)


def run_dask(
    evaluate: Callable[[Task], Table], tasks: Sequence[Task], workers: int, scheduler: str | None
) -> Iterator[tuple[int, Table]]:
    """:func:`run_local` on a Dask cluster: at ``scheduler``, or a local one of ``workers``."""
    try:
        from dask.distributed import Client, LocalCluster
        from dask.distributed import as_completed as dask_completed
    except ImportError:
        raise InputError(
            "the dask executor needs dask.distributed: pip install 'sparsa[dask]'"
        ) from None
    if scheduler:
        client = Client(scheduler)
        cluster = None
    else:
        cluster = LocalCluster(
            n_workers=max(workers, 1), threads_per_worker=1, processes=True, dashboard_address=None
        )
        client = Client(cluster)
    try:
        futures = client.map(evaluate, list(tasks), pure=False)
        index_of = {future.key: task.index for future, task in zip(futures, tasks, strict=True)}
        for future in dask_completed(futures):
            yield index_of[future.key], future.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def with_progress(items: Iterable, total: int, show: bool | None) -> Iterable:
    from tqdm import tqdm

    disable = not sys.stderr.isatty() if show is None else not show
    return tqdm(items, total=total, desc="sweep", unit="chunk", disable=disable)
