"""Batch answering throughput: questions/s of `rag batch`'s path against answering one by one.

    python benchmarks/batch_throughput.py                 # 10,000 questions, shipped corpus
    python benchmarks/batch_throughput.py --questions 2000 --baseline 300

The question file cycles through real questions (STARD train and dev, the refusal
calibration set) to the requested count. In the same run it measures, on the machine as
it is ("idle": nothing of ours beside it) and again while another CPU-bound process runs:

* one by one: ``answer()`` per question, on the first ``--baseline`` questions;
* ``answer_many()`` in this process (``rag batch``): clause facts shared across the batch,
  each question embedded alone (as ``answer()`` does);
* ``answer_in_workers()`` with ``--workers`` processes (``rag batch --workers N``), their
  start (each opens the index and loads the model) included.

And it checks that both batch paths write the same JSON lines as ``answer()`` for the
baseline questions (the count of differing lines must be 0). Target (issue 22): >= 100
questions/s on 2 idle cores.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from functools import partial
from itertools import cycle, islice
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def questions(count: int) -> list[str]:
    pool: list[str] = []
    for path in (SHARED / "bench/stard/train.jsonl", SHARED / "bench/stard/dev.jsonl",
                 REPO / "benchmarks/data/refusal_calibration.jsonl"):
        if path.is_file():
            pool += [json.loads(line)["question"] for line in path.open(encoding="utf-8")
                     if line.strip()]
    return list(islice(cycle(pool), count))


def lines(items: list[str], outcomes) -> list[str]:  # type: ignore[no-untyped-def]
    from rag.export.records import batch_row, json_line

    out = []
    for n, (question, outcome) in enumerate(zip(items, outcomes, strict=True), 1):
        failed = isinstance(outcome, ValueError)
        out.append(json_line(batch_row(id=str(n), question=question, line=n,
                                       result=None if failed else outcome,
                                       error=str(outcome) if failed else None, debug=True)))
    return out


def cpu_seconds() -> float:
    """CPU time of this process (all its threads) and of its children that have ended."""
    own, children = (resource.getrusage(resource.RUSAGE_SELF),
                     resource.getrusage(resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(run) -> tuple[float, float, list[object]]:  # type: ignore[no-untyped-def]
    """(wall seconds, CPU seconds, outcomes) of ``run()``."""
    started, cpu = time.perf_counter(), cpu_seconds()
    outcomes = list(run())
    return time.perf_counter() - started, cpu_seconds() - cpu, outcomes


def hog() -> subprocess.Popen[bytes]:
    """Another CPU-bound process, as on a shared machine."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--baseline", type=int, default=500,
                        help="questions answered one by one (the slow path) per condition")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--idle-only", action="store_true",
                        help="leave out the run beside another CPU-bound process")
    parser.add_argument("--index", type=Path, default=None,
                        help="index of the shipped corpus (default: $RAG_HOME/index)")
    args = parser.parse_args()

    from rag.answer import answer, answer_many
    from rag.answer.workers import answer_in_workers
    from rag.encoders import load_encoder
    from rag.index import index_paths
    from rag.paths import default_index_dir, shipped_corpus
    from rag.search import open_index

    location = args.index or default_index_dir()
    encoder = load_encoder("multilingual-e5-small")
    index_paths([shipped_corpus()], index=location, encoder=encoder)
    index = open_index(location, encoder=encoder)
    items = questions(args.questions)
    list(answer_many(items[-64:], index=index, encoder=encoder))  # warm up: jieba, model
    print(f"{len(items)} questions, {len(index.clauses)} clauses, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")

    base = items[: args.baseline]
    rows = []
    conditions = ["idle"] if args.idle_only else ["idle", "busy (1 CPU-bound process)"]
    for condition in conditions:
        other = hog() if condition != "idle" else None
        try:
            time.sleep(1.0 if other else 0.0)
            took, cpu_one, single = timed(lambda: (answer(q, index=index, encoder=encoder)
                                                   for q in base))
            slow = len(base) / took
            took, cpu_many, many = timed(lambda: answer_many(items, index=index,
                                                             encoder=encoder))
            fast = len(items) / took
            took, cpu_pool, spread = timed(lambda: answer_in_workers(
                items, index=index, opener=partial(open_index, location),
                workers=args.workers))
            pool = len(items) / took
            _, cpu_embed, _ = timed(lambda: (encoder.encode_queries([q]) for q in base))
        finally:
            if other is not None:
                other.kill()
                other.wait()
        want = lines(base, single)
        differ = (sum(a != b for a, b in zip(lines(base, many[: len(base)]), want, strict=True)),
                  sum(a != b for a, b in zip(lines(base, spread[: len(base)]), want,
                                             strict=True)))
        rows.append((condition, slow, fast, pool))
        print(f"{condition:<28} one by one {slow:6.1f} q/s   answer_many {fast:6.1f} q/s "
              f"({fast / slow:.2f}x)   {args.workers} workers {pool:6.1f} q/s "
              f"({pool / slow:.2f}x)   lines differing from answer(): {differ[0]}, "
              f"{differ[1]} of {len(base)}   load {os.getloadavg()[0]:.1f}")
        print(f"{'':<28} CPU per question: one by one {1000 * cpu_one / len(base):.1f} ms, "
              f"answer_many {1000 * cpu_many / len(items):.1f} ms, {args.workers} workers "
              f"{1000 * cpu_pool / len(items):.1f} ms (their start included); of which "
              f"embedding one question {1000 * cpu_embed / len(base):.1f} ms")
    best = max(rows[0][2], rows[0][3])
    print(f"idle: best batch path {best:.1f} q/s (target >= 100)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
