"""The Milvus index backend: ``milvus://HOST:PORT/NAME`` (see :mod:`.backend`).

Needs the optional ``scale`` extra (pymilvus); nothing here imports it until a Milvus
index is used.
"""

from rag.index.milvus.backend import MilvusBackend
from rag.index.milvus.connection import MilvusLocation

__all__ = ["MilvusBackend", "MilvusLocation"]
