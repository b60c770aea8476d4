"""Fine-tune multilingual-e5-small on STARD train.jsonl (never dev) into a LoRA delta.

    python benchmarks/finetune_encoder.py                 # check by CV, train, write rag/learned/
    python benchmarks/finetune_encoder.py --folds 0       # train and write, no CV
    python benchmarks/finetune_encoder.py --check         # CV only, write nothing
    python benchmarks/finetune_encoder.py --max-steps 3   # time a few steps, write nothing

Gold articles are resolved to clauses of the full national corpus through an index of it
(any model: only its clauses and its BM25 channel are used; ``rag index
../shared/corpora/lawrefbook --index <dir> --model hashing`` builds one in seconds), with
the title/article matching of benchmarks/stard.py. Each question is paired with one of its
gold clauses and hard negatives: BM25's top hits that are not gold, plus (``--dense-index``,
an index built with the base model) the base model's top dense hits that are not gold.
Loss: InfoNCE over the batch (each question against every positive and negative in it, a
passage gold for the question but not its own pair masked out), e5's prefixes, passages
exactly as the index embeds them (rag.index.passages.dense_passage), cut at
``--max-tokens``. LoRA on the linear layers of the top ``--layers`` transformer layers
(the lower ones are frozen and run without gradients, which halves the CPU time).

Seeded and deterministic on CPU (torch and numpy seeds, fixed thread count, fixed order).
The CV check (``--folds``): train on the other folds, then on held-out questions rank a
candidate pool (their gold clauses and BM25 top ``--pool`` hits, shared by all of them)
by the base and the fine-tuned model: dense-only article-level R@k and MRR@10 inside the
pool. It is a check of the chosen settings, not a search over many.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stard import REPO, TRAIN, article_key, folds_of, gold_keys, load_questions, mean, score
from train_retrieval import gold_rows

from rag.encoders import lora
from rag.encoders.e5_cache import ensure_model
from rag.encoders.e5_spec import BASE_MODEL, PASSAGE_PREFIX, QUERY_PREFIX, TUNED_MODEL
from rag.encoders.fingerprint import weights_sha256
from rag.index.passages import dense_passage
from rag.learned.artifacts import folder as learned_folder
from rag.search import open_index, prepare
from rag.search.catalog import Index

DELTA_FILE = "encoder_delta.safetensors"


# ---------------------------------------------------------------- data


def passage_of(index: Index, row: int) -> str:
    clause = index.clauses[row]
    return dense_passage(clause, index.documents[clause.doc_id])


def bm25_negatives(index: Index, questions: list[dict[str, Any]], depth: int
                   ) -> list[list[int]]:
    """Each question's BM25 top ``depth`` rows whose article is not gold, one row an article."""
    out = []
    for question in questions:
        gold = gold_keys(question)
        found = index.backend.search_keyword(prepare(question["question"], index=index).text,
                                             depth * 4)
        rows, seen = [], set()
        for row in found.rows:
            key = article_key(index, index.clauses[int(row)])
            if key in gold or key in seen:
                continue
            seen.add(key)
            rows.append(int(row))
            if len(rows) == depth:
                break
        out.append(rows)
    return out


def dense_negatives(path: Path, index: Index, questions: list[dict[str, Any]], depth: int
                    ) -> list[list[int]]:
    """Each question's top dense hits in an index built with the base model (not gold),
    as rows of ``index`` (matched by clause id)."""
    from rag.encoders import load_encoder

    encoder = load_encoder(BASE_MODEL)
    dense = open_index(path, encoder=encoder, trained=False)
    row_of = {c.id: i for i, c in enumerate(index.clauses)}
    texts = [prepare(q["question"], index=dense).text for q in questions]
    queries = np.concatenate([encoder.encode_queries(texts[s:s + 64])
                              for s in range(0, len(texts), 64)])
    out = []
    for question, vector in zip(questions, queries, strict=True):
        gold = gold_keys(question)
        found = dense.backend.search_dense(vector, depth * 4)
        rows, seen = [], set()
        for row in found.rows:
            clause = dense.clauses[int(row)]
            key = article_key(dense, clause)
            if key in gold or key in seen or clause.id not in row_of:
                continue
            seen.add(key)
            rows.append(row_of[clause.id])
            if len(rows) == depth:
                break
        out.append(rows)
    return out


# ---------------------------------------------------------------- model


def lora_model(base: Path, *, rank: int, alpha: float, layers: int, seed: int) -> Any:
    """The base SentenceTransformer with LoRA on the top ``layers`` layers' linear maps."""
    import torch

    from rag.encoders.st_load import load_folder

    torch.manual_seed(seed)
    st = load_folder(base, "cpu")
    bert = st[0].auto_model
    for param in st.parameters():
        param.requires_grad_(False)
    total = len(bert.encoder.layer)
    for number in range(total - layers, total):
        layer = bert.encoder.layer[number]
        for target in lora.TARGETS:
            parent_name, _, leaf = target.rpartition(".")
            parent = layer.get_submodule(parent_name)
            setattr(parent, leaf, LoRALinear(getattr(parent, leaf), rank=rank, alpha=alpha,
                                             name=f"encoder.layer.{number}.{target}.weight"))
    st.frozen_below = total - layers
    return st


def _lora_class() -> Any:
    import torch

    class LoRALinear(torch.nn.Module):
        """``linear(x) + scale · x Aᵀ Bᵀ``; B starts at zero, so training starts at the base."""

        def __init__(self, linear: Any, *, rank: int, alpha: float, name: str) -> None:
            super().__init__()
            self.linear = linear
            self.name = name
            self.scale = alpha / rank
            self.enabled = True
            self.lora_A = torch.nn.Parameter(torch.empty(rank, linear.in_features))
            self.lora_B = torch.nn.Parameter(torch.zeros(linear.out_features, rank))
            torch.nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))

        def forward(self, x: Any) -> Any:
            out = self.linear(x)
            if self.enabled:
                out = out + (x @ self.lora_A.T @ self.lora_B.T) * self.scale
            return out

    return LoRALinear


def LoRALinear(linear: Any, **kw: Any) -> Any:  # a class made lazily (torch)
    return _lora_class()(linear, **kw)


def lora_modules(st: Any) -> list[Any]:
    return [m for m in st.modules() if hasattr(m, "lora_A") and hasattr(m, "lora_B")]


def set_lora(st: Any, enabled: bool) -> None:
    for module in lora_modules(st):
        module.enabled = enabled


def embed(st: Any, texts: list[str], *, max_tokens: int, grad: bool) -> Any:
    """Normalised sentence embeddings; without ``grad`` nothing is kept for backward."""
    import torch

    tokenizer = st.tokenizer
    features = tokenizer(texts, padding=True, truncation=True, max_length=max_tokens,
                         return_tensors="pt")
    features = {"input_ids": features["input_ids"],
                "attention_mask": features["attention_mask"]}
    with torch.set_grad_enabled(grad):
        out = st(features)["sentence_embedding"]
    return torch.nn.functional.normalize(out, dim=-1)


def encode(st: Any, texts: list[str], *, max_tokens: int, batch: int = 64) -> np.ndarray:
    import torch

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), 384), np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), batch):
            ids = order[start:start + batch]
            out[ids] = embed(st, [texts[i] for i in ids], max_tokens=max_tokens,
                             grad=False).numpy()
    return out


def train(st: Any, index: Index, questions: list[dict[str, Any]], chosen: list[int],
          gold: list[np.ndarray], negatives: list[list[int]], args: argparse.Namespace,
          *, log: str) -> dict[str, float]:
    """Train the LoRA parameters of ``st`` on the questions ``chosen``; return timings."""
    import torch

    params = [p for m in lora_modules(st) for p in (m.lora_A, m.lora_B)]
    for p in params:
        p.requires_grad_(True)
    optimiser = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.0)
    rng = np.random.default_rng(args.seed)
    usable = [i for i in chosen if len(gold[i])]
    steps = args.epochs * math.ceil(len(usable) / args.batch)
    if args.max_steps:
        steps = min(steps, args.max_steps)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / max(1, steps // 10)) * max(0.0, 1 - s / steps))
    keys = {}  # row -> article key, for masking passages gold for another question

    def key(row: int) -> Any:
        if row not in keys:
            keys[row] = article_key(index, index.clauses[row])
        return keys[row]

    started, step, losses = time.perf_counter(), 0, []
    st.train()
    for _ in range(args.epochs):
        order = rng.permutation(usable)
        for start in range(0, len(order), args.batch):
            if step >= steps:
                break
            ids = [int(i) for i in order[start:start + args.batch]]
            positives = [int(rng.choice(gold[i])) for i in ids]
            rows = positives + [r for i in ids for r in negatives[i][:args.negatives]]
            texts = [PASSAGE_PREFIX + passage_of(index, r) for r in rows]
            q = embed(st, [QUERY_PREFIX + prepare(questions[i]["question"], index=index).text
                           for i in ids], max_tokens=64, grad=True)
            p = embed(st, texts, max_tokens=args.max_tokens, grad=True)
            logits = q @ p.T / args.temperature
            mask = torch.zeros_like(logits, dtype=torch.bool)
            for b, i in enumerate(ids):
                golden = gold_keys(questions[i])
                for j, row in enumerate(rows):
                    if j != b and key(row) in golden:
                        mask[b, j] = True  # another copy of this question's gold
            logits = logits.masked_fill(mask, -1e4)
            loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(ids)))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            losses.append(loss.item())
            step += 1
            if step % 10 == 0 or step == steps:
                spent = time.perf_counter() - started
                print(f"{log} step {step}/{steps} loss {np.mean(losses[-10:]):.3f} "
                      f"{spent / step:.1f} s/step, ~{spent / step * (steps - step) / 60:.0f} "
                      "min left", file=sys.stderr, flush=True)
    st.eval()
    for p in params:
        p.requires_grad_(False)
    seconds = time.perf_counter() - started
    return {"steps": step, "seconds": round(seconds, 1),
            "seconds_per_step": round(seconds / max(step, 1), 2),
            "final_loss": round(float(np.mean(losses[-10:])), 4) if losses else 0.0}


# ---------------------------------------------------------------- CV check


def pool_scores(st: Any, index: Index, questions: list[dict[str, Any]], held: list[int],
                gold: list[np.ndarray], args: argparse.Namespace,
                base_cache: dict[int, np.ndarray]) -> dict[str, dict[str, float]]:
    """Dense-only article-level scores of the held-out questions inside one shared pool."""
    pool = sorted({int(r) for i in held for r in gold[i]}
                  | {int(r) for i in held for r in bm25_top(index, questions[i], args.pool)})
    texts = [PASSAGE_PREFIX + passage_of(index, r) for r in pool]
    queries = [QUERY_PREFIX + prepare(questions[i]["question"], index=index).text for i in held]
    rows: dict[str, dict[str, float]] = {}
    for name, enabled in (("base", False), ("fine-tuned", True)):
        set_lora(st, enabled)
        missing = [r for r in pool if not (name == "base" and r in base_cache)]
        fresh = encode(st, [texts[pool.index(r)] for r in missing], max_tokens=args.max_tokens)
        vectors = dict(zip(missing, fresh, strict=True))
        if name == "base":
            base_cache.update(vectors)
            vectors = {r: base_cache[r] for r in pool}
        matrix = np.stack([vectors[r] for r in pool])
        q = encode(st, queries, max_tokens=64)
        ranked = []
        for vector, i in zip(q, held, strict=True):
            order = np.argsort(-(matrix @ vector), kind="stable")
            seen: dict[Any, None] = {}
            for j in order:
                seen.setdefault(article_key(index, index.clauses[pool[int(j)]]), None)
            ranked.append(score(list(seen), gold_keys(questions[i])))
        rows[name] = mean(ranked)
    set_lora(st, True)
    return rows


def bm25_top(index: Index, question: dict[str, Any], depth: int) -> list[int]:
    found = index.backend.search_keyword(prepare(question["question"], index=index).text,
                                         depth)
    return [int(r) for r in found.rows]


# ---------------------------------------------------------------- writing


def save_delta(st: Any, out: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import save_file

    arrays: dict[str, np.ndarray] = {}
    for module in lora_modules(st):
        arrays[f"{module.name}.lora_A"] = module.lora_A.detach().numpy().astype(np.float32)
        arrays[f"{module.name}.lora_B"] = module.lora_B.detach().numpy().astype(np.float32)
    save_file(dict(sorted(arrays.items())), str(out), metadata={"format": "rag-lora-v1"})
    return arrays


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def versions() -> dict[str, str]:
    import safetensors
    import sentence_transformers
    import torch
    import transformers

    return {"python": platform.python_version(), "numpy": np.__version__,
            "torch": torch.__version__, "transformers": transformers.__version__,
            "sentence-transformers": sentence_transformers.__version__,
            "safetensors": safetensors.__version__}


def cv_record(cv: dict[str, dict[str, float]], args: argparse.Namespace) -> dict[str, Any]:
    return {"folds": args.folds, "folds_scored": args.cv_runs or args.folds,
            "held_out_questions_per_fold": args.cv_questions,
            "pool": f"held-out questions' gold clauses + BM25 top {args.pool}, dense only, "
                    "article level", "figures": cv}


def record_cv(settings: dict[str, Any], cv: dict[str, dict[str, float]],
              args: argparse.Namespace) -> None:
    """Add the CV figures to the shipped delta's manifest entry (same settings only)."""
    path = learned_folder() / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    entry = manifest.get(lora.MANIFEST_KEY, {}).get("training", {})
    if entry.get("settings") != settings:
        raise SystemExit(f"{path}: the shipped delta was trained with {entry.get('settings')}, "
                         f"not {settings}: nothing recorded")
    entry.pop("train_cv_pool", None)  # (written empty by runs without CV)
    entry["cv"] = cv_record(cv, args)
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"recorded the CV figures in {path}", flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, required=True,
                        help="an index of the full national corpus (any model: clauses, BM25)")
    parser.add_argument("--dense-index", type=Path, default=None,
                        help="an index of it built with the base model: dense hard negatives")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--negatives", type=int, default=1, help="hard negatives a question")
    parser.add_argument("--rank", type=int, default=8)
    parser.add_argument("--alpha", type=float, default=16.0)
    parser.add_argument("--layers", type=int, default=6, help="top layers adapted")
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--temperature", type=float, default=0.05)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--folds", type=int, default=2, help="CV check (0: none)")
    parser.add_argument("--cv-runs", type=int, default=0,
                        help="folds actually held out and scored (0: all of them)")
    parser.add_argument("--cv-questions", type=int, default=100,
                        help="held-out questions scored per fold")
    parser.add_argument("--pool", type=int, default=20, help="BM25 hits per question in the pool")
    parser.add_argument("--max-steps", type=int, default=0, help="stop after N steps (timing)")
    parser.add_argument("--check", action="store_true", help="CV only, write nothing")
    parser.add_argument("--record", action="store_true",
                        help="with --check: record the CV figures beside the shipped delta "
                             "when it was trained with these settings")
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    started = time.perf_counter()
    import torch

    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    index = open_index(args.index, encoder=None, trained=False, verify=False)
    questions = load_questions(TRAIN)
    gold = gold_rows(index, questions)
    print(f"{len(questions)} training questions, {sum(len(g) > 0 for g in gold)} with gold "
          f"in {len(index.clauses)} clauses", file=sys.stderr, flush=True)
    negatives = bm25_negatives(index, questions, max(args.negatives, 4))
    if args.dense_index is not None:
        dense = dense_negatives(args.dense_index, index, questions, 4)
        negatives = [[r for pair in zip(d, b, strict=False) for r in pair] or b
                     for d, b in zip(dense, negatives, strict=True)]
    base_dir = ensure_model(BASE_MODEL)
    settings = {k: getattr(args, k) for k in ("seed", "epochs", "batch", "negatives", "rank",
                                              "alpha", "layers", "lr", "temperature",
                                              "max_tokens")}
    print(f"settings {settings}; data ready in {time.perf_counter() - started:.0f} s",
          file=sys.stderr, flush=True)

    cv: dict[str, dict[str, float]] = {}
    if args.folds and not args.max_steps:
        folds = folds_of(len(questions), args.folds, args.seed)
        per: dict[str, list[dict[str, float]]] = {"base": [], "fine-tuned": []}
        base_cache: dict[int, np.ndarray] = {}
        for fold in range(args.cv_runs or args.folds):
            st = lora_model(base_dir, rank=args.rank, alpha=args.alpha, layers=args.layers,
                            seed=args.seed)
            train(st, index, questions, [i for i in range(len(questions)) if folds[i] != fold],
                  gold, negatives, args, log=f"fold {fold + 1}/{args.folds}")
            held = [i for i in range(len(questions)) if folds[i] == fold and len(gold[i])]
            held = held[:args.cv_questions]
            rows = pool_scores(st, index, questions, held, gold, args, base_cache)
            for name, row in rows.items():
                per[name].append(row)
                print(f"fold {fold + 1}: {name:10} " + " ".join(
                    f"{k} {v:.3f}" for k, v in row.items()), file=sys.stderr, flush=True)
        cv = {name: {k: round(v, 4) for k, v in mean(rows).items()}
              for name, rows in per.items()}
        for name, row in cv.items():
            print(f"train-CV pool ({args.cv_runs or args.folds} of {args.folds} folds, "
                  f"{args.cv_questions} held-out questions "
                  f"each, BM25 top {args.pool} + gold): {name:10} "
                  + " ".join(f"{k} {v:.3f}" for k, v in row.items()), flush=True)
    if args.check:
        if args.record:
            record_cv(settings, cv, args)
        return 0

    st = lora_model(base_dir, rank=args.rank, alpha=args.alpha, layers=args.layers,
                    seed=args.seed)
    timing = train(st, index, questions, list(range(len(questions))), gold, negatives, args,
                   log="all")
    if args.max_steps:
        print(f"{timing}", flush=True)
        return 0
    out = learned_folder()
    arrays = save_delta(st, out / DELTA_FILE)
    digest = lora.file_sha256(out / DELTA_FILE)
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest[lora.MANIFEST_KEY] = {
        "file": DELTA_FILE, "sha256": digest, "scale": args.alpha / args.rank,
        "model": TUNED_MODEL, "base_model": BASE_MODEL,
        "base_weights_sha256": weights_sha256(base_dir),
        "targets": [f"top {args.layers} layers: " + ", ".join(lora.TARGETS)],
        "shape": lora.describe(arrays),
        "training": {
            "questions": TRAIN.name,
            "questions_sha256": lora.file_sha256(TRAIN),
            "settings": settings,
            "negatives": "BM25 top hits not gold" + (
                " + base-model dense top hits not gold" if args.dense_index else ""),
            "corpus_fingerprint": index.manifest.get("corpus_fingerprint"),
            "git_commit": git_commit(),
            "versions": versions(),
            "timing": timing,
            "cv": cv_record(cv, args),
            "command": "python benchmarks/finetune_encoder.py " + " ".join(sys.argv[1:]),
        },
    }
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                             encoding="utf-8")
    print(f"wrote {out / DELTA_FILE} ({(out / DELTA_FILE).stat().st_size / 1e6:.1f} MB, "
          f"{lora.describe(arrays)}) and its manifest entry in "
          f"{time.perf_counter() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
