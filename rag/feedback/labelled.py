"""Labelled questions from a file: ours, ``{question, clause_id}`` and STARD's format.

Each line of a JSON lines file is one of

* a batch record (``rag batch`` output): ``question`` and ``citations: [{clause_id}]``;
* ``{"question": …, "clause_id": …}`` (or ``"clause_ids": […]``);
* STARD: ``question`` and ``gold: [{"law": …, "article": …}]``, resolved to the
  clauses of the index through the named-clause look-up (the version in force first).

``rag learn`` stores them as accepted feedback; ``rag eval`` scores retrieval on them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rag.core.clauses import Clause
from rag.core.titles import title_key
from rag.search import Index, find_named, resolve

MAX_FILE_BYTES = 200 * 2**20


@dataclass(frozen=True)
class Labelled:
    """One labelled question: the clauses that govern it (ids in the index), and the
    gold articles as (law title key, article label) for article-level scoring."""

    line: int
    question: str
    clause_ids: tuple[str, ...]
    articles: tuple[tuple[str, str], ...]
    unresolved: tuple[str, ...] = ()  # golds the index has no clause for


@dataclass
class LabelledFile:
    path: Path
    items: list[Labelled] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "FILE:LINE: what is wrong"


def gold_clause(index: Index, law: str, article: str) -> Clause | None:
    """The clause ``article`` of the law titled ``law``: its version in force when the
    index holds several, else the newest."""
    refs = find_named(f"《{law}》{article}", index.documents.values())
    found = [c for c in resolve(refs, index.by_label) if c.label == article]
    if not found:
        wanted = title_key(law)
        found = [c for (doc_id, label), clauses in index.by_label.items()
                 if label == article and title_key(index.documents[doc_id].title) == wanted
                 for c in clauses]
    ordered = prefer_current(index, found)
    return ordered[0] if ordered else None


def prefer_current(index: Index, clauses: list[Clause]) -> list[Clause]:
    """``clauses`` with those of the version in force first, then newer before older."""
    versions = index.versions()
    ordered = sorted(clauses, key=lambda c: index.row_of[c.id])
    ordered.sort(key=lambda c: index.documents[c.doc_id].date or "", reverse=True)
    ordered.sort(key=lambda c: not (c.doc_id in versions and versions[c.doc_id].preferred))
    return ordered


def article_of(index: Index, clause: Clause) -> tuple[str, str]:
    """(law title key, article label): the unit article-level scoring compares."""
    return title_key(index.documents[clause.doc_id].title), clause.label


def parse(record: Any, index: Index, line: int) -> Labelled:
    """One record as a :class:`Labelled`; ValueError saying what is wrong with it."""
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    question = record.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError('no "question" text')
    ids: list[str] = []
    articles: list[tuple[str, str]] = []
    unresolved: list[str] = []
    if "gold" in record:
        gold = record["gold"]
        if not isinstance(gold, list) or not gold:
            raise ValueError('"gold" must be a non-empty list of {law, article}')
        for entry in gold:
            if not isinstance(entry, dict) or not isinstance(entry.get("law"), str) \
                    or not isinstance(entry.get("article"), str):
                raise ValueError('each "gold" entry needs "law" and "article" text')
            articles.append((title_key(entry["law"]), entry["article"]))
            clause = gold_clause(index, entry["law"], entry["article"])
            if clause is None:
                unresolved.append(f"《{entry['law']}》{entry['article']}")
            elif clause.id not in ids:
                ids.append(clause.id)
    else:
        if "clause_id" in record:
            wanted = [record["clause_id"]]
        elif "clause_ids" in record:
            wanted = record["clause_ids"]
        elif "citations" in record:
            citations = record["citations"]
            if not isinstance(citations, list):
                raise ValueError('"citations" must be a list')
            wanted = [c.get("clause_id") if isinstance(c, dict) else None for c in citations]
        else:
            raise ValueError('no "clause_id", "clause_ids", "citations" or "gold"')
        if not isinstance(wanted, list) or not wanted:
            raise ValueError("no clause ids")
        for clause_id in wanted:
            if not isinstance(clause_id, str) or not clause_id.strip():
                raise ValueError("a clause id is not text")
            row = index.row_of.get(clause_id.strip())
            if row is None:
                unresolved.append(clause_id.strip())
                continue
            clause = index.clauses[row]
            if clause.id not in ids:
                ids.append(clause.id)
                articles.append(article_of(index, clause))
    return Labelled(line, question.strip(), tuple(ids), tuple(articles), tuple(unresolved))


def read_labelled(path: Path, index: Index) -> LabelledFile:
    """Every labelled question of ``path``; lines that cannot be used are listed in
    ``problems`` (file, line, what is wrong), the rest kept."""
    out = LabelledFile(path)
    for line, text in _lines(path):
        try:
            record = json.loads(text)
        except json.JSONDecodeError as error:
            out.problems.append(f"{path}:{line}: not JSON ({error.msg})")
            continue
        try:
            item = parse(record, index, line)
        except ValueError as error:
            out.problems.append(f"{path}:{line}: {error}")
            continue
        for gold in item.unresolved:
            out.problems.append(f"{path}:{line}: {gold} is not a clause of this index")
        out.items.append(item)
    return out


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        size = path.stat().st_size
    except OSError as error:
        raise ValueError(f"{path}: cannot read it ({error.strerror})") from None
    if size > MAX_FILE_BYTES:
        raise ValueError(f"{path}: {size:,} bytes; labelled files up to "
                         f"{MAX_FILE_BYTES // 2**20} MB are read")
    try:
        with path.open(encoding="utf-8") as handle:
            for number, text in enumerate(handle, 1):
                if text.strip():
                    yield number, text
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text; save it as UTF-8 JSON lines") from None
