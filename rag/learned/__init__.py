"""Retrieval parts trained on real questions: a query adapter and a learned reranker.

Each model's parts live in their own folder as package data, ``rag/learned/<model
name>/`` (``manifest.json`` naming the model identity, ``adapter.npy``, ``reranker.txt`` —
plain arrays, JSON and LightGBM's own text format, no pickle), each with its sha256.
``benchmarks/train_retrieval.py --model NAME`` rebuilds them from STARD's training
questions. The fine-tuned encoder's delta is in this folder's own ``manifest.json``.
"""

from rag.learned.artifacts import Learned, learned_for

__all__ = ["Learned", "learned_for"]
