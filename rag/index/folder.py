"""An index folder: recognisably ours, one build at a time, generations published atomically.

Layout::

    .rag-index          marker written when rag creates (or adopts) the folder
    CURRENT             name of the live generation (replaced atomically)
    generations.json    every generation rag published here, oldest first
    gen-<time>-<rand>/  one generation (see rag.index.store and rag.index.embedded)

A build writes a staging folder (its name recorded in ``.staging`` first), fsyncs it,
renames it to ``gen-*`` and only then replaces ``CURRENT``: a build killed at any moment
leaves the previous generation live. Clean-up only ever removes folders this file recorded:
never a folder rag did not create. Replaced generations are kept — the previous one whole
(a reader may still be opening it), older ones as their records (documents, clauses,
manifest: what ``rag changes`` compares) — up to a retention count.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rag.core.files import exclusive_lock, fsync_dir, replace_file
from rag.index.backend import StoreError
from rag.index.store import SEARCH_FILES, fsync_tree

MARKER = ".rag-index"
CURRENT = "CURRENT"
GENERATIONS = "generations.json"
STAGING = ".staging"
LOCK = ".lock"
KEEP_ENV = "RAG_KEEP_GENERATIONS"
# current + 12 earlier: a year of monthly updates
DEFAULT_KEEP = 13


@dataclass(frozen=True)
class Generation:
    """One published generation, as ``generations.json`` records it."""

    name: str
    published: str  # ISO time
    fingerprint: str
    documents: int
    clauses: int
    whole: bool = True  # False once only its records are kept


def keep_setting() -> int:
    """How many generations to keep: ``$RAG_KEEP_GENERATIONS``, else 13; at least 2."""
    raw = os.environ.get(KEEP_ENV, "").strip()
    if not raw:
        return DEFAULT_KEEP
    try:
        return max(2, int(raw))
    except ValueError:
        raise StoreError(f"{KEEP_ENV}={raw!r} is not a whole number of generations") from None


# ---------------------------------------------------------------- ownership


def is_index_folder(folder: Path) -> bool:
    return (folder / MARKER).is_file()


def _legacy_current(folder: Path) -> str | None:
    """The live generation of an index written before the marker existed, if it is one."""
    pointer = folder / CURRENT
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    return name if name.startswith("gen-") and (folder / name).is_dir() else None


def claim(folder: Path) -> None:
    """Make sure ``folder`` is an index folder rag owns, creating it if needed.

    A new or empty folder gets the marker; an index from before the marker is adopted;
    any other non-empty folder is refused, so its files are never touched.
    """
    if is_index_folder(folder):
        return
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"{folder}: is a file, not an index folder; choose another --index")
    legacy = _legacy_current(folder) if folder.is_dir() else None
    entries = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    if entries and legacy is None:
        shown = ", ".join(entries[:4]) + (", …" if len(entries) > 4 else "")
        raise StoreError(
            f"{folder}: not an index folder (it holds {shown}, which rag did not create); "
            f"choose a new or empty folder for --index, e.g. {folder / 'index'}"
        )
    folder.mkdir(parents=True, exist_ok=True)
    if legacy is not None and not (folder / GENERATIONS).exists():
        _write_generations(folder, [Generation(legacy, "", "", 0, 0)])
    replace_file(folder / MARKER, json.dumps(
        {"format": "rag-index-folder", "version": 1,
         "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}) + "\n")


@contextmanager
def build_lock(folder: Path) -> Iterator[None]:
    """One build at a time per index folder (readers never need the lock)."""
    claim(folder)
    with exclusive_lock(folder / LOCK, wait=False) as held:
        if not held:
            raise StoreError(f"{folder}: another `rag index` is building this index; wait for it")
        yield


# ---------------------------------------------------------------- generations


def current_generation(folder: Path) -> Path | None:
    """The live generation folder, or None when the folder holds no index yet."""
    pointer = folder / CURRENT
    if not pointer.is_file():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    if not name.startswith("gen-") or "/" in name:
        raise StoreError(f"{pointer}: does not name a generation ({name!r}); rebuild the index")
    generation = folder / name
    if not generation.is_dir():
        raise StoreError(f"{pointer}: names {name}, which is missing; rebuild the index")
    return generation


def generations(folder: Path) -> list[Generation]:
    """Every generation rag published here and still keeps, oldest first."""
    path = folder / GENERATIONS
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, json.JSONDecodeError) as error:
        raise StoreError(f"{path}: unreadable ({error}); delete it to forget old "
                         "generations (the live index is not affected)") from None
    if not isinstance(rows, list):
        raise StoreError(f"{path}: not a list of generations; delete it to forget them")
    return [Generation(**row) for row in rows if isinstance(row, dict)]


def _write_generations(folder: Path, rows: list[Generation]) -> None:
    replace_file(folder / GENERATIONS,
                      json.dumps([asdict(g) for g in rows], ensure_ascii=False, indent=1) + "\n")


def new_staging_folder(folder: Path) -> Path:
    """A fresh folder to write a generation into; removes what killed builds left behind
    (only the staging folders recorded in ``.staging``)."""
    journal = folder / STAGING
    for name in journal.read_text(encoding="utf-8").split() if journal.is_file() else []:
        if name.startswith(".tmp-"):
            shutil.rmtree(folder / name, ignore_errors=True)
    name = f".tmp-{secrets.token_hex(4)}"
    replace_file(journal, name + "\n")
    staging = folder / name
    staging.mkdir()
    return staging


def publish(folder: Path, staging: Path, *, manifest: dict[str, Any], keep: int) -> Path:
    """Make ``staging`` the live generation atomically, record it, apply retention."""
    fsync_tree(staging)
    name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
    final = folder / name
    os.replace(staging, final)
    fsync_dir(folder)
    replace_file(folder / CURRENT, name + "\n")
    (folder / STAGING).unlink(missing_ok=True)
    counts = manifest.get("counts") or {}
    record = Generation(
        name=name, published=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        fingerprint=str(manifest.get("corpus_fingerprint", "")),
        documents=int(counts.get("documents", 0)), clauses=int(counts.get("clauses", 0)),
    )
    kept = [g for g in generations(folder) if g.name != name and (folder / g.name).is_dir()]
    _write_generations(folder, retain(folder, [*kept, record], keep=keep))
    return final


def retain(folder: Path, rows: list[Generation], *, keep: int) -> list[Generation]:
    """Keep the newest ``keep`` generations: the live and the previous one whole, older
    ones as records only; remove the rest. Only recorded generations are touched."""
    out: list[Generation] = []
    for age, row in enumerate(reversed(rows)):  # newest first
        path = folder / row.name
        if age >= keep:
            shutil.rmtree(path, ignore_errors=True)
            continue
        if age >= 2 and row.whole:
            for search_file in SEARCH_FILES:
                target = path / search_file
                if target.is_dir():
                    shutil.rmtree(target, ignore_errors=True)
                else:
                    target.unlink(missing_ok=True)
            row = Generation(**{**asdict(row), "whole": False})
        out.append(row)
    return list(reversed(out))


def disk_full(error: OSError, folder: Path) -> bool:
    """Whether ``error`` (raised while writing under ``folder``) means the disk is full:
    ENOSPC or EDQUOT, or a short write (numpy says "N requested and M written") on a
    file system with under 1 MiB left."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    try:
        return shutil.disk_usage(folder).free < 1 << 20
    except OSError:
        return False


def disk_usage(folder: Path) -> int:
    """Bytes the index folder takes, every kept generation included."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
