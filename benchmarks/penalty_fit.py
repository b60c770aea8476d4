"""Fitting the implicit-link model of :mod:`rag.links.score` on the read penalty-link samples.

Run through ``python benchmarks/penalty_links.py --fit | --check-model``. Every (duty
article, penalty article) pair of a read sample's duty articles that shares a term is a
row, labelled 1 when the sample names that penalty for that article. Leave one sample
out: each read sample is scored by a model fitted on the others; the feature set and L2
strength kept are those whose pooled out-of-sample links reach the most named pairs at a
threshold right at least 95 % of the time, and that threshold is the model's. The
held-out samples (``penalty_links_heldout3.csv``, ``penalty_links_heldout7.csv``) are
never read here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from penalty_links import (
    CORPUS,
    GOLD_KINDS,
    MODEL_OUT,
    READ,
    Checked,
    measure,
    ratio,
    read_sample,
    unit_of,
)

from rag.chunking import chunk_documents
from rag.core.clauses import Clause
from rag.links import LinkTable
from rag.links.fitting import fit_candidates, likeliest, threshold_for
from rag.links.score import OWN, RANKS, Candidate, Model, payload_digest
from rag.readers import load_documents

PRECISION = 0.95  # wanted of the model's links, pooled out of sample over the read samples
# what leave-one-sample-out chooses among: feature sets (the eight of rounds 2–7, each
# later one added alone, all of them) and L2 strengths
BASE = OWN[:8]
EXTRA = (*OWN[8:], *RANKS)
FEATURE_SETS = (BASE, *((*BASE, extra) for extra in EXTRA), (*BASE, *EXTRA))
L2S = (0.01, 0.1, 1.0, 10.0)


def labelled(sample: list[Checked], table: LinkTable, label_of: dict[str, tuple[str, str]]
             ) -> list[tuple[Candidate, int]]:
    """(candidate, label) for every candidate pair of a sampled article."""
    wanted = {(item.doc_id, item.label): item for item in sample}
    rows = []
    for doc_id in sorted({item.doc_id for item in sample}):
        for candidate in table.candidates_of(doc_id):
            item = wanted.get(label_of[candidate.source])
            if item is None:
                continue
            gold = set().union(*item.gold.values())
            rows.append((candidate, int(label_of[candidate.target] in gold)))
    return rows


Rows = dict[str, list[tuple[Candidate, int]]]  # read sample → its labelled pairs


def out_of_sample(rows: Rows, features: tuple[str, ...], l2: float
                  ) -> dict[str, tuple[Model, list[tuple[float, bool]]]]:
    """Each read sample's pairs scored by a model fitted on the other read samples."""
    out = {}
    for held in rows:
        train = [r for name, part in rows.items() if name != held for r in part]
        model = fit_candidates([c for c, _ in train], [y for _, y in train], l2=l2,
                               features=features)
        chances = likeliest([c for c, _ in rows[held]], model)
        out[held] = (model, [(p, bool(y)) for p, (_, y) in zip(chances, rows[held],
                                                                strict=True)])
    return out


def links_at(scored: list[tuple[float, bool]], threshold: float | None) -> str:
    positives = sum(c for _, c in scored)
    made = [c for p, c in scored if threshold is not None and p >= threshold]
    return (f"precision {ratio((sum(made), len(made)))}, "
            f"recall {ratio((sum(made), positives))}")


def fit(*, check: bool) -> None:
    """Fit the implicit-link model on every read sample and write (or check) its file.

    Every (duty article, penalty article) pair of a read sample's duty articles that
    shares a term is a row (:meth:`rag.links.LinkTable.candidates_of`), labelled 1 when
    the sample names that penalty for that article. Leave one sample out: each read
    sample is scored by a model fitted on the others; the feature set and L2 strength
    are those whose pooled out-of-sample links reach the most named pairs at a
    threshold right >= 95 % of the time (fewer features, then more regularisation, on
    ties), that threshold the model's. The final model is fitted on every read pair;
    the held-out samples are not read.
    """
    documents, _ = load_documents([CORPUS])
    clauses = chunk_documents(documents)
    table = LinkTable(documents, clauses, scorer="rules")
    label_of = {c.unit_id: (c.doc_id, c.label) for c in clauses}
    criminal = next(d.doc_id for d in documents if d.title.endswith("刑法"))
    samples = {path.name: read_sample(path, criminal) for path in READ}
    rows = {name: labelled(sample, table, label_of) for name, sample in samples.items()}
    every = [r for part in rows.values() for r in part]
    print(f"read samples: {sum(len(s) for s in samples.values())} duty articles, "
          f"{len(every)} candidate pairs, {sum(y for _, y in every)} named; leave one "
          f"sample out over {len(rows)}")
    chosen: tuple[tuple[int, int, float], tuple[str, ...], float, float, dict] | None = None
    for features in FEATURE_SETS:
        for l2 in L2S:
            folds = out_of_sample(rows, features, l2)
            pooled = [s for _, scored in folds.values() for s in scored]
            threshold = threshold_for(pooled, precision=PRECISION)
            hits = sum(c for p, c in pooled if threshold is not None and p >= threshold)
            name = "base" + "".join(f" + {f}" for f in features[len(BASE):])
            print(f"  {name:48} l2 {l2:<5} threshold "
                  f"{'-' if threshold is None else f'{threshold:.3f}':>5}: "
                  + links_at(pooled, threshold))
            key = (hits, -len(features), l2)
            if threshold is not None and (chosen is None or key > chosen[0]):
                chosen = (key, features, l2, threshold, folds)
    if chosen is None:
        raise SystemExit("no threshold reaches the precision wanted; the model is not written")
    _, features, l2, threshold, folds = chosen
    print(f"chosen: {', '.join(features)}; l2 {l2}; threshold {threshold:.3f}. Out of "
          "sample, each read sample by a model fitted on the others:")
    for held, (_, scored) in folds.items():
        print(f"  {held:36} model's pairs: {links_at(scored, threshold)}")
    if not check:  # the whole links, each read sample by its fold's model
        out_of_sample_links(samples, folds, threshold, documents, clauses, label_of)
    model = fit_candidates([c for c, _ in every], [y for _, y in every], l2=l2,
                           features=features)
    payload = {"features": list(features), "weights": list(model.weights),
               "bias": model.bias, "threshold": round(threshold, 6), "l2": l2,
               "precision_wanted": PRECISION, "fitted_on": " + ".join(rows),
               "pairs": len(every), "cross_validation": "leave one sample out",
               "pair_score": "its likeliest match (refitted on them until stable)"}
    text = json.dumps({"model": payload, "sha256": payload_digest(payload)},
                      ensure_ascii=False, indent=1) + "\n"
    print("weights: " + ", ".join(f"{f} {w:+.3f}" for f, w in zip(features, model.weights,
                                                                     strict=True))
          + f", bias {model.bias:+.3f}; threshold {threshold:.3f}")
    if check:
        if MODEL_OUT.read_text(encoding="utf-8") != text:
            raise SystemExit(f"{MODEL_OUT} differs from a refit on the read samples")
        print(f"{MODEL_OUT.name}: same as a refit")
        return
    MODEL_OUT.write_text(text, encoding="utf-8")
    print(f"wrote {MODEL_OUT}")


def out_of_sample_links(samples: dict[str, list[Checked]],
                        folds: dict[str, tuple[Model, list[tuple[float, bool]]]],
                        threshold: float, documents: list, clauses: list[Clause],
                        label_of: dict[str, tuple[str, str]]) -> None:
    """Every kind of link of each read sample, made with the model fitted without it."""
    print(f"\n  {'out of sample, all links':36} {'precision':>16} {'explicit':>14} "
          f"{'implicit':>14} {'criminal':>14} {'civil':>14}")
    total: dict[str, list[int]] = {}
    for held, (fold, _) in folds.items():
        model = Model(fold.weights, fold.bias, threshold, fold.features)
        table = LinkTable(documents, clauses, model=model)
        predicted = {f"{i.doc_id}:{i.label}": [
            (k.kind, *label_of[k.target])
            for k in table.penalties(unit_of(clauses, i.doc_id, i.label))]
            for i in samples[held]}
        got = measure(samples[held], predicted)
        for key in ("precision", *GOLD_KINDS):
            total.setdefault(key, [0, 0])
            total[key] = [a + b for a, b in zip(total[key], got[key], strict=True)]
        print(f"  {held:36} {ratio(got['precision']):>16} "
              + " ".join(f"{ratio(got[k]):>14}" for k in GOLD_KINDS))
    pooled = {key: (hit, made) for key, (hit, made) in total.items()}
    print(f"  {'all read samples':36} {ratio(pooled['precision']):>16} "
          + " ".join(f"{ratio(pooled[k]):>14}" for k in GOLD_KINDS))
