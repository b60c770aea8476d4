"""Which backend a location names: a folder (embedded, the default) or a milvus:// URI."""

from __future__ import annotations

from pathlib import Path

from rag.index.backend import IndexBackend
from rag.index.embedded import EmbeddedBackend

MILVUS_SCHEMES = ("milvus://", "milvus+https://")


def is_remote(location: object) -> bool:
    """Whether ``location`` names an index on a server (a milvus:// URI), not a folder."""
    if isinstance(location, IndexBackend):
        location = location.location
    return isinstance(location, str) and location.startswith(MILVUS_SCHEMES)


def rebuild_command(location: str) -> str:
    """The ``rag index`` command that (re)builds the index at ``location``."""
    option = "--backend" if is_remote(location) else "--index"
    return f"rag index PATH... {option} {location}"


def open_backend(location: IndexBackend | Path | str, *, verify: bool = True) -> IndexBackend:
    """The backend for ``location``: an :class:`IndexBackend` as it is, a ``milvus://``
    URI (:class:`rag.index.milvus.MilvusBackend`, imported only then), else a folder."""
    if isinstance(location, IndexBackend):
        return location
    if is_remote(location):
        from rag.index.milvus import MilvusBackend

        return MilvusBackend(str(location))
    return EmbeddedBackend(Path(location), verify=verify)
