"""An index holds its encoder: open_index loads the model that built it, checks any
encoder handed in, and ``answer(q, index)`` needs nothing else."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import rag.search.catalog as catalog
from rag.answer import Answer, answer, answer_many
from rag.encoders import Encoder, HashingEncoder, load_encoder
from rag.index import StoreError, built_with
from rag.search import Index, open_index, retrieve

from .conftest import REPO, TEST_CACHE

QUESTIONS = ("利用内幕消息炒股会被罚多少钱？", "证券法第191条", "操纵证券市场构成犯罪吗？",
             "What is the penalty for market manipulation under the Securities Law?")


def cited(result: Answer | ValueError) -> list[tuple[str, str]]:
    assert isinstance(result, Answer)
    return [(c.clause_id, c.text) for c in result.citations]


def test_the_index_loads_its_encoder_on_first_use(
        shipped_index_dir: Path, shipped_index: Index, monkeypatch: pytest.MonkeyPatch) -> None:
    loaded: list[str] = []

    def counting(name: str) -> Encoder:
        loaded.append(name)
        return load_encoder(name)

    monkeypatch.setattr(catalog, "load_encoder", counting)
    index = open_index(shipped_index_dir)
    assert loaded == []  # opening loads no model
    for question in QUESTIONS:
        # the same clauses, the same quotes, as with the encoder handed in
        assert cited(answer(question, index)) == cited(answer(question, index=shipped_index))
    assert loaded == ["hashing:256"]  # once, by the name the manifest records
    assert isinstance(index.encoder, HashingEncoder) and index.encoder.dimension == 256
    assert built_with(shipped_index_dir) == "hashing:256"


def test_answer_many_and_retrieve_need_no_encoder(shipped_index_dir: Path,
                                                  shipped_index: Index) -> None:
    index = open_index(shipped_index_dir)
    many = list(answer_many(QUESTIONS[:2], index))
    assert [cited(a) for a in many] == [cited(answer(q, shipped_index)) for q in QUESTIONS[:2]]
    hits = retrieve("内幕交易", index=index, k=3)
    assert [h.clause.id for h in hits] == [
        h.clause.id for h in retrieve("内幕交易", index=shipped_index, k=3)]


def test_a_wrong_encoder_is_refused_with_the_rebuild_command(
        shipped_index_dir: Path, shipped_index: Index) -> None:
    wrong = HashingEncoder(dimension=64)
    rebuild = f"rag index PATH... --index {shipped_index_dir}"
    with pytest.raises(StoreError, match="built with model hashing:256") as opened:
        open_index(shipped_index_dir, encoder=wrong)
    assert rebuild in str(opened.value)
    with pytest.raises(StoreError) as asked:
        answer("内幕交易会被罚多少钱？", shipped_index, encoder=wrong)
    assert rebuild in str(asked.value)
    with pytest.raises(StoreError, match="hashing-v1-d64"):
        list(answer_many(["内幕交易"], shipped_index, encoder=wrong))
    # the right model handed in, another instance of it, is accepted
    assert cited(answer("证券法第191条", shipped_index, encoder=HashingEncoder(256))) == cited(
        answer("证券法第191条", shipped_index))


def test_an_index_whose_model_changed_is_refused_on_first_use(
        shipped_index_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = open_index(shipped_index_dir)
    monkeypatch.setattr(catalog, "load_encoder", lambda name: HashingEncoder(dimension=32))
    with pytest.raises(StoreError, match=r"rebuild with `rag index PATH\.\.\. --index "):
        answer("内幕交易", index)


def test_no_index_yet_names_the_command(tmp_path: Path) -> None:
    assert built_with(tmp_path / "none") is None
    with pytest.raises(StoreError, match=rf"`rag index PATH\.\.\. --index {tmp_path / 'none'}`"):
        open_index(tmp_path / "none")


@pytest.mark.integration
def test_the_real_index_opens_with_its_model(real_index_dir: Path, real_index: Index) -> None:
    """The real model: opened by the manifest's name alone, no torch before or after a
    question (ONNX Runtime embeds it), the same answers as with the encoder handed in."""
    script = (
        "import sys\n"
        "from rag.search import open_index\n"
        "from rag.answer import answer\n"
        f"index = open_index({str(real_index_dir)!r})\n"
        "print('torch' in sys.modules)\n"
        "print(index.encoder.identity == index.model_identity)\n"
        "result = answer('内幕交易会被罚多少钱？', index)\n"
        "print('torch' in sys.modules)\n"
        "print('|'.join(c.clause_id for c in result.citations))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=600, check=True,
        env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1",
             "RAG_MODEL_CACHE": str(TEST_CACHE / "models"), "PYTHONPATH": str(REPO)},
    ).stdout.splitlines()
    expected = answer("内幕交易会被罚多少钱？", real_index)
    assert out == ["False", "True", "False", "|".join(c.clause_id for c in expected.citations)]
