"""How many CPU threads an encoder may use for a long run of batches: measured, not assumed.

On a shared machine torch's threads fight whatever else runs (a question took 220 ms with
two threads against 54 ms with one while another job used a core); on an idle one two
threads are faster. A :class:`ThreadTuner` times batches at each thread count now and
then and keeps the fastest, so a batch job adapts when the machine gets busy or quiet.
The count is set through the encoder's ``use_threads`` (onnxruntime's intra-op threads, or
torch's), else torch's when torch is loaded.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def thread_setter(encoder: Any = None) -> Callable[[int], None] | None:
    """How to set ``encoder``'s thread count: its ``use_threads``, else torch's when torch is
    loaded, else None."""
    use = getattr(encoder, "use_threads", None)
    if callable(use):
        return use
    torch = sys.modules.get("torch")
    return None if torch is None else torch.set_num_threads


class ThreadTuner:
    """Chooses an encoder's thread count for repeated work by timing it.

    Every ``recheck`` runs it spends one run on each candidate count (1 … cores), then
    uses the fastest until the next check. With nothing to set (no ``use_threads`` on the
    encoder, no torch loaded) it changes nothing.
    """

    def __init__(self, *, max_threads: int | None = None, recheck: int = 40,
                 encoder: Any = None) -> None:
        self.encoder = encoder
        self.candidates = list(range(1, (max_threads or available_cores()) + 1))
        self.recheck = recheck
        self.best: int | None = None
        self._trial: dict[int, float] = {}
        self._runs = 0

    def run(self, work: Callable[[], T], *, size: int) -> T:
        """``work()`` on the chosen number of threads; ``size`` items it handles."""
        set_threads = thread_setter(self.encoder)
        if set_threads is None or len(self.candidates) == 1 or size <= 0:
            return work()
        exploring = self.best is None or self._runs % self.recheck < len(self.candidates)
        if exploring:
            threads = self.candidates[self._runs % self.recheck % len(self.candidates)]
        else:
            threads = self.best or 1
        set_threads(threads)
        started = time.perf_counter()
        out = work()
        per_item = (time.perf_counter() - started) / size
        self._runs += 1
        if exploring:
            self._trial[threads] = per_item
            if len(self._trial) == len(self.candidates):
                self.best = min(self._trial, key=self._trial.__getitem__)
                self._trial = {}
        return out
