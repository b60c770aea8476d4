"""What answers say to users, in one place: verdicts, the candidates note, labels."""

from __future__ import annotations

from rag.answer.types import Answer

FOUND = "以下条款与问题相关（原文引用）。The clauses below govern this question (quoted verbatim)."
CHANGES = (
    "以下条款先引现行版本，再引其修订前的版本（原文引用），修改之处已标出。"
    "Each article is quoted in its current version, then in the earlier version it "
    "replaced (verbatim), with the changes marked."
)
NOT_FOUND = "语料库中没有条款能回答这个问题。No clause in the corpus answers this question."
CANDIDATES = (
    "以下为最接近的条款，置信度低，仅供参考，不构成答案。"
    "Nearest candidates (low confidence, shown for reference only, not an answer):"
)
LOW_CONFIDENCE = "low confidence"
RELATED = "引文中提到的条款 Clauses referred to by the quotes"
INNER = "本条内的援引 References within this article"
NO_PENALTY = ("索引文件中没有罚则与本条相连。"
              "No penalty provision links to this clause in the indexed documents.")


def verdict(answer: Answer) -> str:
    """``Answered (confidence 0.82). …``, ``NOT ANSWERED (confidence 0.10). …``, or
    ``NOT ANSWERED. …`` when there is nothing to show (a question that failed)."""
    if answer.answered:
        return f"Answered (confidence {answer.confidence:.2f}). {answer.message}"
    if answer.citations:
        return f"NOT ANSWERED (confidence {answer.confidence:.2f}). {answer.message}"
    return f"NOT ANSWERED. {answer.message}"
