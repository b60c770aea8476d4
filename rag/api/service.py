"""What a server offers, whatever the interface: the live index, the library, who may write.

The API routes and the library page call these same functions, so a write checked and
done one way is checked and done the same way the other.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from rag.api.auth import AdminToken
from rag.api.library import Library, Refused, Stored
from rag.api.live import BuildStatus, LiveIndex
from rag.core.documents import Document
from rag.encoders import Encoder
from rag.feedback.desk import FeedbackDesk
from rag.search import Index

MAX_JSON_BYTES = 4 * 2**20  # a batch of 1,000 long questions fits


class UnknownDocument(KeyError):
    """A doc_id the index does not hold."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class Service:
    """One server's index, library and admin token. Writes exist only with a token, a
    library and an index this server may rebuild."""

    live: LiveIndex
    library: Library | None = None
    admin: AdminToken | None = None
    concurrency: int = 4  # answers computed at once through the API
    feedback: FeedbackDesk | None = None  # readers' verdicts and question memory
    slots: threading.BoundedSemaphore = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.slots = threading.BoundedSemaphore(self.concurrency)

    @classmethod
    def fixed(cls, index: Index, encoder: Encoder, **kwargs: object) -> Service:
        """A read-only service over one opened index."""
        return cls(live=LiveIndex.fixed(index, encoder), **kwargs)  # type: ignore[arg-type]

    @property
    def writes(self) -> bool:
        return self.admin is not None and self.library is not None and self.live.rebuildable

    @property
    def encoder(self) -> Encoder:
        return self.live.encoder

    def owned(self, document: Document) -> bool:
        return self.library is not None and self.library.owns(document)

    def document(self, doc_id: str, index: Index | None = None) -> Document:
        index = index or self.live.index
        try:
            return index.documents[doc_id]
        except KeyError:
            raise UnknownDocument(f"no document {doc_id!r} in the index; GET /api/v1/documents "
                                  "lists them") from None

    # ------------------------------------------------------------ writes

    def _library(self) -> Library:
        if not self.writes or self.library is None:
            raise PermissionError("this server is read-only: start it with "
                                  "`rag serve --admin-token-file FILE` to change the library")
        return self.library

    def add_files(self, uploads: Iterable[tuple[str, Path | BinaryIO]]
                  ) -> tuple[list[Stored], list[Refused], BuildStatus]:
        """Store uploads (``(name sent, file)``) and, when any was stored, re-index."""
        library = self._library()
        index = self.live.index if self.live.ready else None
        taken = {d.doc_id for d in index.documents.values()
                 if not library.owns(d)} if index else set()
        stored, refused = library.store_many(uploads, taken=taken)
        status = self.live.rebuild(add=(library.root,)) if stored else self.live.status()
        return stored, refused, status

    def remove(self, doc_id: str) -> tuple[Document, Path, BuildStatus]:
        """Delete an uploaded document's file and re-index (NotInLibrary for corpus
        files, UnknownDocument for ids the index does not hold)."""
        library = self._library()
        document = self.document(doc_id)
        path = library.remove(document)
        return document, path, self.live.rebuild(add=(library.root,))

    def reindex(self) -> BuildStatus:
        """Re-read every source of the index (the library's folder too, once it has one)."""
        library = self._library()
        add = (library.root,) if library.root.is_dir() else ()
        return self.live.rebuild(add=add)
