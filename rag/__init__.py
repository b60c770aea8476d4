"""Compliance Q&A: answer questions by quoting the clauses that govern them."""

__version__ = "0.1.0"
