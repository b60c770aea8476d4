"""Links between clauses, computed from one index generation's documents and clauses.

* ``referenced_by``: every resolved cross-reference, in reverse.
* penalty links, from a duty clause to the clauses that enforce it:
  - *explicit*: a penalty paragraph names the duty's article before its sanction
    (违反本法第四十条的规定 … 处以…罚款);
  - *implicit*: a penalty paragraph of the same document without such a reference names
    the duty's conduct and actor instead (证券公司…未按照规定保存有关文件和资料的 →
    证券公司应当妥善保存…资料); only for duties no penalty names explicitly; decided by
    the fitted model of :mod:`rag.links.score` (``scorer="rules"``: the hand-written
    rule it replaced);
  - *civil*: the same, where the paragraph makes someone liable for damages or to give
    up what it earned; a role's general liability for breaching the law in office covers
    that role's duties in its chapter (:mod:`rag.links.liability`);
  - *criminal*: the article of a criminal code (刑法) whose conduct is the conduct of an
    administrative penalty already linked to the duty (欺诈发行, 内幕交易, 操纵), or, for
    a prohibition no administrative penalty enforces, the act it prohibits (挪用公司资金
    → 挪用资金罪; :func:`rag.links.direct.direct_matches`).
Every link carries a confidence (1.0 for an explicit reference; the model's probability
for an implicit or civil one, or with the rule the weighted share of the penalty's
conduct terms the duty has; for a criminal one, its word match times that of the link it
comes through) and its evidence: verbatim slices of the documents (the reference, or the
shared terms).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence

from rag.core.clauses import Clause
from rag.core.documents import Document
from rag.links.conditions import wrong_matches
from rag.links.criminal import CrimeMatcher
from rag.links.direct import direct_links
from rag.links.duties import Duty, duties
from rag.links.failures import CONFIDENCE as FAILURE_CONFIDENCE
from rag.links.failures import failure_matches
from rag.links.liability import CONFIDENCE as BREACH_CONFIDENCE
from rag.links.liability import breach_matches, chapter, with_ranges
from rag.links.model import (
    ORDER,
    Evidence,
    Link,
    is_criminal_code,
    ordered,
    own_article,
)
from rag.links.onward import onward_links
from rag.links.penalties import (
    SANCTION,
    Conduct,
    conducts,
    in_penalty_chapter,
    is_civil_liability,
    is_crime,
    is_penalty,
)
from rag.links.score import (
    RULE_MIN,
    Candidate,
    Model,
    Prepared,
    default_model,
    matches,
    prepare,
    rule_matches,
)
from rag.links.terms import spans_of, terms
from rag.search.crossrefs import CrossReferences

# crimes a regulatory statute's conduct is compared with: those against the economic
# order (刑法 第二编第三章 破坏社会主义市场经济秩序罪), where securities, company and fund
# offences are, and against property (第五章: 职务侵占, 挪用资金 by a company's staff)
ECONOMIC = re.compile(r"经济秩序|侵犯财产")
# documents whose articles do not bind those who comply: courts' interpretations, news
NOT_DUTIES = ("judicial_interpretation", "news")

IMPLICIT_MIN = RULE_MIN  # share of the conduct's term weight the duty must have (rules)
SCORERS = ("learned", "rules")
class LinkTable:
    """All links of one set of documents and clauses (one per index generation).

    Cross-references, duties, penalty clauses and explicit links are found when the
    table is made (regular expressions only: ~0.5 s for the shipped corpus); implicit
    and criminal links, which compare words, are computed per document the first time a
    clause of it is asked about, so a large corpus pays only for what is asked.
    """

    def __init__(self, documents: Iterable[Document], clauses: Sequence[Clause], *,
                 references: CrossReferences | None = None, scorer: str = "learned",
                 model: Model | None = None) -> None:
        if scorer not in SCORERS:
            raise ValueError(f"scorer {scorer!r}: use one of {', '.join(SCORERS)}")
        self.scorer = scorer
        self.model = (model or default_model()) if scorer == "learned" else None
        self.documents = {d.doc_id: d for d in documents}
        self.clauses = list(clauses)
        self.references = references or CrossReferences(self.documents.values(), self.clauses)
        self.row_of = {c.id: r for r, c in enumerate(self.clauses)}
        self.unit_rows: dict[str, list[int]] = {}
        for row, clause in enumerate(self.clauses):
            self.unit_rows.setdefault(clause.unit_id, []).append(row)
        self._label_rows = {(c.doc_id, c.label): r for r, c in enumerate(self.clauses)
                            if c.kind == "article" and c.label}
        self._referenced_by: dict[str, list[str]] = {}
        self._penalties: dict[str, list[Link]] = {}
        self._enforces: dict[str, list[Link]] = {}
        self._duties: dict[str, list[Duty]] = {}
        self._duty_units: dict[str, list[Duty]] = {}
        self._conducts: dict[str, list[tuple[Clause, Conduct]]] = {}
        self._crimes: list[Conduct] = []
        self._contexts: dict[str, frozenset[str]] = {}
        self._crimes_matched: CrimeMatcher | None = None
        self._named: set[str] = set()  # duties a penalty names by number
        self._own_civil: set[str] = set()  # duty articles that state their own liability
        self._done: set[str] = set()  # documents whose implicit and criminal links are made
        self._lock = threading.RLock()
        self.penalty_ids: set[str] = set()
        self._build()

    # ------------------------------------------------------------ queries

    def referenced_by(self, clause_id: str) -> list[str]:
        """Ids of the clauses that cite ``clause_id`` (any part of its article)."""
        return list(self._referenced_by.get(self._unit(clause_id), ()))

    def penalties(self, clause_id: str) -> list[Link]:
        """The links from a duty clause to what enforces it: administrative (explicit,
        then implicit), then criminal, then civil; most confident first within each."""
        unit = self._unit(clause_id)
        self._ensure(self._doc_of(unit))
        return ordered(self._penalties.get(unit, ()))

    def enforces(self, clause_id: str) -> list[Link]:
        """The links into a penalty clause: the duties it enforces."""
        unit = self._unit(clause_id)
        doc_id = self._doc_of(unit)
        if doc_id in self.documents and is_criminal_code(self.documents[doc_id]):
            self._ensure_all()  # a crime is linked from duties of any document
        else:
            self._ensure(doc_id)
        return ordered(self._enforces.get(unit, ()))

    def duties(self, doc_id: str) -> list[Duty]:
        """The duty sentences of a document, in text order."""
        return list(self._duties.get(doc_id, ()))

    def duties_of(self, clause_id: str) -> list[Duty]:
        """The duty sentences of a clause's article, in text order."""
        return list(self._duty_units.get(self._unit(clause_id), ()))

    def is_penalty(self, clause_id: str) -> bool:
        return self._unit(clause_id) in self.penalty_ids

    def all_links(self) -> list[Link]:
        """Every penalty link, duty by duty (computes every document's links)."""
        self._ensure_all()
        return [link for source in sorted(self._penalties)
                for link in ordered(self._penalties[source])]

    # ------------------------------------------------------------ reuse (rag.links.stored)

    @property
    def crimes(self) -> tuple[Conduct, ...]:
        """The conducts of the crimes duties are compared with."""
        return tuple(self._crimes)

    def made_with_table(self) -> dict[str, list[Link]]:
        """The links made when the table was made (explicit references, sanctions in the
        duty's own article) by the document of their duty; called before any document's
        word-compared links are made, with the document's records and the crimes it is
        what those depend on."""
        out: dict[str, list[Link]] = {}
        for source, links in self._penalties.items():
            out.setdefault(self._doc_of(source), []).extend(links)
        return out

    def adopt(self, doc_id: str, links: Iterable[Link]) -> None:
        """Take ``doc_id``'s links (every link from its duties) from an earlier table made
        from the same inputs, instead of comparing words again."""
        with self._lock:
            if doc_id not in self._done:
                self._record(links)
                self._done.add(doc_id)

    def _unit(self, clause_id: str) -> str:
        row = self.row_of.get(clause_id)
        return self.clauses[row].unit_id if row is not None else clause_id

    def _doc_of(self, unit: str) -> str:
        rows = self.unit_rows.get(unit)
        return self.clauses[rows[0]].doc_id if rows else unit.split("#", 1)[0]

    # ------------------------------------------------------------ building

    def _build(self) -> None:
        """References, duties, penalty clauses and explicit links (no word comparison)."""
        criminal_docs = {d for d, doc in self.documents.items() if is_criminal_code(doc)}
        duty_docs = {d for d, doc in self.documents.items()
                     if doc.kind not in NOT_DUTIES and d not in criminal_docs}
        for clause in self.clauses:
            for row, _, _ in self._mentions(clause):
                cited = self.clauses[row].unit_id
                citing = self._referenced_by.setdefault(cited, [])
                if clause.unit_id not in citing:
                    citing.append(clause.unit_id)
        own: list[Link] = []  # duties punished in their own article
        for clause in self.clauses:
            if clause.doc_id in criminal_docs:
                if is_crime(clause) and any(ECONOMIC.search(p) for p in clause.path):
                    self._crimes.extend(conducts(clause))
                continue
            if clause.doc_id not in duty_docs or clause.kind != "article":
                continue
            if is_penalty(clause):
                self.penalty_ids.add(clause.unit_id)
                punished = list(conducts(clause))
                self._conducts.setdefault(clause.doc_id, []).extend(
                    (clause, c) for c in punished)
                if not in_penalty_chapter(clause):  # 禁止…。…的，处以…罚款: duty and sanction
                    said = [d for d in duties(clause) if not SANCTION.search(d.text)]
                    self._add_duties(clause, said)
                    own.extend(own_article(clause, said, punished))
                continue
            self._add_duties(clause, duties(clause))
            if is_civil_liability(clause):
                self._own_civil.add(clause.unit_id)
                self._conducts.setdefault(clause.doc_id, []).extend(
                    (clause, c) for c in conducts(clause, civil_only=True))
        explicit = self._explicit(self._conducts, self._duty_units) + own
        self._named = {link.source for link in explicit}
        self._record(explicit)

    def _mentions(self, clause: Clause) -> list[tuple[int, int, int]]:
        """The clause's resolved references, every article of a range (A至B) included."""
        return with_ranges(clause, self.references.mentions(clause), self.clauses,
                           self._label_rows)

    def _add_duties(self, clause: Clause, said: list[Duty]) -> None:
        self._duties.setdefault(clause.doc_id, []).extend(said)
        self._duty_units.setdefault(clause.unit_id, []).extend(said)

    def _record(self, links: Iterable[Link]) -> None:
        for link in links:
            known = self._penalties.setdefault(link.source, [])
            same = next((k for k in known if k.target == link.target), None)
            if same is not None:
                if (ORDER[link.kind], -link.confidence) >= (ORDER[same.kind], -same.confidence):
                    continue
                known.remove(same)
                self._enforces[same.target].remove(same)
            known.append(link)
            self._enforces.setdefault(link.target, []).append(link)

    def _ensure(self, doc_id: str) -> None:
        """Make the implicit and criminal links of one document (once)."""
        if doc_id in self._done:
            return
        with self._lock:
            if doc_id in self._done:
                return
            pairs = {doc_id: self._conducts.get(doc_id, [])}
            units = {u: d for u, d in self._duty_units.items() if d and d[0].doc_id == doc_id}
            implicit = self._implicit(pairs, units, self._named)
            made = [k for k in self._penalties_in(doc_id)
                    if k.kind == "explicit" and k.source != k.target] + implicit
            self._record(implicit)
            onward = onward_links(doc_id, pairs[doc_id], made, clauses=self.clauses,
                                  unit_rows=self.unit_rows, penalty_units=self.penalty_ids,
                                  mentions=self._mentions)
            self._record(onward)
            made += onward
            crimes = self._crime_matcher()
            self._record(crimes.links(
                made, clauses=self.clauses, row_of=self.row_of, unit_rows=self.unit_rows,
                documents=self.documents, duty_units=self._duty_units))
            # a prohibition enforced only civilly, by reference or not at all: its acts vs crimes
            self._record(direct_links(crimes, units, self._penalties_in(doc_id),
                                      clauses=self.clauses, row_of=self.row_of,
                                      documents=self.documents))
            self._done.add(doc_id)

    def _ensure_all(self) -> None:
        for doc_id in sorted(self.documents):
            self._ensure(doc_id)

    def _penalties_in(self, doc_id: str) -> list[Link]:
        return [k for source, links in self._penalties.items()
                if self._doc_of(source) == doc_id for k in links]

    def _explicit(self, penalty_conducts: dict[str, list[tuple[Clause, Conduct]]],
                  duty_units: dict[str, list[Duty]]) -> list[Link]:
        """Penalty paragraphs that name a duty article before their sanction."""
        links = []
        for pairs in penalty_conducts.values():
            for clause, conduct in pairs:
                lo, hi = conduct.start - clause.start, conduct.end - clause.start
                for row, start, end in self._mentions(clause):
                    cited = self.clauses[row]
                    if not (lo <= start and end <= hi) or cited.unit_id not in duty_units:
                        continue
                    kind = "civil" if conduct.sanction == "civil" else "explicit"
                    words = clause.text[start:end]
                    cut = max(words.rfind("本法"), words.rfind("《"), 0)
                    evidence = Evidence(clause.doc_id, clause.start + start + cut,
                                        clause.start + end, words[cut:])
                    links.append(Link(cited.unit_id, clause.unit_id, kind, 1.0, (evidence,),
                                      paragraph=conduct.paragraph,
                                      conduct=(conduct.start, conduct.end)))
        return links

    def _prepared(self, doc_id: str, pairs: list[tuple[Clause, Conduct]],
                  duty_units: dict[str, list[Duty]], named: set[str]) -> Prepared:
        """What the implicit links of one document compare (:func:`prepare`)."""
        return prepare(doc_id, pairs, duty_units, named, self.references.mentions)

    def _implicit(self, penalty_conducts: dict[str, list[tuple[Clause, Conduct]]],
                  duty_units: dict[str, list[Duty]], named: set[str]) -> list[Link]:
        """Penalty paragraphs without a reference, matched to duties: by the fitted model
        (:mod:`rag.links.score`), or with ``scorer="rules"`` by the hand-written rule."""
        links = self._failures(penalty_conducts, duty_units, named)
        if self.model is None:
            links += self._implicit_rules(penalty_conducts, duty_units, named)
            return self._own_liability_first(links)
        for candidate in self.candidates(penalty_conducts, duty_units, named):
            best = candidate.best(self.model)
            chance = self.model.probability(best.features)
            if chance >= self.model.threshold:
                links.append(self._link(candidate.source, candidate.target, candidate.kind,
                                        chance, best.duty, best.conduct, best.shared))
        return self._own_liability_first(links)

    def _own_liability_first(self, links: list[Link]) -> list[Link]:
        """Without the civil links, found by words, of a duty article that states who pays
        for its own breach (不履行承诺给投资者造成损失的，应当依法承担赔偿责任): the
        liability written with the duty is the one for it, not a general one elsewhere."""
        return [k for k in links if k.kind != "civil" or k.source not in self._own_civil]

    def _failures(self, penalty_conducts: dict[str, list[tuple[Clause, Conduct]]],
                  duty_units: dict[str, list[Duty]], named: set[str]) -> list[Link]:
        """Penalty paragraphs that name the duty they punish the failure of
        (:mod:`rag.links.failures`), linked to the obligations that do what they name; a
        role's general civil liability (:mod:`rag.links.liability`); and the wrongs a
        duty names itself (:mod:`rag.links.conditions`: a condition, a harm, a lock-up,
        the doer a citing penalty describes)."""
        return [self._link(unit, target, "implicit", FAILURE_CONFIDENCE, duty, conduct, words)
                for unit, target, duty, conduct, words
                in failure_matches(penalty_conducts, duty_units, named)] + [
            self._link(unit, target, "civil", BREACH_CONFIDENCE, duty, conduct, words)
            for pairs in penalty_conducts.values()
            for unit, target, duty, conduct, words in breach_matches(
                pairs, duty_units, lambda u: chapter(self.clauses[self.unit_rows[u][0]]))] + [
            self._link(unit, target, "implicit", confidence, duty, conduct, words)
            for pairs in penalty_conducts.values()
            for confidence, (unit, target, duty, conduct, words)
            in wrong_matches(pairs, duty_units, named)]

    def candidates_of(self, doc_id: str) -> list[Candidate]:
        """The scored (duty article, penalty article) pairs of one document."""
        units = {u: d for u, d in self._duty_units.items() if d and d[0].doc_id == doc_id}
        return self.candidates({doc_id: self._conducts.get(doc_id, [])}, units, self._named)

    def candidates(self, penalty_conducts: dict[str, list[tuple[Clause, Conduct]]],
                   duty_units: dict[str, list[Duty]], named: set[str]) -> list[Candidate]:
        """Every (duty article, penalty article) pair of a document that shares a term,
        with its features (what the model scores; the benchmark fits on them)."""
        return [found for doc_id, pairs in penalty_conducts.items()
                for found in matches(self._prepared(doc_id, pairs, duty_units, named),
                                     self._context)]

    def _link(self, source: str, target: str, kind: str, confidence: float, duty: Duty,
              conduct: Conduct, shared: frozenset[str]) -> Link:
        doc_id = duty.doc_id
        evidence = tuple(
            Evidence(doc_id, a, b, self.documents[doc_id].text[a:b])
            for text, offset in ((conduct.text, conduct.start), (duty.text, duty.start))
            for a, b in spans_of(sorted(shared), text, offset))
        return Link(source, target, kind, round(confidence, 3), evidence,
                    paragraph=conduct.paragraph, conduct=(conduct.start, conduct.end))

    def _implicit_rules(self, penalty_conducts: dict[str, list[tuple[Clause, Conduct]]],
                        duty_units: dict[str, list[Duty]], named: set[str]) -> list[Link]:
        """The hand-written rule (:func:`rag.links.score.rule_matches`)."""
        return [self._link(*found) for doc_id, pairs in penalty_conducts.items()
                for found in rule_matches(self._prepared(doc_id, pairs, duty_units, named),
                                          self._context)]

    def _context(self, unit: str) -> frozenset[str]:
        """An article's own words, actors included (清算组 says 清算): where a circumstance
        a penalty names (在进行清算时) is looked for."""
        found = self._contexts.get(unit)
        if found is None:
            found = self._contexts[unit] = terms(
                " ".join(self.clauses[r].text for r in self.unit_rows[unit]), keep_actors=True)
        return found

    def _crime_matcher(self) -> CrimeMatcher:
        """The criminal code's conducts, matched against linked penalties (made once)."""
        if self._crimes_matched is None:
            self._crimes_matched = CrimeMatcher(self._crimes, clauses=self.clauses,
                                                row_of=self.row_of)
        return self._crimes_matched


