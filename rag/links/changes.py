"""Penalty links that changed between two index generations (for ``rag changes``).

Links are read from each generation's ``links.jsonl`` when its build stored them with
these rules, else recomputed from its documents and clauses; a link is the duty, the
clause that enforces it and its kind. A changed penalty article changes its links:
第一百八十七条 citing 第四十二条 instead of 第四十条 removes one link and adds another.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from rag.changes.generations import current, generation_records, index_folder, pick
from rag.core.citations import citation_string
from rag.core.clauses import Clause
from rag.index import Records, StoreError
from rag.index.derived import recorded
from rag.index.store import MANIFEST
from rag.links.stored import LINKS, LINKS_FILE, StoredLinks
from rag.links.table import LinkTable


@dataclass(frozen=True)
class LinkChange:
    """A penalty link added or removed: ``duty`` is enforced (or no longer) by ``penalty``."""

    change: str  # added | removed
    kind: str
    duty: str  # citation strings, in the generation the link is in
    penalty: str


def stored_links(generation: Path, records: Records) -> StoredLinks | None:
    """The links a generation's build stored, when made by these rules (else None)."""
    try:
        manifest = json.loads((generation / MANIFEST).read_text(encoding="utf-8"))
        if recorded(manifest).get(LINKS_FILE) != LINKS.identity():
            return None
        return StoredLinks(generation / LINKS_FILE, {d.doc_id: d for d in records.documents},
                           records.clauses)
    except (OSError, ValueError, StoreError):
        return None  # computed instead


def _links(records: Records, generation: Path | None = None
           ) -> dict[tuple[str, str, str], tuple[str, str]]:
    table = (stored_links(generation, records) if generation is not None else None) or \
        LinkTable(records.documents, records.clauses)
    documents = {d.doc_id: d for d in records.documents}
    first: dict[str, Clause] = {}
    for clause in records.clauses:
        first.setdefault(clause.unit_id, clause)

    def cite(unit: str) -> str:
        clause = first[unit]
        return citation_string(clause, documents[clause.doc_id])

    return {(k.source, k.target, k.kind): (cite(k.source), cite(k.target))
            for k in table.all_links()}


def compare_links(old: Records, new: Records, *, folders: tuple[Path, Path] | None = None
                  ) -> list[LinkChange]:
    """The links only the old generation has (removed), then those only the new has, for
    duties of documents both hold (a document added or removed brings or takes all its
    links; the report lists the document). ``folders``: the two generations' folders,
    whose stored links are read when they are these rules'."""
    both = {d.doc_id for d in old.documents} & {d.doc_id for d in new.documents}
    before = _links(old, folders[0] if folders else None)
    after = _links(new, folders[1] if folders else None)

    def kept(key: tuple[str, str, str]) -> bool:
        return key[0].split("#", 1)[0] in both

    removed = [LinkChange("removed", key[2], *before[key]) for key in sorted(before)
               if key not in after and kept(key)]
    added = [LinkChange("added", key[2], *after[key]) for key in sorted(after)
             if key not in before and kept(key)]
    return removed + added


def link_changes_since(location: Path | str, *, since: str | None = None) -> list[LinkChange]:
    """:func:`compare_links` between generation ``since`` (default the previous one) and
    the live generation of the index folder at ``location``."""
    index_dir = index_folder(location)
    start, live = pick(index_dir, since), current(index_dir)
    return compare_links(generation_records(index_dir, start.name),
                         generation_records(index_dir, live.name),
                         folders=(index_dir / start.name, index_dir / live.name))


def link_lines(changes: list[LinkChange]) -> list[str]:
    """The changes as text lines (empty when no link changed)."""
    if not changes:
        return []
    lines = [f"Penalty links changed ({len(changes)}):"]
    for change in changes:
        sign = "+" if change.change == "added" else "-"
        lines.append(f"  {sign} {change.duty} ← {change.penalty} ({change.kind})")
    return lines
