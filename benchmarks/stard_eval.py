"""Retrieval quality on STARD dev against the full LawRefBook corpus, channel by channel.

    python benchmarks/stard_eval.py                 # build/reuse the full index, evaluate
    python benchmarks/stard_eval.py --tune          # also pick fusion weights on train.jsonl
                                                    # (5-fold CV inside train), report dev
    python benchmarks/stard_eval.py --ablation      # also each step of the fusion on its own
    python benchmarks/stard_eval.py --latency-only  # only the two stacks' latencies
    python benchmarks/stard_eval.py --no-memory     # without the question-memory row

The full-corpus index is cached in embeddings/lawrefbook-full (embedding ~65k articles
takes about an hour on 2 cores; later runs only re-read and verify it). Scoring is
article-level (benchmarks/stard.py). Prints, in one run: BM25 only, dense only and the
hybrid as it was before any training (the current stack); then, with the trained parts
(rag/learned, trained on train.jsonl only), the adapter alone, the reranker alone and the
full new stack, beside the train-CV figures the training recorded; the shipped stack
with question memory (train.jsonl learned as a team's confirmed history, dev asked
against it: rag.search.memory); then warm latencies of the old and the new stack,
measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stard import (
    DEV,
    REPO,
    SHARED,
    TRAIN,
    folds_of,
    gold_keys,
    load_questions,
    mean,
    ranked_articles,
    same_questions,
    score,
    table,
)

from rag.core.titles import title_key
from rag.encoders import load_encoder
from rag.index import EmbeddedBackend, index_paths
from rag.search import (
    Fusion,
    Index,
    calibrated,
    channel_results,
    open_index,
    prepare,
    rank,
)

PLAIN = Fusion(use_adapter=False, use_reranker=False)  # the stack before any training


def evaluate(index, runs, questions, fusion, channels):  # type: ignore[no-untyped-def]
    rows = []
    for run, question in zip(runs, questions, strict=True):
        chosen = {c: run[c] for c in channels}
        if ("dense_plain" in run and {"dense", "bm25"} <= set(channels)
                and fusion.plain_dense_weight > 0):
            chosen["dense_plain"] = run["dense_plain"]  # the hybrid searches both questions
        hits = rank(prepare(question["question"], index=index), chosen, index=index, k=150,
                    fusion=fusion)
        rows.append(score(ranked_articles(index, hits), gold_keys(question)))
    return mean(rows)


def channel_runs(index, encoder, questions, fusion):  # type: ignore[no-untyped-def]
    return [channel_results(prepare(q["question"], index=index), index=index, encoder=encoder,
                            depth=fusion.depth, fusion=fusion) for q in questions]


def objective(index, runs, questions, rows, fusion) -> float:  # type: ignore[no-untyped-def]
    part = evaluate(index, [runs[i] for i in rows], [questions[i] for i in rows], fusion,
                    ("dense", "bm25"))
    return part["R@10"] + part["MRR@10"] + 0.5 * part["R@100"]


def search(index, runs, questions, rows, base: Fusion) -> Fusion:  # type: ignore[no-untyped-def]
    """Coordinate search over the fusion parameters on the questions in ``rows``."""
    grid: dict[str, tuple[Any, ...]] = {
        "bm25_weight": (0.25, 0.35, 0.5, 0.7, 1.0),
        "reference_weight": (0.0, 0.1, 0.2, 0.3, 0.5),
        "definition_weight": (0.0, 0.1, 0.2, 0.3, 0.5),
        "kind_penalty": tuple(
            (("judicial_interpretation", ji), ("regulation", reg))
            for ji in (0.0, 0.1, 0.2, 0.3, 0.4) for reg in (0.0, 0.2, 0.3, 0.4, 0.6)
        ),
    }
    best = base
    best_score = objective(index, runs, questions, rows, best)
    for _ in range(2):  # two sweeps
        for name, values in grid.items():
            for value in values:
                trial = replace(best, **{name: value})
                score = objective(index, runs, questions, rows, trial)
                if score > best_score + 1e-9:
                    best, best_score = trial, score
    return best


def tune(index, runs, questions, base: Fusion, *, folds: int) -> Fusion:  # type: ignore[no-untyped-def]
    """k-fold cross-validation of the search on the tuning (train) questions, each fold's
    choice scored on its held-out part, then a final search on all of them."""
    fold = folds_of(len(questions), folds)
    for k in range(folds):
        fit = [i for i in range(len(questions)) if fold[i] != k]
        held_out = [i for i in range(len(questions)) if fold[i] == k]
        chosen = search(index, runs, questions, fit, base)
        held = evaluate(index, [runs[i] for i in held_out], [questions[i] for i in held_out],
                        chosen, ("dense", "bm25"))
        print(f"  train fold {k + 1}/{folds}: {describe(chosen)}; held-out "
              + " ".join(f"{name} {v:.3f}" for name, v in held.items()), file=sys.stderr)
    return search(index, runs, questions, list(range(len(questions))), base)


def describe(f: Fusion) -> str:
    return (f"{f.method}: dense {f.dense_weight} bm25 {f.bm25_weight}"
            + (f" rrf_k {f.rrf_k}" if f.method == "rrf" else "")
            + f" reference {f.reference_weight} definition {f.definition_weight} "
            f"penalty {dict(f.kind_penalty)}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The options; tuning on the questions that are reported (dev) is refused."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpora" / "lawrefbook")
    parser.add_argument("--questions", type=Path, default=DEV,
                        help="the questions scored and reported (default: STARD dev)")
    parser.add_argument("--index", type=Path, default=REPO / "embeddings" / "lawrefbook-full")
    parser.add_argument("--model", default="multilingual-e5-small")
    parser.add_argument("--tune", action="store_true",
                        help="grid-search fusion weights on --tune-on (k-fold CV inside it), "
                        "then report them on --questions")
    parser.add_argument("--tune-on", type=Path, default=TRAIN, metavar="JSONL",
                        help="the questions weights are chosen on (default: STARD train; "
                        "never dev, nor any file sharing a question with --questions)")
    parser.add_argument("--folds", type=int, default=5,
                        help="cross-validation folds inside --tune-on (default 5)")
    parser.add_argument("--depth", type=int, default=200, help="candidates per channel")
    parser.add_argument("--no-build", action="store_true",
                        help="evaluate the index as it is (e.g. one built by an experiment)")
    parser.add_argument("--ablation", action="store_true",
                        help="also score the fusion one step at a time")
    parser.add_argument("--latency-only", action="store_true",
                        help="only the latencies of the current and the new stack")
    parser.add_argument("--hnsw", action="store_true",
                        help="also measure HNSW recall@10 against exact search")
    parser.add_argument("--no-memory", action="store_true",
                        help="skip the question-memory row (train.jsonl learned)")
    args = parser.parse_args(argv)
    if args.tune:
        refused = (f"--tune-on {args.tune_on}: weights are never tuned on the questions "
                   f"that are reported (STARD dev is reported, never tuned on); tune on "
                   f"train.jsonl (the default)")
        if args.tune_on.resolve() == DEV.resolve():
            parser.error(refused)
        for path in (args.tune_on, args.questions):
            if not path.is_file():
                parser.error(f"{path}: no such questions file")
        if same_questions(args.tune_on, args.questions):
            parser.error(refused.replace("(STARD dev", f"({args.questions} shares questions "
                                         "with it; STARD dev"))
        if args.folds < 2:
            parser.error(f"--folds {args.folds}: cross-validation needs at least 2 folds")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    encoder = load_encoder(args.model)
    started = time.perf_counter()
    if not args.no_build:
        report = index_paths([args.corpus], index=args.index, encoder=encoder,
                             progress=True)
        print(f"index: {report.summary()}", file=sys.stderr)
    index = open_index(args.index, encoder=encoder)
    learned = index.learned
    print(f"loaded {len(index.clauses)} clauses in {time.perf_counter() - started:.1f} s; "
          f"trained parts: {learned.identity if learned else 'none'}", file=sys.stderr)
    questions = load_questions(args.questions)
    if args.latency_only:
        latency(index, encoder, questions, learned)
        return 0

    fusion = replace(PLAIN, depth=args.depth)
    runs = channel_runs(index, encoder, questions, fusion)
    print(f"shipped fusion: {describe(fusion)}", file=sys.stderr)
    if args.tune:
        tuning = load_questions(args.tune_on)
        print(f"tuning on {len(tuning)} questions of {args.tune_on} ({args.folds}-fold CV)",
              file=sys.stderr)
        fusion = tune(index, channel_runs(index, encoder, tuning, fusion), tuning, fusion,
                      folds=args.folds)
        print(f"tuned on {args.tune_on.name}: {describe(fusion)}", file=sys.stderr)

    naive = Fusion(method="rrf", dense_weight=1.0, bm25_weight=1.0, rrf_k=60, depth=args.depth,
                   reference_weight=0.0, definition_weight=0.0, kind_penalty=(),
                   use_adapter=False, use_reranker=False)
    rows = {
        "bm25": evaluate(index, runs, questions, fusion, ("bm25",)),
        "dense": evaluate(index, runs, questions, fusion, ("dense",)),
        "rrf k=60 (naive)": evaluate(index, runs, questions, naive, ("dense", "bm25")),
        "hybrid (current stack)": evaluate(index, runs, questions, fusion, ("dense", "bm25")),
    }
    if args.ablation:
        rows.update(ablation(index, runs, questions, fusion))
    if learned is not None:
        adapted = replace(fusion, use_adapter=True)
        runs_adapted = channel_runs(index, encoder, questions, adapted)
        rows["dense + adapter"] = evaluate(index, runs_adapted, questions, adapted, ("dense",))
        unplain = replace(adapted, plain_dense_weight=0.0)
        rows["hybrid + adapter, mapped question only"] = evaluate(
            index, runs_adapted, questions, unplain, ("dense", "bm25"))
        on = learned.reranker_default  # the model's parts turn the reranker on by default
        rows["hybrid + adapter" + ("" if on else " (shipped default)")] = evaluate(
            index, runs_adapted, questions, adapted, ("dense", "bm25"))
        rows["hybrid + reranker (no adapter)"] = evaluate(
            index, runs, questions, replace(fusion, use_reranker=True), ("dense", "bm25"))
        full = replace(fusion, use_adapter=True, use_reranker=True)
        rows["adapter + reranker, nothing kept"] = evaluate(
            index, runs_adapted, questions, replace(full, reranker_keeps=0), ("dense", "bm25"))
        rows[f"adapter + reranker, fused top {full.reranker_keeps} kept" +
             (" (shipped default)" if on else " (opt-in)")] = evaluate(
            index, runs_adapted, questions, full, ("dense", "bm25"))
    if not args.no_memory:
        shipped = calibrated(Fusion(depth=args.depth), index)
        rows.update(memory_rows(index, encoder, questions, shipped))
    print(table(rows, title=f"\nSTARD dev, {len(questions)} questions, {len(index.clauses)} "
                f"clauses ({len(index.documents)} documents)"))
    if learned is not None:
        cv = learned.meta.get("training", {}).get("train_cv", {})
        if cv:
            print(table(cv, title="\ntrain-CV, as recorded by benchmarks/train_retrieval.py"))
    latency(index, encoder, questions, learned)
    if args.hnsw:
        hnsw_recall(index, encoder, [q["question"] for q in questions])
    return 0


def memory_rows(index: Index, encoder: Any, questions: list[dict[str, Any]],
                fusion: Fusion) -> dict[str, dict[str, float]]:
    """The shipped stack without and with question memory: every train.jsonl question
    confirmed for its gold articles (what `rag learn train.jsonl` stores), dev asked."""
    from rag.feedback.labelled import gold_clause
    from rag.feedback.recall import memory_text
    from rag.search.memory import Memory

    pairs: list[tuple[str, str]] = []
    unresolved = 0
    for question in load_questions(TRAIN):
        for gold in question["gold"]:
            clause = gold_clause(index, gold["law"], gold["article"])
            if clause is None:
                unresolved += 1
            else:
                pairs.append((question["question"], clause.id))
    vectors = encoder.encode_queries([memory_text(q) for q, _ in pairs])
    print(f"memory: {len(pairs)} train pairs learned ({unresolved} gold articles not in the "
          f"index); memory settings {fusion.memory_settings()}",
          file=sys.stderr)
    plain_runs = channel_runs(index, encoder, questions, fusion)
    without = evaluate(index, plain_runs, questions, fusion, ("dense", "bm25"))
    index.memory = Memory.from_pairs(pairs, vectors, model=index.model_identity)
    try:
        runs = channel_runs(index, encoder, questions, fusion)
        remembered = evaluate(index, runs, questions, fusion, ("dense", "bm25", "memory"))
    finally:
        index.memory = None
    return {"shipped, no memory (same run)": without,
            "shipped + memory (train learned)": remembered}


def latency(index: Index, encoder: Any, questions: list[dict[str, Any]], learned: Any) -> None:
    """Warm latencies of the old and the new stack on the same 100 questions, same run:
    question by question, the stacks take turns (order alternating), so a noisy neighbour
    slows both alike."""
    from rag.answer import answer
    from rag.search import retrieve

    sample = [q["question"] for q in questions[:100]]
    stacks = ({"current stack": PLAIN, "adapter, reranker off": Fusion(use_reranker=False),
               "adapter + reranker": Fusion(use_reranker=True)} if learned
              else {"stack": PLAIN})
    calls = {
        "retrieval (warm, k=10)": lambda q, f: retrieve(q, index=index, encoder=encoder,
                                                        k=10, fusion=f),
        "answer() (k=5)": lambda q, f: answer(q, index=index, encoder=encoder, k=5, fusion=f),
    }
    for what, call in calls.items():
        for question in sample[:5]:  # warm-up, not timed
            for fusion in stacks.values():
                call(question, fusion)
        timings: dict[str, list[float]] = {name: [] for name in stacks}
        for i, question in enumerate(sample):
            order = list(stacks.items())
            order = order[i % len(order):] + order[:i % len(order)]  # each goes first in turn
            for name, fusion in order:
                t0 = time.perf_counter()
                call(question, fusion)
                timings[name].append((time.perf_counter() - t0) * 1000)
        for name, values in timings.items():
            print(f"{name}: {what}, {len(values)} queries: {percentiles(values)}")
    # the same questions' embedding alone, as a baseline measured in the same run: the
    # machine's speed moves both, the share left to retrieval is what the code controls
    embedding = timed(sample, lambda q: encoder.encode_queries([q]))
    print(f"embedding the question alone: {percentiles(embedding)}")
    # questions that name their clause take the exact look-up path first
    timings_named, found = [], 0
    for question in questions[:100]:
        gold = question["gold"][0]
        named = f"《{gold['law']}》{gold['article']}怎么规定的？"
        t0 = time.perf_counter()
        reply = answer(named, index=index, encoder=encoder, k=5)
        timings_named.append((time.perf_counter() - t0) * 1000)
        first = reply.citations[0] if reply.citations else None
        found += bool(first and first.label == gold["article"]
                      and title_key(first.document) == title_key(gold["law"]))
    print(f"answer() for named clauses (《law》第X条, {len(timings_named)} queries): "
          f"{percentiles(timings_named)}; named clause first in {found}/{len(timings_named)}")


def timed(items: list[str], call) -> list[float]:  # type: ignore[no-untyped-def]
    """Milliseconds ``call(item)`` took, item by item."""
    out = []
    for item in items:
        t0 = time.perf_counter()
        call(item)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def percentiles(milliseconds: list[float]) -> str:
    ordered = sorted(milliseconds)
    return (f"p50 {ordered[len(ordered) // 2]:.1f} ms, "
            f"p95 {ordered[int(len(ordered) * .95)]:.1f} ms")


def ablation(index, runs, questions, shipped: Fusion) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    """The shipped fusion one step at a time, each row adding one step to the last."""
    steps = {
        "+ rrf tuned (k 20, 1.5:1)": replace(
            shipped, method="rrf", dense_weight=1.5, bm25_weight=1.0, rrf_k=20,
            reference_weight=0.0, definition_weight=0.0, kind_penalty=()),
        "score fusion instead": replace(
            shipped, reference_weight=0.0, definition_weight=0.0, kind_penalty=()),
        "+ kind penalties": replace(shipped, reference_weight=0.0, definition_weight=0.0),
        "+ definitions": replace(shipped, reference_weight=0.0),
        "+ references (shipped)": shipped,
    }
    return {name: evaluate(index, runs, questions, fusion, ("dense", "bm25"))
            for name, fusion in steps.items()}


def hnsw_recall(index: Index, encoder, questions: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Approximate (HNSW, as `rag index --search hnsw` builds it) against exact search."""
    from rag.index.vectors import HNSW_EF_SEARCH, hnsw_index

    assert isinstance(index.backend, EmbeddedBackend)
    t0 = time.perf_counter()
    approx = hnsw_index(index.backend.vectors)
    built = time.perf_counter() - t0
    vectors = encoder.encode_queries(questions)
    exact_ms, approx_ms, overlap = [], [], []
    for vector in vectors:
        t0 = time.perf_counter()
        exact = index.backend.search_dense(vector, 10).rows
        exact_ms.append(1000 * (time.perf_counter() - t0))
        t0 = time.perf_counter()
        approx.hnsw.efSearch = HNSW_EF_SEARCH
        _, rows = approx.search(vector.reshape(1, -1), 10)
        approx_ms.append(1000 * (time.perf_counter() - t0))
        overlap.append(len(set(exact.tolist()) & set(rows[0].tolist())) / 10)
    print(f"\nHNSW (M 32, efConstruction 80, efSearch 64) vs exact on {len(vectors)} queries: "
          f"recall@10 {statistics.fmean(overlap):.3f}; search p50 "
          f"{statistics.median(approx_ms):.2f} ms vs exact {statistics.median(exact_ms):.2f} ms;"
          f" built in {built:.0f} s")


if __name__ == "__main__":
    raise SystemExit(main())
