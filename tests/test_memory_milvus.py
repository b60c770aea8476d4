"""Question memory beside the clauses on a real Milvus Lite server: the confirmed
questions' vectors in a collection of the index, searched there, rewritten when the
confirmed set changes, shared by replicas."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag.encoders import HashingEncoder
from rag.feedback import FeedbackStore
from rag.feedback.recall import LiveMemory
from rag.index import index_paths
from rag.index.milvus.memory import MilvusMemoryVectors
from rag.search import Index, open_index, retrieve
from rag.search.memory import MatrixVectors

from .conftest import small_corpus
from .servers import MilvusServer, milvus_server

pytestmark = pytest.mark.scale
QUESTION = "谁可以成为个体工商户？"
TARGET = "证券投资基金法-2015-04-24#art2"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MilvusServer]:
    with milvus_server(tmp_path_factory.mktemp("milvus")) as running:
        yield running


@pytest.fixture(scope="module")
def milvus_index(server: MilvusServer, hashing_encoder: HashingEncoder,
                 tmp_path_factory: pytest.TempPathFactory) -> Index:
    uri = f"{server.uri}/memo"
    index_paths([small_corpus(tmp_path_factory.mktemp("corpus"))], index=uri,
                encoder=hashing_encoder)
    return open_index(uri, encoder=hashing_encoder)


def memory_collections(index: Index) -> list[str]:
    tables = index.backend.tables  # type: ignore[attr-defined]
    names = tables.call("list", lambda client: client.list_collections())
    return sorted(n for n in names if n.startswith(tables.full("memory_")))


def test_memory_lives_beside_the_clauses_and_follows_decisions(
        milvus_index: Index, hashing_encoder: HashingEncoder, tmp_path: Path) -> None:
    with FeedbackStore(f"sqlite:///{tmp_path / 'fb.sqlite3'}") as store:
        live = LiveMemory(store, encoder=hashing_encoder, every=3600)
        first = store.add(QUESTION, TARGET, "governs", client="t", source="api",
                          status="accepted")
        live.attach(milvus_index)
        assert milvus_index.memory is not None
        vectors = milvus_index.memory.vectors
        assert isinstance(vectors, MilvusMemoryVectors)
        assert memory_collections(milvus_index) == [vectors.collection]
        hits = retrieve(QUESTION, index=milvus_index, encoder=hashing_encoder, k=3)
        assert (hits[0].clause.id, hits[0].via) == (TARGET, "memory")
        probe = hashing_encoder.encode_queries(["谁能成为个体工商户"])[0]
        in_process = MatrixVectors(vectors.matrix).nearest(probe, 5)
        on_server = vectors.nearest(probe, 5)
        assert on_server[1].tolist() == in_process[1].tolist()
        assert np.allclose(on_server[0], in_process[0], atol=1e-5)

        live.attach(milvus_index)  # nothing changed: the same collection, not rewritten
        assert milvus_index.memory.vectors is vectors

        replica = open_index(milvus_index.backend.location, encoder=hashing_encoder)
        LiveMemory(store, encoder=hashing_encoder).attach(replica)
        assert replica.memory is not None
        assert replica.memory.vectors.collection == vectors.collection  # type: ignore[attr-defined]

        store.decide(first.id, "rejected", by="admin")
        store.add("基金法调整什么？", TARGET, "governs", client="t", source="api",
                  status="accepted")
        live.attach(milvus_index)
        newer = milvus_index.memory.vectors
        assert isinstance(newer, MilvusMemoryVectors) and newer.collection != vectors.collection
        assert memory_collections(milvus_index) == [newer.collection]  # the older one dropped
        hits = retrieve(QUESTION, index=milvus_index, encoder=hashing_encoder, k=3)
        assert hits[0].via == "search"
        # the replica still holding the dropped collection writes it again and answers
        _, entries = replica.memory.vectors.nearest(probe, 1)
        assert entries.tolist() == [0]
        assert memory_collections(milvus_index) == sorted([vectors.collection,
                                                           newer.collection])
        hits = retrieve("基金法调整什么？", index=milvus_index, encoder=hashing_encoder, k=1)
        assert (hits[0].clause.id, hits[0].via) == (TARGET, "memory")  # the newer one kept
