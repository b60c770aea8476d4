"""The records of a kept index generation, and which generation ``--since`` names.

An index folder keeps the generations it replaced (:mod:`rag.index.folder`): the previous
one whole, older ones as their records (documents, clauses, manifest), up to
``RAG_KEEP_GENERATIONS``. That is what a change report compares. A Milvus index keeps no
generations: change reports need the folder index.
"""

from __future__ import annotations

from pathlib import Path

from rag.core.dates import iso_date
from rag.core.locations import is_remote, rebuild_command
from rag.index import Records, StoreError, store
from rag.index import folder as folders
from rag.index.records import clause_from_row, document_from_row


def index_folder(location: Path | str) -> Path:
    """``location`` as an index folder; StoreError for a Milvus URI or a folder without an
    index."""
    if is_remote(location):
        raise StoreError(
            f"{location}: change reports compare the generations an index folder keeps; a "
            "Milvus index keeps none. Follow changes on a folder index (rag index PATH... "
            "--index DIR; rag changes --index DIR)")
    path = Path(location)
    if folders.current_generation(path) is None:
        raise StoreError(f"{path}: no index here yet; build one with "
                         f"`{rebuild_command(path)}`")
    return path


def generation_records(index_dir: Path, name: str) -> Records:
    """Every document and clause of generation ``name`` of the index at ``index_dir``."""
    if not name.startswith("gen-") or "/" in name:
        raise StoreError(f"{name!r} is not a generation name (gen-…)")
    generation = index_dir / name
    paths = (generation / store.DOCUMENTS, generation / store.CLAUSES)
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise StoreError(f"{missing[0]}: missing; generation {name} is no longer kept "
                         f"(see `rag changes --list` and ${folders.KEEP_ENV})")
    documents = {d.doc_id: d for d in map(document_from_row, store.read_jsonl(paths[0]))}
    clauses = tuple(clause_from_row(row, documents) for row in store.read_jsonl(paths[1]))
    return Records(tuple(documents.values()), clauses)


def current(index_dir: Path) -> folders.Generation:
    """The live generation's record (a bare record when generations.json lacks it)."""
    live = folders.current_generation(index_dir)
    if live is None:
        raise StoreError(f"{index_dir}: no index here yet")
    for generation in folders.generations(index_dir):
        if generation.name == live.name:
            return generation
    return folders.Generation(live.name, "", "", 0, 0)


def pick(index_dir: Path, since: str | None) -> folders.Generation:
    """The generation a report starts from: the one before the live one (``since`` None),
    a generation by name (or unique prefix of its name), or the last one published on or
    before a date (YYYY-MM-DD)."""
    live = current(index_dir)
    kept = [g for g in folders.generations(index_dir)
            if g.name != live.name and (index_dir / g.name / store.CLAUSES).is_file()]
    if not kept:
        raise StoreError(f"{index_dir}: only the live generation {live.name} is kept, so "
                         "there is nothing to compare yet; changes show after the next "
                         "`rag index` that changes something")
    names = ", ".join(f"{g.name} ({g.published[:10] or 'unknown date'})" for g in kept)
    if since is None:
        return kept[-1]
    if since.startswith("gen-"):
        found = [g for g in [*kept, live] if g.name.startswith(since)]
        if len(found) != 1:
            what = "matches several" if found else "is not one of the kept generations"
            raise StoreError(f"{since} {what}; kept: {names}")
        return found[0]
    try:
        day = iso_date(since)
    except ValueError as error:
        raise StoreError(f"--since {since!r}: {error}; give a date (YYYY-MM-DD) or a "
                         f"generation name; kept: {names}") from None
    before = [g for g in kept if g.published and g.published[:10] <= day]
    if not before:
        raise StoreError(f"no kept generation was published on or before {day}; kept: {names}")
    return before[-1]


def retention_line(index_dir: Path) -> str:
    """``3 generations kept (up to 13: $RAG_KEEP_GENERATIONS), 24.1 MB on disk``."""
    kept = len(folders.generations(index_dir))
    size = folders.disk_usage(index_dir) / 1e6
    return (f"{kept} generation{'s' if kept != 1 else ''} kept (up to "
            f"{folders.keep_setting()}: ${folders.KEEP_ENV}), {size:.1f} MB on disk")
