"""Retrieval quality on labelled questions: article-level metrics, reports, hit testing."""
