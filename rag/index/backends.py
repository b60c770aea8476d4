"""Which backend a location names: a folder (embedded, the default) or a milvus:// URI."""

from __future__ import annotations

from pathlib import Path

from rag.index.backend import IndexBackend
from rag.index.embedded import EmbeddedBackend


def open_backend(location: IndexBackend | Path | str, *, verify: bool = True) -> IndexBackend:
    """The backend for ``location``: an :class:`IndexBackend` as it is, else a folder."""
    if isinstance(location, IndexBackend):
        return location
    return EmbeddedBackend(Path(location), verify=verify)
