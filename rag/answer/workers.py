""":func:`~rag.answer.answer_many` spread over worker processes, answers in input order.

One process answers on one core (Python's lock holds composing to one thread), so
``rag batch --workers N`` answers in this process and N - 1 more; each of those opens the
index itself with the caller's ``opener`` (the same code that opened the caller's index:
model, question memory and all), and all run :func:`~rag.answer.answer_many` on chunks of
consecutive questions, taken in turn.
The answers come back in the order asked. A worker that opened another generation than the
caller's (a re-index swapped in meanwhile) refuses to answer, so one batch never mixes
two indexes.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

from rag.answer.compose import MAX_TOP, answer_many
from rag.answer.types import Answer
from rag.core.filters import Filters
from rag.search import Index

CHUNK = 16  # questions per task: large enough to share clause facts, small enough to stream

_worker: dict[str, Any] = {}  # this worker process's opened index and options


class IndexChanged(RuntimeError):
    """A worker found another index generation than the batch started with."""


def _identity(index: Index) -> tuple[object, ...]:
    info = index.info()
    return (info.get("fingerprint"), info.get("created"), info.get("model_identity"),
            len(index.clauses))


def _start(opener: Callable[[], Index], identity: tuple[object, ...], k: int,
           filters: Filters | None) -> None:
    """Open this worker's index. A failure is kept and raised by the first task, so the
    caller hears it (a pool whose initializer raises only starts new workers)."""
    try:
        index = opener()
        if _identity(index) != identity:
            raise IndexChanged("the index changed (re-indexed?) after the batch began; run "
                               "the batch again")
    except Exception as failure:
        _worker.update(failure=failure)
        return
    _worker.update(index=index, k=k, filters=filters, failure=None)


def _answer_chunk(questions: list[str]) -> list[Answer | ValueError]:
    if _worker["failure"] is not None:
        raise _worker["failure"]
    return list(answer_many(questions, index=_worker["index"], k=_worker["k"],
                            filters=_worker["filters"]))


class _Feed:
    """The questions of this process's chunks, handed to one ``answer_many`` as they are
    assigned (it reads one question per answer, so it never reads past what is fed)."""

    def __init__(self) -> None:
        self.waiting: deque[str] = deque()

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        if not self.waiting:
            raise StopIteration
        return self.waiting.popleft()


def answer_in_workers(
    questions: Iterable[str],
    *,
    index: Index,
    opener: Callable[[], Index],
    workers: int,
    k: int = 5,
    filters: Filters | None = None,
) -> Iterator[Answer | ValueError]:
    """What ``answer_many(questions, index=index, k=k, filters=filters)`` yields, computed
    by ``workers`` processes: this one (with ``index``) and ``workers - 1`` that each open
    their own index with ``opener`` (a picklable callable; it must open what opened
    ``index``), taking chunks of :data:`CHUNK` questions in turn. ``workers`` 1 is
    ``answer_many`` itself."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if not 1 <= k <= MAX_TOP:
        raise ValueError(f"k must be between 1 and {MAX_TOP}, not {k}")
    if workers == 1:
        yield from answer_many(questions, index=index, k=k, filters=filters)
        return
    pending = iter(questions)
    chunks = list(iter(lambda: list(islice(pending, CHUNK)), []))
    workers = min(workers, len(chunks))  # no process started for nothing to do
    if workers <= 1:
        yield from answer_many((q for chunk in chunks for q in chunk), index=index, k=k,
                               filters=filters)
        return
    feed = _Feed()
    mine = answer_many(feed, index=index, k=k, filters=filters)  # one batch: facts shared
    # spawn, not fork: the caller may hold onnxruntime's or torch's threads
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers - 1, initializer=_start,
                      initargs=(opener, _identity(index), k, filters)) as pool:
        theirs = pool.imap(_answer_chunk, [c for n, c in enumerate(chunks) if n % workers])
        for n, chunk in enumerate(chunks):
            if n % workers:
                yield from next(theirs)
                continue
            feed.waiting.extend(chunk)
            for _ in chunk:
                yield next(mine)
