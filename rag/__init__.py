"""Compliance Q&A: answer questions by quoting, verbatim, the clauses that govern them.

The pipeline, one package per stage, plain frozen data between them::

    files ─ readers ─▶ Document ─ chunking ─▶ Clause ─ index ─▶ backend (FAISS + BM25)
    question ─ search (named clauses, dense + keyword, fused) ─▶ Hit ─ answer ─▶ Answer
    Answer ─ export ─▶ terminal text, batch records, Markdown / Word memos

The calls below are the public API; the CLI, the web chat and the benchmarks use them::

    import rag
    model = rag.load_encoder("multilingual-e5-small-statutes")
    rag.index_paths(["corpus/"], index="embeddings/index", encoder=model)
    index = rag.open_index("embeddings/index")  # with the model that built it, checked
    print(rag.answer("内幕交易会被罚多少钱？", index).citations[0].citation)

Names are imported on first use, so ``import rag`` stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from rag.core.version import __version__

# public name → the module that defines it
_API = {
    "load_documents": "rag.readers",
    "read_document": "rag.readers",
    "chunk_document": "rag.chunking",
    "chunk_documents": "rag.chunking",
    "load_encoder": "rag.encoders",
    "index_paths": "rag.links.build",  # stores the clause links with the index
    "build_index": "rag.index",
    "open_index": "rag.search",
    "retrieve": "rag.search",
    "answer": "rag.answer",
    "Document": "rag.core.documents",
    "Clause": "rag.core.clauses",
    "Filters": "rag.core.filters",
    "Answer": "rag.answer",
    "Citation": "rag.answer",
}

__all__ = ["__version__", *_API]

if TYPE_CHECKING:
    from rag.answer import Answer as Answer
    from rag.answer import Citation as Citation
    from rag.answer import answer as answer
    from rag.chunking import chunk_document as chunk_document
    from rag.chunking import chunk_documents as chunk_documents
    from rag.core.clauses import Clause as Clause
    from rag.core.documents import Document as Document
    from rag.core.filters import Filters as Filters
    from rag.encoders import load_encoder as load_encoder
    from rag.index import build_index as build_index
    from rag.links.build import index_paths as index_paths
    from rag.readers import load_documents as load_documents
    from rag.readers import read_document as read_document
    from rag.search import open_index as open_index
    from rag.search import retrieve as retrieve


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
