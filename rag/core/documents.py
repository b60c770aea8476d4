"""Documents: the clean text of one source file plus what is known about it.

A reader (see :mod:`rag.readers`) turns a file into a :class:`Document`. Every later stage
refers back to ``Document.text``: clause offsets are offsets into it, and a quote shown to
a user is always a slice of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Every document kind, with the label the chat shows for it.
KIND_LABELS = {
    "law": "法律 law",
    "regulation": "行政法规 regulation",
    "judicial_interpretation": "司法解释 judicial interpretation",
    "policy": "政策 policy",
    "news": "新闻 news",
    "other": "其他 other",
}
KINDS = tuple(KIND_LABELS)
KIND_CHOICES = tuple((label, kind) for kind, label in KIND_LABELS.items())  # (shown, value)
STATUSES = ("in_force", "repealed", "not_yet_in_force")
# Which source wins when two say the same thing: statutes over interpretations over
# regulations over policy over news (higher is more authoritative).
AUTHORITY = {"law": 5, "judicial_interpretation": 4, "regulation": 3, "policy": 2, "news": 1}


@dataclass(frozen=True)
class Heading:
    """A structural heading inside ``Document.text`` (e.g. ``第一章 总则``).

    ``level`` is 1 for the outermost heading level the source uses (编 or 章 in a statute,
    the ``##`` level in markdown), growing inwards. ``text`` equals
    ``document.text[start:end]``.
    """

    level: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class OcrPage:
    """A page whose text was read by OCR from its image, and how sure the OCR was (0..1)."""

    page: int  # 1-based
    confidence: float


@dataclass(frozen=True)
class Document:
    """One source document with clean text and metadata.

    ``doc_id`` is a readable slug derived from the file name; it prefixes every clause id
    and so must not change between runs or machines for the same file.
    ``text`` is clean text: one paragraph per line, markup and page furniture removed.
    Dates are ISO ``YYYY-MM-DD`` strings.

    ``pages`` is the page map of a paged source (PDF): ``pages[n - 1]`` is the offset in
    ``text`` where page ``n`` begins (a page without text begins where the next one does);
    it is empty for formats without pages. ``ocr`` lists the pages whose text came from
    OCR. :func:`rag.core.pages.pages_of` turns clause offsets into pages.
    """

    doc_id: str
    title: str
    text: str
    kind: str
    source_path: str
    date: str | None = None
    version: str | None = None
    issuer: str | None = None
    url: str | None = None
    status: str | None = None
    valid_from: str | None = None
    subtitle: str | None = None
    history: tuple[str, ...] = ()
    headings: tuple[Heading, ...] = ()
    pages: tuple[int, ...] = ()
    ocr: tuple[OcrPage, ...] = ()
    extra: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.source_path}: kind {self.kind!r} is not one of {KINDS}")
        if self.status is not None and self.status not in STATUSES:
            raise ValueError(
                f"{self.source_path}: status {self.status!r} is not one of {STATUSES}"
            )

    def metadata(self) -> dict[str, object]:
        """Plain metadata (everything but the text and headings), for JSON output."""
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "subtitle": self.subtitle,
            "kind": self.kind,
            "date": self.date,
            "version": self.version,
            "issuer": self.issuer,
            "url": self.url,
            "status": self.status,
            "valid_from": self.valid_from,
            "source_path": self.source_path,
            "history": list(self.history),
        }


@dataclass(frozen=True)
class ReadError:
    """A file that could not be read, and why. Reported, then skipped."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"
