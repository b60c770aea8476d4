"""The embedded backend: an index as a folder of plain files, searched in-process.

One generation holds ``manifest.json`` (what built it, size and sha256 of every file),
``documents.jsonl`` (metadata and clean text), ``clauses.jsonl`` (records, offsets into the
document text, content hash), ``vectors.npy`` (float32, L2-normalised, row i = clause i),
``bm25/`` (bm25s postings: .npy arrays and JSON) and, for approximate search,
``faiss.index``; :mod:`rag.index.folder` publishes generations. No server, no pickle.
"""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from rag.core.files import write_json, write_jsonl
from rag.core.filters import Filters
from rag.core.locations import rebuild_command
from rag.index import folder as folders
from rag.index import manifest as manifests
from rag.index import store, vectors
from rag.index.backend import Candidates, Change, Records, StoreError
from rag.index.derived import DERIVED, identities, recorded
from rag.index.records import (
    clause_from_row,
    clause_row,
    document_from_row,
    document_row,
    record_hash,
)
from rag.index.tokenize import Tokenizer, get_tokenizer


@dataclass
class _Snapshot:
    """One loaded generation."""

    folder: Path
    manifest: dict[str, Any]
    records: Records
    vectors: np.ndarray
    bm25: Any
    searcher: Any
    tokenizer: Tokenizer
    masks: dict[Filters, np.ndarray] = field(default_factory=dict)


class EmbeddedBackend:
    """An index folder (``CURRENT`` + ``gen-*`` generations) searched with FAISS and bm25s.

    The live generation is loaded on first use and kept: a loaded backend answers from the
    generation it opened even while a build publishes the next one.
    """

    keeps_derived = True

    def __init__(self, folder: Path | str, *, verify: bool = True) -> None:
        self.folder = Path(folder)
        self.location = str(folder)
        self.verify = verify
        self._snapshot: _Snapshot | None = None

    def __repr__(self) -> str:
        return f"EmbeddedBackend({self.location!r})"

    # ------------------------------------------------------------ reading

    def _generation(self) -> tuple[Path, dict[str, Any]] | None:
        folder = folders.current_generation(self.folder)
        if folder is None:
            return None
        path = folder / store.MANIFEST
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            raise StoreError(f"{path}: unreadable ({error}); rebuild the index with "
                             f"`{rebuild_command(self.location)}`") from None
        manifest = manifests.validate(data, where=str(path), rebuild=rebuild_command(self.location))
        if not isinstance(manifest.get("files"), dict):
            raise StoreError(f"{path}: lists no files; rebuild the index with "
                             f"`{rebuild_command(self.location)}`")
        return folder, manifest

    def manifest(self) -> dict[str, Any] | None:
        if self._snapshot is not None:
            return self._snapshot.manifest
        found = self._generation()
        return found[1] if found else None

    def _load(self) -> _Snapshot:
        if self._snapshot is None:
            try:
                self._snapshot = self._open()
            except (StoreError, FileNotFoundError):
                # a build published (twice) while this generation was being opened and
                # retention removed its search files: open the one now live, once
                self._snapshot = self._open()
        return self._snapshot

    def _open(self) -> _Snapshot:
        import bm25s
        import faiss

        found = self._generation()
        if found is None:
            raise StoreError(f"{self.location}: no index here yet; build one with "
                             f"`{rebuild_command(self.location)}`")
        folder, manifest = found
        store.verify_files(folder, manifest["files"], hashes=self.verify)
        documents = {
            d.doc_id: d
            for d in map(document_from_row, store.read_jsonl(folder / store.DOCUMENTS))
        }
        rows = store.read_jsonl(folder / store.CLAUSES)
        clauses = tuple(clause_from_row(r, documents) for r in rows)
        matrix = np.load(folder / "vectors.npy", allow_pickle=False)
        dimension = int(manifests.model_section(manifest)["dimension"])
        if matrix.shape != (len(clauses), dimension):
            raise StoreError(
                f"{folder / 'vectors.npy'}: shape {matrix.shape}, expected "
                f"({len(clauses)}, {dimension}); rebuild the index"
            )
        bm25 = bm25s.BM25.load(str(folder / "bm25"), show_progress=False)
        if manifest.get("search") == "hnsw":
            searcher = faiss.read_index(str(folder / "faiss.index"))
        else:
            searcher = vectors.exhaustive_index(matrix)
        return _Snapshot(
            folder=folder,
            manifest=manifest,
            records=Records(tuple(documents.values()), clauses),
            vectors=matrix,
            bm25=bm25,
            searcher=searcher,
            tokenizer=get_tokenizer(str(manifest["tokenizer"])),
        )

    def records(self) -> Records:
        return self._load().records

    def derived_file(self, name: str) -> Path | None:
        snapshot = self._load()
        if name not in recorded(snapshot.manifest) or name not in snapshot.manifest["files"]:
            return None
        return snapshot.folder / name

    @property
    def vectors(self) -> np.ndarray:
        """The stored vectors, row i = clause i (for benchmarks of this engine)."""
        return self._load().vectors

    def stored(self) -> dict[str, tuple[str, str]]:
        found = self._generation()
        if found is None:
            return {}
        rows = store.read_jsonl(found[0] / store.CLAUSES)
        return {str(r["id"]): (str(r["hash"]), record_hash(r)) for r in rows}

    def damaged(self) -> dict[str, str]:
        """Files of the live generation that fail the manifest's size and sha256."""
        found = self._generation()
        return store.damaged_files(found[0], found[1]["files"]) if found else {}

    def vectors_for(self, hashes: Collection[str]) -> dict[str, np.ndarray]:
        found = self._generation()
        if found is None or not hashes:
            return {}
        folder, manifest = found
        needed = {name: info for name, info in manifest["files"].items()
                  if name in (store.CLAUSES, "vectors.npy")}  # not what a build rewrites
        store.verify_files(folder, needed, hashes=False)
        rows = store.read_jsonl(folder / store.CLAUSES)
        matrix = np.load(folder / "vectors.npy", allow_pickle=False)
        if len(matrix) != len(rows):
            return {}
        wanted = set(hashes)
        return {str(r["hash"]): matrix[i] for i, r in enumerate(rows) if r["hash"] in wanted}

    # ------------------------------------------------------------ writing

    @contextmanager
    def build_lock(self) -> Iterator[None]:
        with folders.build_lock(self.folder):
            yield

    def apply(self, change: Change) -> None:
        """Write the whole corpus of ``change`` as a new generation and make it live."""
        import bm25s

        settings = change.manifest
        dimension = int(settings["model"]["dimension"])
        missing = {row.passage_hash for row in change.clauses} - set(change.vectors)
        old = self.vectors_for(missing) if missing and not change.replace else {}
        matrix = np.zeros((len(change.clauses), dimension), np.float32)
        for i, row in enumerate(change.clauses):
            vector = change.vectors.get(row.passage_hash)
            if vector is None:
                vector = old.get(row.passage_hash)
            if vector is None:
                raise StoreError(f"{self.location}: no vector for clause {row.clause.id}")
            matrix[i] = vector

        staging = folders.new_staging_folder(self.folder)
        try:
            write_jsonl(staging / store.DOCUMENTS, (document_row(d) for d in change.documents))
            write_jsonl(staging / store.CLAUSES,
                        (clause_row(r.clause, r.passage_hash) for r in change.clauses))
            np.save(staging / "vectors.npy", matrix, allow_pickle=False)
            tokenize = get_tokenizer(str(settings["tokenizer"]))
            params = settings["bm25"]
            retriever = bm25s.BM25(k1=params["k1"], b=params["b"], method=params["method"])
            retriever.index([tokenize(r.keywords) or [""] for r in change.clauses],
                            show_progress=False)
            retriever.save(str(staging / "bm25"), show_progress=False)
            if settings.get("search") == "hnsw":
                import faiss

                faiss.write_index(vectors.hnsw_index(matrix), str(staging / "faiss.index"))
            self._write_derived(change, staging)
            if change.derived:
                settings = {**settings, DERIVED: identities(change.derived)}
            write_json(staging / store.MANIFEST,
                       {**settings, "files": store.describe_files(staging)})
            folders.publish(self.folder, staging, manifest=settings,
                            keep=folders.keep_setting())
        except OSError as error:
            full = folders.disk_full(error, self.folder)
            shutil.rmtree(staging, ignore_errors=True)  # CURRENT still names the previous
            if full:
                raise StoreError(
                    f"disk full while writing {staging} ({error.strerror or error}); the "
                    "previous index still answers — free some space and run `rag index` "
                    "again") from None
            raise
        self._snapshot = None

    def _write_derived(self, change: Change, staging: Path) -> None:
        """The derived tables of ``change``, each handed the live generation's file of the
        same identity (whose unchanged parts it may reuse)."""
        if not change.derived:
            return
        try:
            found = None if change.replace else self._generation()
        except StoreError:
            found = None
        before = recorded(found[1]) if found else {}
        documents = list(change.documents)
        clauses = [row.clause for row in change.clauses]
        for table in change.derived:
            previous = found[0] / table.name if found else None
            if (previous is None or before.get(table.name) != table.identity()
                    or not previous.is_file()):
                previous = None
            table.write(documents, clauses, staging / table.name, previous=previous)

    # ------------------------------------------------------------ searching

    def _allowed(self, snapshot: _Snapshot, filters: Filters | None) -> np.ndarray | None:
        """Boolean row mask of the clauses whose document passes ``filters``."""
        if filters is None or filters.is_empty():
            return None
        mask = snapshot.masks.get(filters)
        if mask is None:
            ok = {d.doc_id for d in snapshot.records.documents if filters.admits(d)}
            clauses = snapshot.records.clauses
            mask = np.fromiter((c.doc_id in ok for c in clauses), bool, len(clauses))
            if len(snapshot.masks) > 64:
                snapshot.masks.clear()
            snapshot.masks[filters] = mask
        return mask

    def search_dense(
        self, vector: np.ndarray, k: int, *, filters: Filters | None = None
    ) -> Candidates:
        snapshot = self._load()
        scores, rows = vectors.search(snapshot.searcher, vector, k,
                                      allowed=self._allowed(snapshot, filters))
        return Candidates(scores, rows)

    def search_keyword(
        self, text: str, k: int, *, filters: Filters | None = None
    ) -> Candidates:
        snapshot = self._load()
        vocab = snapshot.bm25.vocab_dict
        tokens = [t for t in snapshot.tokenizer(text) if t in vocab]
        if not tokens:
            return Candidates.empty()
        scores = np.asarray(snapshot.bm25.get_scores(tokens), dtype=np.float32)
        allowed = self._allowed(snapshot, filters)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0).astype(np.float32)
        return Candidates(*vectors.top_k(scores, k))

    def keyword_idf(self, terms: Iterable[str]) -> dict[str, float]:
        snapshot = self._load()
        vocab = snapshot.bm25.vocab_dict
        indptr = snapshot.bm25.scores["indptr"]
        n = len(snapshot.records.clauses)
        out: dict[str, float] = {}
        for term in terms:
            tid = vocab.get(term)
            if tid is not None:
                df = int(indptr[tid + 1] - indptr[tid])
                out[term] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return out
