"""Criminal links: the crime whose words are those of a duty and the penalty enforcing it."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

from rag.core.clauses import Clause
from rag.core.documents import Document
from rag.core.numbering import article_pattern
from rag.links.duties import Duty
from rag.links.model import Evidence, Link
from rag.links.penalties import Conduct, conduct_words, paragraphs
from rag.links.terms import Weights, spans_of, terms

# a crime matches when it has this share of the penalty's conduct terms (by weight) …
CRIMINAL_PENALTY_MIN = 0.5
# … and the penalty and duty together name this share of the crime's
CRIMINAL_CRIME_MIN = 0.2
CRIMINAL_TERMS = 3  # and they share at least this many terms

# a penalty's reference to the article it enforces, left out of its conduct's words
REFERENCE = re.compile(
    r"(?:违反)?本法" + article_pattern() + r"(?:第[^条，的]{1,4}款)?(?:的?规定)?")


class CrimeMatcher:
    """The crimes of the indexed criminal codes, each with its conduct terms and their
    weights (computed on first use), matched against administrative penalty links."""

    def __init__(self, crimes: Sequence[Conduct], *, clauses: Sequence[Clause],
                 row_of: Mapping[str, int]) -> None:
        self.crimes = list(crimes)
        self._clauses = clauses
        self._row_of = row_of
        self._table: tuple[list[tuple[Conduct, frozenset[str]]], Weights] | None = None

    def _crime_table(self) -> tuple[list[tuple[Conduct, frozenset[str]]], Weights]:
        if self._table is None:
            found = []
            for crime in self.crimes:
                clause = self._clauses[self._row_of[crime.clause_id]]
                found.append((crime, terms(conduct_words(clause, crime.paragraph))))
            self._table = (found, Weights(t for _, t in found))
        return self._table

    def links(self, links: Sequence[Link], *, clauses: Sequence[Clause],
              row_of: Mapping[str, int], unit_rows: Mapping[str, Sequence[int]],
              documents: Mapping[str, Document],
              duty_units: Mapping[str, Sequence[Duty]]) -> list[Link]:
        """The crime whose words are the words of a duty and the administrative penalty
        that enforces it (内幕信息 … 买卖 → 刑法第一百八十条)."""
        if not self.crimes:
            return []
        crime_terms, weights = self._crime_table()
        out = []
        for link in links:
            if link.kind not in ("explicit", "implicit") or link.conduct is None:
                continue
            target_doc = documents[clauses[unit_rows[link.target][0]].doc_id]
            penalty = terms(REFERENCE.sub("", target_doc.text[slice(*link.conduct)]))
            said = duty_units.get(link.source, [])
            wanted = penalty | terms(" ".join(d.text for d in said))
            if len(penalty) < 2:
                continue
            total = weights.total(penalty)
            top: tuple[float, Conduct, frozenset[str]] | None = None
            for crime, have in crime_terms:
                shared = wanted & have
                if len(shared) < CRIMINAL_TERMS or len(shared & penalty) < 2:
                    continue
                covered = weights.total(shared & penalty) / total
                described = weights.total(shared) / weights.total(have)
                score = math.sqrt(covered * described)
                if covered < CRIMINAL_PENALTY_MIN or described < CRIMINAL_CRIME_MIN:
                    continue
                if top is None or score > top[0]:
                    top = (score, crime, shared)
            if top is None:
                continue
            score, crime, shared = top
            target = clauses[row_of[crime.clause_id]]
            doc = documents[target.doc_id]
            text = paragraph_text(target, crime.paragraph)
            offset = target.start + target.text.find(text)
            evidence = tuple(Evidence(target.doc_id, a, b, doc.text[a:b])
                             for a, b in spans_of(sorted(shared), text, offset))
            out.append(Link(link.source, target.unit_id, "criminal",
                            round(score * link.confidence, 3), evidence,
                            paragraph=crime.paragraph, via=link.target))
        return out


def paragraph_text(clause: Clause, label: str) -> str:
    """The words of one 款 of ``clause`` ('' names the whole clause)."""
    for found, start, end in paragraphs(clause):
        if found == label:
            return clause.text[start:end]
    return clause.text
