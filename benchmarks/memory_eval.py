"""Question memory measured on what is affordable here: the shipped corpus, real model.

    python benchmarks/memory_eval.py            # paraphrases + STARD (shipped corpus), CV
    python benchmarks/memory_eval.py --quick    # paraphrases only
    python benchmarks/memory_eval.py --index embeddings/lawrefbook-full --no-build \
        --no-paraphrases                        # the same CV on the full national corpus
    python benchmarks/memory_eval.py --index ... --no-build --no-paraphrases --plain-dense
                                                # only the CV of Fusion.plain_dense_weight

1. Paraphrases (benchmarks/data/paraphrases.jsonl, written for this): each confirmed
   question's clause is learned; its colleague's paraphrase is then asked, with and
   without the memory, same run; and the confirmed question itself again.
2. STARD restricted to the questions whose every gold article is in the shipped corpus
   (the full-corpus index is not built here): the memory's weight and floor are chosen
   by 5-fold cross-validation on train.jsonl only (each fold asked against a memory of
   the other four, and searched with a query adapter trained on the other four too,
   with the shipped adapter's settings: the shipped adapter was trained on all of train,
   so a fold's questions would be ones it has seen); then dev is asked against a memory
   of all of train, with and without, same run. Article-level scores
   (rag.evaluate.metrics).

The index is the real-model index of the shipped corpus the integration tests share
(``$RAG_TEST_CACHE/shipped-index``; built on first use, ~3 min on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stard import DEV, REPO, TRAIN, gold_keys, load_questions
from train_retrieval import HARD_NEGATIVES, adapt, gold_rows, hard_negatives, train_adapter

from rag.encoders import load_encoder
from rag.evaluate.metrics import first_rank, mean, ranked_articles, score, table
from rag.feedback.labelled import gold_clause
from rag.feedback.recall import memory_text
from rag.index import StoreError, index_paths
from rag.learned.artifacts import MANIFEST, model_folder
from rag.search import Fusion, Index, calibrated, channel_results, open_index, prepare, rank
from rag.search.fusion import MEMORY_DEFAULTS
from rag.search.memory import Memory, memory_channel

PARAPHRASES = REPO / "benchmarks" / "data" / "paraphrases.jsonl"
CACHE = Path(os.environ.get("RAG_TEST_CACHE", "~/.cache/rag-compliance-tests")).expanduser()
WEIGHTS = (0.25, 0.5, 1.0, 1.5, 2.0)
TEMPERATURES = (0.01, 0.02, 0.04)
NULLS = (0.88, 0.91, 0.94)  # (the floor stays Fusion's: it only cuts what cannot count)
PLAIN_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)  # Fusion.plain_dense_weight candidates


class Prepared:
    """Questions prepared once: queries, vectors, the dense and BM25 channels.

    ``adapters`` (one query map per question, or None) replaces the index's own adapter
    for the dense channel: out-of-fold adapters for a cross-validation on train.
    """

    def __init__(self, index: Index, encoder: Any, questions: list[str], fusion: Fusion,
                 adapters: list[np.ndarray | None] | None = None):
        self.index = index
        self.fusion = fusion
        self.queries = [prepare(q, index=index) for q in questions]
        self.vectors = encoder.encode_queries([q.text for q in self.queries])
        self.queries = [replace(q, vector=v) for q, v in zip(self.queries, self.vectors,
                                                              strict=True)]
        if adapters is None:
            self.runs = [channel_results(q, index=index, encoder=encoder, depth=fusion.depth,
                                         channels=("dense", "bm25"), fusion=fusion)
                         for q in self.queries]
            return
        self.runs = []
        for query, vector, weight in zip(self.queries, self.vectors, adapters, strict=True):
            run = channel_results(query, index=index, depth=fusion.depth, channels=("bm25",),
                                  fusion=fusion)
            mapped = adapt(weight, vector[None, :])[0]
            found = index.backend.search_dense(mapped, fusion.depth, filters=query.filters)
            plain = index.backend.search_dense(vector, fusion.depth, filters=query.filters)
            self.runs.append({"dense": (found.scores, found.rows),
                              "dense_plain": (plain.scores, plain.rows), **run})

    def hits(self, i: int, memory: Memory | None, fusion: Fusion, k: int = 100) -> list[Any]:
        ranked = dict(self.runs[i])
        if fusion.plain_dense_weight <= 0:  # as the product: not searched at all
            ranked.pop("dense_plain", None)
        self.index.memory = memory
        if memory is not None and fusion.memory_settings().weight > 0:
            query = self.queries[i]
            ranked["memory"] = memory_channel(
                memory, self.vectors[i], query.question, row_of=self.index.row_of,
                admits=lambda row: True, fusion=fusion)
        try:
            return rank(self.queries[i], ranked, index=self.index, k=k, fusion=fusion)
        finally:
            self.index.memory = None


def settings(fusion: Fusion) -> str:
    own = fusion.memory_settings()
    return f"w {own.weight}, null {own.null}, t {own.temperature}, floor {own.floor}"


def memory_of(pairs: list[tuple[str, str]], vectors: np.ndarray) -> Memory:
    return Memory.from_pairs(pairs, vectors, model="bench")


def paraphrases(index: Index, encoder: Any, fusion: Fusion) -> None:
    rows = [json.loads(line) for line in PARAPHRASES.read_text("utf-8").splitlines() if line]
    missing = [r["clause_id"] for r in rows if r["clause_id"] not in index.row_of]
    if missing:
        raise SystemExit(f"{PARAPHRASES}: clause ids not in the index: {missing}")
    confirmed = Prepared(index, encoder, [r["question"] for r in rows], fusion)
    asked = Prepared(index, encoder, [r["paraphrase"] for r in rows], fusion)
    memory = memory_of([(r["question"], r["clause_id"]) for r in rows],
                       encoder.encode_queries([memory_text(r["question"]) for r in rows]))
    units = [index.clauses[index.row_of[r["clause_id"]]].unit_id for r in rows]
    out: dict[str, dict[str, float]] = {}
    for name, prepared in (("paraphrase", asked), ("same question", confirmed)):
        for label, mem in (("without memory", None), ("with memory", memory)):
            ranks = []
            for i in range(len(rows)):
                hits = prepared.hits(i, mem, fusion, k=100)
                found = [h.clause.unit_id for h in hits]
                ranks.append(found.index(units[i]) + 1 if units[i] in found else None)
            out[f"{name}, {label}"] = {
                "hit@1": float(np.mean([r == 1 for r in ranks])),
                "hit@5": float(np.mean([r is not None and r <= 5 for r in ranks])),
                "hit@10": float(np.mean([r is not None and r <= 10 for r in ranks])),
                "MRR@10": float(np.mean([1 / r if r and r <= 10 else 0 for r in ranks])),
                "median rank": float(np.median([r or 101 for r in ranks])),
            }
    print(f"\nParaphrases: {len(rows)} pairs over the shipped corpus ({PARAPHRASES.name}), "
          f"memory {settings(fusion)}")
    print(f"{'':<32}" + "".join(f"{k:>12}" for k in next(iter(out.values()))))
    for name, row in out.items():
        print(f"{name:<32}" + "".join(f"{v:>12.3f}" for v in row.values()))


def resolvable(index: Index, questions: list[dict[str, Any]]
               ) -> tuple[list[dict[str, Any]], list[list[str]]]:
    """Questions whose every gold article is a clause of ``index``, and those clauses."""
    kept, clauses = [], []
    for question in questions:
        found = [gold_clause(index, g["law"], g["article"]) for g in question["gold"]]
        if found and all(c is not None for c in found):
            kept.append(question)
            clauses.append(list(dict.fromkeys(c.id for c in found if c is not None)))
    return kept, clauses


def evaluate(prepared: Prepared, items: list[int], golds: list[set[Any]],
             memory: Memory | None, fusion: Fusion) -> dict[str, float]:
    rows = [score(ranked_articles(prepared.index, prepared.hits(i, memory, fusion)), golds[i])
            for i in items]
    return mean(rows)


def objective(row: dict[str, float]) -> float:
    return row["R@10"] + row["MRR@10"] + 0.5 * row["R@100"]


def fold_adapters(index: Index, encoder: Any, questions: list[dict[str, Any]],
                  assignment: list[int], folds: int) -> list[np.ndarray | None]:
    """For each question, a query adapter trained on the other folds only, with the
    shipped adapter's settings (the manifest of the index model's trained parts,
    rag/learned/<model>/; benchmarks/train_retrieval.py)."""
    learned = index.learned
    if learned is None or learned.adapter is None:
        return [None] * len(questions)
    settings = learned.meta["adapter"]
    vectors = np.ascontiguousarray(index.backend.vectors, np.float32)  # type: ignore[attr-defined]
    queries = encoder.encode_queries([prepare(q["question"], index=index).text
                                      for q in questions])
    gold = gold_rows(index, questions)
    negatives = hard_negatives(vectors, queries, gold, HARD_NEGATIVES)
    weights = []
    for fold in range(folds):
        positives = [g if assignment[i] != fold else np.zeros(0, np.int64)
                     for i, g in enumerate(gold)]
        weights.append(train_adapter(vectors, queries, positives,
                                     None if settings.get("negatives") == "all" else negatives,
                                     seed=7,
                                     temperature=settings["temperature"],
                                     reg=settings["reg"], epochs=int(settings["epochs"])))
    return [weights[assignment[i]] for i in range(len(questions))]


def stard(index: Index, encoder: Any, fusion: Fusion, folds: int,
          nulls: tuple[float, ...] = NULLS, plain_only: bool = False) -> Fusion:
    train, train_clauses = resolvable(index, load_questions(TRAIN))
    dev, _ = resolvable(index, load_questions(DEV))
    print(f"\nSTARD restricted to the index's corpus: {len(train)} of train, {len(dev)} of "
          "dev have every gold article in it", file=sys.stderr)
    t0 = time.perf_counter()
    assignment = [i % folds for i in range(len(train))]
    adapters = (fold_adapters(index, encoder, train, assignment, folds)
                if fusion.use_adapter else None)
    prepared = Prepared(index, encoder, [q["question"] for q in train], fusion, adapters)
    pairs = [(q["question"], c) for q, cs in zip(train, train_clauses, strict=True)
             for c in cs]
    owner = [i for i, cs in enumerate(train_clauses) for _ in cs]
    pair_vectors = np.stack([prepared.vectors[i] for i in owner])
    golds = [gold_keys(q) for q in train]
    fold_memories = []
    for f in range(folds):
        keep = [j for j, i in enumerate(owner) if assignment[i] != f]
        fold_memories.append(memory_of([pairs[j] for j in keep], pair_vectors[keep]))
    print(f"prepared train in {time.perf_counter() - t0:.0f} s", file=sys.stderr)

    def cv(trial: Fusion) -> dict[str, float]:
        rows: list[dict[str, float]] = []
        for f in range(folds):
            items = [i for i in range(len(train)) if assignment[i] == f]
            part = evaluate(prepared, items, golds, fold_memories[f], trial)
            rows.extend([part] * len(items))
        return mean(rows)

    if fusion.use_adapter:  # the plain question's dense channel, beside the mapped one
        plain = {f"plain dense weight {w:g}": cv(replace(fusion, memory_weight=0.0,
                                                         plain_dense_weight=w))
                 for w in PLAIN_WEIGHTS}
        print(table(plain, title=f"\nSTARD train, {folds}-fold CV, without memory: the "
                    "question as asked searched beside the mapped one"))
        if plain_only:
            return fusion
    base = cv(replace(fusion, memory_weight=0.0))
    best, best_row = fusion, cv(fusion)
    for weight in WEIGHTS:
        for temperature in TEMPERATURES:
            for null in nulls:
                trial = replace(fusion, memory_weight=weight, memory_temperature=temperature,
                                memory_null=null)
                row = cv(trial)
                print(f"  {settings(trial)}: " + " ".join(
                    f"{k} {v:.3f}" for k, v in row.items()), file=sys.stderr)
                if objective(row) > objective(best_row) + 1e-9:
                    best, best_row = trial, row
    print(table({"without memory": base, f"memory ({settings(best)})": best_row},
                title=f"\nSTARD train, {folds}-fold CV ({len(train)} questions; each fold "
                "asked against a memory of the other folds)"))

    dev_prepared = Prepared(index, encoder, [q["question"] for q in dev], fusion)
    memory = memory_of(pairs, pair_vectors)
    dev_golds = [gold_keys(q) for q in dev]
    items = list(range(len(dev)))
    without = evaluate(dev_prepared, items, dev_golds, None, best)
    with_memory = evaluate(dev_prepared, items, dev_golds, memory, best)
    shipped = evaluate(dev_prepared, items, dev_golds, memory, fusion)
    print(table({"without memory": without, "with memory (CV choice)": with_memory,
                 f"with memory (shipped: {settings(fusion)})":
                 shipped},
                title=f"\nSTARD dev restricted to the index's corpus ({len(dev)} questions), "
                f"memory of all {len(pairs)} train pairs"))
    misses = [first_rank(ranked_articles(index, dev_prepared.hits(i, memory, best)),
                         dev_golds[i]) for i in items]
    print(f"dev gold first rank with memory: median {np.median([m or 101 for m in misses])}, "
          f"not in top 100: {sum(m is None for m in misses)}")
    return best


def record(args: argparse.Namespace, chosen: Fusion) -> None:
    """Write ``chosen``'s memory settings into the model's trained-parts manifest."""
    path = model_folder(args.model) / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    own = chosen.memory_settings()
    manifest["memory"] = {
        "settings": {"memory_weight": own.weight, "memory_floor": own.floor,
                     "memory_null": own.null, "memory_temperature": own.temperature},
        "chosen_by": f"{args.folds}-fold CV on STARD train.jsonl over the index {args.index.name} "
                     f"(weights {list(WEIGHTS)}, temperatures {list(TEMPERATURES)}, nulls "
                     f"{args.nulls}, floor {own.floor}): benchmarks/memory_eval.py --write",
    }
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote the memory settings ({settings(chosen)}) to {path}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=CACHE / "shipped-index")
    parser.add_argument("--model", default="multilingual-e5-small")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="paraphrases only")
    parser.add_argument("--no-build", action="store_true",
                        help="use --index as it is (e.g. the full-corpus STARD index) instead "
                        "of (re)building it from corpus/")
    parser.add_argument("--no-paraphrases", action="store_true",
                        help="skip the paraphrase set (its clause ids are the shipped corpus's)")
    parser.add_argument("--nulls", default=",".join(map(str, NULLS)),
                        help="the memory_null values searched, comma-separated (default "
                        "%(default)s: the base model's cosine scale; a fine-tuned model's "
                        "questions sit further apart)")
    parser.add_argument("--floor", type=float,
                        help="memory_floor for every trial (default: the model's own, else "
                        f"{MEMORY_DEFAULTS['memory_floor']})")
    parser.add_argument("--write", action="store_true",
                        help="record the CV's choice as the model's memory settings in its "
                        "trained parts' manifest (rag/learned/<model>/manifest.json)")
    parser.add_argument("--plain-dense", action="store_true",
                        help="only the CV of Fusion.plain_dense_weight (no memory grid)")
    parser.add_argument("--no-adapter", action="store_true",
                        help="the stack without the query adapter (with it, each train fold "
                        "is searched with an adapter trained on the other folds)")
    args = parser.parse_args()
    os.environ.setdefault("RAG_MODEL_CACHE", str(CACHE / "models"))
    encoder = load_encoder(args.model)
    if not args.no_build:
        try:
            index_paths([REPO / "corpus"], index=args.index, encoder=encoder, progress=False)
        except StoreError as error:  # another run (a test session) is building it: use it
            print(f"not rebuilt: {error}", file=sys.stderr)
    index = open_index(args.index, encoder=encoder)
    fusion = calibrated(Fusion(use_adapter=not args.no_adapter, memory_floor=args.floor), index)
    nulls = tuple(float(v) for v in args.nulls.split(","))
    if not args.no_paraphrases:
        paraphrases(index, encoder, fusion)
    if not args.quick:
        chosen = stard(index, encoder, fusion, args.folds, nulls, args.plain_dense)
        if args.write and not args.plain_dense:
            record(args, chosen)
        if not args.no_paraphrases and settings(chosen) != settings(fusion):
            paraphrases(index, encoder, chosen)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
