"""How channel rankings are combined: score scaling, reciprocal ranks, kind penalties."""

from __future__ import annotations

import numpy as np
import pytest

from rag.search.fusion import Fusion, fuse, scaled
from rag.search.hybrid import retrieve
from rag.search.signals import referenced


def channel(scores: list[float], rows: list[int]) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(scores, np.float32), np.asarray(rows, np.int64)


def test_searched_channels_are_min_max_scaled_and_derived_ones_by_their_best() -> None:
    assert scaled("dense", np.asarray([0.9, 0.8, 0.5])).tolist() == pytest.approx([1, 0.75, 0])
    assert scaled("bm25", np.asarray([12.0, 12.0])).tolist() == [1, 1]
    assert scaled("definition", np.asarray([1.0, 1.0])).tolist() == [1, 1]
    assert scaled("dense", np.asarray([], np.float32)).size == 0


def test_score_fusion_keeps_how_far_ahead_a_clear_winner_is() -> None:
    # dense: row 1 is far ahead; bm25: row 2 barely ahead of row 1
    ranked = {"dense": channel([0.95, 0.60, 0.59], [1, 2, 3]),
              "bm25": channel([10.1, 10.0, 0.0], [2, 1, 3])}
    by_score, details = fuse(ranked, Fusion(dense_weight=1.0, bm25_weight=1.0))
    assert max(by_score, key=by_score.__getitem__) == 1
    assert by_score[1] == pytest.approx(1.0 + 10.0 / 10.1)
    assert details[1] == ({"dense": pytest.approx(0.95), "bm25": pytest.approx(10.0)},
                          {"dense": 1, "bm25": 2})
    # reciprocal ranks see two first places and two second places: a tie
    by_rank, _ = fuse(ranked, Fusion(method="rrf", dense_weight=1.0, bm25_weight=1.0, rrf_k=60))
    assert by_rank[1] == pytest.approx(by_rank[2]) == pytest.approx(1 / 61 + 1 / 62)


def test_unknown_fusion_method_is_refused() -> None:
    with pytest.raises(ValueError, match="fusion method must be one of"):
        Fusion(method="max")


def test_kind_penalty_puts_the_statute_above_an_interpretation_saying_the_same(
    shipped_index, hashing_encoder,  # type: ignore[no-untyped-def]
) -> None:
    question = "内幕交易 内幕信息 证券 罚款 没收违法所得"
    plain = Fusion(kind_penalty=())
    harsh = Fusion(kind_penalty=(("law", 5.0),))
    kinds = lambda hits: [shipped_index.documents[h.clause.doc_id].kind for h in hits]  # noqa: E731
    laws_first = kinds(retrieve(question, index=shipped_index, encoder=hashing_encoder, k=5,
                                fusion=plain))
    assert "law" in laws_first
    demoted = kinds(retrieve(question, index=shipped_index, encoder=hashing_encoder, k=5,
                             fusion=harsh))
    assert demoted[0] != "law"  # every other kind now outranks every statute
    first_law = demoted.index("law") if "law" in demoted else len(demoted)
    assert all(kind == "law" for kind in demoted[first_law:])


def test_a_referenced_clause_is_worth_what_the_hits_citing_it_are_worth(shipped_index) -> None:  # type: ignore[no-untyped-def]
    row = shipped_index.row_of
    strong, weak = row["证券法-2019-12-28#art191"], row["刑法#art248"]  # 248 cites 234 and 232
    scores, rows = referenced(shipped_index, {strong: 2.0, weak: 0.5}, Fusion(), None)
    votes = dict(zip(rows.tolist(), scores.tolist(), strict=True))
    assert votes[row["证券法-2019-12-28#art53"]] == pytest.approx(1.0)  # cited by the best hit
    assert votes[row["刑法#art234"]] == pytest.approx(0.25)
    assert votes[row["刑法#art232"]] == pytest.approx(0.25)
    assert scaled("reference", np.asarray([1.7, 0.25])).tolist() == [1.0, 0.25]
