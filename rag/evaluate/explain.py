"""Hit testing: for one question, every ranked clause with each channel's rank and score,
and why each was shown, folded or refused.

What an administrator needs to understand a miss before confirming the right clause:
the look-up (clauses the question names), the dense, BM25 and memory channels, the
derived signals (definitions, references), the reranker when on, the clauses folded as
restatements of a kept one, and the refusal decision with its signals.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any

from rag.answer.change_questions import prepare_question
from rag.answer.compose import find
from rag.answer.refusal import load_calibration
from rag.core.filters import Filters
from rag.encoders import Encoder
from rag.search import Fusion, Index, calibrated

CHANNEL_ORDER = ("lookup", "memory", "dense", "dense_plain", "bm25", "definition", "reference",
                 "rerank")


@dataclass(frozen=True)
class Voter:
    """A confirmed question whose similarity let it vote for a clause."""

    question: str
    clause_id: str
    similarity: float


@dataclass(frozen=True)
class Row:
    """One ranked clause: where each channel put it, and what happened to it."""

    rank: int
    clause_id: str
    document: str
    label: str
    score: float
    via: str  # lookup | memory | search
    ranks: dict[str, int]
    scores: dict[str, float]
    folded: tuple[str, ...]  # restatements folded under it (not shown on their own)
    why: str


@dataclass(frozen=True)
class Explanation:
    question: str
    filters: dict[str, Any]
    answered: bool
    confidence: float
    threshold: float
    signals: dict[str, float]  # what refusal weighs
    rows: tuple[Row, ...]
    voters: tuple[Voter, ...] = ()
    weights: dict[str, float] = field(default_factory=dict)  # each channel's fusion weight

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _why(via: str, ranks: dict[str, int], folded: tuple[str, ...], answered: bool,
         keeps: int = 0) -> str:
    if via == "lookup":
        reason = "named in the question (exact look-up): always first"
    elif via == "memory":
        reason = "a reader confirmed it for this very question: pinned first"
    else:
        found = [f"{c} #{ranks[c]}" for c in CHANNEL_ORDER if c in ranks and c != "rerank"]
        reason = "fused from " + (", ".join(found) if found else "no channel")
    if "rerank" in ranks and "fused" in ranks:
        reason += f"; fused #{ranks['fused']}, the reranker's #{ranks['rerank']}"
        if ranks["fused"] <= keeps < ranks["rerank"]:
            reason += f" (kept among the fused first {keeps})"
    if folded:
        reason += f"; {len(folded)} restatement(s) folded under it"
    if not answered:
        reason += "; shown as a low-confidence candidate (the answer is refused)"
    return reason


def explain(question: str, *, index: Index, encoder: Encoder, k: int = 20,
            filters: Filters | None = None, fusion: Fusion | None = None) -> Explanation:
    """Why ``question`` gets the clauses it gets (``k`` rows; named clauses first)."""
    if not question.strip():
        raise ValueError("the question is empty")
    fusion = calibrated(fusion, index)
    query, _ = prepare_question(question, index=index, filters=filters)
    vector = encoder.encode_queries([query.text])[0]
    query = replace(query, vector=vector)
    found = find(query, index=index, encoder=encoder, k=max(1, (k + 2) // 3), fusion=fusion)
    calibration = load_calibration(index.model_identity)
    confidence = found.confidence(calibration)
    answered = confidence >= calibration.threshold
    rows: list[Row] = []
    for clause in found.named:
        rows.append(Row(len(rows) + 1, clause.id, index.document_of(clause).title,
                        clause.label, 1.0, "lookup", {"lookup": 1}, {"lookup": 1.0}, (),
                        _why("lookup", {}, (), True)))
    for hit in found.hits:
        if len(rows) >= k:
            break
        folded = tuple(found.folded.get(hit.clause.unit_id, ()))
        ranks = dict(hit.ranks)
        rows.append(Row(len(rows) + 1, hit.clause.id, index.document_of(hit.clause).title,
                        hit.clause.label, round(hit.score, 6), hit.via, ranks,
                        {c: round(v, 6) for c, v in hit.scores.items()}, folded,
                        _why(hit.via, ranks, folded, answered, fusion.reranker_keeps)))
    voters: list[Voter] = []
    settings = fusion.memory_settings()
    if index.memory is not None and settings.weight > 0:
        sims, entries = index.memory.vectors.nearest(vector, 10)
        for sim, entry in zip(sims.tolist(), entries.tolist(), strict=True):
            if sim >= settings.floor:
                voters.append(Voter(index.memory.questions[entry],
                                    index.memory.clause_ids[entry], round(sim, 4)))
    dense, coverage, latin = found.signals
    fused = fusion.cross_lingual() if query.cross_lingual else fusion
    return Explanation(
        question=query.asked, filters=(filters or Filters()).to_dict(), answered=answered,
        confidence=round(confidence, 4), threshold=calibration.threshold,
        signals={"nearest_similarity": round(dense, 4), "coverage": round(coverage, 4),
                 "latin": latin},
        rows=tuple(rows), voters=tuple(voters),
        weights={c: fused.weight(c) for c in ("dense", "dense_plain", "bm25", "memory",
                                              "definition", "reference")})


def format_explanation(result: Explanation) -> str:
    """The explanation as plain text for a terminal."""
    head = (f"{result.question}\n"
            f"{'answered' if result.answered else 'REFUSED'}: confidence "
            f"{result.confidence:.3f} (threshold {result.threshold:.3f}); nearest clause "
            f"similarity {result.signals['nearest_similarity']:.3f}, term coverage "
            f"{result.signals['coverage']:.3f}\n"
            "weights: " + ", ".join(f"{c} {w:g}" for c, w in result.weights.items()))
    channels = [c for c in CHANNEL_ORDER if any(c in r.ranks for r in result.rows)]
    table = [f"{'#':>3}  {'clause':<44} " + "".join(f"{c:>11}" for c in channels)
             + f"{'fused':>9}"]
    for row in result.rows:
        cells = "".join(
            f"{row.ranks[c]:>4} {row.scores.get(c, 0.0):>6.3f}" if c in row.ranks
            else f"{'·':>11}" for c in channels)
        table.append(f"{row.rank:>3}  {row.clause_id[:44]:<44} {cells}{row.score:>9.3f}")
        table.append(f"     {row.document} {row.label} — {row.why}")
        for clause_id in row.folded:
            table.append(f"       folded: {clause_id}")
    voters = [f"  {v.similarity:.3f}  {v.question}  →  {v.clause_id}" for v in result.voters]
    tail = ["", "memory voters (confirmed questions above the floor):", *voters] if voters \
        else []
    return "\n".join([head, "", *table, *tail]) + "\n"
