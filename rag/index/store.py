"""The files of one generation: what the manifest lists, checked before anything is served."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from rag.core.files import fsync_dir
from rag.index.backend import StoreError

MANIFEST = "manifest.json"
DOCUMENTS = "documents.jsonl"
CLAUSES = "clauses.jsonl"
# What a generation needs to be searched; the rest (records and manifest) is its history.
SEARCH_FILES = ("vectors.npy", "bm25", "faiss.index")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_files(folder: Path) -> dict[str, dict[str, object]]:
    """Size and sha256 of every file under ``folder`` except the manifest."""
    files: dict[str, dict[str, object]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            rel = path.relative_to(folder).as_posix()
            files[rel] = {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
    return files


def verify_files(folder: Path, files: dict[str, dict[str, object]], *, hashes: bool) -> None:
    """Every listed file present with its size (and with ``hashes``, its sha256)."""
    for rel, info in files.items():
        path = folder / rel
        if not path.is_file():
            raise StoreError(f"{path}: missing from the index; rebuild it with `rag index`")
        size = path.stat().st_size
        if size != info["bytes"]:
            raise StoreError(
                f"{path}: {size} bytes, the manifest says {info['bytes']} (truncated or "
                "modified); rebuild the index with `rag index`"
            )
        if hashes and file_sha256(path) != info["sha256"]:
            raise StoreError(
                f"{path}: checksum does not match the manifest (corrupted); rebuild the "
                "index with `rag index`"
            )


def damaged_files(folder: Path, files: dict[str, dict[str, object]]) -> dict[str, str]:
    """The listed files that are missing, of another size or another sha256: name → why."""
    out: dict[str, str] = {}
    for rel, info in files.items():
        path = folder / rel
        try:
            if not path.is_file():
                out[rel] = "missing"
            elif path.stat().st_size != info["bytes"]:
                out[rel] = f"{path.stat().st_size} bytes, the manifest says {info['bytes']}"
            elif file_sha256(path) != info["sha256"]:
                out[rel] = "checksum differs from the manifest"
        except OSError as error:
            out[rel] = f"unreadable ({error.strerror or error})"
    return out


def fsync_tree(folder: Path) -> None:
    """Make every file and folder under ``folder`` durable."""
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    for path in [folder, *[p for p in folder.rglob("*") if p.is_dir()]]:
        fsync_dir(path)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as error:
                raise StoreError(
                    f"{path}:{number}: not valid JSON ({error.msg}); rebuild the index"
                ) from None
    return rows
