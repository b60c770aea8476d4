"""Consequence questions: what enforces a cited duty, quoted verbatim beside it.

"违反《证券法》第四十条的规定会受到什么处罚？", "…要承担什么责任", "罚款多少",
"What is the penalty for …": after the clauses a question names or finds, the penalty
clauses linked to them (:mod:`rag.links`) are cited too — administrative first, then
criminal, then civil — each marked with the duty it enforces; a penalty the search finds
before any of its duties leads with the one it ranked best. A cited duty with no linked
penalty says so (:data:`rag.answer.wording.NO_PENALTY`); nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from rag.answer.types import Citation, LinkedClause
from rag.answer.wording import NO_PENALTY
from rag.core.citations import citation_string
from rag.core.clauses import Clause
from rag.links import Link, links_for
from rag.search import Hit, Index


def _label(index: Index, clause_id: str) -> str:
    clause = _clause(index, clause_id)
    return citation_string(clause, index.document_of(clause))


def _clause(index: Index, unit_id: str) -> Clause:
    row = index.row_of.get(unit_id)
    if row is None:  # a split article: its first part
        row = index.row_of[f"{unit_id}.part1"]
    return index.clauses[row]


def linked(index: Index, link: Link) -> LinkedClause:
    """A penalty link as plain data for a citation."""
    target = _clause(index, link.target)
    return LinkedClause(
        clause_id=target.id, citation=_label(index, link.target),
        kind=link.kind, confidence=link.confidence,
        evidence=link.evidence,
        label=target.label, document=index.document_of(target).title,
    )


def penalties_of(index: Index, clause: Clause) -> tuple[LinkedClause, ...]:
    """The penalties linked to ``clause``, administrative first, then criminal, then civil."""
    return tuple(linked(index, link) for link in links_for(index).penalties(clause.id))


def referenced_by(index: Index, clause: Clause) -> tuple[LinkedClause, ...]:
    """The clauses that cite ``clause`` (依照本法第五十三条 … in reverse)."""
    out = []
    for unit in links_for(index).referenced_by(clause.id):
        citing = _clause(index, unit)
        out.append(LinkedClause(clause_id=citing.id, citation=_label(index, unit), kind="cites",
                                label=citing.label, document=index.document_of(citing).title))
    return tuple(out)


def penalty_note(index: Index, clause_id: str) -> str | None:
    """:data:`NO_PENALTY` for a duty clause no penalty links to (and that is not itself a
    penalty); None otherwise."""
    table = links_for(index)
    unenforced = (bool(table.duties_of(clause_id)) and not table.penalties(clause_id)
                  and not table.is_penalty(clause_id))
    return NO_PENALTY if unenforced else None


def with_penalties(
    index: Index, citations: list[Citation], *, k: int,
    cite_penalty: Callable[[Clause, int, Citation], Citation],
    admits: Callable[[Clause], bool] = lambda clause: True,
    hits: Sequence[Hit] = (), cite_hit: Callable[[Hit], Citation] | None = None,
) -> list[Citation]:
    """``citations`` with, after each duty the question named or found first, the
    penalty clauses that enforce it (each once), then the rest, up to ``k`` (the named
    clauses and their penalties are all kept). A duty with no penalty gets the note.
    A penalty found first leads with the duty it enforces that the search ranked best
    among ``hits`` (cited by ``cite_hit``), so it too is quoted with its duty."""
    out: list[Citation] = []
    shown: set[str] = set()
    # the clauses the question names, else the two it found first
    leading = [c for c in citations if c.via == "lookup"] or citations[:2]
    if cite_hit is not None:
        citations, leading = _with_duties(index, citations, leading, hits, cite_hit)
    for cited in citations:
        clause = index.clauses[index.row_of[cited.clause_id]]
        if clause.unit_id in shown:
            continue
        shown.add(clause.unit_id)
        note = penalty_note(index, cited.clause_id) if cited in leading else None
        out.append(replace(cited, rank=len(out) + 1, penalty_note=note))
        if cited not in leading:
            continue
        for penalty in cited.penalties:
            target = index.clauses[index.row_of[penalty.clause_id]]
            if target.unit_id in shown or not admits(target):  # the question's filters
                continue
            shown.add(target.unit_id)
            out.append(cite_penalty(target, len(out) + 1, cited))
    found = {hit.clause.unit_id: position for position, hit in enumerate(hits)}
    out = _by_duty(index, out, leading, found)
    named = len([c for c in out if c.via in ("lookup", "penalty")])
    return out[:max(k, named)]


def _with_duties(index: Index, citations: list[Citation], leading: list[Citation],
                 hits: Sequence[Hit], cite_hit: Callable[[Hit], Citation],
                 ) -> tuple[list[Citation], list[Citation]]:
    """``citations`` and ``leading`` with, for each leading penalty the search found whose
    duty does not lead too, that duty: the one it enforces that ranks best in ``hits``
    (moved up from ``citations``, or cited before the penalty)."""
    table = links_for(index)
    place = {hit.clause.unit_id: position for position, hit in enumerate(hits)}
    citations, leading = list(citations), list(leading)
    for penalty in list(leading):
        if penalty.via != "search":  # named or confirmed: what was asked for
            continue
        duties = {_clause(index, link.source).unit_id for link in table.enforces(penalty.clause_id)}
        led = {_clause(index, c.clause_id).unit_id for c in leading}
        ranked = sorted((place[unit], unit) for unit in duties if unit in place)
        if not ranked or duties & led:
            continue
        hit = hits[ranked[0][0]]
        cited = next((c for c in citations
                      if _clause(index, c.clause_id).unit_id == hit.clause.unit_id), None)
        if cited is None:
            cited = cite_hit(hit)
            citations.insert(citations.index(penalty), cited)
        leading.append(cited)
    return citations, leading


PINNED = ("lookup", "memory")  # named by the question, or confirmed for it: never moved


LIABILITY = {"explicit": 0, "implicit": 0, "criminal": 1, "civil": 2}  # administrative first
OWN = (-1, -1, -1)  # a clause that heads its own group


def _by_duty(index: Index, out: list[Citation], leading: list[Citation],
             found: Mapping[str, int]) -> list[Citation]:
    """Each leading duty quoted first in its group, then the penalties that enforce it,
    administrative, criminal, civil, and within each those the search ranked (``found``:
    unit → place in the search's order) first, in its order — also those the search found
    before the duty (刑法第一百八十条 ahead of 证券法第五十四条 for 利用内幕消息炒股会被罚多少钱): a
    group stands where its first member stood; clauses the question names, or a reader
    confirmed for it, keep their place."""
    def unit(clause_id: str) -> str:
        return index.clauses[index.row_of[clause_id]].unit_id

    # a penalty's unit → (its duty's unit, (liability, place in the search, place in links))
    owner: dict[str, tuple[str, tuple[int, int, int]]] = {}
    for duty in leading:
        for place, penalty in enumerate(duty.penalties):
            own = unit(penalty.clause_id)
            owner.setdefault(own, (unit(duty.clause_id), (
                LIABILITY.get(penalty.kind, 0), found.get(own, len(found)), place)))
    cited = {unit(c.clause_id) for c in out}

    def group(citation: Citation) -> tuple[str, tuple[int, int, int]]:
        own = unit(citation.clause_id)
        duty = owner.get(own)
        if citation.via in PINNED or duty is None or duty[0] == own or duty[0] not in cited:
            return own, OWN
        return duty

    first: dict[str, int] = {}
    for position, citation in enumerate(out):
        first.setdefault(group(citation)[0], position)
    ordered = sorted(range(len(out)), key=lambda i: (first[group(out[i])[0]], group(out[i])[1], i))
    duty_of = {unit(c.clause_id): c.clause_id for c in out}

    def enforces(citation: Citation) -> str | None:  # a penalty found by search: its duty
        duty, place = group(citation)
        return citation.enforces or (duty_of[duty] if place != OWN else None)

    return [replace(out[i], rank=rank, enforces=enforces(out[i]))
            for rank, i in enumerate(ordered, start=1)]

