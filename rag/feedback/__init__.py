"""Readers' feedback on cited clauses: the store, review decisions, imports and exports.

Accepted "governs" verdicts become question memory (:mod:`rag.search.memory`), built
here from the store by :func:`rag.feedback.recall.load_memory`.
"""

from rag.feedback.store import (
    DB_ENV,
    Feedback,
    FeedbackStore,
    FeedbackStoreError,
    NoSuchFeedback,
    default_url,
)

__all__ = ["DB_ENV", "Feedback", "FeedbackStore", "FeedbackStoreError", "NoSuchFeedback",
           "default_url"]
