"""The encoder on ONNX Runtime against torch, in one run, the engines taking turns.

    python benchmarks/encoder_engines.py                  # ~5 minutes on 2 idle cores
    python benchmarks/encoder_engines.py --no-busy --questions 30 --cold 1
    python benchmarks/encoder_engines.py --cold-only --cold 3   # cold start only, ~1 min

Same model (multilingual-e5-small, the same identity), same questions, interleaved so a
shared machine's noise falls on both engines alike; every line gives the ratio:

* cold start: ``rag ask`` as a new process (start → answer printed) on the shipped corpus
  with its index already built; wall, CPU and peak memory of the process;
* one question embedded: p50/p95 with 1 and 2 threads (STARD train questions);
* ``answer()`` p50/p95, warm, on the shipped corpus (the full corpus index does not exist
  here);
* batches: ``answer_many()`` (what ``rag batch`` runs) in questions/s;
* builds: embedding throughput on the same shipped-corpus passages (length-sorted steps,
  threads fitted, as ``rag index``); the shipped corpus's build = the rest of a build
  (timed with the hashing encoder) + its passages at that throughput (``--build``: also a
  real onnx build); the full corpus (67,566 passages) at that throughput;
* idle, and with one CPU-bound process beside it (single question and batches).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from functools import partial
from itertools import cycle, islice
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FULL_CORPUS_PASSAGES = 67_566  # README, "Index builds": the full national corpus
QUESTION = "利用内幕消息炒股会被罚多少钱？"
ENGINES = ("torch", "onnx")
WALLS: dict[str, list[float]] = {}  # every cold start's wall time, by engine


def questions(count: int) -> list[str]:
    pool = [json.loads(line)["question"]
            for line in (SHARED / "bench/stard/train.jsonl").open(encoding="utf-8")
            if line.strip()]
    return list(islice(cycle(pool), count))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000


def line(label: str, torch: float, onnx: float, unit: str, *, higher_is_better: bool = False
         ) -> None:
    ratio = onnx / torch if higher_is_better else torch / onnx
    print(f"  {label:<44} torch {torch:9.1f} {unit:<5} onnx {onnx:9.1f} {unit:<5} "
          f"→ {ratio:5.2f}× {'more' if higher_is_better else 'faster'}", flush=True)


class Hog:
    """One CPU-bound process beside the benchmark, as on a shared machine."""

    def __enter__(self) -> Hog:
        self.proc = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        time.sleep(0.5)
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.kill()
        self.proc.wait()


def cold_start(index: Path, rounds: int) -> dict[str, dict[str, float]]:
    """``rag ask`` in a new process per engine, taking turns; best of ``rounds``. Wall, CPU
    and peak memory come from ``/usr/bin/time`` (a child of this process would inherit this
    process's peak RSS)."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    best: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "time.txt"
        for _ in range(rounds):
            for engine in ENGINES:
                done = subprocess.run(
                    ["/usr/bin/time", "-o", str(report), "-f", "%e %U %S %M", sys.executable,
                     "-m", "rag", "ask", QUESTION, "--index", str(index), "--encoder-engine",
                     engine], capture_output=True, text=True, env=env, cwd=REPO)
                if done.returncode != 0 or "[1]" not in done.stdout:
                    raise RuntimeError(f"rag ask --encoder-engine {engine} failed: "
                                       f"{done.stderr[-800:]}")
                wall, user, system, rss = report.read_text().split()[-4:]
                run = {"wall": float(wall), "cpu": float(user) + float(system),
                       "rss": int(rss) / 1024}
                WALLS.setdefault(engine, []).append(run["wall"])
                if engine not in best or run["wall"] < best[engine]["wall"]:
                    best[engine] = run
    return best


def report_cold(index: Path, rounds: int) -> None:
    print(f"cold start: `rag ask` in a new process, index built (best of {rounds} each, "
          "taking turns)")
    cold = cold_start(index, rounds)
    line("wall", cold["torch"]["wall"], cold["onnx"]["wall"], "s")
    line("CPU (user+sys)", cold["torch"]["cpu"], cold["onnx"]["cpu"], "s")
    line("peak memory (RSS)", cold["torch"]["rss"], cold["onnx"]["rss"], "MB")
    for engine in ENGINES:
        print(f"    {engine} walls: {', '.join(f'{w:.2f}' for w in WALLS[engine])} s")


def consume(items: Iterable[object]) -> None:
    for _ in items:
        pass


def timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def single_encode(encoders: dict[str, Any], items: list[str], threads: int
                  ) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {e: [] for e in ENGINES}
    for engine in ENGINES:
        encoders[engine].use_threads(threads)
        encoders[engine].encode_queries(items[:3])  # warm this thread count
    for question in items:
        for engine in ENGINES:
            times[engine].append(timed(partial(encoders[engine].encode_queries, [question])))
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=60, help="single-question timings")
    parser.add_argument("--batch", type=int, default=3000,
                        help="questions answered by answer_many per engine (idle)")
    parser.add_argument("--sample", type=int, default=600,
                        help="shipped-corpus passages embedded by each engine")
    parser.add_argument("--cold", type=int, default=2, help="cold starts per engine")
    parser.add_argument("--no-busy", action="store_true", help="skip the busy runs")
    parser.add_argument("--cold-only", action="store_true",
                        help="only the cold start (torch loads only in its own processes)")
    parser.add_argument("--build", action="store_true",
                        help="also build the shipped corpus with onnx for real")
    parser.add_argument("--index", type=Path, default=None,
                        help="index of the shipped corpus (default: $RAG_HOME/index)")
    args = parser.parse_args()

    import numpy as np

    from rag.answer import answer, answer_many
    from rag.encoders import load_encoder
    from rag.encoders.threads import available_cores
    from rag.index import index_paths
    from rag.index.build import embed
    from rag.index.passages import dense_passage
    from rag.links.stored import LINKS
    from rag.paths import default_index_dir, shipped_corpus
    from rag.search import open_index

    location = args.index or default_index_dir()
    engines = ("onnx",) if args.cold_only else ENGINES
    encoders: dict[str, Any] = {e: load_encoder("multilingual-e5-small", engine=e) for e in engines}
    # built as `rag index` builds it: penalty links stored beside the records
    index_paths([shipped_corpus()], index=location, encoder=encoders["onnx"], derived=(LINKS,))
    index = open_index(location, encoder=encoders["onnx"])
    items = questions(max(args.questions, 10))
    if args.cold_only:
        print(f"shipped corpus: {len(index.clauses)} clauses; {available_cores()} cores; load "
              f"average {os.getloadavg()[0]:.1f} at the start", flush=True)
        report_cold(Path(location), args.cold)
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
        return 0
    for encoder in encoders.values():
        list(answer_many(items[:40], index=index, encoder=encoder))  # load, warm, jieba
    print(f"shipped corpus: {len(index.clauses)} clauses; {available_cores()} cores; "
          f"load average {os.getloadavg()[0]:.1f} at the start", flush=True)

    report_cold(Path(location), args.cold)

    conditions = [("idle", None)] if args.no_busy else [("idle", None), ("busy", Hog)]
    for condition, hog in conditions:
        print(f"— {condition}" + (" (one CPU-bound process beside it)" if hog else ""),
              flush=True)
        with hog() if hog else contextlib.nullcontext():
            for threads in (1, 2):
                times = single_encode(encoders, items[:args.questions], threads)
                for q, name in ((0.5, "p50"), (0.95, "p95")):
                    line(f"one question embedded, {threads} thread(s), {name}",
                         pct(times["torch"], q), pct(times["onnx"], q), "ms")
            # each engine as shipped (torch: all cores, onnx: one thread), and torch on one
            latency: dict[str, list[float]] = {"torch": [], "torch, 1 thread": [], "onnx": []}
            runs = (("torch", "torch", available_cores()), ("torch, 1 thread", "torch", 1),
                    ("onnx", "onnx", 1))
            for question in items[:args.questions]:
                for key, engine, threads in runs:
                    encoders[engine].use_threads(threads)
                    latency[key].append(timed(partial(answer, question, index=index,
                                                      encoder=encoders[engine])))
            for q, name in ((0.5, "p50"), (0.95, "p95")):
                line(f"answer() {name} (shipped corpus)", pct(latency["torch"], q),
                     pct(latency["onnx"], q), "ms")
                line(f"answer() {name}, torch on 1 thread too", pct(latency["torch, 1 thread"], q),
                     pct(latency["onnx"], q), "ms")
            count = args.batch if not hog else args.batch // 3
            rates = {}
            for engine in ENGINES:
                many = questions(count if engine == "onnx" else max(count // 3, 200))
                rates[engine] = len(many) / timed(partial(consume, answer_many(
                    many, index=index, encoder=encoders[engine])))
            line("answer_many (rag batch), questions/s", rates["torch"], rates["onnx"], "q/s",
                 higher_is_better=True)
            if hog:
                continue
            docs = index.documents
            passages = [dense_passage(c, docs[c.doc_id]) for c in index.clauses]
            sample = passages[:: max(1, len(passages) // args.sample)][:args.sample]
            spent = {e: 0.0 for e in ENGINES}
            for start in range(0, len(sample), 100):  # same passages, taking turns
                chunk = sample[start:start + 100]
                for engine in ENGINES:
                    spent[engine] += timed(partial(embed, chunk, encoder=encoders[engine]))
            speed = {e: len(sample) / spent[e] for e in ENGINES}
            line(f"embedding {len(sample)} passages, clauses/s", speed["torch"], speed["onnx"],
                 "c/s", higher_is_better=True)
            with tempfile.TemporaryDirectory() as tmp:  # the build without the model
                other = timed(partial(index_paths, [shipped_corpus()], index=Path(tmp) / "h",
                                      encoder=load_encoder("hashing"), derived=(LINKS,)))
                built = {e: other + len(passages) / speed[e] for e in ENGINES}
                how = "reading, chunking, BM25, writing timed with the hashing encoder"
                if args.build:
                    built["onnx"] = timed(partial(index_paths, [shipped_corpus()],
                                                  index=Path(tmp) / "i",
                                                  encoder=encoders["onnx"], derived=(LINKS,)))
                    how += "; onnx: a real build"
            line(f"shipped corpus build ({len(passages)} clauses)", built["torch"],
                 built["onnx"], "s")
            print(f"    ({how})")
            print(f"  full corpus ({FULL_CORPUS_PASSAGES:,} passages), extrapolated from "
                  f"{len(sample)} shipped passages: torch "
                  f"{FULL_CORPUS_PASSAGES / speed['torch'] / 60:.0f} min, onnx "
                  f"{FULL_CORPUS_PASSAGES / speed['onnx'] / 60:.0f} min "
                  f"(passage lengths differ from the full corpus's: an estimate)")
    same = sum(int(np.array_equal(
        [c.clause_id for c in answer(q, index=index, encoder=encoders["torch"], k=10).citations],
        [c.clause_id for c in answer(q, index=index, encoder=encoders["onnx"], k=10).citations]))
        for q in items[:args.questions])
    print(f"top-10 identical between engines: {same} of {args.questions} questions; "
          f"load average {os.getloadavg()[0]:.1f} at the end")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
