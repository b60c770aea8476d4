"""An opened index: its records and the query-time tables built from them.

Look-up by label, cross-references and version tables are derived here, above the
backend seam, from the records every backend returns; retrieval asks the backend only
for each channel's best rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rag.core.clauses import Clause
from rag.core.documents import Document
from rag.core.filters import Filters
from rag.core.locations import rebuild_command
from rag.core.version import __version__
from rag.core.versions import VersionInfo, version_key, version_table
from rag.encoders import Encoder, load_encoder
from rag.index import IndexBackend, StoreError, check_model, open_backend
from rag.index.manifest import check_learned, model_name, model_section
from rag.index.tokenize import Tokenizer, get_tokenizer
from rag.learned import Learned, learned_for
from rag.search.crossrefs import CrossReferences
from rag.search.memory import Memory
from rag.search.named import by_label

if TYPE_CHECKING:
    from rag.changes.links import VersionLinks


@dataclass
class Index:
    """An index opened for questions: documents by id, clauses in row order, tables, and
    the encoder that built it (:attr:`encoder`, loaded and checked on first use)."""

    backend: IndexBackend
    manifest: dict[str, Any]
    documents: dict[str, Document]
    clauses: tuple[Clause, ...]
    tokenizer: Tokenizer
    learned: Learned | None = None  # the trained adapter and reranker of the index's model
    _encoder: Encoder | None = field(default=None, repr=False)  # checked against the manifest
    memory: Memory | None = None  # confirmed questions (rag.feedback), attached after opening
    row_of: dict[str, int] = field(init=False, repr=False)
    _loading: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _versions: dict[str, VersionInfo] | None = field(default=None, init=False, repr=False)
    _allowed: dict[Filters, frozenset[str] | None] = field(default_factory=dict, init=False,
                                                           repr=False)
    _text_hashes: dict[str, str] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.row_of = {clause.id: row for row, clause in enumerate(self.clauses)}

    @classmethod
    def from_backend(cls, backend: IndexBackend, manifest: dict[str, Any], *,
                     learned: Learned | None = None, encoder: Encoder | None = None) -> Index:
        records = backend.records()
        return cls(
            backend=backend,
            manifest=manifest,
            documents={d.doc_id: d for d in records.documents},
            clauses=records.clauses,
            tokenizer=get_tokenizer(str(manifest["tokenizer"])),
            learned=learned,
            _encoder=encoder,
        )

    # ------------------------------------------------------------ the encoder

    @property
    def encoder(self) -> Encoder:
        """The model that built this index, which embeds its questions: the one handed to
        :func:`open_index`, else loaded by the name the manifest records on first use
        (no model is loaded before) and checked against the manifest's identity and
        dimension (StoreError with the rebuild command when they differ)."""
        with self._loading:  # one load, however many threads ask first
            if self._encoder is None:
                encoder = load_encoder(model_name(self.manifest))
                check_model(self.manifest, encoder, location=self.backend.location)
                self._encoder = encoder
            return self._encoder

    def query_encoder(self, encoder: Encoder | None = None) -> Encoder:
        """:attr:`encoder`, or ``encoder`` once checked to be the model that built this
        index (a caller that passes its own is refused when it is another model)."""
        if encoder is None or encoder is self._encoder:
            return self.encoder
        check_model(self.manifest, encoder, location=self.backend.location)
        return encoder

    # ------------------------------------------------------------ tables

    @cached_property
    def references(self) -> CrossReferences:
        """Cross-references in clause text, resolved to rows."""
        return CrossReferences(self.documents.values(), list(self.clauses))

    @cached_property
    def by_label(self) -> dict[tuple[str, str], list[Clause]]:
        """(doc_id, clause label) → its clauses, for exact look-ups."""
        return by_label(self.clauses)

    def versions(self, as_of: dt.date | None = None) -> dict[str, VersionInfo]:
        """doc_id → version status, today (cached) or on ``as_of``."""
        if as_of is not None:
            return version_table(self.documents.values(), as_of=as_of)
        if self._versions is None:
            self._versions = version_table(self.documents.values())
        return self._versions

    @cached_property
    def _version_keys(self) -> dict[str, str]:
        return {d.doc_id: version_key(d) for d in self.documents.values()}

    def version_key(self, doc_id: str) -> str:
        """:func:`rag.core.versions.version_key` of a document, cached."""
        return self._version_keys[doc_id]

    @cached_property
    def _last_articles(self) -> dict[str, int]:
        last: dict[str, int] = {}
        for clause in self.clauses:
            number = clause.local_id.removeprefix("art").split(".")[0].split("-")[0]
            if clause.kind == "article" and number.isdigit():
                last[clause.doc_id] = max(last.get(clause.doc_id, 0), int(number))
        return last

    def last_article(self, doc_id: str) -> int:
        """The highest article number of a document (0 when it has no articles)."""
        return self._last_articles.get(doc_id, 0)

    @cached_property
    def links(self) -> VersionLinks:
        """Other versions of each document and which of their articles is which
        (:mod:`rag.changes`), aligned on first use."""
        from rag.changes.links import VersionLinks

        return VersionLinks(self.documents, self.clauses, key=self.version_key)

    # ------------------------------------------------------------ filters

    def check(self, filters: Filters) -> Filters:
        """``filters`` when every document id it names is in this index, else ValueError
        listing the ids the index holds."""
        unknown = [d for d in filters.doc_ids if d not in self.documents]
        if unknown:
            known = ", ".join(sorted(self.documents)[:12])
            more = "" if len(self.documents) <= 12 else f", … ({len(self.documents)} in all)"
            raise ValueError(
                f"unknown document id {', '.join(unknown)}; the index holds: {known}{more}"
            )
        return filters

    def allowed_documents(self, filters: Filters) -> frozenset[str] | None:
        """Ids of the documents ``filters`` admits, None when it admits all (cached)."""
        if filters.is_empty():
            return None
        if filters not in self._allowed:
            self._allowed[filters] = frozenset(
                d.doc_id for d in self.documents.values() if filters.admits(d))
        return self._allowed[filters]

    # ------------------------------------------------------------ identity

    @property
    def model_identity(self) -> str:
        return str(model_section(self.manifest)["identity"])

    def document_of(self, clause: Clause) -> Document:
        return self.documents[clause.doc_id]

    def text_hash(self, doc_id: str) -> str:
        """sha256 (hex) of a document's text, the revision its clause offsets point into
        (cached)."""
        found = self._text_hashes.get(doc_id)
        if found is None:
            text = self.documents[doc_id].text.encode("utf-8")
            found = self._text_hashes[doc_id] = hashlib.sha256(text).hexdigest()
        return found

    def info(self) -> dict[str, object]:
        """What an answer records about the index it came from (the memo's audit line)."""
        model = model_section(self.manifest)
        learned = self.learned.identity if self.learned else {}
        return {
            "fingerprint": self.manifest.get("corpus_fingerprint"),
            "model": model.get("name"),
            "model_identity": self.model_identity,
            "adapter": learned.get("adapter"),
            "reranker": learned.get("reranker"),
            "created": self.manifest.get("created"),
            "clauses": len(self.clauses),
            "built_by": self.manifest.get("package_version"),  # the rag that built the index
            "package_version": __version__,  # the rag that answers
        }


def open_index(
    location: IndexBackend | Path | str,
    *,
    encoder: Encoder | None = None,
    verify: bool = True,
    trained: bool = True,
) -> Index:
    """Open an index for questions, with the encoder that built it.

    ``location`` is an index folder (the embedded backend), a ``milvus://`` URI or an
    :class:`IndexBackend`. Without ``encoder`` the model the manifest names is loaded on
    first use (:attr:`Index.encoder`) and checked then; an ``encoder`` handed in is
    checked now, and one from another model is refused with the rebuild command.
    Every stored file is checked against the manifest (sizes, and with ``verify`` sha256).
    The trained adapter and reranker of the index's model are used unless ``trained`` is
    False (training and ablations); an index that records other trained parts is refused.
    """
    backend = open_backend(location, verify=verify)
    manifest = backend.manifest()
    if manifest is None:
        raise StoreError(f"{backend.location}: no index here yet; build one with "
                         f"`{rebuild_command(backend.location)}`")
    if encoder is not None:
        check_model(manifest, encoder, location=backend.location)
    if not trained:
        return Index.from_backend(backend, manifest, encoder=encoder)
    learned = learned_for(str(model_section(manifest).get("identity")))
    check_learned(manifest, learned, location=backend.location)
    return Index.from_backend(backend, manifest, learned=learned, encoder=encoder)
