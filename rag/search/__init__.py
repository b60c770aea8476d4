"""Search: from a question to the clauses that govern it, before any answer is composed.

:func:`open_index` opens an index with its query-time tables; :func:`retrieve` fuses the
dense and keyword channels (plus definition and citation signals) into ranked hits;
:func:`find_named` finds clauses a question names outright (《证券法》第一百九十一条).
"""

from rag.core.filters import Filters
from rag.search.catalog import Index, open_index
from rag.search.fusion import Fusion
from rag.search.hybrid import (
    Hit,
    Query,
    calibrated,
    channel_results,
    prepare,
    rank,
    retrieve,
)
from rag.search.named import NamedClause, find_named, resolve

__all__ = [
    "Filters",
    "Fusion",
    "Hit",
    "Index",
    "NamedClause",
    "Query",
    "calibrated",
    "channel_results",
    "find_named",
    "open_index",
    "prepare",
    "rank",
    "resolve",
    "retrieve",
]
