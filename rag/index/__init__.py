"""Indexes: clause records, dense vectors and keyword postings behind one backend seam.

:func:`index_paths` (files in) and :func:`build_index` (documents and clauses in) bring an
index up to date, embedding only new passages; :func:`open_backend` opens one for search.
The embedded folder of plain files is the default backend; see :mod:`rag.index.backend`
for the seam another engine implements.
"""

from rag.index.backend import Candidates, Change, ClauseRow, IndexBackend, Records, StoreError
from rag.index.backends import built_with, model_change, open_backend
from rag.index.build import (
    BuildReport,
    Sources,
    build_index,
    copy_index,
    embed,
    index_paths,
    remembered_sources,
)
from rag.index.embedded import EmbeddedBackend
from rag.index.manifest import BM25Params, check_model

__all__ = [
    "BM25Params",
    "BuildReport",
    "Candidates",
    "Change",
    "ClauseRow",
    "EmbeddedBackend",
    "IndexBackend",
    "Records",
    "Sources",
    "StoreError",
    "build_index",
    "built_with",
    "check_model",
    "copy_index",
    "embed",
    "index_paths",
    "model_change",
    "open_backend",
    "remembered_sources",
]
