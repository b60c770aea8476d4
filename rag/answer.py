"""Question in, answer out: look-up, hybrid retrieval, refusal, quotes with citations.

``answer()`` is the one call the CLI, the batch runner and the web chat share. No text is
generated: every quote is ``document.text[start:end]`` of an indexed document.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from rag.answers import Answer, Citation, InnerReference
from rag.cite import citation_string
from rag.clauses import Clause
from rag.documents import AUTHORITY
from rag.encoders import Encoder
from rag.glossary import expand
from rag.highlight import highlight, idf_table, term_weights
from rag.index import Index
from rag.lookup import find_references, resolve
from rag.references import inner_mentions
from rag.retrieve import Filters, Fusion, Hit, allowed_rows, as_of_date, retrieve
from rag.versions import STATUS_LABELS, VersionInfo

MAX_QUESTION_CHARS = 2000
_CJK = re.compile(r"[\u3400-\u9fff]")
# English words that carry no legal meaning; not counted as "unknown to the corpus".
STOPWORDS_EN = frozenset(
    "penalty law laws rule rules legal counts count who whose must can may need say says "
    "under there their them they get gets got give given does have has had".split()
)
CALIBRATION_FILE = Path(__file__).with_name("calibration.json")

NOT_FOUND = "语料库中没有条款能回答这个问题。No clause in the corpus answers this question."
FOUND = "以下条款与问题相关（原文引用）。The clauses below govern this question (quoted verbatim)."


@dataclass(frozen=True)
class Calibration:
    """Logistic confidence over (dense score of the top hit, lexical coverage).

    Fitted by ``benchmarks/calibrate_refusal.py`` for one model; ``threshold`` splits
    answered from refused.
    """

    model_identity: str
    bias: float
    dense_weight: float
    coverage_weight: float
    latin_weight: float
    threshold: float

    def confidence(self, dense: float, coverage: float, latin: float) -> float:
        z = (self.bias + self.dense_weight * dense + self.coverage_weight * coverage
             + self.latin_weight * latin)
        return 1.0 / (1.0 + math.exp(-z))


# Used when no calibration matches the index's model: coverage alone decides.
FALLBACK = Calibration("any", -3.0, 0.0, 6.0, 0.0, 0.5)


def load_calibration(index: Index, path: Path = CALIBRATION_FILE) -> Calibration:
    """The calibration fitted for the index's model, else the lexical fallback."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return FALLBACK
    if data.get("model_identity") != index.model_identity:
        return FALLBACK
    return Calibration(**{k: data[k] for k in Calibration.__dataclass_fields__})


def coverage(question_weights: dict[str, float], unknown: float, passage: str) -> float:
    """Share of the question's idf mass that the passage contains."""
    total = sum(question_weights.values()) + unknown
    if total <= 0:
        return 0.0
    lower = passage.lower()
    return sum(w for t, w in question_weights.items() if t in lower) / total


def query_terms(query: str, index: Index) -> tuple[dict[str, float], float]:
    """The question's terms known to the corpus with their idf, and the idf mass of the
    terms it does not know (words like 天气 or 菜谱 that no clause contains)."""
    query = expand(query)
    idf = idf_table(index.bm25, len(index.clauses))
    weights = term_weights(query, index.tokenizer, idf)
    unknown = 8.0 * sum(
        1 for t in index.tokenizer(query)
        if (len(t) >= 2 or t.isdigit()) and t not in weights and t not in STOPWORDS_EN
    )
    return weights, unknown


def evidence(
    question: str, hits: list[Hit], *, index: Index, weights: dict[str, float], unknown: float
) -> tuple[float, float, float]:
    """The signals refusal is calibrated on: the top hit's dense similarity, the share of
    the question's idf mass its title + text contain, and whether the question is written
    without Chinese (cross-lingual similarities run lower)."""
    latin = 0.0 if _CJK.search(question) else 1.0
    if not hits:
        return 0.0, 0.0, latin
    top = hits[0]
    passage = index.document_of(top.clause).title + " " + top.clause.text
    return top.scores.get("dense", 0.0), coverage(weights, unknown, passage), latin


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"\W+", "", text)
    return {text[i : i + 2] for i in range(len(text) - 1)}


def fold_duplicates(index: Index, hits: list[Hit]) -> dict[str, list[str]]:
    """Fold restatements (a news post quoting a policy clause) under the source.

    Returns {kept unit id: [folded clause ids]} and removes folded hits in place.
    """
    folded: dict[str, list[str]] = {}
    grams = [_bigrams(h.clause.text) for h in hits]
    drop: set[int] = set()
    for i, hit in enumerate(hits):
        if i in drop:
            continue
        for j in range(i + 1, len(hits)):
            if j in drop or not grams[i] or not grams[j]:
                continue
            overlap = len(grams[i] & grams[j]) / min(len(grams[i]), len(grams[j]))
            if overlap < 0.6:
                continue
            a = AUTHORITY.get(index.document_of(hit.clause).kind, 0)
            b = AUTHORITY.get(index.document_of(hits[j].clause).kind, 0)
            if a == b:
                continue
            keep, lose = (i, j) if a > b else (j, i)
            drop.add(lose)
            folded.setdefault(hits[keep].clause.unit_id, []).append(hits[lose].clause.id)
            if lose == i:
                break
    kept = [h for n, h in enumerate(hits) if n not in drop]
    if len(kept) != len(hits):
        # the authoritative source takes the best rank of what was folded under it
        by_unit = {h.clause.unit_id: h for h in hits}
        for unit, lost in folded.items():
            best = max(by_unit[unit].score, *(h.score for h in hits if h.clause.id in lost))
            by_unit[unit].score = best
        kept.sort(key=lambda h: -h.score)
    hits[:] = kept
    return folded


def cross_references(clause: Clause, index: Index) -> list[Clause]:
    """Clauses named inside ``clause`` (依照本法第五十三条, 刑法第一百八十二条…)."""
    return [index.clauses[row] for row in index.references.rows(clause)]


def inner_references(clause: Clause, index: Index) -> tuple[InnerReference, ...]:
    """前款 / 前两款 / 本条第X款 / 前项 in ``clause``, each resolved to the 款 or 项 it names.

    The spans of every part of a split article are used, so 前款 at the start of a
    later part still finds the 款 quoted in the part before.
    """
    parts = [clause]
    if clause.kind == "article":
        parts = index.by_label.get((clause.doc_id, clause.label), parts)
    spans = sorted({s.key: s for p in parts for s in p.spans}.values(), key=lambda s: s.start)
    text = index.document_of(clause).text
    return tuple(
        InnerReference(
            phrase=m.phrase, start=m.start - clause.start, end=m.end - clause.start,
            label=t.label, text=text[t.start:t.end], target_start=t.start, target_end=t.end,
        )
        for m in inner_mentions(spans, clause.text, clause.start)
        for t in m.targets
    )


def _citation(
    index: Index,
    clause: Clause,
    *,
    rank: int,
    score: float,
    scores: dict[str, float],
    ranks: dict[str, int],
    weights: dict[str, float],
    version: VersionInfo | None,
    low_confidence: bool,
    via: str,
    span_label: str | None = None,
    folded: tuple[str, ...] = (),
) -> Citation:
    doc = index.document_of(clause)
    status = version.status if version and version.status else doc.status
    return Citation(
        rank=rank,
        clause_id=clause.id,
        doc_id=doc.doc_id,
        document=doc.title,
        label=clause.label,
        citation=citation_string(clause, doc, span_label=span_label),
        path=clause.path,
        text=clause.text,
        start=clause.start,
        end=clause.end,
        score=round(score, 6),
        scores={k: round(v, 6) for k, v in scores.items()},
        ranks=dict(ranks),
        highlights=highlight(clause.text, weights),
        kind=doc.kind,
        date=doc.date,
        version=doc.version,
        status=STATUS_LABELS.get(status or "", status),
        version_note=version.note if version else None,
        issuer=doc.issuer,
        url=doc.url,
        source=doc.source_path,
        low_confidence=low_confidence,
        via=via,
        related=tuple(c.id for c in cross_references(clause, index)),
        folded=folded,
        inner=inner_references(clause, index),
    )


def answer(
    question: str,
    *,
    index: Index,
    encoder: Encoder,
    k: int = 5,
    filters: Filters | None = None,
    fusion: Fusion | None = None,
    calibration: Calibration | None = None,
) -> Answer:
    """Answer ``question`` with up to ``k`` verbatim clauses from ``index``.

    Clauses the question names (《证券法》第一百九十一条) come first; then the hybrid
    search results. When the evidence is weak the answer is refused (``answered`` False)
    and the nearest candidates are returned marked ``low_confidence``.
    """
    question = question.strip()
    if not question:
        raise ValueError("the question is empty")
    if k < 1:
        raise ValueError(f"k must be at least 1, not {k}")
    query = question[:MAX_QUESTION_CHARS]
    filters = filters or Filters()
    calibration = calibration or load_calibration(index)
    versions = index.versions(as_of_date(filters))

    weights, unknown = query_terms(query, index)

    # 1. clauses the question names explicitly
    refs = find_references(query, index.documents.values())
    allowed = allowed_rows(index, filters)
    named = [
        c for c in resolve(refs, index.by_label)
        if allowed is None or allowed[index.row_of[c.id]]
    ]
    named.sort(key=lambda c: not versions[c.doc_id].preferred)
    span_of = {r.label: r.span_label for r in refs}

    # 2. hybrid search
    hits = retrieve(query, index=index, encoder=encoder, k=max(3 * k, 20), filters=filters,
                    fusion=fusion)
    folded = fold_duplicates(index, hits)
    named_units = {c.unit_id for c in named}
    hits = [h for h in hits if h.clause.unit_id not in named_units]

    signals = evidence(query, hits, index=index, weights=weights, unknown=unknown)
    confidence = calibration.confidence(*signals) if hits else 0.0
    if named:
        confidence = 1.0
    answered = confidence >= calibration.threshold
    low = not answered

    citations: list[Citation] = []
    for clause in named:
        citations.append(_citation(
            index, clause, rank=len(citations) + 1, score=1.0, scores={"lookup": 1.0},
            ranks={"lookup": 1}, weights=weights, version=versions.get(clause.doc_id),
            low_confidence=False, via="lookup", span_label=span_of.get(clause.label),
        ))
    for hit in hits:
        if len(citations) >= k:
            break
        citations.append(_citation(
            index, hit.clause, rank=len(citations) + 1, score=hit.score, scores=hit.scores,
            ranks=hit.ranks, weights=weights, version=hit.version, low_confidence=low,
            via=hit.via, folded=tuple(folded.get(hit.clause.unit_id, ())),
        ))
    citations = citations[:k]

    related: list[Citation] = []
    shown = {c.clause_id for c in citations}
    for cited in citations:
        for clause_id in cited.related:
            if clause_id in shown:
                continue
            shown.add(clause_id)
            clause = index.clauses[index.row_of[clause_id]]
            related.append(_citation(
                index, clause, rank=0, score=0.0, scores={}, ranks={}, weights=weights,
                version=versions.get(clause.doc_id), low_confidence=False,
                via="cross_reference",
            ))
    return Answer(
        question=question,
        answered=answered,
        confidence=round(confidence, 4),
        message=FOUND if answered else NOT_FOUND,
        citations=tuple(citations),
        related=tuple(related),
        filters=filters.to_dict(),
        index=index_info(index),
    )


def index_info(index: Index) -> dict[str, object]:
    model = index.manifest.get("model", {})
    return {
        "fingerprint": index.manifest.get("corpus_fingerprint"),
        "model": model.get("name") if isinstance(model, dict) else None,
        "model_identity": index.model_identity,
        "created": index.manifest.get("created"),
        "clauses": len(index.clauses),
    }
