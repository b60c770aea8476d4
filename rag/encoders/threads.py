"""How many CPU threads torch may use for a long run of batches: measured, not assumed.

On a shared machine torch's threads fight whatever else runs (a question took 220 ms with
two threads against 54 ms with one while another job used a core); on an idle one two
threads are faster. A :class:`ThreadTuner` times batches at each thread count now and
then and keeps the fastest, so a batch job adapts when the machine gets busy or quiet.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class ThreadTuner:
    """Chooses torch's thread count for repeated work by timing it.

    Every ``recheck`` runs it spends one run on each candidate count (1 … cores), then
    uses the fastest until the next check. Without torch loaded it changes nothing.
    """

    def __init__(self, *, max_threads: int | None = None, recheck: int = 40) -> None:
        self.candidates = list(range(1, (max_threads or available_cores()) + 1))
        self.recheck = recheck
        self.best: int | None = None
        self._trial: dict[int, float] = {}
        self._runs = 0

    def run(self, work: Callable[[], T], *, size: int) -> T:
        """``work()`` on the chosen number of threads; ``size`` items it handles."""
        torch = sys.modules.get("torch")
        if torch is None or len(self.candidates) == 1 or size <= 0:
            return work()
        exploring = self.best is None or self._runs % self.recheck < len(self.candidates)
        if exploring:
            threads = self.candidates[self._runs % self.recheck % len(self.candidates)]
        else:
            threads = self.best or 1
        torch.set_num_threads(threads)
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
