"""The trained retrieval parts: loaded from plain files, checked, recorded by the index,
refused when they do not match it, and used by search."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag.encoders import BASE_MODEL, BUNDLED_MODELS, TUNED_MODEL, HashingEncoder
from rag.index import StoreError, index_paths
from rag.learned import artifacts
from rag.learned.artifacts import LearnedError, learned_for
from rag.search import Fusion, open_index, retrieve
from rag.search.fusion import MEMORY_DEFAULTS
from rag.search.rerank import FEATURES

from .conftest import CORPUS, REPO

ENCODER = HashingEncoder(dimension=64)


def write_parts(where: Path, *, identity: str, seed: int, scale: float = 1.0) -> None:
    """A real (tiny) adapter and LightGBM reranker for ``identity``, as training writes."""
    import lightgbm

    rng = np.random.default_rng(seed)
    adapter = (np.eye(64) + scale * 0.01 * rng.standard_normal((64, 64))).astype(np.float32)
    np.save(where / "adapter.npy", adapter, allow_pickle=False)
    x = rng.standard_normal((400, len(FEATURES)))
    y = (x[:, FEATURES.index("bm25")] > 0.5).astype(float)
    booster = lightgbm.train({"objective": "lambdarank", "verbose": -1, "min_data_in_leaf": 5,
                              "deterministic": True, "seed": seed, "num_threads": 1},
                             lightgbm.Dataset(x, y, group=[20] * 20), num_boost_round=5)
    (where / "reranker.txt").write_text(booster.model_to_string(), "utf-8")
    manifest = {
        "model_identity": identity,
        "adapter": {"file": "adapter.npy",
                    "sha256": hashlib.sha256((where / "adapter.npy").read_bytes()).hexdigest()},
        "reranker": {"file": "reranker.txt", "features": list(FEATURES), "pool": 30,
                     "sha256": hashlib.sha256((where / "reranker.txt").read_bytes()).hexdigest()},
    }
    (where / "manifest.json").write_text(json.dumps(manifest), "utf-8")


@pytest.fixture()
def parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """rag/learned/ as a temporary folder: the hashing model's parts in a folder of theirs."""
    root = tmp_path / "learned"
    where = root / ENCODER.name
    where.mkdir(parents=True)
    write_parts(where, identity=ENCODER.identity, seed=1)
    monkeypatch.setattr(artifacts, "folder", lambda: root)
    learned_for.cache_clear()
    yield where
    learned_for.cache_clear()


def test_parts_load_for_their_model_only(parts: Path) -> None:
    learned = learned_for(ENCODER.identity)
    assert learned is not None and learned.reranker is not None
    assert learned.adapter is not None and learned.adapter.shape == (64, 64)
    assert learned.identity == {
        "adapter": hashlib.sha256((parts / "adapter.npy").read_bytes()).hexdigest(),
        "reranker": hashlib.sha256((parts / "reranker.txt").read_bytes()).hexdigest(),
    }
    assert learned_for("sha256:another-model") is None
    vector = ENCODER.encode_queries(["内幕交易"])[0]
    adapted = learned.adapt(vector)
    assert abs(float(np.linalg.norm(adapted)) - 1.0) < 1e-5 and not np.allclose(adapted, vector)


def test_each_model_gets_the_parts_its_folder_names(parts: Path) -> None:
    """Folders are matched by the identity their manifest names, not by their name."""
    other = parts.parent / "renamed-by-hand"
    other.mkdir()
    write_parts(other, identity="sha256:another-model", seed=5, scale=3.0)
    (parts.parent / "__pycache__").mkdir()  # a folder without a manifest is not a model's
    (parts.parent / "manifest.json").write_text('{"encoder_delta": null}', "utf-8")
    learned_for.cache_clear()
    mine, theirs = learned_for(ENCODER.identity), learned_for("sha256:another-model")
    assert mine is not None and theirs is not None
    assert mine.adapter_sha == hashlib.sha256((parts / "adapter.npy").read_bytes()).hexdigest()
    assert theirs.adapter_sha == hashlib.sha256((other / "adapter.npy").read_bytes()).hexdigest()
    assert mine.adapter_sha != theirs.adapter_sha and mine.model_identity == ENCODER.identity
    assert mine.adapter is not None and theirs.adapter is not None
    assert not np.array_equal(mine.adapter, theirs.adapter)
    assert learned_for("sha256:unknown-model") is None


def test_an_adapter_without_a_reranker_loads(parts: Path) -> None:
    meta = json.loads((parts / "manifest.json").read_text("utf-8"))
    meta["reranker"] = None
    (parts / "manifest.json").write_text(json.dumps(meta), "utf-8")
    learned_for.cache_clear()
    learned = learned_for(ENCODER.identity)
    assert learned is not None and learned.adapter is not None and learned.reranker is None
    assert learned.identity == {"adapter": meta["adapter"]["sha256"], "reranker": None}


def test_two_folders_for_one_model_are_refused(parts: Path) -> None:
    twin = parts.parent / "copy"
    twin.mkdir()
    write_parts(twin, identity=ENCODER.identity, seed=2)
    learned_for.cache_clear()
    with pytest.raises(LearnedError, match="trained parts for the same model"):
        learned_for(ENCODER.identity)


def test_a_tampered_file_is_refused(parts: Path) -> None:
    np.save(parts / "adapter.npy", np.eye(64, dtype=np.float32), allow_pickle=False)
    learned_for.cache_clear()
    with pytest.raises(LearnedError, match=r"adapter\.npy: sha256 .* is not the .* manifest"):
        learned_for(ENCODER.identity)


def test_the_index_records_the_parts_and_refuses_others(parts: Path, tmp_path: Path) -> None:
    folder = tmp_path / "index"
    index_paths([CORPUS / "seeds"], index=folder, encoder=ENCODER)
    index = open_index(folder, encoder=ENCODER)
    learned = learned_for(ENCODER.identity)
    assert learned is not None
    assert index.manifest["retrieval"] == learned.identity and index.learned == learned
    assert index.info()["reranker"] == learned.reranker_sha
    # retrained parts: the index says how to catch up, and catching up embeds nothing
    write_parts(parts, identity=ENCODER.identity, seed=2)
    learned_for.cache_clear()
    with pytest.raises(StoreError, match=r"built for the trained retrieval parts .*rag index"):
        open_index(folder, encoder=ENCODER)
    report = index_paths([CORPUS / "seeds"], index=folder, encoder=ENCODER)
    assert report.changed and report.embedded == 0
    assert open_index(folder, encoder=ENCODER).learned is not None


def test_search_uses_the_adapter_and_the_reranker(parts: Path, tmp_path: Path) -> None:
    folder = tmp_path / "index"
    index_paths([CORPUS / "seeds"], index=folder, encoder=ENCODER)
    index = open_index(folder, encoder=ENCODER)
    reranking = Fusion(use_reranker=True)  # these parts leave it off; the adapter is on
    hits = retrieve("打击证券违法活动", index=index, encoder=ENCODER, k=5, fusion=reranking)
    assert len(hits) == 5 and all("rerank" in h.scores for h in hits)
    default = retrieve("打击证券违法活动", index=index, encoder=ENCODER, k=5)
    assert default and all("rerank" not in h.scores for h in default)
    unadapted = retrieve("打击证券违法活动", index=index, encoder=ENCODER, k=5,
                         fusion=Fusion(use_adapter=False))
    assert [h.scores["dense"] for h in default if "dense" in h.scores] != [
        h.scores["dense"] for h in unadapted if "dense" in h.scores]
    # the fused first three stay first, each part in the reranker's order
    for part in (hits[:3], hits[3:]):
        assert [h.score for h in part] == sorted((h.score for h in part), reverse=True)
    plain = open_index(folder, encoder=ENCODER, trained=False)
    assert all("rerank" not in h.scores
               for h in retrieve("打击证券违法活动", index=plain, encoder=ENCODER, k=5))
    # English questions are searched without the parts (they were fitted on Chinese only)
    english = retrieve("penalty for insider trading", index=index, encoder=ENCODER, k=5,
                       fusion=reranking)
    assert english and all("rerank" not in h.scores for h in english)
    assert english == retrieve("penalty for insider trading", index=plain, encoder=ENCODER, k=5)


def test_kept_holds_the_fused_first_ones_first_in_the_new_order() -> None:
    from rag.search.rerank import kept

    assert kept([5, 2, 0, 7, 1, 3, 4, 6], 3) == [2, 0, 1, 5, 7, 3, 4, 6]
    assert kept([5, 2, 0, 7, 1, 3, 4, 6], 0) == [5, 2, 0, 7, 1, 3, 4, 6]
    assert kept([1, 0, 2], 3) == [1, 0, 2] and kept([], 3) == []
    assert kept([3, 2, 1, 0], 8) == [3, 2, 1, 0]  # fewer candidates than kept
    with pytest.raises(ValueError, match="reranker_keeps must be at least 0"):
        Fusion(reranker_keeps=-1)


def test_a_model_whose_parts_say_so_reranks_by_default(parts: Path, tmp_path: Path) -> None:
    """``"default": true`` turns the reranker on where the search leaves it unset, keeping
    the fused first three first; ``use_reranker=False`` still turns it off, and a default
    that is not a boolean is refused."""
    from rag.search import channel_results, prepare, rank

    folder = tmp_path / "index"
    index_paths([CORPUS / "seeds"], index=folder, encoder=ENCODER)
    question = "打击证券违法活动"
    before = retrieve(question, index=open_index(folder, encoder=ENCODER), encoder=ENCODER,
                      k=10)
    assert all("rerank" not in h.scores for h in before)
    meta = json.loads((parts / "manifest.json").read_text("utf-8"))
    meta["reranker"]["default"] = True
    (parts / "manifest.json").write_text(json.dumps(meta), "utf-8")
    learned_for.cache_clear()
    index = open_index(folder, encoder=ENCODER)
    hits = retrieve(question, index=index, encoder=ENCODER, k=10)
    assert all("rerank" in h.scores for h in hits)
    fused = retrieve(question, index=index, encoder=ENCODER, k=10,
                     fusion=Fusion(use_reranker=False))
    assert fused == before
    assert {h.clause.unit_id for h in hits[:3]} == {h.clause.unit_id for h in fused[:3]}
    assert {h.ranks["fused"] for h in hits[:3]} == {1, 2, 3}
    assert all(h.ranks["fused"] > 3 for h in hits[3:])
    assert [h.ranks["rerank"] for h in hits[3:]] == sorted(h.ranks["rerank"] for h in hits[3:])
    # hit testing says where the fusion and the reranker put each, and what was kept
    from rag.evaluate.explain import explain

    rows = explain(question, index=index, encoder=ENCODER, k=10).rows
    assert rows and all(r.via == "search" for r in rows)
    for row in rows:
        first, alone = row.ranks["fused"], row.ranks["rerank"]
        assert f"fused #{first}, the reranker's #{alone}" in row.why
        assert ("kept among the fused first 3" in row.why) == (first <= 3 < alone)
    assert [h.score for h in hits[:3]] == sorted((h.score for h in hits[:3]), reverse=True)
    loose = retrieve(question, index=index, encoder=ENCODER, k=10,
                     fusion=Fusion(reranker_keeps=0))
    assert [h.score for h in loose] == sorted((h.score for h in loose), reverse=True)
    query = prepare(question, index=index)
    ranked = channel_results(query, index=index, encoder=ENCODER, depth=200)
    assert rank(query, ranked, index=index, k=10, fusion=Fusion()) == hits
    meta["reranker"]["default"] = "yes"
    (parts / "manifest.json").write_text(json.dumps(meta), "utf-8")
    learned_for.cache_clear()
    with pytest.raises(LearnedError, match=r"reranker\.default must be true or false"):
        learned_for(ENCODER.identity)


def test_the_reranker_scored_by_onnx_runtime_as_by_lightgbm(parts: Path) -> None:
    """train_retrieval converts the LightGBM model to ONNX, checked before it is written;
    the parts then score with ONNX Runtime, and a tampered conversion is refused."""
    import sys

    sys.path.insert(0, str(REPO / "benchmarks"))
    from train_retrieval import write_onnx

    rng = np.random.default_rng(3)
    rows = rng.standard_normal((300, len(FEATURES)))
    rows[rng.random(rows.shape) < 0.1] = np.nan
    meta = json.loads((parts / "manifest.json").read_text("utf-8"))
    meta["reranker"]["onnx"] = write_onnx(parts, rows)
    (parts / "manifest.json").write_text(json.dumps(meta), "utf-8")
    learned_for.cache_clear()
    learned = learned_for(ENCODER.identity)
    assert learned is not None and learned.reranker_session is not None
    np.testing.assert_allclose(learned.score(rows), learned.reranker.predict(rows), atol=1e-5)
    (parts / "reranker.onnx").write_bytes((parts / "reranker.onnx").read_bytes() + b"\0")
    learned_for.cache_clear()
    with pytest.raises(LearnedError, match=r"reranker\.onnx: sha256 .* is not the"):
        learned_for(ENCODER.identity)


def test_the_shipped_parts_load_and_match_their_manifest() -> None:
    """The artefacts in the repository: present, untampered, one folder per bundled model
    (each bundled model: an adapter and a reranker of its own)."""
    learned_for.cache_clear()
    root = artifacts.folder()
    metas = {name: json.loads((root / name / "manifest.json").read_text("utf-8"))
             for name in BUNDLED_MODELS}
    delta = json.loads((root / "manifest.json").read_text("utf-8"))["encoder_delta"]
    assert metas[BASE_MODEL]["model_identity"] == "sha256:" + delta["base_weights_sha256"]
    for name, meta in metas.items():
        learned = learned_for(meta["model_identity"])
        assert learned is not None and learned.adapter is not None, name
        assert learned.adapter.shape == (384, 384)  # e5-small's dimension
        assert learned.adapter_sha == meta["adapter"]["sha256"]
        assert meta["training"]["questions"] == "train.jsonl"
        assert learned.reranker is not None, name
        assert learned.reranker_sha == meta["reranker"]["sha256"]
        assert meta["reranker"]["features"] == list(FEATURES)
    base = learned_for(metas[BASE_MODEL]["model_identity"])
    tuned = learned_for(metas[TUNED_MODEL]["model_identity"])
    assert base is not None and tuned is not None
    assert tuned.identity["adapter"] != base.identity["adapter"]
    assert tuned.identity["reranker"] != base.identity["reranker"]
    assert learned_for("sha256:" + "0" * 64) is None  # another model gets none
    # the default (fine-tuned) model's memory works on its own similarity scale, chosen by
    # its own CV; the base records none and takes the search's defaults (its own CV's)
    assert set(tuned.memory) == set(MEMORY_DEFAULTS)
    assert tuned.memory == metas[TUNED_MODEL]["memory"]["settings"]
    assert tuned.memory["memory_null"] < MEMORY_DEFAULTS["memory_null"]
    assert Fusion().calibrated(tuned.memory).memory_settings() == tuple(
        tuned.memory[name] for name in MEMORY_DEFAULTS)
    assert base.memory == {}
    assert Fusion().calibrated(base.memory) == Fusion(use_reranker=False)
    # the default's reranker is on by default (it helps STARD dev and loses none of
    # benchmarks/reranker_safety.py's questions, its fused top three kept); the base's is not
    assert tuned.reranker_default and not base.reranker_default
    assert Fusion().calibrated(tuned.memory, rerank=True).use_reranker is True
    assert Fusion(use_reranker=False).calibrated(tuned.memory, rerank=True).use_reranker is False
    # each is scored by ONNX Runtime from the LightGBM model's conversion, as LightGBM
    # scores it: rows of every feature's range, missing values (NaN) included
    rng = np.random.default_rng(0)
    rows = rng.normal(0.0, 3.0, (500, len(FEATURES)))
    rows[rng.random(rows.shape) < 0.2] = np.nan
    for learned, meta in ((base, metas[BASE_MODEL]), (tuned, metas[TUNED_MODEL])):
        onnx = root / meta_name(metas, meta) / meta["reranker"]["onnx"]["file"]
        assert hashlib.sha256(onnx.read_bytes()).hexdigest() == meta["reranker"]["onnx"]["sha256"]
        assert learned.reranker_session is not None
        np.testing.assert_allclose(learned.score(rows), learned.reranker.predict(rows),
                                   atol=1e-4)


def meta_name(metas: dict[str, dict[str, object]], meta: dict[str, object]) -> str:
    return next(name for name, other in metas.items() if other is meta)


def test_the_question_as_asked_is_searched_beside_the_mapped_one(parts: Path,
                                                                   tmp_path: Path) -> None:
    """With the adapter on, ``dense_plain`` is the dense search of the unmapped question and
    ``dense`` that of the mapped one; with its weight 0, for English questions (no trained
    parts) and without an adapter, only ``dense`` is searched."""
    from rag.search import channel_results, prepare

    folder = tmp_path / "index"
    index_paths([CORPUS / "seeds"], index=folder, encoder=ENCODER)
    index = open_index(folder, encoder=ENCODER)
    assert index.learned is not None
    query = prepare("打击证券违法活动", index=index)
    vector = ENCODER.encode_queries([query.text])[0]
    runs = channel_results(query, index=index, encoder=ENCODER, depth=20, fusion=Fusion())
    plain = index.backend.search_dense(vector, 20)
    mapped = index.backend.search_dense(index.learned.adapt(vector), 20)
    assert runs["dense_plain"][1].tolist() == plain.rows.tolist()
    np.testing.assert_allclose(runs["dense_plain"][0], plain.scores)
    assert runs["dense"][1].tolist() == mapped.rows.tolist()
    assert runs["dense"][0].tolist() != runs["dense_plain"][0].tolist()
    off = channel_results(query, index=index, encoder=ENCODER, depth=20,
                          fusion=Fusion(plain_dense_weight=0.0))
    assert "dense_plain" not in off and off["dense"][1].tolist() == mapped.rows.tolist()
    english = channel_results(prepare("penalty for insider trading", index=index),
                              index=index, encoder=ENCODER, depth=20, fusion=Fusion())
    assert "dense_plain" not in english and "dense" in english
    bare = open_index(folder, encoder=ENCODER, trained=False)
    assert "dense_plain" not in channel_results(query, index=bare, encoder=ENCODER, depth=20)
    # the plain question's candidates join the fusion at its weight
    hits = retrieve("打击证券违法活动", index=index, encoder=ENCODER, k=10)
    assert any("dense_plain" in h.scores for h in hits)
    assert Fusion().weight("dense_plain") == Fusion().plain_dense_weight == 0.5
