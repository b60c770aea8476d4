"""Question memory's vectors in a collection beside an index's clauses on Milvus.

``NAME_memory_KEY`` holds one row per confirmed question (id = its entry in the memory,
its query-side vector), searched by inner product (the vectors are unit length, so it is
the cosine). ``KEY`` is a hash of the vectors, so replicas with the same confirmed
questions share one collection (upserts by entry id are idempotent) and a replica that
has moved on never reads another's; older memory collections of the index are dropped
when a newer one is written (a replica still holding a dropped one writes it again
and drops nothing, until its next refresh). The feedback store stays the source of
truth: a collection can always be written again from it.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from rag.index.backend import StoreError
from rag.index.milvus.tables import Tables

PREFIX = "memory_"


def memory_key(matrix: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(matrix, np.float32).tobytes()).hexdigest()[:16]


class MilvusMemoryVectors:
    """Confirmed questions' vectors in ``NAME_memory_KEY`` (a ``MemoryVectors``)."""

    def __init__(self, tables: Tables, matrix: np.ndarray) -> None:
        self.tables = tables
        self.matrix = np.ascontiguousarray(matrix, np.float32)
        self.part = PREFIX + memory_key(self.matrix)
        self.collection = tables.full(self.part)
        if len(self.matrix):
            self._write(drop_older=True)

    def _write(self, *, drop_older: bool) -> None:
        from pymilvus import DataType

        def create(client: Any) -> None:
            if client.has_collection(self.collection):
                return
            schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("entry", DataType.INT64, is_primary=True)
            schema.add_field("vector", DataType.FLOAT_VECTOR, dim=int(self.matrix.shape[1]))
            index = client.prepare_index_params()
            index.add_index("vector", index_type="FLAT", metric_type="IP")
            client.create_collection(self.collection, schema=schema, index_params=index,
                                     consistency_level="Strong")

        self.tables.call(f"create {self.collection}", create)
        rows = [{"entry": i, "vector": v.tolist()} for i, v in enumerate(self.matrix)]
        for start in range(0, len(rows), 500):
            batch = rows[start:start + 500]
            self.tables.call(f"write {self.collection}",
                             lambda client, b=batch: client.upsert(self.collection, b))
        self.tables.call(f"load {self.collection}",
                         lambda client: client.load_collection(self.collection))
        if drop_older:
            self._drop_older()

    def _drop_older(self) -> None:
        prefix = self.tables.full(PREFIX)

        def drop(client: Any) -> None:
            for name in client.list_collections():
                if name.startswith(prefix) and name != self.collection:
                    try:
                        client.drop_collection(name)
                    except Exception:  # another replica dropped it first
                        continue

        self.tables.call("drop older memory collections", drop)

    def nearest(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities, entries) of the ``k`` nearest confirmed questions, best first."""
        if not len(self.matrix) or k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        query = np.asarray(vector, np.float32).reshape(-1).tolist()
        try:
            found = self._search(query, k)
        except StoreError:
            # dropped by a replica that moved on: write it again (without dropping the
            # newer one) until this replica's own refresh moves on too
            self._write(drop_older=False)
            found = self._search(query, k)
        hits = sorted(((float(h["distance"]), int(h["entity"]["entry"])) for h in found),
                      key=lambda p: (-p[0], p[1]))
        return (np.array([s for s, _ in hits], np.float32),
                np.array([e for _, e in hits], np.int64))

    def _search(self, query: list[float], k: int) -> list[Any]:
        found = self.tables.call(f"search {self.collection}", lambda client: client.search(
            self.collection, data=[query], anns_field="vector", limit=min(k, 16384),
            output_fields=["entry"], search_params={"metric_type": "IP", "params": {}}))
        return list(found[0]) if found else []
