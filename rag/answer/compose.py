"""Question in, answer out: named clauses first, then search hits, refusal, citations.

:func:`answer` is the one call the CLI, the batch runner, the API and the web chat share.
No text is generated: every quote is ``document.text[start:end]`` of an indexed document.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass, replace

from rag.answer.change_questions import prepare_question
from rag.answer.cite import cite
from rag.answer.facts import Facts
from rag.answer.fold import fold_duplicates
from rag.answer.penalties import with_penalties
from rag.answer.refusal import Calibration, closest, evidence, load_calibration
from rag.answer.types import Answer, Citation
from rag.answer.wording import CHANGES, FOUND, NOT_FOUND
from rag.core.clauses import Clause
from rag.core.filters import Filters
from rag.core.versions import VersionInfo
from rag.encoders import Encoder
from rag.search import Fusion, Hit, Index, Query, find_named, resolve, retrieve
from rag.search.lexical import query_terms
from rag.search.liability import asks_consequence

MAX_TOP = 100
# characters of the named clauses' text a consequence question is searched with
# (with_named_text): about a clause's first two sentences
NAMED_TEXT = 300


def fold_versions(
    index: Index, named: list[Clause], versions: Mapping[str, VersionInfo]
) -> list[Clause]:
    """Named clauses, preferred versions first, without an older version's article when
    the preferred version's article it aligns with is named too (it is shown beside it,
    in the comparison). 公司法第二十八条 keeps 2018 第二十八条: it is now 第四十九条, and
    2023 第二十八条 is another article."""
    named = sorted(named, key=lambda c: not versions[c.doc_id].preferred)
    shown = {c.unit_id for c in named if versions[c.doc_id].preferred}
    kept = []
    for clause in named:
        if not versions[clause.doc_id].preferred and index.links.has_versions(clause.doc_id):
            twins = (index.links.counterpart(clause, d.doc_id)
                     for d in index.links.others(clause.doc_id) if versions[d.doc_id].preferred)
            if any(t is not None and t.unit_id in shown for t in twins):
                continue
        kept.append(clause)
    return kept


def with_earlier_versions(
    index: Index, citations: list[Citation], *, weights: Mapping[str, float],
    versions: Mapping[str, VersionInfo], facts: Facts | None = None,
) -> list[Citation]:
    """A change answer: articles that changed (or are new) before those that did not,
    each in its newer version, then the older one it replaced (``via="version"``; the
    comparison is the newer one's)."""
    out: list[Citation] = []
    shown: set[str] = set()
    for cited in sorted(citations, key=_unchanged):
        units: list[tuple[str, str]] = [(cited.clause_id, cited.via)]
        for compared in cited.versions:
            newer, older = compared.newer.clause_id, compared.older.clause_id
            if newer and older and compared.relation == "changed":
                units = [(newer, cited.via), (older, "version")]
                break
        for clause_id, via in units:
            if clause_id in shown:
                continue
            shown.add(clause_id)
            if clause_id == cited.clause_id and via == cited.via:
                out.append(replace(cited, rank=len(out) + 1))
                continue
            clause = index.clauses[index.row_of[clause_id]]
            out.append(cite(index, clause, rank=len(out) + 1, score=cited.score, scores={},
                            ranks={}, weights=weights, version=versions.get(clause.doc_id),
                            low_confidence=cited.low_confidence, via=via,
                            compare=None if via == "version" else versions, facts=facts))
    return out


def _unchanged(citation: Citation) -> bool:
    """Whether every other version has this article's words (matched, renumbered)."""
    return bool(citation.versions) and all(
        c.relation in ("matched", "renumbered") for c in citation.versions)


def check_question(question: str) -> None:
    """ValueError when ``question`` cannot be asked: empty, or not text (undecodable bytes
    arrive as lone surrogates, e.g. GBK bytes typed in a UTF-8 terminal)."""
    if not isinstance(question, str):
        raise ValueError(f"the question must be text, not {type(question).__name__}")
    if not question.strip():
        raise ValueError("the question is empty")
    bad = next((i for i, ch in enumerate(question) if "\ud800" <= ch <= "\udfff"), None)
    if bad is not None:
        # surrogateescape gives back the bytes a file held; surrogatepass keeps any other
        # lone surrogate (an escaped one in a JSON line) from failing the message itself
        try:
            raw = question.encode("utf-8", "surrogateescape")[:200]
        except UnicodeEncodeError:
            raw = question.encode("utf-8", "surrogatepass")[:200]
        hint = ""
        try:
            raw.decode("gb18030")
            hint = " (it looks like GBK/GB18030)"
        except UnicodeDecodeError:
            pass
        raise ValueError(f"the question is not valid UTF-8 text: undecodable byte at "
                         f"character {bad + 1}{hint}; type or save it as UTF-8")


def answer(
    question: str,
    index: Index,
    *,
    encoder: Encoder | None = None,
    k: int = 5,
    filters: Filters | None = None,
    fusion: Fusion | None = None,
    calibration: Calibration | None = None,
) -> Answer:
    """Answer ``question`` with up to ``k`` verbatim clauses from ``index``.

    Clauses the question names (《证券法》第一百九十一条) come first; then the hybrid
    search results. When the evidence is weak the answer is refused (``answered`` False)
    and the nearest candidates are returned marked ``low_confidence``. The question is
    embedded with the index's encoder (:attr:`Index.encoder`); an ``encoder`` handed in
    must be the model that built the index (else StoreError with the rebuild command).
    """
    check_question(question)
    encoder = index.query_encoder(encoder)
    if not 1 <= k <= MAX_TOP:
        raise ValueError(f"k must be between 1 and {MAX_TOP}, not {k}")
    query, changes = prepare_question(question, index=index, filters=filters)
    return _answer(query, index=index, encoder=encoder, k=k, fusion=fusion,
                   calibration=calibration, changes=changes, filters=filters)


def answer_many(
    questions: Iterable[str],
    index: Index,
    *,
    encoder: Encoder | None = None,
    k: int = 5,
    filters: Filters | None = None,
    fusion: Fusion | None = None,
) -> Generator[Answer | ValueError, None, None]:
    """:func:`answer` for many questions, in order: the same answers, faster.

    Yields each question's :class:`Answer` — equal to what :func:`answer` returns for it
    — or the ValueError that question raised (an empty or undecodable one), so one bad
    question never stops the rest. Faster because what answering works out about a
    cited clause (:class:`~rag.answer.facts.Facts`) is worked out once for the whole
    batch. Each question is embedded alone, as :func:`answer` embeds it: a batched
    forward pass rounds the last bits of every vector differently (up to 7e-8 here),
    enough to move a 6-digit score or a tie. Questions are read one at a time and each
    answer is yielded as soon as it is made, so a caller can stream them; more cores are
    used by :func:`rag.answer.workers.answer_in_workers` (processes: in one process a
    second thread only waits for Python's lock while this one composes).
    """
    if not 1 <= k <= MAX_TOP:
        raise ValueError(f"k must be between 1 and {MAX_TOP}, not {k}")
    encoder = index.query_encoder(encoder)
    facts = Facts(index)
    calibration = load_calibration(index.model_identity)
    for question in questions:
        try:
            check_question(question)
            query, changes = prepare_question(question, index=index, filters=filters)
        except ValueError as error:
            yield error
            continue
        yield _answer(query, index=index, encoder=encoder, k=k, fusion=fusion,
                      calibration=calibration, changes=changes, filters=filters, facts=facts)


@dataclass(frozen=True)
class Found:
    """What one question found, before citing: the clauses it names, the search hits
    (duplicates folded, named units removed) and the signals refusal weighs."""

    named: list[Clause]
    span_of: dict[str, str | None]
    hits: list[Hit]
    folded: dict[str, list[str]]  # kept unit id → folded clause ids
    weights: dict[str, float]
    signals: tuple[float, float, float]

    def confidence(self, calibration: Calibration) -> float:
        """1.0 when the question names a clause or a reader confirmed one for this very
        question; else the calibrated confidence of the signals (0.0 without hits)."""
        if self.named or any(hit.via == "memory" for hit in self.hits):
            return 1.0
        return calibration.confidence(*self.signals) if self.hits else 0.0


def with_named_text(query: Query, named: list[Clause], *, index: Index,
                    encoder: Encoder | None) -> Query:
    """The query a consequence question that names clauses is searched with: its words
    and the named clauses' own (in force; the first :data:`NAMED_TEXT` characters), so the penalty
    that names the same conduct ranks — "违反《公司法》第三十条的规定会受到什么处罚？" says
    nothing of 虚报注册资本, its 第三十条 does. Other questions: as asked."""
    if not named or not asks_consequence(query.question):
        return query
    # the versions in force (an older version's article of the same number is another one)
    own = [c for c in named if query.versions[c.doc_id].preferred] or named
    text = f"{query.text} {' '.join(c.text for c in own)[:NAMED_TEXT]}"
    vector = index.query_encoder(encoder).encode_queries([text])[0]
    return replace(query, text=text, vector=vector)


def find(query: Query, *, index: Index, encoder: Encoder | None = None, k: int,
         fusion: Fusion | None, facts: Facts | None = None) -> Found:
    """Named clauses, then hybrid search, then the refusal signals for ``query``
    (:func:`answer` and ``benchmarks/calibrate_refusal.py`` share it, so refusal is
    calibrated on exactly what answering sees)."""
    weights, unknown = query_terms(query, index)

    # 1. clauses the question names explicitly
    refs = find_named(query.question, index.documents.values())
    named = fold_versions(index, [c for c in resolve(refs, index.by_label) if query.admits(c)],
                          query.versions)
    span_of = {r.label: r.span_label for r in refs}

    # 2. hybrid search (the question embedded here once: search and refusal both use it)
    if query.vector is None and query.question:
        encoder = index.query_encoder(encoder)
        query = replace(query, vector=encoder.encode_queries([query.text])[0])
    hits = retrieve(with_named_text(query, named, index=index, encoder=encoder), index=index,
                    encoder=encoder, k=max(3 * k, 20), fusion=fusion)
    hits, folded = fold_duplicates(index, hits, facts=facts)
    named_units = {c.unit_id for c in named}
    hits = [h for h in hits if h.clause.unit_id not in named_units]

    nearest = closest(query, index) if hits else 0.0
    signals = evidence(query.question, hits, index=index, weights=weights, unknown=unknown,
                       nearest=nearest)
    return Found(named, span_of, hits, folded, weights, signals)


def _answer(
    query: Query,
    *,
    index: Index,
    encoder: Encoder,
    k: int,
    fusion: Fusion | None,
    calibration: Calibration | None = None,
    changes: bool = False,
    filters: Filters | None = None,
    facts: Facts | None = None,
) -> Answer:
    calibration = calibration or load_calibration(index.model_identity)
    facts = facts or Facts(index)
    versions = query.versions
    found = find(query, index=index, encoder=encoder, k=k, fusion=fusion, facts=facts)
    named, span_of, hits, folded, weights = (found.named, found.span_of, found.hits,
                                             found.folded, found.weights)
    confidence = found.confidence(calibration)
    answered = confidence >= calibration.threshold
    low = not answered

    citations: list[Citation] = []
    for clause in named:
        citations.append(cite(
            index, clause, rank=len(citations) + 1, score=1.0, scores={"lookup": 1.0},
            ranks={"lookup": 1}, weights=weights, version=versions.get(clause.doc_id),
            low_confidence=False, via="lookup", span_label=span_of.get(clause.label),
            compare=versions, facts=facts,
        ))

    def cite_hit(hit: Hit) -> Citation:
        return cite(index, hit.clause, rank=len(citations) + 1, score=hit.score,
                    scores=hit.scores, ranks=hit.ranks, weights=weights, version=hit.version,
                    low_confidence=low, via=hit.via,
                    folded=tuple(folded.get(hit.clause.unit_id, ())), compare=versions,
                    facts=facts)

    for hit in hits:
        if len(citations) >= k:
            break
        citations.append(cite_hit(hit))
    citations = citations[:k]
    if asks_consequence(query.question) and citations:
        def cite_penalty(clause: Clause, rank: int, duty: Citation) -> Citation:
            return replace(cite(index, clause, rank=rank, score=duty.score, scores={},
                                ranks={}, weights=weights,
                                version=versions.get(clause.doc_id), low_confidence=low,
                                via="penalty", compare=versions, facts=facts),
                           enforces=duty.clause_id)

        citations = with_penalties(index, citations, k=k, cite_penalty=cite_penalty,
                                   admits=query.admits, hits=hits, cite_hit=cite_hit)
    if changes:
        citations = with_earlier_versions(index, citations, weights=weights, versions=versions,
                                          facts=facts)

    related: list[Citation] = []
    shown = {c.clause_id for c in citations}
    for cited in citations:
        for clause_id in cited.related:
            if clause_id in shown:
                continue
            shown.add(clause_id)
            clause = index.clauses[index.row_of[clause_id]]
            related.append(cite(
                index, clause, rank=0, score=0.0, scores={}, ranks={}, weights=weights,
                version=versions.get(clause.doc_id), low_confidence=False,
                via="cross_reference", facts=facts,
            ))
    return Answer(
        question=query.asked,
        answered=answered,
        confidence=round(confidence, 4),
        message=(CHANGES if changes else FOUND) if answered else NOT_FOUND,
        citations=tuple(citations),
        related=tuple(related),
        filters=(filters or Filters()).to_dict(),  # as asked (a change answer narrows them)
        index=index.info(),
    )
