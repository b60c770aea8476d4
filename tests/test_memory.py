"""Question memory: confirmed pairs pin their clause for the same question, vote for it
on a paraphrase, respect filters, survive rebuilds, and report clauses that vanished."""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from rag.answer import answer
from rag.encoders import HashingEncoder
from rag.feedback import FeedbackStore
from rag.feedback.labelled import read_labelled
from rag.feedback.recall import LiveMemory, load_memory, memory_text, orphans
from rag.feedback.store import question_sha
from rag.feedback.transfer import learn
from rag.learned import Learned
from rag.learned.artifacts import LearnedError
from rag.learned.artifacts import load as load_learned
from rag.search import Filters, Fusion, Index, open_index, retrieve
from rag.search.fusion import MEMORY_DEFAULTS
from rag.search.memory import Memory, memory_channel, normalized
from tests.conftest import small_corpus

QUESTION = "谁可以成为个体工商户？"
CRIMINAL = "刑法#art446"  # a clause no search would give for this question


def _with_memory(index: Index, pairs: list[tuple[str, str]], encoder: HashingEncoder) -> Index:
    vectors = encoder.encode_queries([q for q, _ in pairs])
    copy = replace(index)  # (a new Index object sharing the tables: the fixture stays clean)
    copy.memory = Memory.from_pairs(pairs, vectors, model="hash")
    return copy


def test_the_same_question_puts_its_confirmed_clause_first(
        shipped_index: Index, hashing_encoder: HashingEncoder) -> None:
    before = [h.clause.id for h in retrieve(QUESTION, index=shipped_index,
                                            encoder=hashing_encoder, k=20)]
    assert CRIMINAL not in before
    index = _with_memory(shipped_index, [(QUESTION, CRIMINAL)], hashing_encoder)
    for asked in (QUESTION, "  谁可以成为个体工商户?", "谁可以成为个体工商户"):
        hits = retrieve(asked, index=index, encoder=hashing_encoder, k=5)
        assert (hits[0].clause.id, hits[0].via, hits[0].ranks["memory"]) == (
            CRIMINAL, "memory", 1)
        assert CRIMINAL not in [h.clause.id for h in hits[1:]]  # once, pinned
    reply = answer(QUESTION, index=index, encoder=hashing_encoder, k=3)
    assert reply.answered and reply.citations[0].clause_id == CRIMINAL
    assert reply.citations[0].via == "memory"
    # a clause the question names outright still comes first
    named = answer("刑法第一百八十条怎么规定？", index=_with_memory(
        shipped_index, [("刑法第一百八十条怎么规定？", CRIMINAL)], hashing_encoder),
        encoder=hashing_encoder, k=3)
    assert [c.clause_id for c in named.citations[:2]] == ["刑法#art180", CRIMINAL]


def test_a_paraphrase_votes_above_the_floor_only(
        shipped_index: Index, hashing_encoder: HashingEncoder) -> None:
    index = _with_memory(shipped_index, [(QUESTION, CRIMINAL)], hashing_encoder)
    paraphrase = "谁能够成为个体工商户呢"
    vector = hashing_encoder.encode_queries([paraphrase])[0]
    similarity = float(index.memory.vectors.nearest(vector, 1)[0][0])  # type: ignore[union-attr]
    assert 0.3 < similarity < 0.99
    low = Fusion(memory_floor=similarity - 0.2, memory_null=similarity - 0.1,
                 memory_weight=10.0)
    hits = retrieve(paraphrase, index=index, encoder=hashing_encoder, k=5, fusion=low)
    assert CRIMINAL in [h.clause.id for h in hits]
    assert hits[[h.clause.id for h in hits].index(CRIMINAL)].via == "search"  # voted, not pinned
    high = Fusion(memory_floor=min(0.999, similarity + 0.05), memory_null=similarity - 0.1,
                  memory_weight=10.0)
    hits = retrieve(paraphrase, index=index, encoder=hashing_encoder, k=20, fusion=high)
    assert CRIMINAL not in [h.clause.id for h in hits]
    off = Fusion(memory_weight=0.0)
    hits = retrieve(QUESTION, index=index, encoder=hashing_encoder, k=20, fusion=off)
    assert CRIMINAL not in [h.clause.id for h in hits]


def test_memory_respects_filters_and_unknown_clauses(
        shipped_index: Index, hashing_encoder: HashingEncoder) -> None:
    index = _with_memory(shipped_index, [(QUESTION, CRIMINAL), (QUESTION, "gone#art1")],
                         hashing_encoder)
    law = next(d for d in index.documents.values() if d.title.endswith("证券法"))
    hits = retrieve(QUESTION, index=index, encoder=hashing_encoder, k=5,
                    filters=Filters(doc_ids=(law.doc_id,)))
    assert {h.clause.doc_id for h in hits} == {law.doc_id}
    assert all(h.via == "search" for h in hits)
    assert index.memory is not None
    ranked = memory_channel(index.memory, hashing_encoder.encode_queries([QUESTION])[0],
                            QUESTION, row_of=index.row_of, admits=lambda row: True,
                            fusion=Fusion(memory_floor=0.9))
    assert ranked[1].tolist() == [index.row_of[CRIMINAL]]  # "gone#art1" does not vote


def test_normalized_and_votes() -> None:
    assert normalized(" 谁可以成为 个体工商户？ ") == normalized("谁可以成为个体工商户?")
    memory = Memory.from_pairs([("a", "x#1"), ("b", "y#1"), ("a", "z#1")],
                               np.array([[1, 0], [0.6, 0.8], [1, 0]], np.float32))
    assert memory.exact("A") == ("x#1", "z#1")
    votes = memory.votes(np.array([1.0, 0.0]), floor=0.5, null=0.8, temperature=0.1)
    # weights e^2, e^2 (x, z: similarity 1) and e^-2 (y: 0.6) against 1 for "none of them"
    total = 1 + 2 * math.exp(2) + math.exp(-2)
    assert [(c, round(v, 4)) for c, v, _ in votes] == [
        ("x#1", round(math.exp(2) / total, 4)), ("z#1", round(math.exp(2) / total, 4)),
        ("y#1", round(math.exp(-2) / total, 4))]
    assert [e for _, _, e in votes] == [0, 2, 1]  # each clause's strongest voter
    assert [c for c, _, _ in memory.votes(np.array([1.0, 0.0]), floor=0.7, null=0.8,
                                          temperature=0.1)] == ["x#1", "z#1"]
    with pytest.raises(ValueError, match="temperature must be positive"):
        memory.votes(np.array([1.0, 0.0]), floor=0.5, null=0.8, temperature=0.0)
    with pytest.raises(ValueError, match="2 pairs but 1 vectors"):
        Memory.from_pairs([("a", "x"), ("b", "y")], np.ones((1, 2)))


def test_a_lone_close_question_outvotes_a_crowd() -> None:
    """The vote is a share: one confirmed question near the asked one takes nearly all of
    it, while ten equally near ones naming ten clauses each get a tenth at most."""
    angle = np.deg2rad(8)  # cosine 0.990
    near = np.array([np.cos(angle), np.sin(angle)], np.float32)
    lone = Memory.from_pairs([("a", "x#1")], near[None, :])
    crowd = Memory.from_pairs([(f"q{i}", f"c#{i}") for i in range(10)], np.tile(near, (10, 1)))
    asked = np.array([1.0, 0.0])
    (_, alone, _), = lone.votes(asked, floor=0.85, null=0.95, temperature=0.01)
    shared = crowd.votes(asked, floor=0.85, null=0.95, temperature=0.01)
    assert alone > 0.95
    assert len(shared) == 10 and all(v < 0.1 for _, v, _ in shared)
    far = lone.votes(asked, floor=0.85, null=0.999, temperature=0.01)
    assert far[0][1] < 0.5  # a question less similar than the null: less than even odds


def test_fusion_refuses_a_bad_memory_temperature() -> None:
    with pytest.raises(ValueError, match="memory_temperature must be positive"):
        Fusion(memory_temperature=0.0)
    with pytest.raises(ValueError, match="memory_floor must be in"):
        Fusion().calibrated({"memory_floor": 1.5})  # a model's calibration is checked too


def test_memory_settings_come_from_the_model_unless_set() -> None:
    assert Fusion().memory_settings() == (
        MEMORY_DEFAULTS["memory_weight"], MEMORY_DEFAULTS["memory_floor"],
        MEMORY_DEFAULTS["memory_null"], MEMORY_DEFAULTS["memory_temperature"])
    own = {"memory_null": 0.75, "memory_floor": 0.65, "memory_weight": 1.5}
    fitted = Fusion().calibrated(own)
    assert fitted.memory_settings() == (1.5, 0.65, 0.75, MEMORY_DEFAULTS["memory_temperature"])
    assert fitted.weight("memory") == 1.5
    # a setting the caller chose is kept; no calibration changes nothing
    assert Fusion(memory_null=0.9).calibrated(own).memory_settings().null == 0.9
    # (and with no trained parts to say otherwise, the reranker off)
    assert Fusion().calibrated(None) == Fusion(use_reranker=False)


def test_the_index_models_calibration_decides_who_votes(
        shipped_index: Index, hashing_encoder: HashingEncoder) -> None:
    index = _with_memory(shipped_index, [(QUESTION, CRIMINAL)], hashing_encoder)
    paraphrase = "谁能够成为个体工商户呢"
    vector = hashing_encoder.encode_queries([paraphrase])[0]
    similarity = float(index.memory.vectors.nearest(vector, 1)[0][0])  # type: ignore[union-attr]
    assert similarity < MEMORY_DEFAULTS["memory_floor"]  # the defaults would not let it vote

    def found(memory: dict[str, float]) -> list[str]:
        model = Learned(index.model_identity, memory=memory)
        hits = retrieve(paraphrase, index=replace(index, learned=model),
                        encoder=hashing_encoder, k=5)
        return [h.clause.id for h in hits]

    assert CRIMINAL not in found({})
    assert CRIMINAL in found({"memory_floor": similarity - 0.2, "memory_null": similarity - 0.1,
                              "memory_weight": 10.0})


def test_a_manifests_memory_settings_are_checked(tmp_path: Path) -> None:
    manifest = {"model_identity": "sha256:x",
                "memory": {"settings": {"memory_null": 0.75, "memory_floor": 0.65}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    loaded = load_learned(tmp_path)
    assert loaded is not None and loaded.memory == {"memory_null": 0.75, "memory_floor": 0.65}
    for bad in ({"settings": {"memory_nul": 0.75}}, {"settings": {"memory_null": "high"}},
                {"settings": [0.75]}, {"memory_null": 0.75}):
        manifest["memory"] = bad
        (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        with pytest.raises(LearnedError, match=r"manifest\.json: .*memory"):
            load_learned(tmp_path)


def test_learn_all_formats_and_memory_from_the_store(
        shipped_index: Index, hashing_encoder: HashingEncoder, tmp_path: Path) -> None:
    lines = [
        {"question": QUESTION, "clause_id": CRIMINAL},
        {"question": "内幕交易怎么处罚", "gold": [
            {"law": "中华人民共和国证券法", "article": "第一百九十一条"},
            {"law": "中华人民共和国公司法", "article": "第四十九条"},
            {"law": "中华人民共和国民法典", "article": "第五十四条"}]},
        {"id": "q1", "question": "操纵市场", "answered": True,
         "citations": [{"clause_id": "刑法#art182"}, {"clause_id": "no#such"}]},
        {"question": "no clause"},
    ]
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines)
                    + "\n{broken\n", encoding="utf-8")
    parsed = read_labelled(path, shipped_index)
    company = [c for c in parsed.items[1].clause_ids if c.startswith("公司法")]
    assert company == ["公司法-2023-12-29#art49"]  # the version in force, not 2018's
    assert parsed.items[1].clause_ids[0] == "证券法-2019-12-28#art191"
    assert parsed.items[1].unresolved == ("《中华人民共和国民法典》第五十四条",)
    assert parsed.problems == [
        f"{path}:2: 《中华人民共和国民法典》第五十四条 is not a clause of this index",
        f"{path}:3: no#such is not a clause of this index",
        f"{path}:4: no \"clause_id\", \"clause_ids\", \"citations\" or \"gold\"",
        f"{path}:5: not JSON (Expecting property name enclosed in double quotes)",
    ]
    with FeedbackStore(f"sqlite:///{tmp_path / 'fb.sqlite3'}") as store:
        report = learn(path, index=shipped_index, store=store)
        assert (report.added, report.duplicates, len(report.problems)) == (4, 0, 4)
        assert learn(path, index=shipped_index, store=store).duplicates == 4
        assert {r.status for r in store.records()} == {"accepted"}
        assert {r.source for r in store.records()} == {"learn"}
        memory = load_memory(store, encoder=hashing_encoder, model="hash")
        assert sorted(memory.clause_ids) == sorted(
            [CRIMINAL, "证券法-2019-12-28#art191", "公司法-2023-12-29#art49", "刑法#art182"])
        assert len(store.vectors("hash", [])) == 0
        cached = store.vectors("hash", [question_sha(memory_text(QUESTION))])
        assert len(cached) == 1  # the question's vector is kept for the next start


def test_live_memory_follows_decisions_and_rebuilds_report_orphans(
        hashing_encoder: HashingEncoder, tmp_path: Path) -> None:
    from rag.index import index_paths

    corpus = small_corpus(tmp_path / "corpus")
    folder = tmp_path / "index"
    index_paths([corpus], index=folder, encoder=hashing_encoder, progress=False)
    index = open_index(folder, encoder=hashing_encoder)
    target = "证券投资基金法-2015-04-24#art2"
    with FeedbackStore(f"sqlite:///{tmp_path / 'fb.sqlite3'}") as store:
        live = LiveMemory(store, encoder=hashing_encoder, every=3600)
        assert len(live.current(index.model_identity)) == 0
        record = store.add(QUESTION, target, "governs", client="reader", source="api")
        assert len(live.attach(index).memory or ()) == 0  # pending changes nothing
        store.decide(record.id, "accepted", by="admin")
        live.attach(index)
        assert retrieve(QUESTION, index=index, encoder=hashing_encoder, k=1)[0].clause.id \
            == target
        assert orphans(store, index) == []
        # the fund law leaves the corpus; the index is rebuilt: reported, not dropped
        shutil.rmtree(corpus / "laws")
        (corpus / "laws").mkdir()
        shutil.copy(Path("corpus/lawrefbook/民法商法/证券法(2019-12-28).md"), corpus / "laws")
        index_paths([corpus], index=folder, encoder=hashing_encoder, progress=False)
        rebuilt = live.attach(open_index(folder, encoder=hashing_encoder))
        assert [r.id for r in orphans(store, rebuilt)] == [record.id]
        assert store.get(record.id).status == "accepted"
        hits = retrieve(QUESTION, index=rebuilt, encoder=hashing_encoder, k=5)
        assert target not in [h.clause.id for h in hits]
