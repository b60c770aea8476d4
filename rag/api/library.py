"""Documents added through the library: stored under the data directory, checked first.

Only the readers' formats are taken, within a size limit, under a sanitised name (no
folders, no hidden names, no control characters). Each file is written to a hidden
staging folder, read there as a document (a file the readers cannot read is refused with
their reason), then linked into place without replacing anything; so one bad upload is
reported and nothing else is lost. The library removes only files it stored. Its folder
joins the index's sources when the first file is added, so ``rag serve`` and ``rag
index`` re-read it later.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from rag.core.documents import Document
from rag.readers import SUFFIXES, DocumentError, read_document, slugify

DEFAULT_MAX_BYTES = 32 * 2**20
MAX_NAME_BYTES = 200  # file systems allow 255; CJK names take 3 bytes a character
STAGING = ".staging"
RESERVED = frozenset({"_index.md", "法律法规模版.md"})  # names the readers skip
_UNSAFE = re.compile(r"[^\w .()（）\[\]【】《》、，·+-]")
_CHUNK = 1 << 20


class UploadRefused(ValueError):
    """One file the library will not store; the message says why and what to do."""


class NotInLibrary(ValueError):
    """A document the library did not upload (a corpus file): it will not remove it."""


@dataclass(frozen=True)
class Stored:
    name: str
    path: Path
    bytes: int
    document: Document


@dataclass(frozen=True)
class Refused:
    name: str
    reason: str


def safe_name(name: str) -> str:
    """The name an upload is stored under: its last path part, NFC, unsafe characters as
    ``_``, within :data:`MAX_NAME_BYTES`. :class:`UploadRefused` for hidden or reserved
    names and other formats than the readers'."""
    base = PurePosixPath(unicodedata.normalize("NFC", name).replace("\\", "/")).name
    base = "".join(c for c in base if unicodedata.category(c)[0] != "C").strip()
    if not base or base.startswith("."):
        raise UploadRefused(f"{name!r}: hidden or empty file names are not accepted; "
                            "rename the file")
    stem, dot, suffix = base.rpartition(".")
    suffix = f".{suffix.lower()}"
    if not dot or suffix not in SUFFIXES:
        raise UploadRefused(f"{name!r}: only {', '.join(SUFFIXES)} files can be added")
    stem = _UNSAFE.sub("_", stem).strip(" .") or "document"
    while len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    safe = stem + suffix
    if safe in RESERVED or safe.endswith(".meta.yaml"):
        raise UploadRefused(f"{name!r}: this name is reserved; rename the file")
    return safe


class Library:
    """The folder of uploaded documents (created with the first one)."""

    def __init__(self, root: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root).resolve()
        self.max_bytes = max_bytes

    def owns(self, document: Document) -> bool:
        """Whether ``document`` was read from a file this library stored."""
        return Path(document.source_path).resolve().parent == self.root

    def files(self) -> list[Path]:
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir() if p.is_file()
                      and not p.name.startswith("."))

    def store(self, name: str, data: BinaryIO, *, taken: Collection[str] = ()) -> Stored:
        """Store the upload ``data`` sent as ``name``. ``taken``: document ids indexed from
        elsewhere, which an upload may not reuse (its clause ids would be ambiguous)."""
        safe = safe_name(name)
        target = self.root / safe
        if target.exists():
            raise UploadRefused(f"{safe} is already in the library; remove it first to "
                                "replace it")
        owned = {slugify(p.stem) for p in self.files()}
        staging = self._staging()
        try:
            path = staging / safe
            size = _copy_bounded(data, path, limit=self.max_bytes, name=safe)
            try:
                document = read_document(path)
            except DocumentError as error:
                raise UploadRefused(f"{safe}: {error.reason}") from None
            if document.doc_id in owned or document.doc_id in taken:
                raise UploadRefused(
                    f"{safe}: a document with id {document.doc_id} is already indexed; "
                    "rename the file (the id comes from its name)")
            try:
                os.link(path, target)  # never replaces a file that appeared meanwhile
            except FileExistsError:
                raise UploadRefused(f"{safe} is already in the library; remove it first "
                                    "to replace it") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return Stored(safe, target, size, document)

    def store_many(self, uploads: Iterable[tuple[str, Path | BinaryIO]], *,
                   taken: Collection[str] = ()) -> tuple[list[Stored], list[Refused]]:
        """Store each ``(name sent, file or stream)``; every refusal is reported and the
        rest stored."""
        stored: list[Stored] = []
        refused: list[Refused] = []
        for name, source in uploads:
            try:
                with source.open("rb") if isinstance(source, Path) else \
                        contextlib.nullcontext(source) as data:
                    stored.append(self.store(name, data, taken=taken))
            except UploadRefused as error:
                refused.append(Refused(name, str(error)))
            except OSError as error:
                refused.append(Refused(name, f"{name!r}: could not be stored ({error})"))
        return stored, refused

    def remove(self, document: Document) -> Path:
        """Delete the file ``document`` was read from; :class:`NotInLibrary` unless this
        library stored it."""
        if not self.owns(document):
            raise NotInLibrary(
                f"{document.title} ({document.doc_id}) comes from {document.source_path}, "
                "which the library did not add; it removes only files added through it — "
                "remove that file from its folder and re-index")
        path = Path(document.source_path).resolve()
        with contextlib.suppress(FileNotFoundError):  # already gone: re-indexing drops it
            path.unlink()
        return path

    def _staging(self) -> Path:
        parent = self.root / STAGING
        parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder = parent / secrets.token_hex(8)
        folder.mkdir(mode=0o700)
        return folder


def _copy_bounded(data: BinaryIO, path: Path, *, limit: int, name: str) -> int:
    """Copy ``data`` to a new file ``path``; :class:`UploadRefused` past ``limit`` bytes
    or when empty."""
    size = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := data.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise UploadRefused(f"{name}: larger than the limit of {limit:,} bytes")
            out.write(chunk)
        out.flush()
        with contextlib.suppress(OSError):
            os.fsync(out.fileno())
    if size == 0:
        raise UploadRefused(f"{name}: the file is empty")
    return size
