"""Readers: turn a source file into a :class:`~rag.core.documents.Document` with clean text.

Supported inputs: news posts (YAML front matter + HTML body), plain text, LawRefBook statute
markdown (joined with the folder's ``db.sqlite3``), other markdown and HTML pages, PDF
(text layer, or OCR for scanned pages; with a page map) and Word ``.docx``. A file
``X.meta.yaml`` next to ``X`` overrides metadata. :func:`load_documents` reads many files
and reports bad ones (and unreadable pages) as :class:`~rag.core.documents.ReadError`
instead of raising.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path, PurePath

from rag.core.documents import Document, ReadError
from rag.readers._docx import LEGACY_SUFFIXES, read_docx, refuse_legacy
from rag.readers._files import check_regular, read_bounded, source_files
from rag.readers._frontmatter import split_front_matter
from rag.readers._lawref import is_lawrefbook, read_lawrefbook, split_dated_stem
from rag.readers._markdown import read_markdown
from rag.readers._ocr import Ocr
from rag.readers._pdf import DEFAULT_MAX_PAGES, read_pdf
from rag.readers._plain import read_plain
from rag.readers._post import read_html, read_post
from rag.readers._sidecar import SIDECAR_SUFFIX, apply_sidecar, read_sidecar
from rag.readers._text import (
    Deadline,
    FormatError,
    Parsed,
    TextBuilder,
    clean_line,
    decode_bytes,
    slugify,
)

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_PAGES",
    "DEFAULT_MAX_SECONDS",
    "FORMATS",
    "SUFFIXES",
    "DocumentError",
    "Ocr",
    "detect_format",
    "list_sources",
    "load_documents",
    "read_document",
    "read_file",
    "slugify",
    "unique_ids",
]

DEFAULT_MAX_BYTES = 16 * 2**20
# PDFs (scans above all) are larger than text files for the same text.
BINARY_MAX_BYTES = {".pdf": 256 * 2**20, ".docx": 64 * 2**20}
# a PDF or Word file that takes longer is refused (a 2,000-page statute reads in far less)
DEFAULT_MAX_SECONDS = 300.0
TEXT_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm")
SUFFIXES = (*TEXT_SUFFIXES, ".pdf", ".docx")
FORMATS = ("lawrefbook", "post", "html", "markdown", "text", "pdf", "docx")
SKIP_NAMES = frozenset({"_index.md", "法律法规模版.md"})
_MARKDOWN = frozenset({".md", ".markdown"})
_HTML = frozenset({".html", ".htm"})
_HTML_PAGE = re.compile(r"\A\s*(?:<!doctype\s+html|<html[\s>])", re.IGNORECASE)
_HTML_BODY = re.compile(r"<(?:p|div|span|br|h[1-6]|ul|ol|li|table|section|article)\b", re.I)


class DocumentError(ValueError):
    """A file that cannot be read as a document. ``error`` is the :class:`ReadError`."""

    def __init__(self, path: str | PurePath, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")

    @property
    def error(self) -> ReadError:
        return ReadError(path=self.path, reason=self.reason)


def read_document(
    path: Path,
    *,
    root: Path | None = None,
    max_bytes: int | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
    today: date | None = None,
    ocr: Ocr | None = None,
    progress: bool = False,
) -> Document:
    """Read one file into a :class:`Document`; raises :class:`DocumentError` saying why not.

    ``root`` makes ``source_path`` relative (posix separators); ``max_bytes`` is checked on
    the file size before reading (default: :data:`DEFAULT_MAX_BYTES` for text files, more
    for PDF and Word); ``max_pages`` limits PDFs; ``today`` decides ``not_yet_in_force``
    for statutes; ``ocr`` reads scanned pages (default: RapidOCR, cached under the data
    home), with a progress bar on stderr when ``progress``. Pages that cannot be read are
    left out silently here; :func:`read_file` returns them.
    """
    return read_file(path, root=root, max_bytes=max_bytes, max_pages=max_pages, today=today,
                     ocr=ocr, progress=progress)[0]


def read_file(
    path: Path,
    *,
    root: Path | None = None,
    max_bytes: int | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
    today: date | None = None,
    ocr: Ocr | None = None,
    progress: bool = False,
    max_seconds: float | None = DEFAULT_MAX_SECONDS,
) -> tuple[Document, list[ReadError]]:
    """:func:`read_document`, and one :class:`ReadError` per page that could not be read
    (``page 7: …``) while the rest of the document loaded. A PDF or Word file that takes
    more than ``max_seconds`` to read is refused (None: no limit)."""
    path = Path(path)
    shown = display_path(path, root=root)
    suffix = path.suffix.lower()
    try:
        _check_file(path, max_bytes=max_bytes)
        overrides = read_sidecar(path)  # first: a bad sidecar costs no decoding or OCR
        if suffix in TEXT_SUFFIXES:
            text = _decode(path, max_bytes=_limit(path, max_bytes))
            parsed = _parse(path, text, today=today or date.today())
        else:
            parsed = _parse_binary(path, max_bytes=_limit(path, max_bytes), max_pages=max_pages,
                                   ocr=ocr, progress=progress, deadline=Deadline(max_seconds))
        apply_sidecar(parsed, overrides)
        document = _build(parsed, doc_id=slugify(path.stem), source_path=shown)
    except FormatError as exc:
        raise DocumentError(shown, str(exc)) from exc
    return document, [ReadError(shown, warning) for warning in parsed.warnings]


def load_documents(
    paths: Iterable[Path],
    *,
    root: Path | None = None,
    max_bytes: int | None = None,
    max_pages: int = DEFAULT_MAX_PAGES,
    today: date | None = None,
    ocr: Ocr | None = None,
    progress: bool = False,
    follow_links: bool = False,
    on_file: Callable[[int, int], None] | None = None,
) -> tuple[list[Document], list[ReadError]]:
    """Read files and directories (recursively, sorted); bad files become errors.

    Never raises for a bad file. A page that cannot be read is an error too (``page 7:
    …``) while the rest of its document loads. Inside folders, only :data:`SUFFIXES` are
    taken (legacy ``.doc``/``.wps`` too, to report them); hidden files and folders,
    ``_index.md``, ``法律法规模版.md`` and ``*.meta.yaml`` sidecars are skipped, and links
    out of the folder are not followed unless ``follow_links``; every other path skipped
    is reported with its reason. Documents whose ``doc_id`` collides get the parent
    folder's name as a prefix (``民法商法-公司法``), then ``-2``, ``-3`` …. Options as for
    :func:`read_document`; one OCR engine serves every file. ``on_file(done, total)``
    is called once the files are listed and after each file (a live progress bar).
    """
    today = today or date.today()
    ocr = ocr or Ocr()
    loaded: list[tuple[Path, Document]] = []
    errors: list[ReadError] = []
    files: Iterable[Path] = source_files(paths, accept=_is_source_name, errors=errors,
                                         shown=lambda p: display_path(p, root=root),
                                         follow_links=follow_links)
    if on_file is not None:
        files = list(files)  # the total first, for a progress bar
    total = len(files) if isinstance(files, list) else 0
    for done, path in enumerate(files):
        if on_file is not None:
            on_file(done, total)
        try:
            document, warnings = read_file(path, root=root, max_bytes=max_bytes,
                                           max_pages=max_pages, today=today, ocr=ocr,
                                           progress=progress)
        except DocumentError as exc:
            errors.append(exc.error)
        except Exception as exc:  # one broken file must not abort a corpus load
            shown = display_path(path, root=root)
            errors.append(ReadError(shown, f"unexpected {type(exc).__name__}: {exc}"))
        else:
            loaded.append((path, document))
            errors.extend(warnings)
    if on_file is not None:
        on_file(total, total)
    return _unique_ids(loaded), errors


def list_sources(
    paths: Iterable[Path], *, root: Path | None = None, follow_links: bool = False
) -> tuple[list[Path], list[ReadError]]:
    """The files :func:`load_documents` would read from ``paths``, in its order, and the
    paths it would skip and why (for readers that read the files elsewhere, e.g. on a
    cluster)."""
    errors: list[ReadError] = []
    files = source_files(paths, accept=_is_source_name, errors=errors,
                         shown=lambda p: display_path(p, root=root), follow_links=follow_links)
    return list(files), errors


def unique_ids(loaded: list[tuple[Path, Document]]) -> list[Document]:
    r""":func:`load_documents`' disambiguation of colliding ``doc_id``\ s, for documents
    read one file at a time (``loaded`` in :func:`list_sources` order)."""
    return _unique_ids(loaded)


def detect_format(path: Path, text: str) -> str:
    """Which reader handles ``text`` from ``path``: one of :data:`FORMATS`.

    PDF and Word files are told by their suffix (``text`` is not used for them).
    """
    suffix = path.suffix.lower()
    if suffix in (".pdf", ".docx"):
        return suffix[1:]
    if suffix in _MARKDOWN and is_lawrefbook(text):
        return "lawrefbook"
    meta, body = split_front_matter(text)
    if meta is not None and _HTML_BODY.search(body):
        return "post"
    if suffix in _HTML or _HTML_PAGE.match(text):
        return "html"
    if suffix in _MARKDOWN or meta is not None:
        return "markdown"
    return "text"


def display_path(path: Path, *, root: Path | None) -> str:
    """``path`` relative to ``root`` when it lies inside it, with posix separators."""
    if root is not None:
        try:
            return path.resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            pass
    return path.as_posix()


def _is_source_name(name: str) -> bool:
    return (
        not name.startswith(".")
        and name not in SKIP_NAMES
        and not name.endswith(SIDECAR_SUFFIX)
        and Path(name).suffix.lower() in (*SUFFIXES, *LEGACY_SUFFIXES)
    )


def _limit(path: Path, max_bytes: int | None) -> int:
    if max_bytes is not None:
        return max_bytes
    return BINARY_MAX_BYTES.get(path.suffix.lower(), DEFAULT_MAX_BYTES)


def _check_file(path: Path, *, max_bytes: int | None) -> None:
    """An existing, regular, supported file within the size limit (checked before it is
    opened: a FIFO would block, a device never end)."""
    size = check_regular(path)
    suffix = path.suffix.lower()
    if suffix in LEGACY_SUFFIXES:
        raise refuse_legacy()
    if suffix not in SUFFIXES:
        raise FormatError(
            f"unsupported file type {path.suffix or '(none)'!r} (supported: {', '.join(SUFFIXES)})"
        )
    if size == 0:
        raise FormatError("empty file")
    limit = _limit(path, max_bytes)
    if size > limit:
        raise FormatError(f"file too large: {size} bytes (limit {limit} bytes)")


def _decode(path: Path, *, max_bytes: int) -> str:
    data = read_bounded(path, max_bytes=max_bytes)
    text = decode_bytes(data) if data.strip() else ""
    if not text.strip():
        raise FormatError("empty file")
    return text


def _parse_binary(
    path: Path, *, max_bytes: int, max_pages: int, ocr: Ocr | None, progress: bool,
    deadline: Deadline,
) -> Parsed:
    fallback = split_dated_stem(path.stem)[0]
    if path.suffix.lower() == ".pdf":
        return read_pdf(path, fallback_title=fallback, max_pages=max_pages, ocr=ocr,
                        progress=progress, deadline=deadline)
    return read_docx(path, fallback_title=fallback, max_bytes=max_bytes, deadline=deadline)


def _parse(path: Path, text: str, *, today: date) -> Parsed:
    fmt = detect_format(path, text)
    fallback = split_dated_stem(path.stem)[0]
    if fmt == "lawrefbook":
        return read_lawrefbook(text, path, today=today)
    if fmt == "html":
        return read_html(text, fallback_title=fallback)
    meta, body = split_front_matter(text)
    if fmt == "post":
        return read_post(meta or {}, body, fallback_title=fallback)
    if fmt == "markdown":
        return read_markdown(meta, body, fallback_title=fallback)
    return read_plain(text, fallback_title=fallback)


def _build(parsed: Parsed, *, doc_id: str, source_path: str) -> Document:
    extra = dict(parsed.extra)
    lead = parsed.lead_blocks
    builder = TextBuilder()
    builder.extend(parsed.blocks[:lead])
    if lead:
        extra["body_start"] = str(builder.length + 1 if builder.lines else 0)
    builder.extend(parsed.blocks[lead:])
    if not builder.lines:
        raise FormatError("no text after cleaning")
    return Document(
        doc_id=doc_id,
        title=clean_line(parsed.title) or doc_id,
        text=builder.text,
        kind=parsed.kind,
        source_path=source_path,
        date=parsed.date,
        version=parsed.version,
        issuer=parsed.issuer,
        url=parsed.url,
        status=parsed.status,
        valid_from=parsed.valid_from,
        subtitle=parsed.subtitle,
        history=parsed.history,
        headings=tuple(builder.headings),
        pages=builder.page_map(parsed.page_count),
        ocr=parsed.ocr,
        extra=extra,
    )


def _unique_ids(loaded: list[tuple[Path, Document]]) -> list[Document]:
    """Disambiguate colliding ``doc_id``s deterministically (input order is sorted)."""
    counts: dict[str, int] = {}
    for _, document in loaded:
        counts[document.doc_id] = counts.get(document.doc_id, 0) + 1
    taken: set[str] = {doc_id for doc_id, n in counts.items() if n == 1}
    out = []
    for path, document in loaded:
        if counts[document.doc_id] == 1:
            out.append(document)
            continue
        base = f"{slugify(path.resolve().parent.name)}-{document.doc_id}"
        doc_id, n = base, 1
        while doc_id in taken:
            n += 1
            doc_id = f"{base}-{n}"
        taken.add(doc_id)
        out.append(dataclasses.replace(document, doc_id=doc_id))
    return out
