"""The searchable index: clause records, dense vectors in FAISS, and BM25 over jieba tokens.

``build_index`` turns documents and their clauses into a new generation of an index folder
(see :mod:`rag.store` for the layout), embedding only clauses whose passage text is new.
``load_index`` opens the live generation, checking its manifest and checksums, and returns
an :class:`Index` that answers dense and BM25 searches by clause row.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from rag import __version__, lookup
from rag.clauses import Clause, Span
from rag.documents import Document, Heading
from rag.encoders import Encoder
from rag.passages import PASSAGE_FORMAT, content_hash, dense_passage, keyword_passage
from rag.references import References
from rag.store import (
    MANIFEST,
    StoreError,
    build_lock,
    current_generation,
    describe_files,
    new_staging_folder,
    publish,
    read_jsonl,
    verify_files,
    write_json,
    write_jsonl,
)
from rag.tokenize import DEFAULT_TOKENIZER, get_tokenizer
from rag.versions import VersionInfo, version_key, version_table

FORMAT = "rag-index"
FORMAT_VERSION = 1
DEFAULT_INDEX_DIR = Path(__file__).resolve().parent.parent / "embeddings" / "index"
SEARCH_KINDS = ("exact", "hnsw")


@dataclass(frozen=True)
class BM25Params:
    k1: float = 1.2
    b: float = 0.75
    method: str = "lucene"


@dataclass(frozen=True)
class BuildReport:
    """What a build did. ``embedded`` clauses were encoded; ``reused`` kept their vectors."""

    index_dir: str
    documents: int
    clauses: int
    embedded: int
    reused: int
    removed: int
    skipped_files: tuple[str, ...]
    changed: bool
    seconds: float
    embed_seconds: float

    def summary(self) -> str:
        return (
            f"{self.documents} documents, {self.clauses} clauses: {self.embedded} added, "
            f"{self.reused} unchanged, {self.removed} removed, "
            f"{len(self.skipped_files)} files skipped"
            + ("" if self.changed else " (index already up to date)")
            + f" in {self.seconds:.1f} s"
        )


@dataclass
class Index:
    """A loaded index generation. Rows of ``vectors`` and ``clauses`` correspond."""

    folder: Path
    manifest: dict[str, object]
    documents: dict[str, Document]
    clauses: list[Clause]
    vectors: np.ndarray
    bm25: object
    faiss_index: object
    tokenizer: Callable[[str], list[str]]
    row_of: dict[str, int] = field(default_factory=dict)
    _versions: dict[str, VersionInfo] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.row_of = {clause.id: row for row, clause in enumerate(self.clauses)}

    @cached_property
    def references(self) -> References:
        return References(self.documents.values(), self.clauses)

    def versions(self, as_of: dt.date | None = None) -> dict[str, VersionInfo]:
        """doc_id → version status, today (cached) or on ``as_of``."""
        if as_of is not None:
            return version_table(self.documents.values(), as_of=as_of)
        if self._versions is None:
            self._versions = version_table(self.documents.values())
        return self._versions

    @cached_property
    def by_label(self) -> dict[tuple[str, str], list[Clause]]:
        """(doc_id, clause label) → its clauses, for exact look-ups."""
        return lookup.by_label(self.clauses)

    @cached_property
    def _version_keys(self) -> dict[str, str]:
        return {d.doc_id: version_key(d) for d in self.documents.values()}

    def version_key(self, doc_id: str) -> str:
        """:func:`rag.versions.version_key` of a document, cached."""
        return self._version_keys[doc_id]

    @property
    def model_identity(self) -> str:
        return str(_model(self.manifest)["identity"])

    def document_of(self, clause: Clause) -> Document:
        return self.documents[clause.doc_id]

    def search_dense(
        self, query_vector: np.ndarray, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k rows by cosine similarity. ``allowed`` is a boolean row mask (filters)."""
        import faiss  # its SWIG stubs lack the SearchParameters keywords

        n = len(self.clauses)
        k = min(k, n)
        if k <= 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        query = np.ascontiguousarray(query_vector.reshape(1, -1), dtype=np.float32)
        params = None
        if allowed is not None:
            ids = np.flatnonzero(allowed).astype(np.int64)
            if len(ids) == 0:
                return np.zeros(0, np.float32), np.zeros(0, np.int64)
            k = min(k, len(ids))
            selector = faiss.IDSelectorBatch(ids)
            if isinstance(self.faiss_index, faiss.IndexHNSW):
                params = faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
                    sel=selector, efSearch=max(64, 2 * k)
                )
            else:
                params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        elif isinstance(self.faiss_index, faiss.IndexHNSW):
            params = faiss.SearchParametersHNSW(efSearch=max(64, 2 * k))  # type: ignore[attr-defined]
        with faiss_threads(SEARCH_THREADS):
            scores, rows = self.faiss_index.search(query, k, params=params)  # type: ignore[attr-defined]
        keep = rows[0] >= 0
        return scores[0][keep], rows[0][keep]

    def bm25_scores(self, query: str) -> np.ndarray:
        """BM25 score of every row for ``query`` (zeros when no query term is indexed)."""
        tokens = [t for t in self.tokenizer(query) if t in self.bm25.vocab_dict]  # type: ignore[attr-defined]
        if not tokens:
            return np.zeros(len(self.clauses), np.float32)
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)  # type: ignore[attr-defined]

    def search_bm25(
        self, query: str, k: int, *, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        scores = self.bm25_scores(query)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0).astype(np.float32)
        return top_k(scores, k)


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows with the k highest positive scores, best first (ties broken by row)."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) == 0 or k <= 0:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    if len(positive) > k:
        part = np.argpartition(-scores[positive], k - 1)[:k]
        positive = positive[part]
    order = np.lexsort((positive, -scores[positive]))
    rows = positive[order]
    return scores[rows].astype(np.float32), rows.astype(np.int64)


# ---------------------------------------------------------------- records on disk


def _document_row(doc: Document) -> dict[str, object]:
    row = asdict(doc)
    row["headings"] = [asdict(h) for h in doc.headings]
    row["history"] = list(doc.history)
    return row


def _document_from_row(row: dict[str, Any]) -> Document:
    data = dict(row)
    data["headings"] = tuple(Heading(**h) for h in data.get("headings", []))
    data["history"] = tuple(data.get("history", []))
    return Document(**data)


def _clause_row(clause: Clause, digest: str) -> dict[str, object]:
    row = asdict(clause)
    del row["text"]  # the text is document.text[start:end]; stored once, in documents.jsonl
    row["path"] = list(clause.path)
    row["spans"] = [asdict(s) for s in clause.spans]
    row["hash"] = digest
    return row


def _record_hash(row: dict[str, object]) -> str:
    return content_hash(json.dumps(row, ensure_ascii=False, sort_keys=True))


def _clause_from_row(row: dict[str, Any], documents: dict[str, Document]) -> Clause:
    data = dict(row)
    data.pop("hash", None)
    doc = documents.get(str(data["doc_id"]))
    if doc is None:
        raise StoreError(f"clause {data['id']} names unknown document {data['doc_id']}")
    data["text"] = doc.text[int(data["start"]) : int(data["end"])]
    data["path"] = tuple(data["path"])
    data["spans"] = tuple(Span(**s) for s in data["spans"])
    return Clause(**data)


def _model(manifest: dict[str, object]) -> dict[str, object]:
    model = manifest.get("model")
    if not isinstance(model, dict):
        raise StoreError("manifest has no model section; rebuild the index")
    return model


# ---------------------------------------------------------------- building


def corpus_fingerprint(hashes: Sequence[str], ids: Sequence[str]) -> str:
    return content_hash("\n".join(f"{i}\t{h}" for i, h in zip(ids, hashes, strict=True)))


def _settings(
    encoder: Encoder, tokenizer: str, bm25: BM25Params, search: str
) -> dict[str, object]:
    return {
        "model": {
            "name": encoder.name,
            "identity": encoder.identity,
            "dimension": encoder.dimension,
            "normalized": True,
        },
        "tokenizer": tokenizer,
        "passage_format": PASSAGE_FORMAT,
        "bm25": asdict(bm25),
        "search": search,
    }


def _previous_vectors(
    index_dir: Path, encoder: Encoder
) -> tuple[dict[str, np.ndarray], dict[str, object] | None, int]:
    """hash → vector from the live generation, if it was built by the same model."""
    try:
        folder = current_generation(index_dir)
        if folder is None:
            return {}, None, 0
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        verify_files(folder, manifest["files"], hashes=False)
        rows = read_jsonl(folder / "clauses.jsonl")
        if _model(manifest).get("identity") != encoder.identity:
            return {}, manifest, len(rows)
        vectors = np.load(folder / "vectors.npy", allow_pickle=False)
    except (StoreError, OSError, ValueError, KeyError):
        return {}, None, 0  # unusable previous index: rebuild everything
    return {str(r["hash"]): vectors[i] for i, r in enumerate(rows)}, manifest, len(rows)


def build_index(
    documents: Sequence[Document],
    clauses: Sequence[Clause],
    *,
    index_dir: Path,
    encoder: Encoder,
    tokenizer: str = DEFAULT_TOKENIZER,
    bm25: BM25Params | None = None,
    search: str = "exact",
    skipped_files: Sequence[str] = (),
    sources: Sequence[str] = (),
    batch_size: int = 32,
    progress: bool = False,
) -> BuildReport:
    """Write a new generation of ``index_dir`` for these clauses, reusing old vectors."""
    import bm25s

    if search not in SEARCH_KINDS:
        raise ValueError(f"search must be one of {SEARCH_KINDS}, not {search!r}")
    bm25 = bm25 or BM25Params()
    started = time.perf_counter()
    docs = {d.doc_id: d for d in documents}
    passages = [dense_passage(c, docs[c.doc_id]) for c in clauses]
    keywords = [keyword_passage(c, docs[c.doc_id]) for c in clauses]
    hashes = [content_hash(f"{PASSAGE_FORMAT}\n{p}") for p in passages]
    settings = _settings(encoder, tokenizer, bm25, search)
    document_rows = [_document_row(d) for d in documents]
    clause_rows = [_clause_row(c, h) for c, h in zip(clauses, hashes, strict=True)]
    # everything written is fingerprinted: keyword passages (a changed path rebuilds BM25)
    # and the records (a corrected date, status or label publishes a new generation, with
    # no embedding since no passage changed)
    fingerprint = corpus_fingerprint(
        [h + content_hash(k) + _record_hash(r)
         for h, k, r in zip(hashes, keywords, clause_rows, strict=True)]
        + [_record_hash(r) for r in document_rows],
        [c.id for c in clauses] + [d.doc_id for d in documents],
    )

    with build_lock(index_dir):
        previous, old_manifest, old_count = _previous_vectors(index_dir, encoder)
        removed = len(set(previous) - set(hashes)) if previous else old_count
        if (
            old_manifest is not None
            and old_manifest.get("corpus_fingerprint") == fingerprint
            and {k: old_manifest.get(k) for k in settings} == settings
        ):
            return BuildReport(
                str(index_dir), len(docs), len(clauses), 0, len(clauses), 0,
                tuple(skipped_files), False, time.perf_counter() - started, 0.0,
            )

        todo = sorted({h: i for i, h in enumerate(hashes) if h not in previous}.items(),
                      key=lambda item: item[1])
        embed_started = time.perf_counter()
        fresh = embed([passages[i] for _, i in todo], encoder=encoder,
                      batch_size=batch_size, progress=progress)
        embed_seconds = time.perf_counter() - embed_started
        by_hash = dict(previous)
        by_hash.update({h: fresh[j] for j, (h, _) in enumerate(todo)})
        vectors = np.zeros((len(clauses), encoder.dimension), np.float32)
        for row, digest in enumerate(hashes):
            vectors[row] = by_hash[digest]

        staging = new_staging_folder(index_dir)
        write_jsonl(staging / "documents.jsonl", document_rows)
        write_jsonl(staging / "clauses.jsonl", clause_rows)
        np.save(staging / "vectors.npy", vectors, allow_pickle=False)
        tokenize = get_tokenizer(tokenizer)
        retriever = bm25s.BM25(k1=bm25.k1, b=bm25.b, method=bm25.method)
        retriever.index([tokenize(p) or [""] for p in keywords], show_progress=progress)
        retriever.save(str(staging / "bm25"), show_progress=False)
        if search == "hnsw":
            import faiss

            faiss.write_index(_hnsw(vectors), str(staging / "faiss.index"))
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "package_version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **settings,
            "corpus_fingerprint": fingerprint,
            "counts": {"documents": len(docs), "clauses": len(clauses)},
            "sources": list(sources),
            "skipped_files": list(skipped_files),
            "files": describe_files(staging),
        }
        write_json(staging / MANIFEST, manifest)
        publish(index_dir, staging)
    return BuildReport(
        str(index_dir), len(docs), len(clauses), len(todo), len(clauses) - len(todo),
        removed, tuple(skipped_files), True, time.perf_counter() - started, embed_seconds,
    )


def embed(
    texts: Sequence[str], *, encoder: Encoder, batch_size: int = 32, progress: bool = False,
    step: int = 512,
) -> np.ndarray:
    """Encode passages longest first in steps of ``step``, with a clauses/s progress bar.

    Sorting by length keeps padding low (as sentence-transformers does within one call);
    stepping lets the bar report clauses rather than batches.
    """
    from tqdm import tqdm

    out = np.zeros((len(texts), encoder.dimension), np.float32)
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    with tqdm(total=len(texts), unit="clause", desc="embedding", disable=not progress,
              smoothing=0.1) as bar:
        for start in range(0, len(order), step):
            rows = order[start:start + step]
            vectors = encoder.encode_passages(
                [texts[i] for i in rows], batch_size=batch_size, progress=False
            )
            if vectors.shape != (len(rows), encoder.dimension):
                raise ValueError(
                    f"encoder {encoder.name} returned vectors of shape {vectors.shape}, "
                    f"expected ({len(rows)}, {encoder.dimension})"
                )
            out[rows] = vectors
            bar.update(len(rows))
    return out


def exhaustive_index(vectors: np.ndarray):  # type: ignore[no-untyped-def]
    """Exhaustive inner-product search over vectors held as float16 in memory.

    Every vector is scored (no approximation in the search); holding them as float16
    halves the memory each query scans, which on 2 cores made a 69,528-clause search
    4x faster (10.1 ms → 2.4 ms) with identical top-10 on STARD queries. Scores differ
    from float32 by about 1e-4.
    """
    import faiss

    index = faiss.IndexScalarQuantizer(
        vectors.shape[1], faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
    )
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    index.train(data)
    index.add(data)
    return index


# One query is scanned on one thread. On 2 cores, FAISS's OpenMP threads otherwise fight
# torch's (still spinning after embedding the question) and the query gets slower, not
# faster: STARD p50 30.1 ms with 2 search threads against 22.6 ms with 1.
SEARCH_THREADS = 1


@contextmanager
def faiss_threads(count: int) -> Iterator[None]:
    """Run FAISS on ``count`` OpenMP threads inside the block, then restore the setting."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _hnsw(vectors: np.ndarray, *, m: int = 32, ef_construction: int = 80):  # type: ignore[no-untyped-def]
    import faiss

    index = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    index.add(vectors)
    return index


# ---------------------------------------------------------------- loading


def read_manifest(index_dir: Path) -> tuple[Path, dict[str, object]]:
    folder = current_generation(index_dir)
    if folder is None:
        raise StoreError(
            f"{index_dir}: no index here yet; build one with "
            f"`rag index PATH... --index {index_dir}`"
        )
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise StoreError(f"{folder / MANIFEST}: unreadable ({error}); rebuild the index") from None
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise StoreError(
            f"{folder}: index format {manifest.get('format')} v{manifest.get('format_version')} "
            f"is not {FORMAT} v{FORMAT_VERSION} (built by rag {manifest.get('package_version')}); "
            f"rebuild it with `rag index PATH... --index {index_dir}`"
        )
    return folder, manifest


def check_model(manifest: dict[str, object], encoder: Encoder, index_dir: Path) -> None:
    """Refuse to search an index with vectors from another model."""
    model = _model(manifest)
    if model.get("identity") != encoder.identity or model.get("dimension") != encoder.dimension:
        raise StoreError(
            f"{index_dir} was built with model {model.get('name')} "
            f"({model.get('identity')}, dimension {model.get('dimension')}), but the query "
            f"model is {encoder.name} ({encoder.identity}, dimension {encoder.dimension}). "
            f"Use --model {model.get('name')}, or rebuild with "
            f"`rag index PATH... --index {index_dir} --model {encoder.name}`"
        )


def load_index(
    index_dir: Path, *, encoder: Encoder | None = None, verify: bool = True
) -> Index:
    """Open the live generation of ``index_dir``.

    Every file's size (and with ``verify``, its sha256) is checked against the manifest,
    and when ``encoder`` is given its identity must match the model that built the index.
    """
    import bm25s
    import faiss

    folder, manifest = read_manifest(index_dir)
    if encoder is not None:
        check_model(manifest, encoder, index_dir)
    verify_files(folder, manifest["files"], hashes=verify)  # type: ignore[arg-type]
    documents = {
        d.doc_id: d for d in map(_document_from_row, read_jsonl(folder / "documents.jsonl"))
    }
    clauses = [_clause_from_row(r, documents) for r in read_jsonl(folder / "clauses.jsonl")]
    vectors = np.load(folder / "vectors.npy", allow_pickle=False)
    dimension = int(_model(manifest)["dimension"])  # type: ignore[call-overload]
    if vectors.shape != (len(clauses), dimension):
        raise StoreError(
            f"{folder / 'vectors.npy'}: shape {vectors.shape}, expected "
            f"({len(clauses)}, {dimension}); rebuild the index"
        )
    retriever = bm25s.BM25.load(str(folder / "bm25"), show_progress=False)
    if manifest.get("search") == "hnsw":
        searcher = faiss.read_index(str(folder / "faiss.index"))
    else:
        searcher = exhaustive_index(vectors)
    return Index(
        folder=folder,
        manifest=manifest,
        documents=documents,
        clauses=clauses,
        vectors=vectors,
        bm25=retriever,
        faiss_index=searcher,
        tokenizer=get_tokenizer(str(manifest["tokenizer"])),
    )
