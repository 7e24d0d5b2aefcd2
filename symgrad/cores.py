"""Independent jobs on every core: the catalogue's models derive one per process.

Deriving a model is pure Python (SymPy), so threads would take turns on one core; processes run
side by side.  A job's exception comes back from its worker and is raised here, as if it had run
in this process, so a one-line error (``UsageError``) stays one line.
"""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def on_every_core(job: Callable[[Item], Result], items: Iterable[Item]) -> Iterator[Result]:
    """``job(item)`` for each item, yielded in the order the jobs finish.

    One process per core, at most one per item; with one core or one item the jobs run here, in
    order, which costs no start-up.  ``job`` must be a module-level function (it is pickled).
    """
    items = list(items)
    workers = min(len(items), os.cpu_count() or 1)
    if workers < 2:
        yield from (job(item) for item in items)
        return
    with concurrent.futures.ProcessPoolExecutor(workers) as pool:
        futures = [pool.submit(job, item) for item in items]
        try:
            for future in concurrent.futures.as_completed(futures):
                yield future.result()
        finally:  # a failed job, or a caller that stopped early: the jobs not yet started never start
            for future in futures:
                future.cancel()
