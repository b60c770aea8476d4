"""Per-law metadata from a LawRefBook ``db.sqlite3`` (read-only, cached per database)."""

from __future__ import annotations

import functools
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from urllib.request import pathname2url

DB_NAME = "db.sqlite3"
_SEARCH_LEVELS = 4
_QUERY = """
    SELECT law.name, law.level, law.publish, law.expired, law.valid_from, law.filename,
           category.folder
    FROM law LEFT JOIN category ON category.id = law.category_id
"""


@dataclass(frozen=True)
class LawRow:
    """One row of the ``law`` table, with its category folder."""

    name: str
    level: str
    publish: str | None
    expired: bool
    valid_from: str | None
    folder: str | None


@dataclass
class LawIndex:
    """Rows keyed by law name and by the ``filename`` column (民法典 books)."""

    root: Path
    by_key: dict[str, list[LawRow]] = field(default_factory=dict)

    def add(self, key: str | None, row: LawRow) -> None:
        if key:
            rows = self.by_key.setdefault(key, [])
            if row not in rows:
                rows.append(row)

    def find(self, name: str, *, publish: str | None, folder: str) -> LawRow | None:
        """The row for a file named ``name`` in ``folder`` (relative to the db).

        A dated file must match the publish date. Otherwise one candidate wins, then the
        single candidate in the file's folder, then the latest publish date.
        """
        rows = self.by_key.get(name, [])
        if publish is not None:
            rows = [row for row in rows if row.publish == publish]
            return rows[0] if rows else None
        if len(rows) > 1:
            rows = [row for row in rows if row.folder == folder] or rows
        if not rows:
            return None
        return max(rows, key=lambda row: row.publish or "")


def find_db(path: Path) -> Path | None:
    """The ``db.sqlite3`` in the nearest ancestor folder of ``path`` (up to 4 levels)."""
    return _find_db_in(path.resolve().parent)


@functools.lru_cache(maxsize=256)
def _find_db_in(folder: Path) -> Path | None:
    for candidate in [folder, *folder.parents][:_SEARCH_LEVELS]:
        db = candidate / DB_NAME
        if db.is_file():
            return db
    return None


@functools.lru_cache(maxsize=8)
def load_index(db: Path) -> LawIndex | None:
    """Read the whole ``law`` table once; None when the database cannot be read."""
    uri = f"file:{pathname2url(str(db))}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True)
        try:
            rows = connection.execute(_QUERY).fetchall()
        finally:
            connection.close()
    except sqlite3.Error:
        return None
    index = LawIndex(root=db.parent)
    for name, level, publish, expired, valid_from, filename, folder in rows:
        row = LawRow(name, level or "", publish, bool(expired), valid_from, folder)
        index.add(name, row)
        index.add(filename, row)
    return index
