"""Alignment of 公司法 2018 → 2023 against a hand-checked sample, with baselines in the same run.

    python benchmarks/align_eval.py [--sample benchmarks/data/align_company_law_2018_2023.csv]
                                    [--show-errors]

The sample (``benchmarks/data/align_company_law_2018_2023.csv``) lists articles of either
version with the article of the other version that a reader of both texts names as its
counterpart (``pair``), none (``none``: repealed or new), or a weak relation
(``either``: a counterpart that is acceptable, as is none). Old articles were sampled
systematically (every fifth article from 第三条), new ones among the articles new in 2023.

For each method, over the sampled articles:

* precision: of the articles the method pairs, the share paired with an acceptable
  counterpart (a pair for a ``none`` article is wrong);
* recall: of the ``pair`` articles, the share paired with an acceptable counterpart.

Methods: ``same number`` (pair equal article numbers, the naive baseline),
``similarity only`` (greedy one-to-one by similarity ≥ LOW, no anchors or order), and
``rag.changes.align`` (the shipped method).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rag.changes.align import LOW, align  # noqa: E402
from rag.changes.similarity import similar_pairs  # noqa: E402
from rag.changes.units import Article, articles  # noqa: E402
from rag.chunking import chunk_document  # noqa: E402
from rag.readers import read_document  # noqa: E402

LAWS = REPO / "corpus" / "lawrefbook" / "民法商法"
OLD, NEW = LAWS / "公司法(2018-10-26).md", LAWS / "公司法(2023-12-29).md"
SAMPLE = REPO / "benchmarks" / "data" / "align_company_law_2018_2023.csv"

# old label → new label (None: unpaired), for every old article, and the reverse
Mapping = tuple[dict[str, str | None], dict[str, str | None]]


@dataclass(frozen=True)
class Checked:
    side: str  # old | new
    label: str
    counterparts: frozenset[str]
    verdict: str  # pair | none | either
    note: str


def read_sample(path: Path) -> list[Checked]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    out = []
    for row in rows:
        if row["verdict"] not in ("pair", "none", "either") or row["side"] not in ("old", "new"):
            raise SystemExit(f"{path}: bad row {row}")
        names = frozenset(n for n in row["counterpart"].split("|") if n)
        out.append(Checked(row["side"], row["label"], names, row["verdict"], row["note"]))
    return out


def by_number(old: list[Article], new: list[Article]) -> Mapping:
    labels = {a.label for a in new}
    forward = {a.label: (a.label if a.label in labels else None) for a in old}
    backward = {a.label: (a.label if a.label in forward else None) for a in new}
    return forward, backward


def by_similarity(old: list[Article], new: list[Article]) -> Mapping:
    found = similar_pairs([a.body for a in old], [a.body for a in new], floor=LOW)
    forward: dict[str, str | None] = {a.label: None for a in old}
    backward: dict[str, str | None] = {a.label: None for a in new}
    for (i, j), _ in sorted(found.items(), key=lambda item: -item[1]):
        if forward[old[i].label] is None and backward[new[j].label] is None:
            forward[old[i].label], backward[new[j].label] = new[j].label, old[i].label
    return forward, backward


def by_alignment(old: list[Article], new: list[Article]) -> Mapping:
    forward: dict[str, str | None] = {a.label: None for a in old}
    backward: dict[str, str | None] = {a.label: None for a in new}
    for pair in align(old, new).pairs:
        if pair.old is not None and pair.new is not None:
            forward[pair.old.label], backward[pair.new.label] = pair.new.label, pair.old.label
    return forward, backward


def score(sample: list[Checked], mapping: Mapping) -> tuple[int, int, int, int, list[str]]:
    """(correct pairs, pairs made, correct among `pair` rows, `pair` rows, errors)."""
    forward, backward = mapping
    made = correct = found = wanted = 0
    errors = []
    for row in sample:
        got = (forward if row.side == "old" else backward).get(row.label, "missing")
        if got == "missing":
            raise SystemExit(f"{row.side} version has no {row.label}")
        ok = got in row.counterparts
        if got is not None:
            made += 1
            correct += ok
        if row.verdict == "pair":
            wanted += 1
            found += ok
        if (got is not None and not ok) or (row.verdict == "pair" and not ok):
            expected = "|".join(sorted(row.counterparts)) or "none"
            errors.append(f"{row.side} {row.label}: paired with {got or 'nothing'}, "
                          f"expected {expected} ({row.verdict})")
    return correct, made, found, wanted, errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=Path, default=SAMPLE)
    parser.add_argument("--show-errors", action="store_true")
    args = parser.parse_args(argv)
    sample = read_sample(args.sample)
    old_doc, new_doc = read_document(OLD), read_document(NEW)
    old = articles(old_doc, chunk_document(old_doc))
    new = articles(new_doc, chunk_document(new_doc))
    print(f"{OLD.name}: {len(old)} articles · {NEW.name}: {len(new)} articles · "
          f"sample: {len(sample)} hand-checked ({sum(r.side == 'old' for r in sample)} old, "
          f"{sum(r.side == 'new' for r in sample)} new; "
          f"{sum(r.verdict == 'pair' for r in sample)} pair, "
          f"{sum(r.verdict == 'none' for r in sample)} none, "
          f"{sum(r.verdict == 'either' for r in sample)} either)")
    methods: list[tuple[str, Callable[[list[Article], list[Article]], Mapping]]] = [
        ("same number (baseline)", by_number),
        ("similarity only", by_similarity),
        ("rag.changes.align", by_alignment),
    ]
    print(f"{'method':<24}{'precision':>18}{'recall':>18}{'ms':>8}")
    for name, method in methods:
        started = time.perf_counter()
        mapping = method(old, new)
        ms = (time.perf_counter() - started) * 1000
        correct, made, found, wanted, errors = score(sample, mapping)
        precision = f"{correct / made:.3f} ({correct}/{made})" if made else "n/a"
        recall = f"{found / wanted:.3f} ({found}/{wanted})" if wanted else "n/a"
        print(f"{name:<24}{precision:>18}{recall:>18}{ms:>8.0f}")
        if args.show_errors:
            for line in errors:
                print(f"    {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
