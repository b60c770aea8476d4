"""Whether the learned reranker loses anything on the compliance questions (issue 20).

    python benchmarks/reranker_safety.py [--index DIR] [--model NAME] [--keeps N]

Answers, with the reranker off and on (same run, same index of the shipped corpus, a
real model: the base unless --model names another; on as the product runs it, the fused
first ``Fusion.reranker_keeps`` kept first, or N of them): every question of
benchmarks/data/english_questions.jsonl in English and in its Chinese wording
(``question_zh``), hit@1 and hit@5 of its gold clause among ``answer()``'s citations
(the units, as tests/test_english_questions.py counts them), and the Chinese questions
tests/test_answer.py asserts a governing clause of in the top three, and the order of
证券法第一百九十一条 and 刑法第一百八十条 for 利用内幕消息炒股会被罚多少钱.
It prints each question whose gold moved, the totals and the questions the reranker
loses (worse on than off; the order above: wrong with it on); the reranker may be on
by default only when nothing is lost here and STARD dev improves (``benchmarks/stard_eval.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stard import REPO

from rag.answer import answer
from rag.encoders import BASE_MODEL, load_encoder
from rag.index import index_paths
from rag.links.stored import LINKS
from rag.search import Fusion, Index, open_index
from tests.test_answer import CHINESE  # the Chinese questions whose governing clause is asserted

ENGLISH = REPO / "benchmarks" / "data" / "english_questions.jsonl"
# the order the product must keep whatever else moves: (question, above, below)
ABOVE = [("利用内幕消息炒股会被罚多少钱？", "证券法-2019-12-28#art191", "刑法#art180")]


def units(index: Index, question: str, fusion: Fusion, k: int) -> list[str]:
    found = answer(question, index=index, k=k, fusion=fusion)
    return [index.clauses[index.row_of[c.clause_id]].unit_id for c in found.citations]


def unit_of(index: Index, clause_id: str) -> str:
    return index.clauses[index.row_of[clause_id]].unit_id if clause_id in index.row_of \
        else clause_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=REPO / "embeddings" / "shipped",
                        help="an index of corpus/ (built or updated here; nothing is "
                        "re-embedded when it is current)")
    parser.add_argument("--model", default=BASE_MODEL,
                        help="the model (and so the trained parts) answered with (default "
                        "%(default)s)")
    parser.add_argument("--keeps", type=int, default=Fusion.reranker_keeps,
                        help="the fused first units the reranker keeps first (default "
                        "%(default)s, the product's; 0: none)")
    args = parser.parse_args()
    encoder = load_encoder(args.model)
    index_paths([REPO / "corpus"], index=args.index, encoder=encoder, derived=(LINKS,))
    index = open_index(args.index, encoder=encoder)
    if index.learned is None or index.learned.reranker is None:
        raise SystemExit("no trained reranker for this model: run benchmarks/train_retrieval.py")
    stacks = {"off": Fusion(use_reranker=False),
              "on": Fusion(use_reranker=True, reranker_keeps=args.keeps)}
    rows = [json.loads(line) for line in ENGLISH.read_text(encoding="utf-8").splitlines()]
    lost = 0
    for language, field in (("English", "question"), ("Chinese", "question_zh")):
        hits = {name: [0, 0] for name in stacks}
        for row in rows:
            gold = {unit_of(index, g) for g in row["gold"]}
            places = {}
            for name, fusion in stacks.items():
                found = units(index, row[field], fusion, 5)
                place = next((i for i, u in enumerate(found) if u in gold), None)
                places[name] = place
                hits[name][0] += place == 0
                hits[name][1] += place is not None
            if places["off"] != places["on"]:
                worse = (places["on"] is None) or (places["off"] is not None
                                                   and places["on"] > places["off"])
                lost += worse
                print(f"{row['id']} {language}: gold at {places['off']} off, {places['on']} on"
                      f"{'  (worse)' if worse else ''}  {row[field]}")
        n = len(rows)
        print(f"{language} ({n}): hit@1 {hits['off'][0] / n:.3f} off, {hits['on'][0] / n:.3f} on;"
              f" hit@5 {hits['off'][1] / n:.3f} off, {hits['on'][1] / n:.3f} on")
    for question, expected in CHINESE:
        top3 = {}
        for name, fusion in stacks.items():
            cited = answer(question, index=index, k=3, fusion=fusion).citations
            top3[name] = bool(expected & {c.clause_id.split(".part")[0] for c in cited})
        lost += top3["off"] and not top3["on"]
        print(f"{'ok ' if top3['off'] else 'NOT'} off, {'ok ' if top3['on'] else 'NOT'} on: "
              f"{sorted(expected)} in the top 3 for {question}")
    for question, above, below in ABOVE:
        for name, fusion in stacks.items():
            found = units(index, question, fusion, 10)
            a, b = unit_of(index, above), unit_of(index, below)
            at = {u: found.index(u) if u in found else 99 for u in (a, b)}
            ok = at[a] < at[b]
            lost += name == "on" and not ok
            print(f"{name:3} {'ok ' if ok else 'NOT'} {above} (at {at[a]}) above {below} "
                  f"(at {at[b]}) for {question}")
    print(f"\nquestions the reranker loses: {lost}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
