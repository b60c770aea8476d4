"""Penalty links that changed between two index generations (for ``rag changes``).

Links are recomputed from each generation's documents and clauses; a link is the duty,
the clause that enforces it and its kind. A changed penalty article changes its links:
第一百八十七条 citing 第四十二条 instead of 第四十条 removes one link and adds another.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rag.changes.generations import current, generation_records, index_folder, pick
from rag.core.citations import citation_string
from rag.index import Records
from rag.links.table import LinkTable


@dataclass(frozen=True)
class LinkChange:
    """A penalty link added or removed: ``duty`` is enforced (or no longer) by ``penalty``."""

    change: str  # added | removed
    kind: str
    duty: str  # citation strings, in the generation the link is in
    penalty: str


def _links(records: Records) -> dict[tuple[str, str, str], tuple[str, str]]:
    table = LinkTable(records.documents, records.clauses)
    documents = {d.doc_id: d for d in records.documents}

    def cite(unit: str) -> str:
        clause = table.clauses[table.unit_rows[unit][0]]
        return citation_string(clause, documents[clause.doc_id])

    return {(k.source, k.target, k.kind): (cite(k.source), cite(k.target))
            for k in table.all_links()}


def compare_links(old: Records, new: Records) -> list[LinkChange]:
    """The links only the old generation has (removed), then those only the new has, for
    duties of documents both hold (a document added or removed brings or takes all its
    links; the report lists the document)."""
    both = {d.doc_id for d in old.documents} & {d.doc_id for d in new.documents}
    before, after = _links(old), _links(new)

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
                         generation_records(index_dir, live.name))


def link_lines(changes: list[LinkChange]) -> list[str]:
    """The changes as text lines (empty when no link changed)."""
    if not changes:
        return []
    lines = [f"Penalty links changed ({len(changes)}):"]
    for change in changes:
        sign = "+" if change.change == "added" else "-"
        lines.append(f"  {sign} {change.duty} ← {change.penalty} ({change.kind})")
    return lines
