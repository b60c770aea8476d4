"""Train the query adapter and the reranker on STARD's 1,000 training questions (never dev).

    python benchmarks/train_retrieval.py               # CV, train, write rag/learned/<model>/
    python benchmarks/train_retrieval.py --check       # cross-validate only, write nothing
    python benchmarks/train_retrieval.py --ablation    # also: each feature group left out
    python benchmarks/train_retrieval.py --compare     # the shipped artefacts: train-CV | dev
    python benchmarks/train_retrieval.py --keep-adapter  # retrain the reranker only
    python benchmarks/train_retrieval.py --onnx-only     # the shipped reranker as ONNX too

Deterministic (seeded folds, torch and LightGBM seeds, fixed threads). Settings are
chosen by 5-fold cross-validation inside train.jsonl; the train-CV figures are printed
and recorded in rag/learned/<model>/manifest.json; after writing, dev is scored with what was
written and printed beside them (a large gap = overfit). Dev is only reported, never used
to choose anything; stard_eval.py prints the full dev table and latencies.

* adapter: q' = W q (W starts at the identity), trained with a contrastive loss: each
  question's gold articles against either hard negatives mined from the index (its own
  top dense hits that are not gold) and the other questions' gold in the batch, or every
  clause of the corpus (``"negatives": "all"``: a softmax over all of them, cheap at this
  size: 32 questions × ~70,000 vectors a step; offered to the CV with --against-all). The
  corpus vectors stay as they are, so every existing index benefits at once.
* reranker: LambdaMART (LightGBM) over rag.search.rerank.FEATURES of the fused pool,
  built with out-of-fold adapters so the adapter's scores are as honest as on new
  questions.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stard import (
    REPO,
    TRAIN,
    article_key,
    folds_of,
    gold_keys,
    load_questions,
    mean,
    score,
    table,
)

from rag.encoders import BASE_MODEL, load_encoder
from rag.learned import Learned
from rag.learned.artifacts import learned_for, model_folder
from rag.search import Fusion, Index, channel_results, open_index, prepare, rank
from rag.search.rerank import FEATURES, features, kept

FOLDS = 5
INNER_FOLDS = 5  # the reranker's early stopping: a fifth of the training folds
POOL = 200  # fused units the reranker re-scores
HARD_NEGATIVES = 32
GROUPS = {  # feature groups for the ablation
    "dense": ("dense", "dense_gap", "dense_rank"),
    "bm25": ("bm25", "bm25_share", "bm25_rank"),
    "fusion": ("fused", "fused_share", "position"),
    "signals": ("definition", "reference"),
    "kind and status": ("authority", "kind_law", "kind_interpretation", "kind_regulation",
                        "preferred", "repealed"),
    "law named": ("title_named", "title_overlap"),
    "place in the law": ("article_number", "article_share", "length", "parts",
                         "liability_path"),
    "document consensus": ("doc_units", "doc_best"),
    "lexical coverage": ("coverage",),
    "question": ("latin", "asks_penalty", "question_length"),
    "liability and law implied": ("implied_law", "criminal_law", "criminal_sanction",
                                  "admin_sanction", "asks_crime", "asks_fine",
                                  "liability_match", "enforces_top"),
}
# features whose score may only rise with them, when CV picks constraints: the law the
# question implies, the liability it asks about, the penalty of a duty that ranks high
MONOTONE = {"implied_law": 1, "liability_match": 1, "enforces_top": 1}
# the features the reranker had before issue 20 gave it the liability group
OLD = tuple(f for f in FEATURES if f not in GROUPS["liability and law implied"])


# ---------------------------------------------------------------- data


def gold_rows(index: Index, questions: list[dict[str, Any]]) -> list[np.ndarray]:
    """Rows of every clause of every gold article (all versions, all parts)."""
    rows_of: dict[tuple[str, str], list[int]] = {}
    for row, clause in enumerate(index.clauses):
        if clause.label:
            rows_of.setdefault(article_key(index, clause), []).append(row)
    return [np.asarray(sorted({r for k in gold_keys(q) for r in rows_of.get(k, [])}), np.int64)
            for q in questions]


def encode_questions(index: Index, encoder: Any, questions: list[dict[str, Any]]
                     ) -> np.ndarray:
    """Each question's vector as search embeds it (the prepared text), in batches of 64."""
    prepared = [prepare(q["question"], index=index).text for q in questions]
    return np.concatenate([encoder.encode_queries(prepared[s:s + 64])
                           for s in range(0, len(prepared), 64)])


def dense_articles(index: Index, vectors: np.ndarray, queries: np.ndarray,
                   depth: int = 400) -> list[list[tuple[str, str]]]:
    """Each query's articles in dense order (exact search over the stored vectors)."""
    out = []
    for start in range(0, len(queries), 128):
        scores = queries[start:start + 128] @ vectors.T
        top = np.argpartition(-scores, depth, axis=1)[:, :depth]
        for row, cand in zip(scores, top, strict=True):
            ordered = cand[np.argsort(-row[cand], kind="stable")]
            seen: dict[tuple[str, str], None] = {}
            for r in ordered:
                seen.setdefault(article_key(index, index.clauses[int(r)]), None)
            out.append(list(seen))
    return out


# ---------------------------------------------------------------- adapter


def hard_negatives(vectors: np.ndarray, queries: np.ndarray, gold: list[np.ndarray],
                   count: int) -> list[np.ndarray]:
    out = []
    for start in range(0, len(queries), 128):
        scores = queries[start:start + 128] @ vectors.T
        top = np.argpartition(-scores, 200, axis=1)[:, :200]
        for i, (row, cand) in enumerate(zip(scores, top, strict=True)):
            ordered = cand[np.argsort(-row[cand], kind="stable")]
            keep = ordered[~np.isin(ordered, gold[start + i])]
            out.append(keep[:count])
    return out


def train_adapter(vectors: np.ndarray, queries: np.ndarray, positives: list[np.ndarray],
                  negatives: list[np.ndarray] | None, *, temperature: float, reg: float,
                  epochs: int, seed: int, lr: float = 2e-3, batch: int = 32) -> np.ndarray:
    """W for q' = W q, by a multi-positive contrastive loss with a pull to the identity:
    each question's positives against its ``negatives`` and the batch's other rows, or,
    with ``negatives`` None, against every row of ``vectors``."""
    import torch

    torch.manual_seed(seed)
    dim = queries.shape[1]
    weight = torch.eye(dim, requires_grad=True)
    eye = torch.eye(dim)
    optimiser = torch.optim.Adam([weight], lr=lr)
    usable = [i for i in range(len(queries)) if len(positives[i])]
    rng = np.random.default_rng(seed)
    table_v = torch.from_numpy(np.ascontiguousarray(vectors, np.float32))
    for _ in range(epochs):
        order = rng.permutation(usable)
        for start in range(0, len(order), batch):
            ids = order[start:start + batch]
            rows: np.ndarray | None = None
            candidates = table_v
            if negatives is not None:  # the batch's own rows only, sorted
                rows = np.unique(np.concatenate([np.concatenate([positives[i], negatives[i]])
                                                 for i in ids]))
                candidates = table_v[torch.from_numpy(rows)]
            q = torch.nn.functional.normalize(torch.from_numpy(queries[ids]) @ weight.T, dim=1)
            logits = q @ candidates.T / temperature
            mask = torch.zeros_like(logits, dtype=torch.bool)
            for b, i in enumerate(ids):
                columns = positives[i] if rows is None else np.searchsorted(rows, positives[i])
                mask[b, torch.from_numpy(np.asarray(columns, np.int64))] = True
            positive = torch.logsumexp(logits.masked_fill(~mask, -1e9), dim=1)
            loss = (torch.logsumexp(logits, dim=1) - positive).mean()
            loss = loss + reg * ((weight - eye) ** 2).sum()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return weight.detach().numpy().astype(np.float32)


def adapt(weight: np.ndarray | None, queries: np.ndarray) -> np.ndarray:
    if weight is None:
        return queries
    mapped = queries @ weight.T
    return (mapped / np.linalg.norm(mapped, axis=1, keepdims=True)).astype(np.float32)


def objective(row: dict[str, float]) -> float:
    return row["R@10"] + row["MRR@10"] + 0.5 * row["R@100"]


# ---------------------------------------------------------------- reranker


def pools(index: Index, encoder: Any, questions: list[dict[str, Any]], queries: np.ndarray,
          adapters: list[np.ndarray | None], *, pool: int = POOL, depth: int | None = None
          ) -> list[tuple[np.ndarray, np.ndarray, list]]:
    """Each question's fused pool (its fold's adapter), as features, labels and keys:
    the best ``pool`` units of the fusion over each channel's top ``depth`` (default
    Fusion's)."""
    from tqdm import tqdm

    out = []
    fusion = Fusion(use_reranker=False)
    if depth is not None:
        fusion = replace(fusion, depth=depth)
    for i, question in enumerate(tqdm(questions, desc="pools", unit="q", file=sys.stderr)):
        index.learned = Learned("training", adapter=adapters[i])
        query = replace(prepare(question["question"], index=index), vector=queries[i])
        ranked = channel_results(query, index=index, encoder=encoder, depth=fusion.depth,
                                 fusion=fusion)
        hits = rank(query, ranked, index=index, k=pool, fusion=fusion)
        gold = gold_keys(question)
        keys = [article_key(index, h.clause) for h in hits]
        out.append((features(query, hits, index=index),
                    np.asarray([k in gold for k in keys], np.float64), keys))
    index.learned = None
    return out


def lgb_params(leaves: int, seed: int, monotone: bool = False) -> dict[str, Any]:
    params = {"objective": "lambdarank", "metric": "ndcg", "ndcg_eval_at": [10],
              "learning_rate": 0.05, "num_leaves": leaves, "min_data_in_leaf": 20,
              "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1,
              "lambdarank_truncation_level": 20, "seed": seed, "deterministic": True,
              "num_threads": 2, "force_row_wise": True, "verbose": -1}
    if monotone:
        params["monotone_constraints"] = [MONOTONE.get(f, 0) for f in FEATURES]
    return params


def fit(data: list, ids: list[int], params: dict[str, Any], rounds: int,
        valid: list[int] | None = None, drop: tuple[int, ...] = ()) -> Any:
    import lightgbm

    def dataset(chosen: list[int]) -> Any:
        x = np.concatenate([data[i][0] for i in chosen])
        if drop:
            x = x.copy()
            x[:, list(drop)] = np.nan
        return lightgbm.Dataset(x, np.concatenate([data[i][1] for i in chosen]),
                                group=[len(data[i][1]) for i in chosen],
                                feature_name=list(FEATURES), free_raw_data=False)

    train = dataset(ids)
    if valid is None:
        return lightgbm.train(params, train, num_boost_round=rounds)
    check = dataset(valid)
    return lightgbm.train(params, train, num_boost_round=rounds, valid_sets=[check],
                          callbacks=[lightgbm.early_stopping(50, verbose=False)])


def reranked_scores(data: list, chosen: list[int], questions: list[dict[str, Any]],
                    booster: Any | None, drop: tuple[int, ...] = (), keep: int = 0
                    ) -> list[dict[str, float]]:
    """Each chosen question's scores in the booster's order (the fused first ``keep``
    kept first, as :func:`rag.search.rerank.kept`), or the fused order without one."""
    rows = []
    for i in chosen:
        x, _, keys = data[i]
        if booster is None:
            order = list(range(len(keys)))
        else:
            x = x.copy()
            if drop:
                x[:, list(drop)] = np.nan
            predicted = booster.predict(x)
            order = kept(sorted(range(len(keys)), key=lambda j: (-predicted[j], j)), keep)
        seen: dict[tuple[str, str], None] = {}
        for j in order:
            seen.setdefault(keys[j], None)
        rows.append(score(list(seen), gold_keys(questions[i])))
    return rows


def cross_validate_reranker(data: list, folds: np.ndarray, questions: list[dict[str, Any]],
                            params: dict[str, Any], drop: tuple[int, ...] = (), keep: int = 0
                            ) -> tuple[dict[str, float], int]:
    """Outer folds score; early stopping looks only at an inner split of the training
    folds (a fifth of them), never at the fold it is scored on."""
    rows, best = [], []
    for fold in range(FOLDS):
        usable = [i for i in range(len(data)) if folds[i] != fold and data[i][1].any()]
        inner = folds_of(len(usable), INNER_FOLDS, seed=fold)
        train = [i for i, f in zip(usable, inner, strict=True) if f != 0]
        stop = [i for i, f in zip(usable, inner, strict=True) if f == 0]
        held = [i for i in range(len(data)) if folds[i] == fold]
        booster = fit(data, train, params, 1000, valid=stop, drop=drop)
        best.append(booster.best_iteration or 1000)
        rows += reranked_scores(data, held, questions, booster, drop=drop, keep=keep)
    return mean(rows), int(np.mean(best))


def onnx_of(model_text: str) -> bytes:
    """The LightGBM model as ONNX (onnxmltools), for ONNX Runtime to score at query time:
    the same trees, thresholds in float32; checked against LightGBM by :func:`write_onnx`."""
    import lightgbm
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    booster = lightgbm.Booster(model_str=model_text)
    model = convert_lightgbm(booster, initial_types=[
        ("features", FloatTensorType([None, booster.num_feature()]))], target_opset=15,
        zipmap=False)
    return bytes(model.SerializeToString())


def write_onnx(out: Path, rows: np.ndarray) -> dict[str, str]:
    """Write ``out/reranker.onnx`` from ``out/reranker.txt`` once it scores ``rows`` (feature
    rows of real pools, NaN included) as LightGBM does, within 1e-4; its manifest entry."""
    import lightgbm
    import onnxruntime as ort

    text = (out / "reranker.txt").read_text(encoding="utf-8")
    blob = onnx_of(text)
    session = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])
    mine = session.run(None, {"features": rows.astype(np.float32)})[0].reshape(-1)
    theirs = lightgbm.Booster(model_str=text).predict(rows)
    worst = float(np.max(np.abs(mine - theirs))) if len(rows) else 0.0
    if worst > 1e-4:
        raise SystemExit(f"reranker.onnx differs from reranker.txt by {worst:.2e} on "
                         f"{len(rows)} feature rows; not written")
    (out / "reranker.onnx").write_bytes(blob)
    print(f"wrote {out}/reranker.onnx: {len(rows)} feature rows scored within {worst:.1e} "
          "of LightGBM", file=sys.stderr)
    return {"file": "reranker.onnx", "sha256": hashlib.sha256(blob).hexdigest()}


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_index = REPO / "embeddings" / "lawrefbook-full"
    parser.add_argument("--index", type=Path, default=default_index)
    parser.add_argument("--model", default="multilingual-e5-small")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--check", action="store_true", help="cross-validate, write nothing")
    parser.add_argument("--ablation", action="store_true", help="each feature group left out")
    parser.add_argument("--compare", action="store_true",
                        help="train nothing: the shipped artefacts' train-CV beside dev")
    parser.add_argument("--keep-adapter", action="store_true",
                        help="keep the shipped adapter.npy byte for byte (its out-of-fold "
                        "copies for the pools are trained with its recorded settings) and "
                        "retrain the reranker only")
    parser.add_argument("--against-all", action="store_true",
                        help="offer the CV adapters trained against every clause too (CV "
                        "picks them for the fine-tuned model, but they lose compliance "
                        "questions: not shipped, README)")
    parser.add_argument("--onnx-only", action="store_true",
                        help="train nothing: convert the shipped reranker.txt to "
                        "reranker.onnx, checked on the pools of the dev questions")
    parser.add_argument("--pool", type=int, default=POOL,
                        help="fused units the reranker re-scores (default %(default)s)")
    parser.add_argument("--depth", type=int, default=None,
                        help="candidates per channel for the pools (default Fusion's; a "
                        "pool deeper than it needs a deeper channel too)")
    args = parser.parse_args()
    if args.depth is not None and args.depth != Fusion.depth and not args.check:
        parser.error(f"--depth {args.depth} goes with --check: the product searches each "
                     f"channel Fusion.depth ({Fusion.depth}) deep, so a reranker trained on "
                     "deeper pools would not see them")
    if args.compare:
        side_by_side(args.index, load_encoder(args.model))
        return 0
    if args.onnx_only:
        return onnx_only(args.index, args.model)
    started = time.perf_counter()
    np.random.seed(args.seed)
    import torch

    torch.set_num_threads(2)
    encoder = load_encoder(args.model)
    index = open_index(args.index, encoder=encoder, trained=False)
    vectors = np.ascontiguousarray(index.backend.vectors, np.float32)  # type: ignore[attr-defined]
    questions = load_questions(TRAIN)
    gold = gold_rows(index, questions)
    print(f"{len(questions)} training questions, {sum(len(g) > 0 for g in gold)} with gold "
          f"in the index; {len(index.clauses)} clauses", file=sys.stderr)
    queries = encode_questions(index, encoder, questions)
    folds = folds_of(len(questions), FOLDS, args.seed)
    negatives = hard_negatives(vectors, queries, gold, HARD_NEGATIVES)

    def negatives_for(settings: dict[str, Any]) -> list[np.ndarray] | None:
        return None if settings.get("negatives") == "all" else negatives

    # 1. adapter: settings by cross-validation (dense channel alone, article level)
    def cv_adapter(settings: dict[str, Any]) -> tuple[dict[str, float], list[np.ndarray]]:
        rows, weights = [], []
        for fold in range(FOLDS):
            train = [i for i in range(len(questions)) if folds[i] != fold]
            held = [i for i in range(len(questions)) if folds[i] == fold]
            pos = [gold[i] if i in set(train) else np.zeros(0, np.int64)
                   for i in range(len(questions))]
            weight = train_adapter(vectors, queries, pos, negatives_for(settings),
                                   seed=args.seed, temperature=settings["temperature"],
                                   reg=settings["reg"], epochs=int(settings["epochs"]))
            weights.append(weight)
            ranked = dense_articles(index, vectors, adapt(weight, queries[held]))
            rows += [score(r, gold_keys(questions[i])) for r, i in zip(ranked, held, strict=True)]
        return mean(rows), weights

    plain_rank = dense_articles(index, vectors, queries)
    plain = mean([score(r, gold_keys(q)) for r, q in zip(plain_rank, questions, strict=True)])
    out = model_folder(args.model)  # this model's trained parts (rag/learned/<model>/)
    shipped = (json.loads((out / "manifest.json").read_text(encoding="utf-8"))
               if (out / "manifest.json").is_file() else {})
    if args.keep_adapter:
        if shipped.get("model_identity") != encoder.identity or not shipped.get("adapter"):
            raise SystemExit(f"--keep-adapter: {out} holds no adapter for "
                             f"{args.model}; run without it")
        grid = [{k: shipped["adapter"][k] for k in ("temperature", "reg", "epochs", "negatives")
                 if k in shipped["adapter"]}]
    else:
        grid = [{"temperature": t, "reg": r, "epochs": e, "negatives": HARD_NEGATIVES}
                for t in (0.05,) for r in (0.01, 0.1, 1.0) for e in (2, 5, 10)]
        if args.against_all:
            grid += [{"temperature": t, "reg": 0.01, "epochs": e, "negatives": "all"}
                     for t in (0.02, 0.03, 0.05) for e in (5, 10)]
    results = []
    for settings in grid:
        cv, weights = cv_adapter(settings)
        results.append((objective(cv), settings, cv, weights))
        print(f"adapter {settings}: train-CV dense " +
              " ".join(f"{k} {v:.3f}" for k, v in cv.items()), file=sys.stderr)
    _, best_settings, adapter_cv, fold_weights = max(results, key=lambda r: r[0])
    if args.keep_adapter:
        adapter = np.load(out / shipped["adapter"]["file"], allow_pickle=False)
    else:
        adapter = train_adapter(vectors, queries, gold, negatives_for(best_settings),
                                seed=args.seed, temperature=best_settings["temperature"],
                                reg=best_settings["reg"], epochs=int(best_settings["epochs"]))

    # 2. reranker: pools with out-of-fold adapters, settings by cross-validation
    adapters = [fold_weights[folds[i]] for i in range(len(questions))]
    data = pools(index, encoder, questions, queries, adapters, pool=args.pool,
                 depth=args.depth)
    fused_cv = mean(reranked_scores(data, list(range(len(data))), questions, None))
    new = tuple(FEATURES.index(n) for n in FEATURES if n not in OLD)

    def choose(drop: tuple[int, ...], name: str, constraints: tuple[bool, ...]
               ) -> tuple[int, bool, int, dict[str, float]]:
        """Leaves (and monotone constraints) by train-CV (early stopping inside each
        training split)."""
        candidates = []
        for monotone in constraints:
            for leaves in (7, 15, 31):
                cv, rounds = cross_validate_reranker(
                    data, folds, questions, lgb_params(leaves, args.seed, monotone), drop=drop)
                candidates.append((objective(cv), leaves, monotone, rounds, cv))
                print(f"reranker ({name}) leaves {leaves}, monotone {monotone}: {rounds} "
                      "rounds; train-CV " + " ".join(f"{k} {v:.3f}" for k, v in cv.items()),
                      file=sys.stderr)
        _, leaves, monotone, rounds, cv = max(candidates, key=lambda c: c[0])
        return leaves, monotone, rounds, cv

    old_leaves, _, old_rounds, old_cv = choose(new, f"the {len(OLD)} features before issue 20",
                                               (False,))
    leaves, monotone, rounds, rerank_cv = choose((), f"all {len(FEATURES)} features",
                                                 (False, True))
    params = lgb_params(leaves, args.seed, monotone)
    keeps = Fusion.reranker_keeps  # as the product re-orders: the fused first ones kept
    kept_cv, _ = cross_validate_reranker(data, folds, questions, params, keep=keeps)
    labelled = [i for i in range(len(data)) if data[i][1].any()]
    booster = fit(data, labelled, params, rounds)
    old_booster = fit(data, labelled, lgb_params(old_leaves, args.seed), old_rounds, drop=new)

    figures = {"dense (e5-small, plain)": plain, "dense + adapter": adapter_cv,
               "fused pool with adapter (no reranker)": fused_cv,
               f"+ reranker, {len(OLD)} features (before)": old_cv,
               "+ reranker (full stack)": rerank_cv,
               f"+ reranker, fused top {keeps} kept (as shipped)": kept_cv}
    print(table(figures, title=f"\ntrain-CV ({FOLDS} folds of train.jsonl, held-out folds)"))
    # dev, reported only: the pools of the adapter written, each reranker trained above
    from stard import DEV

    dev = load_questions(DEV)
    dev_queries = encode_questions(index, encoder, dev)
    dev_data = pools(index, encoder, dev, dev_queries, [adapter] * len(dev), pool=args.pool,
                     depth=args.depth)
    every = list(range(len(dev)))
    print(table({"fused pool with adapter (no reranker)":
                 mean(reranked_scores(dev_data, every, dev, None)),
                 f"+ reranker, {len(OLD)} features (before)":
                 mean(reranked_scores(dev_data, every, dev, old_booster, drop=new)),
                 f"+ reranker, {len(FEATURES)} features":
                 mean(reranked_scores(dev_data, every, dev, booster)),
                 f"+ reranker, fused top {keeps} kept":
                 mean(reranked_scores(dev_data, every, dev, booster, keep=keeps))},
                title="\nSTARD dev (reported, never chosen on)"))
    if args.ablation:
        ablation = {}
        for group, names in GROUPS.items():
            drop = tuple(FEATURES.index(n) for n in names)
            cv, _ = cross_validate_reranker(data, folds, questions, params, drop=drop)
            ablation[f"without {group}"] = cv
        print(table({"all features": rerank_cv, **ablation},
                    title="\nreranker feature groups (train-CV)"))
    if args.check:
        return 0

    import lightgbm
    from finetune_encoder import git_commit, versions  # (it imports this module)

    out.mkdir(exist_ok=True)
    if not args.keep_adapter:
        np.save(out / "adapter.npy", adapter, allow_pickle=False)
    (out / "reranker.txt").write_text(booster.model_to_string(), encoding="utf-8")
    onnx = write_onnx(out, np.concatenate([x for x, _, _ in dev_data]))
    digest = {name: hashlib.sha256((out / name).read_bytes()).hexdigest()
              for name in ("adapter.npy", "reranker.txt")}
    # where and how these parts were made: with --keep-adapter only the reranker was, so
    # the adapter's own record (adapter_per_model.py's or an earlier run's) stays as it was
    provenance = {
        "corpus_fingerprint": index.manifest.get("corpus_fingerprint"),
        "index_clauses": len(index.clauses),
        "git_commit": git_commit(),
        "versions": {**versions(), "lightgbm": lightgbm.__version__},
        "command": "python benchmarks/train_retrieval.py"
                   + (f" --model {args.model}" if args.model != BASE_MODEL else "")
                   + (f" --index {args.index}" if args.index != default_index else "")
                   + (" --keep-adapter" if args.keep_adapter else ""),
    }
    recorded = shipped.get("training", {})
    manifest = {
        **shipped,  # what other scripts record there stays
        "model_identity": encoder.identity,
        "adapter": {"file": "adapter.npy", "sha256": digest["adapter.npy"], **best_settings},
        "reranker": {"file": "reranker.txt", "sha256": digest["reranker.txt"],
                     "features": list(FEATURES), "pool": args.pool, "num_leaves": leaves,
                     "monotone": {f: c for f, c in MONOTONE.items()} if monotone else {},
                     "rounds": rounds, "onnx": onnx,
                     **{k: v for k, v in shipped.get("reranker", {}).items()
                        if k in ("default", "default_chosen_by")},
                     "trained": provenance},
        "training": {
            **recorded,
            "questions": str(TRAIN.name),
            "questions_sha256": hashlib.sha256(TRAIN.read_bytes()).hexdigest(),
            "seed": args.seed, "folds": FOLDS, "hard_negatives": HARD_NEGATIVES,
            **({} if args.keep_adapter and recorded else provenance),
            "train_cv": {**recorded.get("train_cv", {}),
                         **{k: {m: round(v, 4) for m, v in row.items()}
                            for k, row in figures.items()}},
        },
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                       encoding="utf-8")
    print(f"\nwrote {out}/manifest.json, adapter.npy, reranker.txt in "
          f"{time.perf_counter() - started:.0f} s")
    side_by_side(args.index, encoder)
    return 0


def onnx_only(index_path: Path, model: str) -> int:
    """Convert the shipped reranker of ``model`` to ONNX, checked on the feature rows of
    the dev questions' pools (reported questions; nothing is chosen on them), and record
    it in the manifest."""
    from stard import DEV

    out = model_folder(model)
    path = out / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    encoder = load_encoder(model)
    index = open_index(index_path, encoder=encoder, trained=False)
    adapter = np.load(out / manifest["adapter"]["file"], allow_pickle=False)
    dev = load_questions(DEV)
    queries = encode_questions(index, encoder, dev)
    data = pools(index, encoder, dev, queries, [adapter] * len(dev),
                 pool=int(manifest["reranker"]["pool"]))
    manifest["reranker"]["onnx"] = write_onnx(out, np.concatenate([x for x, _, _ in data]))
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


# train-CV rows (as train_retrieval records them) and the dev rows they correspond to
# (as stard_eval scores them)
STAGES = {"dense (e5-small, plain)": ("dense", False, False),
          "dense + adapter": ("dense", True, False),
          "fused pool with adapter (no reranker)": ("hybrid", True, False),
          "+ reranker (full stack)": ("hybrid", True, True)}


def side_by_side(index_path: Path, encoder: Any) -> None:
    """Each stage's train-CV figures (recorded in the manifest) beside dev (scored now)."""
    from stard import DEV
    from stard_eval import PLAIN, channel_runs, evaluate

    # the parts just written, whichever parts the index records (an index records the
    # parts it was last built for; `rag index` updates that without re-embedding)
    index = open_index(index_path, encoder=encoder, trained=False)
    learned_for.cache_clear()
    learned = index.learned = learned_for(encoder.identity)
    if learned is None:
        raise SystemExit(f"{index_path}: no trained parts for this index's model")
    cv = learned.meta["training"]["train_cv"]
    dev = load_questions(DEV)
    runs = {adapted: channel_runs(index, encoder, dev, replace(PLAIN, use_adapter=adapted))
            for adapted in (False, True)}
    print(f"\n{'':40}{'train-CV':>18}{'dev':>18}\n{'':40}" + "   R@10  MRR@10" * 2)
    for name, (channels, adapted, reranked) in STAGES.items():
        fusion = replace(PLAIN, use_adapter=adapted, use_reranker=reranked)
        chosen = ("dense",) if channels == "dense" else ("dense", "bm25")
        row = evaluate(index, runs[adapted], dev, fusion, chosen)
        print(f"{name:40}   {cv[name]['R@10']:.3f}   {cv[name]['MRR@10']:.3f}"
              f"   {row['R@10']:.3f}   {row['MRR@10']:.3f}")


if __name__ == "__main__":
    raise SystemExit(main())
