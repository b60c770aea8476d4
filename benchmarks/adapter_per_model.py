"""Does a query adapter help each model? Train-CV and dev, dense and fused, writing nothing.

    python benchmarks/adapter_per_model.py \
        --run <index of the base model> multilingual-e5-small \
        --run <index of the fine-tuned model> multilingual-e5-small-statutes

For each (index, model): the adapter's settings chosen by the same 5-fold train-CV grid as
benchmarks/train_retrieval.py (its functions, seeds and objective: dense channel, article
level); then, for the model without and with its adapter, the dense channel alone and the
fused (hybrid: dense + BM25, the shipped Fusion) ranking, each scored by stard_eval's
article-level metrics: on train.jsonl with each fold's out-of-fold adapter (train-CV) and
on dev with the adapter trained on all of train (reported, never chosen on). Every index
is opened read-only; nothing is written unless ``--write MODEL`` names one of the runs'
models: then that adapter goes to rag/learned/MODEL/ (adapter.npy and a manifest with its
sha256, settings and train-CV figures; a folder holding a reranker is refused, retrain it
with train_retrieval.py --model MODEL).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from finetune_encoder import git_commit, versions
from stard import (
    DEV,
    TRAIN,
    folds_of,
    gold_keys,
    load_questions,
    mean,
    ranked_articles,
    score,
    table,
)
from train_retrieval import (
    FOLDS,
    HARD_NEGATIVES,
    adapt,
    dense_articles,
    encode_questions,
    gold_rows,
    hard_negatives,
    objective,
    train_adapter,
)

from rag.encoders import load_encoder
from rag.learned.artifacts import model_folder
from rag.search import Fusion, Index, channel_results, open_index, prepare, rank

GRID = [{"temperature": 0.05, "reg": r, "epochs": e}
        for r in (0.01, 0.1, 1.0) for e in (2, 5, 10)]  # train_retrieval.py's grid


def scored(index: Index, questions: list[dict[str, Any]], queries: np.ndarray,
           bm25: list[Any], fusion: Fusion) -> dict[str, dict[str, float]]:
    """Dense alone and fused, each question searched with its own (adapted) vector."""
    dense_rows: list[dict[str, float]] = []
    fused_rows: list[dict[str, float]] = []
    for question, vector, keyword in zip(questions, queries, bm25, strict=True):
        query = prepare(question["question"], index=index)
        found = index.backend.search_dense(vector, fusion.depth, filters=query.filters)
        dense = (found.scores, found.rows)
        gold = gold_keys(question)
        for channels, rows in (({"dense": dense}, dense_rows),
                               ({"dense": dense, "bm25": keyword}, fused_rows)):
            hits = rank(query, channels, index=index, k=150, fusion=fusion)
            rows.append(score(ranked_articles(index, hits), gold))
    return {"dense": mean(dense_rows), "fused": mean(fused_rows)}


SHORT = {"multilingual-e5-small": "base", "multilingual-e5-small-statutes": "fine-tuned"}


def study(index_path: Path, model: str, seed: int
          ) -> tuple[dict[str, dict[str, float]], dict[str, Any]]:
    """The rows of one model, and its adapter trained on all of train (with its settings)."""
    started = time.perf_counter()
    name = SHORT.get(model, model)
    encoder = load_encoder(model)
    index = open_index(index_path, encoder=encoder, trained=False)
    vectors = np.ascontiguousarray(index.backend.vectors, np.float32)  # type: ignore[attr-defined]
    train, dev = load_questions(TRAIN), load_questions(DEV)
    gold = gold_rows(index, train)
    queries = encode_questions(index, encoder, train)
    dev_queries = encode_questions(index, encoder, dev)
    folds = folds_of(len(train), FOLDS, seed)
    negatives = hard_negatives(vectors, queries, gold, HARD_NEGATIVES)
    print(f"{model}: {len(index.clauses)} clauses, queries encoded "
          f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)

    def fold_adapters(settings: dict[str, Any]) -> tuple[dict[str, float], list[np.ndarray]]:
        rows, weights = [], []
        for fold in range(FOLDS):
            chosen = {i for i in range(len(train)) if folds[i] != fold}
            held = [i for i in range(len(train)) if folds[i] == fold]
            pos = [gold[i] if i in chosen else np.zeros(0, np.int64) for i in range(len(train))]
            weight = train_adapter(vectors, queries, pos, negatives, seed=seed,
                                   temperature=settings["temperature"], reg=settings["reg"],
                                   epochs=int(settings["epochs"]))
            weights.append(weight)
            ranked = dense_articles(index, vectors, adapt(weight, queries[held]))
            rows += [score(r, gold_keys(train[i])) for r, i in zip(ranked, held, strict=True)]
        return mean(rows), weights

    results = []
    for settings in GRID:
        cv, weights = fold_adapters(settings)
        results.append((objective(cv), settings, weights))
        print(f"  adapter {settings}: grid objective {objective(cv):.4f}", file=sys.stderr)
    _, best, weights = max(results, key=lambda r: r[0])
    adapter = train_adapter(vectors, queries, gold, negatives, seed=seed,
                            temperature=best["temperature"], reg=best["reg"],
                            epochs=int(best["epochs"]))
    print(f"  chosen {best} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)

    fusion = Fusion(use_reranker=False)  # the shipped fusion; the vectors are given here
    bm25 = {name: [channel_results(prepare(q["question"], index=index), index=index,
                                   depth=fusion.depth, channels=("bm25",),
                                   fusion=fusion)["bm25"] for q in qs]
            for name, qs in (("train", train), ("dev", dev))}
    out_of_fold = np.concatenate([adapt(weights[folds[i]], queries[i:i + 1])
                                  for i in range(len(train))])
    rows: dict[str, dict[str, float]] = {}
    for label, train_q, dev_q in (("", queries, dev_queries),
                                  (" + adapter", out_of_fold, adapt(adapter, dev_queries))):
        on_train = scored(index, train, train_q, bm25["train"], fusion)
        on_dev = scored(index, dev, dev_q, bm25["dev"], fusion)
        for channel in ("dense", "fused"):
            rows[f"{name}{label}, {channel}, train-CV"] = on_train[channel]
            rows[f"{name}{label}, {channel}, dev"] = on_dev[channel]
    print(f"  {model} done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return rows, {"adapter": adapter, "settings": best, "identity": encoder.identity,
                  "corpus_fingerprint": index.manifest.get("corpus_fingerprint"),
                  "clauses": len(index.clauses),
                  "train_cv": {k.removesuffix(", train-CV"): v for k, v in rows.items()
                               if k.endswith(", train-CV")}}


def write(model: str, trained: dict[str, Any], seed: int, command: str) -> Path:
    """rag/learned/<model>/: the adapter and its manifest (no reranker)."""
    out = model_folder(model)
    if (out / "manifest.json").is_file():
        old = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        if old.get("reranker"):
            raise SystemExit(f"{out} holds a reranker trained with its adapter; retrain both "
                             f"with `python benchmarks/train_retrieval.py --model {model}`")
    out.mkdir(exist_ok=True)
    np.save(out / "adapter.npy", trained["adapter"], allow_pickle=False)
    manifest = {
        "model_identity": trained["identity"],
        "adapter": {"file": "adapter.npy",
                    "sha256": hashlib.sha256((out / "adapter.npy").read_bytes()).hexdigest(),
                    **trained["settings"]},
        "reranker": None,
        "training": {
            "questions": TRAIN.name,
            "questions_sha256": hashlib.sha256(TRAIN.read_bytes()).hexdigest(),
            "seed": seed, "folds": FOLDS, "hard_negatives": HARD_NEGATIVES,
            "negatives": "the index's dense top hits not gold (train_retrieval.py)",
            "corpus_fingerprint": trained["corpus_fingerprint"],
            "index_clauses": trained["clauses"],
            "git_commit": git_commit(),
            "versions": versions(),
            "command": command,
            "train_cv": {k: {m: round(v, 4) for m, v in row.items()}
                         for k, row in trained["train_cv"].items()},
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2)
                                       + "\n", encoding="utf-8")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", nargs=2, action="append", metavar=("INDEX", "MODEL"),
                        required=True, help="an index and the model that built it")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--write", metavar="MODEL",
                        help="write this run's adapter to rag/learned/MODEL/")
    args = parser.parse_args()
    if args.write and args.write not in [model for _, model in args.run]:
        parser.error(f"--write {args.write}: not the model of any --run")
    import torch

    torch.set_num_threads(1)
    rows: dict[str, dict[str, float]] = {}
    for index_path, model in args.run:
        found, trained = study(Path(index_path), model, args.seed)
        rows.update(found)
        if model == args.write:
            where = write(model, trained, args.seed,
                          "python benchmarks/adapter_per_model.py " + " ".join(sys.argv[1:]))
            print(f"wrote {where}/adapter.npy and manifest.json", file=sys.stderr)
        print(table(rows, title="\nsame run so far"), file=sys.stderr)
    for split in ("train-CV", "dev"):
        chosen = {k.removesuffix(f", {split}"): v for k, v in rows.items()
                  if k.endswith(f", {split}")}
        print(table(chosen, title=f"\n{split}"))
        print("objective R@10 + MRR@10 + 0.5·R@100: " + "; ".join(
            f"{k} {objective(v):.4f}" for k, v in chosen.items() if ", fused" in k))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
