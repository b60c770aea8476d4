"""Search on a small real corpus (tests/data/mini): exact rankings, filters, edge queries.

The corpus is three documents — a statute, a policy outline and English rules — indexed
with the hashing encoder, so every ranking below is deterministic and checked exactly.
"""

from __future__ import annotations

import pytest

from rag.answer import answer
from rag.core.filters import Filters
from rag.encoders import HashingEncoder
from rag.index import index_paths
from rag.search import Index, open_index, retrieve

from .conftest import DATA

MINI = DATA / "mini"


@pytest.fixture(scope="module")
def encoder() -> HashingEncoder:
    return HashingEncoder(dimension=256)


@pytest.fixture(scope="module")
def mini(tmp_path_factory: pytest.TempPathFactory, encoder: HashingEncoder) -> Index:
    folder = tmp_path_factory.mktemp("mini") / "index"
    report = index_paths([MINI], index=folder, encoder=encoder)
    assert (report.documents, report.clauses) == (3, 15)
    return open_index(folder, encoder=encoder)


def top(index: Index, encoder: HashingEncoder, question: str, **kw: object) -> list[str]:
    return [h.clause.id for h in retrieve(question, index=index, encoder=encoder, k=3, **kw)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("内幕交易的罚款是多少", ["示范交易法#art3", "示范交易法#art4", "示范交易法#art5"]),
        ("金融机构如何识别客户身份",
         ["反洗钱工作意见#sec2.c2", "反洗钱工作意见#sec2.c3", "示范交易法#art4"]),
        ("未按规定披露信息怎么罚", ["示范交易法#art6", "示范交易法#art5", "示范交易法#art1"]),
        ("操纵证券市场会被怎么处罚",
         ["示范交易法#art4", "反洗钱工作意见#sec1.c1", "示范交易法#art3"]),
    ],
)
def test_exact_rankings(mini: Index, encoder: HashingEncoder, question: str,
                        expected: list[str]) -> None:
    assert top(mini, encoder, question) == expected


def test_filters_restrict_the_ranking(mini: Index, encoder: HashingEncoder) -> None:
    only_policy = Filters(doc_ids=("反洗钱工作意见",))
    ranked = top(mini, encoder, "内幕交易的罚款是多少", filters=only_policy)
    assert ranked and all(c.startswith("反洗钱工作意见#") for c in ranked)


def test_empty_and_blank_questions(mini: Index, encoder: HashingEncoder) -> None:
    assert retrieve("   ", index=mini, encoder=encoder) == []
    with pytest.raises(ValueError, match="empty"):
        answer("", index=mini, encoder=encoder)


def test_a_question_no_clause_matches_is_refused(mini: Index, encoder: HashingEncoder) -> None:
    assert len(mini.backend.search_keyword("天气预报明天下雨吗", 5)) == 0
    result = answer("天气预报明天下雨吗", index=mini, encoder=encoder, k=3)
    assert not result.answered
    assert all(c.low_confidence for c in result.citations)


@pytest.mark.parametrize("k", [0, -1, 101])
def test_k_out_of_range_is_refused(mini: Index, encoder: HashingEncoder, k: int) -> None:
    with pytest.raises(ValueError, match="k must"):
        answer("内幕交易", index=mini, encoder=encoder, k=k)
    if k < 1:
        with pytest.raises(ValueError, match="k must"):
            retrieve("内幕交易", index=mini, encoder=encoder, k=k)


def test_unknown_document_id_names_the_valid_ones(mini: Index, encoder: HashingEncoder) -> None:
    with pytest.raises(ValueError, match=r"unknown document id nope; the index holds: data_rules"):
        retrieve("内幕交易", index=mini, encoder=encoder, filters=Filters(doc_ids=("nope",)))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kinds": ("statute",)}, r"unknown document kind 'statute'; choose from law, regulation"),
        ({"date_from": "2020-13-01"}, r"from date '2020-13-01' is not a date like"),
        ({"as_of": "yesterday"}, r"as-of date 'yesterday' is not a date like"),
        ({"date_from": "2021-01-01", "date_to": "2020-01-01"}, r"is after to date"),
        ({"kinds": "law"}, r"kinds must be a sequence of strings"),
    ],
)
def test_filters_validate_when_made(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Filters(**fields)  # type: ignore[arg-type]


def test_filters_normalise_dates() -> None:
    assert Filters(date_from=" 2020-03-01 ", as_of="").date_from == "2020-03-01"
    assert Filters(as_of="").as_of is None
