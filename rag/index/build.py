"""Building an index: documents and clauses in, embedded incrementally, one Change out."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from rag.core.clauses import Clause
from rag.core.documents import Document
from rag.encoders import Encoder
from rag.index import manifest as manifests
from rag.index.backend import Change, ClauseRow, IndexBackend, StoreError
from rag.index.derived import Derived, identities, recorded
from rag.index.passages import PASSAGE_FORMAT, content_hash, dense_passage, keyword_passage
from rag.index.records import clause_row, corpus_fingerprint, document_row, record_hash
from rag.index.tokenize import DEFAULT_TOKENIZER

# Embeds passages with an index's model: texts in, float32 [len(texts), dimension] out.
Embedder = Callable[[Sequence[str]], np.ndarray]
# Told how a build advances: (stage, done, total), stage one of STAGES.
ProgressHook = Callable[[str, int, int], None]
STAGES = ("reading", "embedding", "writing")
# a stored vector is found through its clause row: both must be whole to be reused
REUSED_FOR_VECTORS = frozenset({"vectors.npy", "clauses.jsonl"})


@dataclass(frozen=True)
class BuildReport:
    """What a build did. ``embedded`` passages were encoded; ``reused`` kept their vectors."""

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
    repaired: tuple[str, ...] = ()  # damaged parts of the previous index, rewritten

    def summary(self) -> str:
        return (
            f"{self.documents} documents, {self.clauses} clauses: {self.embedded} added, "
            f"{self.reused} unchanged, {self.removed} removed, "
            f"{len(self.skipped_files)} files skipped"
            + ("" if self.changed else " (index already up to date)")
            + (f"; repaired the damaged {', '.join(self.repaired)}" if self.repaired else "")
            + f" in {self.seconds:.1f} s"
        )


def build_index(
    documents: Sequence[Document],
    clauses: Sequence[Clause],
    *,
    backend: IndexBackend,
    encoder: Encoder,
    tokenizer: str = DEFAULT_TOKENIZER,
    bm25: manifests.BM25Params | None = None,
    search: str = "exact",
    skipped_files: Sequence[str] = (),
    sources: Sequence[str] = (),
    follow_links: bool = False,
    batch_size: int = 32,
    progress: bool = False,
    embedder: Embedder | None = None,
    on_progress: ProgressHook | None = None,
    derived: Sequence[Derived] = (),
) -> BuildReport:
    """Bring ``backend`` up to date with these documents and clauses.

    ``sources`` and ``follow_links`` are recorded so a later update reads the same way.

    Only passages whose content hash the index does not hold yet are embedded (with the
    same model); when nothing at all changed, nothing is written. ``embedder`` embeds
    those passages elsewhere (e.g. on a Ray cluster, :mod:`rag.index.ray_build`) with the
    model of ``encoder``; by default ``encoder`` embeds them here. ``on_progress`` is told
    of the embedding (passages done of those to embed) and of the write. ``derived``
    tables (:mod:`rag.index.derived`, e.g. ``rag.links.stored.LINKS``) are computed and
    stored with the generation by engines that keep them; an index whose stored tables
    were made by other rules is published again, nothing embedded.
    """
    started = time.perf_counter()
    wanted = manifests.settings(encoder, tokenizer=tokenizer, bm25=bm25 or manifests.BM25Params(),
                                search=search)
    docs = {d.doc_id: d for d in documents}
    passages = [dense_passage(c, docs[c.doc_id]) for c in clauses]
    keywords = [keyword_passage(c, docs[c.doc_id]) for c in clauses]
    hashes = [content_hash(f"{PASSAGE_FORMAT}\n{p}") for p in passages]
    document_rows = [document_row(d) for d in documents]
    records = [record_hash(clause_row(c, h)) for c, h in zip(clauses, hashes, strict=True)]
    # everything written is fingerprinted: keyword passages (a changed path rebuilds BM25)
    # and the records (a corrected date, status or label publishes a new generation, with
    # no embedding since no passage changed)
    fingerprint = corpus_fingerprint(
        [h + content_hash(k) + r for h, k, r in zip(hashes, keywords, records, strict=True)]
        + [record_hash(r) for r in document_rows],
        [c.id for c in clauses] + [d.doc_id for d in documents],
    )

    damage: dict[str, str] = {}

    def report(embedded: int, removed: int, changed: bool, embed_seconds: float) -> BuildReport:
        return BuildReport(
            backend.location, len(docs), len(clauses), embedded, len(clauses) - embedded,
            removed, tuple(skipped_files), changed, time.perf_counter() - started,
            embed_seconds, _parts(damage),
        )

    with backend.build_lock():
        try:
            old = backend.manifest()
            # what this build would reuse is checked first: a damaged part is rewritten
            damage = backend.damaged() if old is not None else {}
            trusted = not damage.keys() & REUSED_FOR_VECTORS
            stored = backend.stored() if old is not None and trusted else {}
        except (StoreError, OSError, ValueError, KeyError):
            old, stored = None, {}  # an unusable index is rebuilt from scratch
        tables = identities(derived) if backend.keeps_derived else {}
        if (not damage and old is not None and old.get("corpus_fingerprint") == fingerprint
                and {k: old.get(k) for k in wanted} == wanted
                and all(recorded(old).get(k) == v for k, v in tables.items())):
            return report(0, 0, False, 0.0)

        same_model = old is not None and manifests.model_section(old).get(
            "identity") == encoder.identity
        previous = {passage for passage, _ in stored.values()} if same_model else set()
        removed = len(previous - set(hashes)) if previous else len(stored)
        last = {h: i for i, h in enumerate(hashes) if h not in previous}
        todo = sorted(last, key=last.__getitem__)  # new passages, in corpus order
        embed_started = time.perf_counter()
        texts = [passages[last[h]] for h in todo]
        if embedder is None or not texts:
            fresh = embed(texts, encoder=encoder, batch_size=batch_size, progress=progress,
                          on_progress=on_progress)
        else:
            fresh = np.asarray(embedder(texts), np.float32)
            if fresh.shape != (len(texts), encoder.dimension):
                raise ValueError(f"the embedder returned vectors of shape {fresh.shape}, "
                                 f"expected ({len(texts)}, {encoder.dimension})")
        embed_seconds = time.perf_counter() - embed_started

        replace = old is None or not same_model or bool(damage) \
            or {k: old.get(k) for k in wanted} != wanted
        rows = tuple(ClauseRow(c, h, r, k) for c, h, r, k
                     in zip(clauses, hashes, records, keywords, strict=True))
        upserts = frozenset(row.clause.id for row in rows
                            if replace or stored.get(row.clause.id) != (row.passage_hash,
                                                                       row.record_hash))
        vectors = {h: fresh[j] for j, h in enumerate(todo)}
        reuse = {row.passage_hash for row in rows if row.clause.id in upserts} - set(vectors)
        if reuse and same_model:
            vectors.update(backend.vectors_for(reuse))
        ids = {c.id for c in clauses}
        change = Change(
            documents=tuple(documents),
            clauses=rows,
            upserts=upserts,
            deletes=tuple(i for i in stored if i not in ids),
            vectors=vectors,
            manifest=manifests.new_manifest(
                wanted, fingerprint=fingerprint, documents=len(docs), clauses=len(clauses),
                sources=list(sources), follow_links=follow_links,
                skipped_files=list(skipped_files),
            ),
            replace=replace,
            derived=tuple(derived),
        )
        if on_progress is not None:
            on_progress("writing", 0, 1)
        backend.apply(change)
        if on_progress is not None:
            on_progress("writing", 1, 1)
    return report(len(todo), removed, True, embed_seconds)


def _parts(damage: dict[str, str]) -> tuple[str, ...]:
    """Damaged files by part of the index: ``vectors.npy (…)``, ``bm25/ (missing)``."""
    parts: dict[str, str] = {}
    for name, why in sorted(damage.items()):
        head, sep, _ = name.partition("/")
        parts.setdefault(head + sep, why)
    return tuple(f"{part} ({why})" for part, why in parts.items())


def embed(
    texts: Sequence[str], *, encoder: Encoder, batch_size: int = 32, progress: bool = False,
    step: int = 256, on_progress: ProgressHook | None = None,
) -> np.ndarray:
    """Encode passages longest first in steps of ``step``, with a clauses/s progress bar.

    Sorting by length keeps padding low (as sentence-transformers does within one call);
    stepping lets the bar (and ``on_progress("embedding", done, total)``) report clauses
    rather than batches, and lets the encoder's thread count be fitted to how busy the
    machine is (:class:`rag.encoders.threads.ThreadTuner`).
    """
    from tqdm import tqdm

    from rag.encoders.threads import ThreadTuner

    out = np.zeros((len(texts), encoder.dimension), np.float32)
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    with tqdm(total=len(texts), unit="clause", desc="embedding", disable=not progress,
              smoothing=0.1) as bar:
        if on_progress is not None:
            on_progress("embedding", 0, len(texts))
        tuner = ThreadTuner(encoder=encoder, recheck=20)
        for start in range(0, len(order), step):
            rows = order[start:start + step]
            vectors = tuner.run(partial(encoder.encode_passages, [texts[i] for i in rows],
                                        batch_size=batch_size, progress=False),
                                size=sum(len(texts[i]) for i in rows))
            if vectors.shape != (len(rows), encoder.dimension):
                raise ValueError(
                    f"encoder {encoder.name} returned vectors of shape {vectors.shape}, "
                    f"expected ({len(rows)}, {encoder.dimension})"
                )
            out[rows] = vectors
            bar.update(len(rows))
            if on_progress is not None:
                on_progress("embedding", start + len(rows), len(texts))
    return out


def index_paths(
    paths: Sequence[Path | str],
    *,
    index: IndexBackend | Path | str,
    encoder: Encoder,
    search: str = "exact",
    max_chars: int = 600,
    follow_links: bool = False,
    progress: bool = False,
    on_progress: ProgressHook | None = None,
    derived: Sequence[Derived] = (),
) -> BuildReport:
    """Read and chunk every document under ``paths`` and bring ``index`` up to date.

    Files that cannot be read are reported in ``BuildReport.skipped_files`` and left out
    (so are single pages that cannot be read, ``file.pdf: page 7: …``); the rest of the
    corpus is indexed. Links out of a folder are followed only with ``follow_links``;
    ``progress`` shows progress bars (OCR pages, embedding) on stderr; ``on_progress`` is
    told of each stage (:data:`STAGES`: files read, passages embedded, the write);
    ``derived`` tables are stored with it (see :func:`build_index`).
    """
    from rag.chunking import chunk_document
    from rag.index.backends import open_backend
    from rag.readers import load_documents

    for path in paths:
        if not Path(path).exists():
            raise FileNotFoundError(f"{path}: no such file or folder")
    on_file = None if on_progress is None else partial(on_progress, "reading")
    documents, errors = load_documents([Path(p) for p in paths], follow_links=follow_links,
                                       progress=progress, on_file=on_file)
    clauses = [c for doc in documents for c in chunk_document(doc, max_chars=max_chars)]
    return build_index(
        documents,
        clauses,
        backend=open_backend(index),
        encoder=encoder,
        search=search,
        skipped_files=[str(e) for e in errors],
        sources=[str(Path(p).resolve()) for p in paths],
        follow_links=follow_links,
        progress=progress,
        on_progress=on_progress,
        derived=derived,
    )


@dataclass(frozen=True)
class Sources:
    """What an index was last built from, so that an update reads the same again."""

    paths: tuple[Path, ...]
    follow_links: bool = False


def remembered_sources(index: IndexBackend | Path | str) -> Sources:
    """The files and folders (absolute paths) the index was last built from, and whether
    links were followed; no paths when there is no index yet."""
    from rag.index.backends import open_backend

    manifest = open_backend(index).manifest() or {}
    paths = manifest.get("sources")
    return Sources(tuple(Path(p) for p in paths) if isinstance(paths, list) else (),
                   follow_links=bool(manifest.get("follow_links", False)))


def copy_index(
    source: IndexBackend | Path | str, *, to: IndexBackend | Path | str, encoder: Encoder,
) -> BuildReport:
    """Bring ``to`` up to date with the records of ``source`` and its stored vectors (e.g.
    a folder index into Milvus), embedding nothing. ``encoder`` is the model that built
    ``source`` (its identity goes into the manifest)."""
    from rag.index.backends import open_backend

    origin = open_backend(source)
    manifest = origin.manifest()
    if manifest is None:
        raise StoreError(f"{origin.location}: no index to copy")
    manifests.check_model(manifest, encoder, location=origin.location)
    records = origin.records()

    def stored(texts: Sequence[str]) -> np.ndarray:
        hashes = [content_hash(f"{PASSAGE_FORMAT}\n{t}") for t in texts]
        found = origin.vectors_for(hashes)
        missing = [h for h in hashes if h not in found]
        if missing:
            raise StoreError(f"{origin.location}: {len(missing)} passages have no stored "
                             "vector; rebuild it")
        return np.stack([found[h] for h in hashes])

    return build_index(records.documents, records.clauses, backend=open_backend(to),
                       encoder=encoder, search=str(manifest.get("search", "exact")),
                       sources=list(manifest.get("sources", [])),
                       skipped_files=list(manifest.get("skipped_files", [])),
                       embedder=stored)
