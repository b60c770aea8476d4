"""Filters: which documents a question may be answered from, validated when made."""

from __future__ import annotations

from dataclasses import dataclass

from rag.core.dates import optional_iso_date
from rag.core.documents import KINDS, Document


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to some documents. Empty fields do not filter.

    ``doc_ids`` and ``kinds`` keep documents that match any entry; ``date_from`` and
    ``date_to`` (ISO dates, inclusive) keep documents whose version date (else date) lies
    in the range; ``as_of`` answers with the versions in force on that date. Invalid
    values raise ValueError naming the valid choices. Whether a ``doc_id`` exists is
    checked against an index (:meth:`rag.search.Index.check`).
    """

    doc_ids: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None
    as_of: str | None = None

    def __post_init__(self) -> None:
        for name in ("doc_ids", "kinds"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{name} must be a sequence of strings, not {value!r}")
            object.__setattr__(self, name, tuple(value))
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown:
            raise ValueError(
                f"unknown document kind {', '.join(map(repr, unknown))}; "
                f"choose from {', '.join(KINDS)}"
            )
        labels = {"date_from": "from date", "date_to": "to date", "as_of": "as-of date"}
        for name, what in labels.items():
            object.__setattr__(self, name, optional_iso_date(getattr(self, name), what=what))
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValueError(f"from date {self.date_from} is after to date {self.date_to}")

    def is_empty(self) -> bool:
        """True when no document is excluded (``as_of`` ranks versions, it excludes none)."""
        return not (self.doc_ids or self.kinds or self.date_from or self.date_to)

    def admits(self, doc: Document) -> bool:
        """Whether ``doc`` passes the document, kind and date filters."""
        if self.doc_ids and doc.doc_id not in self.doc_ids:
            return False
        if self.kinds and doc.kind not in self.kinds:
            return False
        day = doc.version or doc.date
        if self.date_from and (not day or day < self.date_from):
            return False
        return not (self.date_to and (not day or day > self.date_to))

    def to_dict(self) -> dict[str, object]:
        """The fields that filter, for JSON output."""
        return {k: v for k, v in self.__dict__.items() if v}
