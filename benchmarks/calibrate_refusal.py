"""Calibrate when the assistant refuses: fit confidence on labelled questions, write it.

    python benchmarks/calibrate_refusal.py            # fit, report CV accuracy, write
    python benchmarks/calibrate_refusal.py --check    # report only, write nothing

Labelled data: benchmarks/data/refusal_calibration.jsonl (questions we wrote about the
shipped corpus, and out-of-scope ones: weather, cooking, sports, programming, …) plus the
STARD *train* questions whose gold articles are all in the shipped corpus (real users'
questions; dev is never fitted on — its in-corpus questions are reported, held out).
Features per question are the ``rag.answer.evidence`` signals; a logistic regression is
fitted (deterministic gradient descent), and the threshold is the one that maximises
balanced accuracy. 5-fold cross-validated accuracy is printed so the figure is an honest
estimate, then the model is refitted on everything and written for the index's model
identity.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rag.answer.compose import find  # noqa: E402
from rag.answer.refusal import calibration_path  # noqa: E402
from rag.core.titles import title_key  # noqa: E402
from rag.encoders import load_encoder  # noqa: E402
from rag.index import index_paths  # noqa: E402
from rag.search import open_index, prepare  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "refusal_calibration.jsonl"
STARD = REPO.parent / "shared" / "bench" / "stard"
TRAIN, DEV = STARD / "train.jsonl", STARD / "dev.jsonl"


def in_corpus(path: Path, index) -> list[str]:  # type: ignore[no-untyped-def]
    """The STARD questions in ``path`` whose gold articles are all in the shipped corpus."""
    shipped = {title_key(d.title) for d in index.documents.values()}
    if not path.is_file():
        raise SystemExit(f"{path}: not found; the STARD questions live in ../shared/bench")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [q["question"] for q in rows if all(title_key(g["law"]) in shipped for g in q["gold"])]


def labelled(index) -> list[tuple[str, bool]]:  # type: ignore[no-untyped-def]
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line]
    data = [(r["question"], bool(r["answerable"])) for r in rows]
    return data + [(question, True) for question in in_corpus(TRAIN, index)]


def features(questions, index, encoder) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The refusal signals of each question, as :func:`rag.answer.answer` computes them."""
    return np.asarray([find(prepare(question, index=index), index=index, encoder=encoder,
                            k=5, fusion=None).signals for question in questions],
                      dtype=np.float64)


def fit(x: np.ndarray, y: np.ndarray, *, steps: int = 20000, l2: float = 0.05):  # type: ignore[no-untyped-def]
    """Logistic regression on standardised features; returns (bias, weights) on raw scale."""
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-9  # (the 0/1 latin flag too)
    z = (x - mean) / std
    w = np.zeros(z.shape[1])
    b = 0.0
    balance = np.where(y == 1, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        grad = (p - y) * balance
        w -= 0.1 * (z.T @ grad / len(y) + l2 * w)
        b -= 0.1 * grad.mean()
    return b - float((w * mean / std).sum()), w / std


def best_threshold(p: np.ndarray, y: np.ndarray) -> float:
    """The threshold of best balanced accuracy; of the equally good ones the lowest (a real
    question refused costs a compliance officer more than an odd one answered with
    clauses), placed halfway into the gap below it rather than on a training point."""
    candidates = np.unique(np.concatenate([[0.5], p]))

    def balanced(t: float) -> float:
        pred = p >= t
        return 0.5 * ((pred & (y == 1)).sum() / (y == 1).sum()
                      + (~pred & (y == 0)).sum() / (y == 0).sum())

    scores = np.array([balanced(t) for t in candidates])
    lowest = float(candidates[np.flatnonzero(scores == scores.max())[0]])
    below = candidates[candidates < lowest]
    return (lowest + float(below.max())) / 2 if below.size else lowest


def predict(bias: float, weights: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-(x @ weights + bias)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=REPO / "embeddings" / "index")
    parser.add_argument("--model", default="multilingual-e5-small")
    parser.add_argument("--check", action="store_true", help="do not write the calibration")
    args = parser.parse_args()

    encoder = load_encoder(args.model)
    index_paths([REPO / "corpus"], index=args.index, encoder=encoder)
    index = open_index(args.index, encoder=encoder)
    data = labelled(index)
    questions = [q for q, _ in data]
    y = np.asarray([1.0 if a else 0.0 for _, a in data])
    x = features(questions, index, encoder)
    print(f"{int(y.sum())} answerable, {int(len(y) - y.sum())} out of scope")

    order = np.random.default_rng(7).permutation(len(y))
    folds = np.array_split(order, 5)
    correct = np.zeros(len(y), bool)
    for fold in folds:
        train = np.setdiff1d(order, fold)
        bias, weights = fit(x[train], y[train])
        threshold = best_threshold(predict(bias, weights, x[train]), y[train])
        correct[fold] = (predict(bias, weights, x[fold]) >= threshold) == (y[fold] == 1)
        for i in fold[~correct[fold]]:
            print(f"  CV wrong: {questions[i]} (answerable: {bool(y[i])}, "
                  f"p {float(predict(bias, weights, x[i:i + 1])[0]):.3f}, "
                  f"threshold {threshold:.3f}, features {np.round(x[i], 3).tolist()})")
    answered_ok = correct[y == 1].mean()
    refused_ok = correct[y == 0].mean()
    print(f"5-fold CV: answerable answered {answered_ok:.3f}, out-of-scope refused "
          f"{refused_ok:.3f}, accuracy {correct.mean():.3f}")

    bias, weights = fit(x, y)
    threshold = best_threshold(predict(bias, weights, x), y)
    wrong = [(questions[i], round(float(p), 3), bool(y[i]))
             for i, p in enumerate(predict(bias, weights, x)) if (p >= threshold) != (y[i] == 1)]
    print(f"fitted: bias {bias:.3f}, dense {weights[0]:.3f}, coverage {weights[1]:.3f}, "
          f"latin {weights[2]:.3f}, threshold {threshold:.3f}")
    print(f"misclassified on the full set: {wrong}")
    held = in_corpus(DEV, index)
    answered = predict(bias, weights, features(held, index, encoder)) >= threshold
    print(f"held out: STARD dev questions answerable from the shipped corpus answered "
          f"{int(answered.sum())}/{len(held)} ({answered.mean():.3f})")
    if not args.check:
        fitted = {
            "model_identity": index.model_identity,
            "model": encoder.name,
            "bias": round(bias, 6),
            "dense_weight": round(float(weights[0]), 6),
            "coverage_weight": round(float(weights[1]), 6),
            "latin_weight": round(float(weights[2]), 6),
            "threshold": round(threshold, 6),
            "fitted_on": f"{int(y.sum())} answerable + {int(len(y) - y.sum())} out-of-scope "
                         "questions (benchmarks/calibrate_refusal.py)",
            "cv_accuracy": round(float(correct.mean()), 4),
        }
        path = Path(calibration_path())
        try:  # other models' calibrations are kept
            kept = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            kept = []
        kept = [c for c in (kept if isinstance(kept, list) else [kept])
                if isinstance(c, dict) and c.get("model_identity") != index.model_identity]
        path.write_text(json.dumps([*kept, fitted], indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        print(f"wrote {calibration_path()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
