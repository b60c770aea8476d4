"""Does a learned lay→statute term expansion of the BM25 query lift first-stage recall?

    python benchmarks/query_expansion.py --index embeddings/lawrefbook-full   # CV, then dev
    python benchmarks/query_expansion.py --index ... --no-dev                 # CV only

From STARD train.jsonl only, a term table is learned: for a question term a and a term b
of the question's gold articles (their BM25 passages, gold resolved as
benchmarks/train_retrieval.py ``gold_rows`` does), P(b | a) = n(a, b) / (n(a) + 1) over
the training questions, kept when b co-occurs with a at least ``--min-count`` times and
is at least twice as frequent in a's gold as in all gold (lift ≥ 2); each question term
keeps its 10 best statute terms by P(b | a)·log lift, the table its 5,000 best entries.
A question's BM25 query is then the question's own terms (weight 1, kept as they are)
plus its ``size`` best associated statute terms not already asked (ranked by the sum of
P·log lift over the question's terms), each weighted ``weight``·max_a P(b | a); BM25 is
the weighted sum of the terms' precomputed BM25 columns (bm25s stores one per term).

Expansion size and weight are chosen by 5-fold CV on train (seeded folds; each fold's
table learned on the other four, each fold's dense channel mapped by a query adapter
trained on the other four with the shipped adapter's settings, as
benchmarks/memory_eval.py does). Reported: BM25 alone and fused (the shipped
``Fusion()``: dense + dense_plain + BM25 + definition + reference), R@10 / R@100 / MRR@10,
with and without expansion, same run. Dev (308 questions) is asked once at the end, with
a table learned on all of train and the shipped adapter, for the CV's choice only.
The index is opened read-only (nothing is written to it).

``--channel`` asks the other question: the original BM25 ranking is left as it is and the
expanded query (the question's terms plus the expansion) is searched as a channel of its
own, ``bm25_expanded``, fused with weight w (grid ``CHANNEL_WEIGHTS``) beside the shipped
channels; size, term weight and w chosen by the same CV (the chosen key must keep R@10 and
MRR@10 within ``--tolerance`` of the shipped stack and gain ``--bar`` R@100 to ship).

    python benchmarks/query_expansion.py --index /work/cache/full-ft2 \
        --model multilingual-e5-small-statutes --channel
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from memory_eval import fold_adapters
from stard import DEV, TRAIN, folds_of, gold_keys, load_questions
from train_retrieval import adapt, gold_rows

from rag.encoders import load_encoder
from rag.evaluate.metrics import mean, ranked_articles, score
from rag.index.passages import keyword_passage
from rag.search import Fusion, Index, open_index, prepare, rank

CACHE = Path(os.environ.get("RAG_TEST_CACHE", "~/.cache/rag-compliance-tests")).expanduser()
SIZES = (10, 20, 40)
WEIGHTS = (0.35, 0.5, 1.0)
BM25_WEIGHTS = (0.7, 1.0, 1.4)  # Fusion.bm25_weight, shipped 0.7: searched with and without
PER_TERM = 10  # statute terms kept per question term
TABLE_SIZE = 5000  # entries kept in all
MIN_LIFT = 2.0
COLUMNS = ("R@10", "R@100", "MRR@10")
CHANNEL_WEIGHTS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7)  # --channel: the bm25_expanded channel's weight
CHANNEL = "bm25_expanded"

Table = dict[str, list[tuple[str, float, float]]]  # a → [(b, P(b|a), log lift)]


def learn(questions: list[set[str]], golds: list[set[str]], *, min_count: int) -> Table:
    """The pruned association table from (question terms, gold terms) pairs."""
    n_a: Counter[str] = Counter()
    n_b: Counter[str] = Counter()
    n_ab: Counter[tuple[str, str]] = Counter()
    for q, g in zip(questions, golds, strict=True):
        n_a.update(q)
        n_b.update(g)
        n_ab.update((a, b) for a in q for b in g)
    total = len(questions)
    entries = []
    for (a, b), count in n_ab.items():
        if count < min_count or a == b:
            continue
        p = count / (n_a[a] + 1)
        lift = p / (n_b[b] / total)
        if lift >= MIN_LIFT:
            entries.append((p * math.log(lift), a, b, p, math.log(lift)))
    per_a: dict[str, list[tuple[float, str, str, float, float]]] = {}
    for entry in sorted(entries, reverse=True):
        kept = per_a.setdefault(entry[1], [])
        if len(kept) < PER_TERM:
            kept.append(entry)
    best = sorted((e for kept in per_a.values() for e in kept), reverse=True)[:TABLE_SIZE]
    table: Table = {}
    for _, a, b, p, log_lift in best:
        table.setdefault(a, []).append((b, p, log_lift))
    return table


def expansion(terms: list[str], table: Table, *, size: int) -> list[tuple[str, float]]:
    """The ``size`` statute terms best associated with ``terms`` (not among them), each
    with its largest P(b | a) over the question's terms."""
    asked = set(terms)
    rank_of: dict[str, float] = {}
    prob: dict[str, float] = {}
    for a in dict.fromkeys(terms):
        for b, p, log_lift in table.get(a, ()):
            if b in asked:
                continue
            rank_of[b] = rank_of.get(b, 0.0) + p * log_lift
            prob[b] = max(p, prob.get(b, 0.0))
    chosen = sorted(rank_of, key=lambda b: (-rank_of[b], b))[:size]
    return [(b, prob[b]) for b in chosen]


class Keyword:
    """Weighted BM25 over the index's precomputed columns (bm25s, read only)."""

    def __init__(self, index: Index) -> None:
        bm25 = index.backend._load().bm25  # type: ignore[attr-defined]
        self.vocab: dict[str, int] = bm25.vocab_dict
        self.data = bm25.scores["data"]
        self.indices = bm25.scores["indices"]
        self.indptr = bm25.scores["indptr"]
        self.n = int(bm25.scores["num_docs"])

    def search(self, weighted: list[tuple[str, float]], depth: int
               ) -> tuple[np.ndarray, np.ndarray]:
        scores = np.zeros(self.n, np.float32)
        for term, weight in weighted:
            tid = self.vocab.get(term)
            if tid is None:
                continue
            lo, hi = self.indptr[tid], self.indptr[tid + 1]
            scores[self.indices[lo:hi]] += weight * self.data[lo:hi]
        if not scores.any():
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        top = np.argpartition(-scores, depth)[:depth]
        top = top[scores[top] > 0]
        order = top[np.lexsort((top, -scores[top]))]
        return scores[order], order.astype(np.int64)


@dataclass(frozen=True)
class ChannelFusion(Fusion):
    """The shipped fusion plus the expanded query's own channel, weighted ``expanded``."""

    expanded: float = 0.0

    def weight(self, channel: str) -> float:
        return self.expanded if channel == CHANNEL else super().weight(channel)


@dataclass
class Prepared:
    """Questions prepared once: queries, their BM25 terms, the dense channels."""

    queries: list[Any]
    terms: list[list[str]]
    dense: list[dict[str, tuple[np.ndarray, np.ndarray]]]
    golds: list[set[Any]]


def prepared(index: Index, encoder: Any, questions: list[dict[str, Any]], fusion: Fusion,
             adapters: list[np.ndarray | None] | None) -> Prepared:
    queries = [prepare(q["question"], index=index) for q in questions]
    vectors = encoder.encode_queries([q.text for q in queries])
    dense = []
    for i, (query, vector) in enumerate(zip(queries, vectors, strict=True)):
        weight = adapters[i] if adapters is not None else index.learned.adapter  # type: ignore[union-attr]
        mapped = adapt(weight, vector[None, :])[0]
        found = index.backend.search_dense(mapped, fusion.depth, filters=query.filters)
        plain = index.backend.search_dense(vector, fusion.depth, filters=query.filters)
        dense.append({"dense": (found.scores, found.rows),
                      "dense_plain": (plain.scores, plain.rows)})
    terms = [index.tokenizer(q.text) for q in queries]
    return Prepared(queries, terms, dense, [gold_keys(q) for q in questions])


def gold_terms(index: Index, questions: list[dict[str, Any]]) -> list[set[str]]:
    """Each question's gold articles' BM25 terms (title, path, text), as one set."""
    cache: dict[int, set[str]] = {}
    out = []
    for rows in gold_rows(index, questions):
        terms: set[str] = set()
        for row in rows.tolist():
            if row not in cache:
                clause = index.clauses[row]
                cache[row] = set(index.tokenizer(
                    keyword_passage(clause, index.documents[clause.doc_id])))
            terms |= cache[row]
        out.append(terms)
    return out


def evaluate(index: Index, keyword: Keyword, data: Prepared, items: list[int],
             tables: list[Table] | Table, size: int, weight: float, fusion: Fusion,
             rows: list[dict[str, float]] | None = None
             ) -> tuple[dict[str, float], dict[str, float]]:
    """(BM25 alone, fused) means over ``items``; ``tables`` one per question or shared;
    ``rows``, when given, receives each question's fused scores."""
    alone, fused = [], []
    for i in items:
        table = tables[i] if isinstance(tables, list) else tables
        terms = data.terms[i]
        extra = expansion(terms, table, size=size) if size and weight else []
        bm25 = keyword.search([(t, 1.0) for t in terms] + [(b, weight * p) for b, p in extra],
                              fusion.depth)
        query = data.queries[i]
        hits = rank(query, {"bm25": bm25}, index=index, k=100, fusion=fusion)
        alone.append(score(ranked_articles(index, hits), data.golds[i]))
        hits = rank(query, {**data.dense[i], "bm25": bm25}, index=index, k=100, fusion=fusion)
        fused.append(score(ranked_articles(index, hits), data.golds[i]))
    if rows is not None:
        rows.extend(fused)
    return mean(alone), mean(fused)


def expanded_query(terms: list[str], table: Table, size: int, weight: float,
                   extra_only: bool) -> list[tuple[str, float]]:
    """The bm25_expanded channel's weighted terms: the question's own (unless
    ``extra_only``) and its expansion."""
    extra = [(b, weight * p) for b, p in expansion(terms, table, size=size)]
    return extra if extra_only else [(t, 1.0) for t in terms] + extra


def evaluate_channel(index: Index, keyword: Keyword, data: Prepared, items: list[int],
                     tables: list[Table] | Table, size: int, weight: float,
                     fusion: ChannelFusion, cache: dict[Any, Any],
                     rows: list[dict[str, float]] | None = None, extra_only: bool = False
                     ) -> tuple[dict[str, float], dict[str, float]]:
    """(BM25 + the expanded channel, fused) means over ``items``: the question's own BM25
    ranking kept as it is, the expanded query searched as channel ``bm25_expanded`` (none
    when ``fusion.expanded`` is 0); ``cache`` keeps the searches across weights."""
    alone, fused = [], []
    for i in items:
        terms = data.terms[i]
        if ("bm25", i) not in cache:
            cache[("bm25", i)] = keyword.search([(t, 1.0) for t in terms], fusion.depth)
        channels = {"bm25": cache[("bm25", i)]}
        if fusion.expanded > 0:
            key = (CHANNEL, i, size, weight)
            if key not in cache:
                table = tables[i] if isinstance(tables, list) else tables
                cache[key] = keyword.search(
                    expanded_query(terms, table, size, weight, extra_only), fusion.depth)
            channels[CHANNEL] = cache[key]
        query = data.queries[i]
        hits = rank(query, channels, index=index, k=100, fusion=fusion)
        alone.append(score(ranked_articles(index, hits), data.golds[i]))
        hits = rank(query, {**data.dense[i], **channels}, index=index, k=100, fusion=fusion)
        fused.append(score(ranked_articles(index, hits), data.golds[i]))
    if rows is not None:
        rows.extend(fused)
    return mean(alone), mean(fused)


def paired_rows(before: list[dict[str, float]], after: list[dict[str, float]],
                seed: int) -> str:
    """Questions up and down in fused R@100, and a seeded bootstrap 95 % interval of the
    mean change."""
    diff = np.array([a["R@100"] - b["R@100"] for a, b in zip(after, before, strict=True)])
    means = np.random.default_rng(seed).choice(diff, (2000, len(diff))).mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return (f"fused R@100 question by question: {int((diff > 0).sum())} up, "
            f"{int((diff < 0).sum())} down; mean {diff.mean():+.4f}, bootstrap 95 % "
            f"[{low:+.4f}, {high:+.4f}]")


def channel_cv(index: Index, keyword: Keyword, data: Prepared, tables: list[Table],
               example: Table, args: argparse.Namespace, dev: list[dict[str, Any]] | None,
               encoder: Any) -> None:
    """``--channel``: the CV grid over (size, term weight, channel weight), then dev once."""
    fusion = ChannelFusion()
    items = list(range(len(data.queries)))
    cache: dict[Any, Any] = {}
    results: dict[tuple[int, float, float], tuple[dict[str, float], dict[str, float]]] = {}
    rows: dict[tuple[int, float, float], list[dict[str, float]]] = {}
    print(HEADER)
    # expansion terms alone: one weight scales every term, so the ranking is the same
    term_weights = (1.0,) if args.extra_only else WEIGHTS
    for size, weight, w in [(0, 0.0, 0.0), *[(s, t, w) for s in SIZES for t in term_weights
                                              for w in CHANNEL_WEIGHTS]]:
        key = (size, weight, w)
        rows[key] = []
        results[key] = evaluate_channel(index, keyword, data, items, tables, size, weight,
                                        replace(fusion, expanded=w), cache, rows[key],
                                        args.extra_only)
        print(line(f"{size} x {weight:g}, channel {w:g}" if w else "shipped (no channel)",
                   *results[key]), flush=True)
    base = results[(0, 0.0, 0.0)][1]

    def admissible(fused: dict[str, float]) -> bool:
        return (fused["R@10"] >= base["R@10"] - args.tolerance
                and fused["MRR@10"] >= base["MRR@10"] - args.tolerance)

    choice = max(results, key=lambda k: (admissible(results[k][1]), results[k][1]["R@100"],
                                         -k[2], -k[0], -k[1]))
    best_any = max(results, key=lambda k: (results[k][1]["R@100"], -k[2], -k[0], -k[1]))
    top = max(results, key=lambda k: (results[k][1]["R@10"] + results[k][1]["MRR@10"],
                                      -k[2]))
    gain = results[choice][1]["R@100"] - base["R@100"]
    ships = choice[2] > 0 and admissible(results[choice][1]) and gain >= args.bar
    for name, key in (("CV choice (top kept)", choice), ("best R@100, any top", best_any),
                      ("best R@10 + MRR@10", top)):
        d = {c: results[key][1][c] - base[c] for c in COLUMNS}
        print(f"{name}: {key[0]} terms x {key[1]:g}, channel weight {key[2]:g}: fused "
              + ", ".join(f"{c} {d[c]:+.4f}" for c in COLUMNS))
    print(f"decision: {'SHIP' if ships else 'do not ship'} (bar: R@100 >= +{args.bar:g}, "
          f"R@10 and MRR@10 within {args.tolerance:g} of the shipped stack)")
    print(paired_rows(rows[(0, 0.0, 0.0)], rows[choice], args.seed))
    print(nested(rows, folds_of(len(items), args.folds, args.seed).tolist(), args.folds,
                 args.tolerance))
    deepest = max((k for k in results if k[2] > 0), key=lambda k: results[k][1]["R@100"])
    print(ceiling(index, data, cache, rows[(0, 0.0, 0.0)], deepest, fusion))
    if dev is None:
        return
    dev_data = prepared(index, encoder, dev, fusion, None)
    dev_items = list(range(len(dev)))
    dev_cache: dict[Any, Any] = {}
    print(f"\nSTARD dev ({len(dev)} questions), table from all of train, shipped adapter")
    print(HEADER)
    for name, key in (("shipped (no channel)", (0, 0.0, 0.0)), ("CV choice", choice),
                      ("best R@100, any top", best_any)):
        print(line(f"{name}: {key[0]} x {key[1]:g}, w {key[2]:g}", *evaluate_channel(
            index, keyword, dev_data, dev_items, example, key[0], key[1],
            replace(fusion, expanded=key[2]), dev_cache, None, args.extra_only)), flush=True)


def ceiling(index: Index, data: Prepared, cache: dict[Any, Any],
            shipped: list[dict[str, float]], key: tuple[int, float, float],
            fusion: ChannelFusion) -> str:
    """What depth the channel could add at best: gold articles in the expanded channel's
    own top 100 and in the shipped fused top 100, alone and together (any fusion of the
    two finds at most their union in a top 200)."""
    alone, union, new = [], [], 0
    for i, query in enumerate(data.queries):
        hits = rank(query, {"bm25": cache[(CHANNEL, i, key[0], key[1])]}, index=index,
                    k=100, fusion=fusion)
        found = set(ranked_articles(index, hits)) & data.golds[i]
        alone.append(len(found) / len(data.golds[i]))
        hits = rank(query, {**data.dense[i], "bm25": cache[("bm25", i)]}, index=index,
                    k=100, fusion=fusion)
        shipped_found = set(ranked_articles(index, hits)) & data.golds[i]
        new += len(found - shipped_found)
        union.append(len(found | shipped_found) / len(data.golds[i]))
    before = np.mean([r["R@100"] for r in shipped])
    return (f"ceiling ({key[0]} x {key[1]:g}): the expanded channel alone R@100 "
            f"{np.mean(alone):.3f}; shipped fused R@100 {before:.3f}; "
            f"their union (top 100 each) {np.mean(union):.3f}: {new} gold articles only the "
            "channel's top 100 holds")


def nested(rows: dict[tuple[int, float, float], list[dict[str, float]]],
           assignment: list[int], folds: int, tolerance: float) -> str:
    """The grid's choice made without each fold (on the other folds' questions, by the
    same rule) and scored on it: the choice's gain free of the grid's selection."""
    base_key = (0, 0.0, 0.0)
    chosen_rows: list[dict[str, float]] = []
    base_rows: list[dict[str, float]] = []
    picks = []
    for fold in range(folds):
        inner = [i for i, f in enumerate(assignment) if f != fold]
        outer = [i for i, f in enumerate(assignment) if f == fold]
        means = {key: mean([r[i] for i in inner]) for key, r in rows.items()}
        base = means[base_key]

        def rule(key: tuple[int, float, float], means: dict[Any, dict[str, float]] = means,
                 base: dict[str, float] = base) -> tuple[bool, float, float]:
            m = means[key]
            ok = (m["R@10"] >= base["R@10"] - tolerance
                  and m["MRR@10"] >= base["MRR@10"] - tolerance)
            return ok, m["R@100"], -key[2]

        pick = max(rows, key=rule)
        picks.append(f"{pick[0]}x{pick[1]:g}/w{pick[2]:g}")
        chosen_rows += [rows[pick][i] for i in outer]
        base_rows += [rows[base_key][i] for i in outer]
    after, before = mean(chosen_rows), mean(base_rows)
    return ("nested CV (grid chosen without the fold, scored on it; picks "
            + ", ".join(picks) + "): " + ", ".join(
                f"{c} {before[c]:.3f} → {after[c]:.3f} ({after[c] - before[c]:+.4f})"
                for c in COLUMNS))


def paired(index: Index, keyword: Keyword, data: Prepared, tables: list[Table],
           key: tuple[float, int, float], fusion: Fusion, seed: int) -> str:
    """How the fused R@100 of ``key`` differs from the shipped stack's, question by
    question: questions up and down, and a seeded bootstrap 95 % interval of the mean."""
    items = list(range(len(data.queries)))
    before: list[dict[str, float]] = []
    after: list[dict[str, float]] = []
    evaluate(index, keyword, data, items, tables, 0, 0.0, fusion, before)
    evaluate(index, keyword, data, items, tables, key[1], key[2],
             replace(fusion, bm25_weight=key[0]), after)
    return paired_rows(before, after, seed)


def line(name: str, alone: dict[str, float], fused: dict[str, float]) -> str:
    return f"{name:<26}" + "".join(f"{alone[c]:>8.3f}" for c in COLUMNS) + "   " + "".join(
        f"{fused[c]:>8.3f}" for c in COLUMNS)


HEADER = (f"{'BM25 alone | fused:':<26}" + "".join(f"{c:>8}" for c in COLUMNS) + "   "
          + "".join(f"{c:>8}" for c in COLUMNS))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True,
                        help="the full-corpus index (opened read-only)")
    parser.add_argument("--model", default="multilingual-e5-small")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-count", type=int, default=2)
    parser.add_argument("--fixed-adapter", action="store_true",
                        help="search train with the shipped adapter (trained on all of "
                        "train) instead of out-of-fold adapters")
    parser.add_argument("--no-dev", action="store_true", help="the CV only")
    parser.add_argument("--limit", type=int, default=0, help="first N train questions")
    parser.add_argument("--channel", action="store_true",
                        help="the expansion as a fusion channel of its own (bm25_expanded), "
                        "the original BM25 ranking kept")
    parser.add_argument("--extra-only", action="store_true",
                        help="--channel: the channel searches the expansion terms only, "
                        "without the question's own")
    parser.add_argument("--bar", type=float, default=0.01,
                        help="--channel: fused R@100 gain needed to ship")
    parser.add_argument("--tolerance", type=float, default=0.003,
                        help="--channel: the most R@10 or MRR@10 may lose")
    args = parser.parse_args()
    os.environ.setdefault("RAG_MODEL_CACHE", str(CACHE / "models"))
    encoder = load_encoder(args.model)
    index = open_index(args.index, encoder=encoder)
    fusion = Fusion()
    keyword = Keyword(index)
    train = load_questions(TRAIN)
    if args.limit:
        train = train[:args.limit]
    t0 = time.perf_counter()
    assignment = folds_of(len(train), args.folds, args.seed).tolist()
    adapters = (None if args.fixed_adapter
                else fold_adapters(index, encoder, train, assignment, args.folds))
    data = prepared(index, encoder, train, fusion, adapters)
    golds = gold_terms(index, train)
    asked = [set(t) for t in data.terms]
    tables = []
    for fold in range(args.folds):
        keep = [i for i in range(len(train)) if assignment[i] != fold]
        tables.append(learn([asked[i] for i in keep], [golds[i] for i in keep],
                            min_count=args.min_count))
    per_question = [tables[assignment[i]] for i in range(len(train))]
    print(f"prepared {len(train)} train questions in {time.perf_counter() - t0:.0f} s; "
          f"table entries per fold: {[sum(map(len, t.values())) for t in tables]}",
          file=sys.stderr)
    items = list(range(len(train)))
    adapter_note = ("the shipped adapter" if args.fixed_adapter
                    else "out-of-fold adapters")
    print(f"\nSTARD train, {args.folds}-fold CV over {len(train)} questions (seed "
          f"{args.seed}; tables and {adapter_note} from the other folds), min count "
          f"{args.min_count}")
    example = learn(asked, golds, min_count=args.min_count)
    if args.channel:
        print(f"channel {CHANNEL}: the "
              + ("expansion terms alone" if args.extra_only else "expanded query")
              + f" fused beside the original BM25, model {args.model}")
        channel_cv(index, keyword, data, per_question, example, args,
                   None if args.no_dev else load_questions(DEV), encoder)
        return 0
    print(HEADER)
    results: dict[tuple[float, int, float], tuple[dict[str, float], dict[str, float]]] = {}
    for bm25_weight in BM25_WEIGHTS:
        trial = replace(fusion, bm25_weight=bm25_weight)
        for size, weight in [(0, 0.0), *[(s, w) for s in SIZES for w in WEIGHTS]]:
            results[(bm25_weight, size, weight)] = evaluate(
                index, keyword, data, items, per_question, size, weight, trial)
            print(line(f"bm25 {bm25_weight:g}, " + (f"expand {size} x {weight:g}" if size
                                                     else "no expansion"),
                       *results[(bm25_weight, size, weight)]), flush=True)
    base = results[(fusion.bm25_weight, 0, 0.0)]

    def objective(fused: dict[str, float]) -> float:
        return fused["R@100"] if (fused["R@10"] >= base[1]["R@10"] - 0.005
                                  and fused["MRR@10"] >= base[1]["MRR@10"] - 0.005) else -1.0

    def best(keys: list[tuple[float, int, float]]) -> tuple[float, int, float]:
        return max(keys, key=lambda key: (objective(results[key][1]), -key[1], -key[2],
                                          -abs(key[0] - fusion.bm25_weight)))

    choice = best(list(results))
    plain = best([key for key in results if key[1] == 0])
    gain = results[choice][1]["R@100"] - base[1]["R@100"]
    own = results[choice][1]["R@100"] - results[plain][1]["R@100"]
    ships = objective(results[choice][1]) >= 0 and gain >= 0.01 and choice[1] > 0
    print(f"\nCV choice: BM25 weight {choice[0]:g}, {choice[1]} terms x {choice[2]:g}: fused "
          f"R@100 {gain:+.4f} over the shipped stack, {own:+.4f} over the best without "
          f"expansion (BM25 weight {plain[0]:g}); {'meets' if ships else 'misses'} the bar "
          "(+0.01 R@100, R@10 and MRR@10 within .005 of the shipped stack)")
    print(paired(index, keyword, data, per_question, choice, fusion, args.seed))
    print(f"table from all of train: {sum(map(len, example.values()))} entries over "
          f"{len(example)} question terms; e.g. " + "; ".join(
              f"{a} → {' '.join(b for b, _, _ in example[a][:4])}"
              for a in [a for a in ("炒股", "罚", "老板", "工资", "撞") if a in example]
              or list(example)[:4]))
    if args.no_dev:
        return 0
    dev = load_questions(DEV)
    dev_data = prepared(index, encoder, dev, fusion, None)
    dev_items = list(range(len(dev)))
    print(f"\nSTARD dev ({len(dev)} questions), table from all of train, shipped adapter")
    print(HEADER)
    print(line("shipped, no expansion", *evaluate(index, keyword, dev_data, dev_items,
                                                  example, 0, 0.0, fusion)))
    for name, key in (("best without (CV)", plain), ("CV choice", choice)):
        print(line(f"{name}: bm25 {key[0]:g}, {key[1]} x {key[2]:g}",
                   *evaluate(index, keyword, dev_data, dev_items, example, key[1], key[2],
                             replace(fusion, bm25_weight=key[0]))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
