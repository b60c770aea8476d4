"""The Milvus backend: an index held by a Milvus server, searched there.

``MilvusBackend("milvus://HOST:PORT/NAME")`` implements the backend seam on the
collections of :mod:`rag.index.milvus.schema`. Nothing is kept on local disk: records are
read from the server when the backend is first used (one snapshot, as the embedded
backend keeps the generation it opened), dense and keyword searches run on the server
with filters as Milvus expressions, and rows are positions in that snapshot. Any number
of processes (chat replicas) can open the same index.
"""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.core.filters import Filters
from rag.core.locations import rebuild_command
from rag.index import manifest as manifests
from rag.index.backend import Candidates, Change, Records, StoreError
from rag.index.milvus import schema
from rag.index.milvus.connection import DEFAULT_TIMEOUT, Connection, MilvusLocation
from rag.index.milvus.filters import expression
from rag.index.milvus.keywords import KeywordStats, idf, query_weights
from rag.index.milvus.schema import CLAUSES, KEYWORDS, RECORDS, TERMS, term_key
from rag.index.milvus.tables import Tables
from rag.index.milvus.writer import LOCK, MANIFEST, ORDER, STATS, apply_change, stored_vectors
from rag.index.records import clause_from_row, document_from_row
from rag.index.tokenize import Tokenizer, get_tokenizer

LOCK_SECONDS = 6 * 3600  # a build lock older than this is taken as left by a dead build
MAX_CACHED_TERMS = 200_000


@dataclass
class _Snapshot:
    manifest: dict[str, Any]
    records: Records
    row_of: dict[str, int]
    stats: KeywordStats
    tokenizer: Tokenizer
    terms: dict[str, tuple[int, int] | None] = field(default_factory=dict)  # term → (tid, df)


class MilvusBackend:
    """An index in the collections ``NAME_*`` of a Milvus server."""

    keeps_derived = False

    def __init__(self, uri: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        where = MilvusLocation.parse(uri)
        self.location = where.uri
        self.tables = Tables(Connection(where, timeout=timeout))
        self._snapshot: _Snapshot | None = None

    def __repr__(self) -> str:
        return f"MilvusBackend({self.location!r})"

    def close(self) -> None:
        self.tables.connection.close()

    # ------------------------------------------------------------ reading

    def manifest(self) -> dict[str, Any] | None:
        if self._snapshot is not None:
            return self._snapshot.manifest
        return self._read_manifest()

    def _read_manifest(self) -> dict[str, Any] | None:
        if not self.tables.exists(RECORDS):
            return None
        data = self.tables.blob(MANIFEST)
        if data is None:
            return None
        return manifests.validate(data, where=self.location, rebuild=rebuild_command(self.location))

    def _load(self) -> _Snapshot:
        if self._snapshot is not None:
            return self._snapshot
        manifest = self._read_manifest()
        if manifest is None or not self.tables.exists(CLAUSES):
            raise StoreError(f"{self.location}: no index here yet; build one with "
                             f"`{rebuild_command(self.location)}`")
        blobs = self.tables.blobs("doc")
        order = self.tables.blob(ORDER) or []
        names = [f"doc/{doc_id}" for doc_id in order if f"doc/{doc_id}" in blobs]
        names += sorted(set(blobs) - set(names))
        try:
            documents = {b["document"]["doc_id"]: document_from_row(b["document"])
                         for b in (blobs[n] for n in names)}
            clauses = tuple(clause_from_row(row, documents)
                            for n in names for row in blobs[n]["clauses"])
        except (KeyError, TypeError) as error:
            raise StoreError(f"{self.location}: a stored document record is malformed "
                             f"({error}); rebuild the index with "
                             f"`{rebuild_command(self.location)}`") from None
        self._snapshot = _Snapshot(
            manifest=manifest,
            records=Records(tuple(documents.values()), clauses),
            row_of={c.id: row for row, c in enumerate(clauses)},
            stats=KeywordStats.from_json(self.tables.blob(STATS)),
            tokenizer=get_tokenizer(str(manifest["tokenizer"])),
        )
        return self._snapshot

    def records(self) -> Records:
        return self._load().records

    def stored(self) -> dict[str, tuple[str, str]]:
        if not self.tables.exists(CLAUSES):
            return {}
        rows = self.tables.scan(CLAUSES, ["id", "passage_hash", "record_hash"])
        return {str(r["id"]): (str(r["passage_hash"]), str(r["record_hash"])) for r in rows}

    def damaged(self) -> dict[str, str]:
        """Nothing to check here: the server keeps its collections whole (a build that
        fails half-way is detected by the manifest, written last)."""
        return {}

    def vectors_for(self, hashes: Collection[str]) -> dict[str, np.ndarray]:
        if not hashes or not self.tables.exists(CLAUSES):
            return {}
        return stored_vectors(self.tables, hashes)

    # ------------------------------------------------------------ writing

    @contextmanager
    def build_lock(self) -> Iterator[None]:
        """An advisory lock row: a second build is refused while a live one holds it."""
        if not self.tables.exists(RECORDS):
            self.tables.create(RECORDS)
        held = self.tables.blob(LOCK)
        now = time.time()
        if isinstance(held, dict) and float(held.get("expires", 0)) > now:
            raise StoreError(
                f"{self.location}: another `rag index` ({held.get('host')}, pid "
                f"{held.get('pid')}) is building this index since {held.get('since')}; wait "
                "for it"
            )
        token = secrets.token_hex(8)
        self.tables.write_blob("meta", LOCK, {
            "token": token, "host": socket.gethostname(), "pid": os.getpid(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "expires": now + LOCK_SECONDS})
        if (self.tables.blob(LOCK) or {}).get("token") != token:
            raise StoreError(f"{self.location}: another `rag index` took the build lock "
                             "at the same moment; wait for it")
        try:
            yield
        finally:
            if (self.tables.blob(LOCK) or {}).get("token") == token:
                self.tables.delete_blobs([LOCK])

    def apply(self, change: Change) -> None:
        apply_change(self.tables, change)  # derived tables are not kept: readers compute them
        self._snapshot = None

    def derived_file(self, name: str) -> Path | None:
        return None

    # ------------------------------------------------------------ searching

    def _candidates(self, snapshot: _Snapshot, hits: Any) -> Candidates:
        pairs = [(snapshot.row_of[str(h["id"])], float(h["distance"])) for h in hits
                 if str(h["id"]) in snapshot.row_of]
        pairs.sort(key=lambda p: (-p[1], p[0]))
        return Candidates(np.array([s for _, s in pairs], np.float32),
                          np.array([r for r, _ in pairs], np.int64))

    def _search(self, part: str, field: str, query: object, k: int, filters: Filters | None,
                params: dict[str, Any]) -> Any:
        name = self.tables.full(part)
        found = self.tables.call(f"search {name}", lambda client: client.search(
            name, data=[query], anns_field=field, limit=k, filter=expression(filters),
            output_fields=["id"], search_params={"metric_type": "IP", "params": params}))
        return found[0] if found else []

    def search_dense(
        self, vector: np.ndarray, k: int, *, filters: Filters | None = None
    ) -> Candidates:
        snapshot = self._load()
        if k <= 0 or not snapshot.records.clauses:
            return Candidates.empty()
        params = {"ef": max(schema.HNSW_EF_SEARCH, 2 * k)} \
            if snapshot.manifest.get("search") == "hnsw" else {}
        query = np.asarray(vector, np.float32).reshape(-1).tolist()
        return self._candidates(snapshot, self._search(CLAUSES, "vector", query, k, filters,
                                                       params))

    def search_keyword(
        self, text: str, k: int, *, filters: Filters | None = None
    ) -> Candidates:
        snapshot = self._load()
        tokens = snapshot.tokenizer(text)
        weights = query_weights(tokens, self._terms(snapshot, tokens),
                                snapshot.stats.documents)
        if not weights or k <= 0:
            return Candidates.empty()
        found = self._search(KEYWORDS, "sparse", weights, k, filters, {})
        return self._candidates(snapshot, [h for h in found if float(h["distance"]) > 0])

    def keyword_idf(self, terms: Iterable[str]) -> dict[str, float]:
        snapshot = self._load()
        known = self._terms(snapshot, list(terms))
        return {t: idf(df, snapshot.stats.documents) for t, (_, df) in known.items()}

    def _terms(self, snapshot: _Snapshot, tokens: Iterable[str]) -> dict[str, tuple[int, int]]:
        """term → (id, document frequency) of the tokens the corpus holds (cached)."""
        wanted = set(tokens)
        missing = {term_key(t): t for t in wanted if t not in snapshot.terms}
        if missing:
            rows = self.tables.fetch(TERMS, "term", missing, ["term", "tid", "df"])
            if len(snapshot.terms) > MAX_CACHED_TERMS:
                snapshot.terms.clear()
            found = {missing[str(r["term"])]: (int(r["tid"]), int(r["df"])) for r in rows}
            for t in missing.values():
                snapshot.terms[t] = found.get(t)
        out = {}
        for t in wanted:
            info = snapshot.terms.get(t)
            if info is not None:
                out[t] = info
        return out
