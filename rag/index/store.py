"""An index folder on disk: generations of plain files, swapped in atomically.

Layout of ``INDEX_DIR``::

    CURRENT                 name of the live generation (replaced atomically)
    gen-<time>-<rand>/      one complete generation
        manifest.json       what built it, and the size + sha256 of every file below
        documents.jsonl     document metadata and clean text
        clauses.jsonl       clause records (offsets into the document text) + content hash
        vectors.npy         float32 [clauses, dimension], L2-normalised, row i = clause i
        bm25/               bm25s index files (.npy arrays and JSON, no pickle)
        faiss.index         only for approximate (HNSW) search

A build writes a new ``.tmp-*`` folder, fsyncs it, renames it to ``gen-*`` and only then
replaces ``CURRENT``: a build killed at any moment leaves the previous generation live.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rag.core.files import exclusive_lock, fsync_dir
from rag.index.backend import StoreError

CURRENT = "CURRENT"
MANIFEST = "manifest.json"


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


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_file():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
    for path in [folder, *[p for p in folder.rglob("*") if p.is_dir()]]:
        fsync_dir(path)


def current_generation(index_dir: Path) -> Path | None:
    """The live generation folder, or None when the folder holds no index yet."""
    pointer = index_dir / CURRENT
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    if not name.startswith("gen-") or "/" in name:
        raise StoreError(f"{pointer}: does not name a generation ({name!r}); rebuild the index")
    folder = index_dir / name
    if not folder.is_dir():
        raise StoreError(f"{pointer}: names {name}, which is missing; rebuild the index")
    return folder


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time per index folder (readers never need the lock)."""
    with exclusive_lock(index_dir / ".lock", wait=False) as held:
        if not held:
            raise StoreError(
                f"{index_dir}: another `rag index` is building this index; wait for it"
            )
        yield


def new_staging_folder(index_dir: Path) -> Path:
    """A fresh folder to write a generation into; clears leftovers of killed builds."""
    for stale in index_dir.glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    folder = index_dir / f".tmp-{secrets.token_hex(4)}"
    folder.mkdir()
    return folder


def publish(index_dir: Path, staging: Path) -> Path:
    """Make ``staging`` the live generation atomically and remove older generations."""
    _fsync_tree(staging)
    name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
    final = index_dir / name
    os.replace(staging, final)
    fsync_dir(index_dir)
    pointer_tmp = index_dir / f".{CURRENT}.tmp"
    with pointer_tmp.open("w", encoding="utf-8") as handle:
        handle.write(name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(pointer_tmp, index_dir / CURRENT)
    fsync_dir(index_dir)
    for old in index_dir.glob("gen-*"):
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    return final


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
