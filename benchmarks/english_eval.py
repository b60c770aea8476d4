"""English questions against their Chinese twins: hit@1, hit@5 and MRR@10 on the shipped laws.

    python benchmarks/english_eval.py                    # current stack, English and Chinese
    python benchmarks/english_eval.py --before d349681   # also the stack as at that commit
    python benchmarks/english_eval.py --misses all       # every variant's misses, not only now

Questions: benchmarks/data/english_questions.jsonl, each with its Chinese wording
(``question_zh``) and gold clause ids; the ones marked ``held_out`` were written before
the glossary was extended and are reported on their own. Relevance is unit-level: a
citation counts when its unit (an article, all ``.partN`` chunks of a split one
included) is a gold clause's unit. Ranks are those of ``rag.answer.answer(question,
k=10)``'s citations — what a user sees, named look-ups first — and ``answered`` is the
share the answer does not refuse. ``OOS refused`` is the share of everyday English
questions outside the corpus (benchmarks/data/english_out_of_scope.txt: "What time does
the bank open on Sunday?") that are refused: the glossary must not make them look legal.

Variants, in the same run on the same index: the glossary switched off (the question
searched as typed); the stack as at the commit given by ``--before`` (its glossary and
its refusal calibration, read with ``git show``); the glossary now with the weights
Chinese questions get; and the current stack, where BM25 counts
``Fusion.cross_lingual_bm25_factor`` times as much for a question written without
Chinese. Chinese questions contain no English terms and are fused as before, so they
are run once, on the current stack. The index is the real-model index of the shipped
corpus, built or verified incrementally (``--index``; embeddings/index by default, as
for calibrate_refusal.py).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from types import ModuleType, SimpleNamespace
from unittest.mock import patch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

TEST_CACHE = Path(os.environ.get("RAG_TEST_CACHE", "~/.cache/rag-compliance-tests")).expanduser()
os.environ.setdefault("RAG_MODEL_CACHE", str(TEST_CACHE / "models"))

from rag.answer import answer  # noqa: E402
from rag.answer.refusal import Calibration  # noqa: E402
from rag.encoders import Encoder, load_encoder  # noqa: E402
from rag.index import index_paths  # noqa: E402
from rag.search import Fusion, Index, lexical, named, open_index, query  # noqa: E402
from rag.search import glossary as current_glossary  # noqa: E402

DATA = REPO / "benchmarks" / "data" / "english_questions.jsonl"
OUT_OF_SCOPE = REPO / "benchmarks" / "data" / "english_out_of_scope.txt"
K = 10


@dataclass(frozen=True)
class Outcome:
    """One question's result: the rank of its first gold unit (None: not in the top K)."""

    qid: str
    question: str
    rank: int | None
    answered: bool
    top: tuple[str, ...]  # the first few cited clause ids, for the misses list


@dataclass(frozen=True)
class Stack:
    """What a variant searches and refuses with (calibration None: the shipped one)."""

    name: str
    glossary: ModuleType | SimpleNamespace
    fusion: Fusion
    calibration: Calibration | None = None


def load_questions(path: Path = DATA) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def gold_units(index: Index, gold: list[str]) -> set[str]:
    """The units of ``gold``: clause ids, or unit ids (``art2`` for ``art2.part1``…)."""
    units = {clause.unit_id for clause in index.clauses}
    found = {index.clauses[index.row_of[g]].unit_id if g in index.row_of else g for g in gold}
    missing = sorted(found - units)
    if missing:
        raise SystemExit(f"{DATA}: gold clause ids not in the index: {', '.join(missing)}")
    return found


@contextmanager
def glossary_in_use(module: ModuleType | SimpleNamespace) -> Iterator[None]:
    """Search and refuse with another glossary: its ``expand``, ``ENGLISH_TITLES`` and
    ``translated_words`` (none before that existed: every English word unknown)."""
    translated: Callable[[str], set[str]] = getattr(module, "translated_words",
                                                    lambda question: set())
    with patch.object(query, "expand", module.expand), \
            patch.object(named, "ENGLISH_TITLES", module.ENGLISH_TITLES), \
            patch.object(lexical, "translated_words", translated):
        yield


def run(index: Index, encoder: Encoder, questions: list[dict], field: str,
        stack: Stack) -> list[Outcome]:
    outcomes = []
    with glossary_in_use(stack.glossary):
        for q in questions:
            gold = gold_units(index, q["gold"])
            result = answer(q[field], index=index, encoder=encoder, k=K, fusion=stack.fusion,
                            calibration=stack.calibration)
            units = [index.clauses[index.row_of[c.clause_id]].unit_id for c in result.citations]
            rank = next((r for r, unit in enumerate(units, 1) if unit in gold), None)
            top = tuple(c.clause_id for c in result.citations[:3])
            outcomes.append(Outcome(q["id"], q[field], rank, result.answered, top))
    return outcomes


def refused_share(index: Index, encoder: Encoder, questions: list[str], stack: Stack) -> float:
    with glossary_in_use(stack.glossary):
        return statistics.fmean(
            not answer(q, index=index, encoder=encoder, k=3, fusion=stack.fusion,
                       calibration=stack.calibration).answered
            for q in questions)


def figures(outcomes: list[Outcome]) -> dict[str, float]:
    def hit(k: int) -> float:
        return statistics.fmean(o.rank is not None and o.rank <= k for o in outcomes)

    return {
        "n": len(outcomes),
        "hit@1": hit(1),
        "hit@5": hit(5),
        "MRR@10": statistics.fmean(1 / o.rank if o.rank else 0.0 for o in outcomes),
        "answered": statistics.fmean(o.answered for o in outcomes),
    }


def at_revision(revision: str, path: str) -> str:
    """The text of ``path`` at git ``revision`` of this repository."""
    try:
        return subprocess.run(["git", "-C", str(REPO), "show", f"{revision}:{path}"],
                              check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        raise SystemExit(f"--before {revision}: cannot read {path} at that revision with "
                         f"git ({error}); give a commit of this repository") from error


def glossary_at(revision: str) -> ModuleType:
    """``rag/search/glossary.py`` as it was at ``revision``, imported on its own."""
    source = at_revision(revision, "rag/search/glossary.py")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "glossary_before.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location("glossary_before", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return module


def calibration_at(revision: str, model_identity: str) -> Calibration:
    """The refusal calibration shipped at ``revision`` (it must be for this model)."""
    shipped = json.loads(at_revision(revision, "rag/answer/calibration.json"))
    found = [d for d in (shipped if isinstance(shipped, list) else [shipped])
             if d.get("model_identity") == model_identity]
    if not found:
        raise SystemExit(f"--before {revision}: its rag/answer/calibration.json was fitted "
                         "for another model than the index's")
    return Calibration(**{f.name: found[0][f.name] for f in fields(Calibration)})


NO_GLOSSARY = SimpleNamespace(expand=lambda question: question, ENGLISH_TITLES={})


def print_table(rows: list[tuple[str, dict[str, float], float | None]]) -> None:
    print(f"{'':44} {'n':>3} {'hit@1':>6} {'hit@5':>6} {'MRR@10':>7} {'answered':>8} "
          f"{'OOS refused':>11}")
    for name, f, oos in rows:
        refused = f"{oos:>11.3f}" if oos is not None else ""
        print(f"{name:44} {int(f['n']):>3} {f['hit@1']:>6.3f} {f['hit@5']:>6.3f} "
              f"{f['MRR@10']:>7.3f} {f['answered']:>8.3f} {refused}")


def print_misses(title: str, outcomes: list[Outcome], gold: dict[str, list[str]]) -> None:
    misses = [o for o in outcomes if o.rank is None or o.rank > 5 or not o.answered]
    print(f"\n{title}: {len(misses)} not in the top 5 or refused")
    for o in misses:
        where = f"rank {o.rank}" if o.rank else f"not in top {K}"
        refused = "" if o.answered else ", REFUSED"
        print(f"  {o.qid} ({where}{refused}) {o.question}\n      gold {', '.join(gold[o.qid])}"
              f"\n      top  {', '.join(o.top)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=REPO / "embeddings" / "index",
                        help="real-model index of corpus/ (built or verified incrementally; "
                             "the one calibrate_refusal.py uses)")
    parser.add_argument("--model", default="multilingual-e5-small")
    parser.add_argument("--before", metavar="REV",
                        help="also run the glossary and refusal calibration of this revision")
    parser.add_argument("--misses", choices=("current", "all"), default="current")
    args = parser.parse_args()

    encoder = load_encoder(args.model)
    index_paths([REPO / "corpus"], index=args.index, encoder=encoder)
    index = open_index(args.index, encoder=encoder)
    questions = load_questions()
    out_of_scope = [q for q in OUT_OF_SCOPE.read_text("utf-8").splitlines() if q.strip()]
    held = {q["id"] for q in questions if q.get("held_out")}
    gold = {q["id"]: q["gold"] for q in questions}

    same = Fusion(cross_lingual_bm25_factor=1.0)  # English fused as Chinese is
    stacks = [Stack("no glossary", NO_GLOSSARY, same)]
    if args.before:
        stacks.append(Stack(f"as at {args.before}", glossary_at(args.before), same,
                            calibration_at(args.before, index.model_identity)))
    stacks.append(Stack("glossary now, same weights", current_glossary, same))
    stacks.append(Stack("current (glossary now, BM25 x2)", current_glossary, Fusion()))

    results = {s.name: run(index, encoder, questions, "question", s) for s in stacks}
    refused = {s.name: refused_share(index, encoder, out_of_scope, s) for s in stacks}
    chinese = run(index, encoder, questions, "question_zh", stacks[-1])

    print(f"{len(questions)} questions ({len(held)} held out), answer(question, k={K}), "
          f"unit-level; {len(out_of_scope)} everyday questions out of scope; "
          f"index {args.index}\n")
    rows: list[tuple[str, dict[str, float], float | None]] = []
    for name, outcomes in [*((f"English, {n}", o) for n, o in results.items()),
                           ("Chinese twins", chinese)]:
        rows.append((name, figures(outcomes), refused.get(name.removeprefix("English, "))))
        rows.append(("  written after the glossary work",
                     figures([o for o in outcomes if o.qid not in held]), None))
        rows.append(("  held out", figures([o for o in outcomes if o.qid in held]), None))
    print_table(rows)

    current = stacks[-1].name
    shown = results if args.misses == "all" else {current: results[current]}
    for name, outcomes in shown.items():
        print_misses(f"English, {name}", outcomes, gold)
    print_misses("Chinese twins", chinese, gold)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
