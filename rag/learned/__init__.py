"""Retrieval parts trained on real questions: a query adapter and a learned reranker.

The files live beside this module as package data (``manifest.json``, ``adapter.npy``,
``reranker.txt`` — plain arrays, JSON and LightGBM's own text format, no pickle), each
with its sha256, for the one embedding model they were trained with.
``benchmarks/train_retrieval.py`` rebuilds them from STARD's training questions.
"""

from rag.learned.artifacts import Learned, learned_for

__all__ = ["Learned", "learned_for"]
