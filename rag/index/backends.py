"""Which backend a location names: a folder (embedded, the default) or a milvus:// URI."""

from __future__ import annotations

from pathlib import Path

from rag.core.locations import is_remote
from rag.encoders import Encoder
from rag.index.backend import IndexBackend, StoreError
from rag.index.embedded import EmbeddedBackend
from rag.index.manifest import model_name, reembed_notice


def open_backend(location: IndexBackend | Path | str, *, verify: bool = True) -> IndexBackend:
    """The backend for ``location``: an :class:`IndexBackend` as it is, a ``milvus://``
    URI (:class:`rag.index.milvus.MilvusBackend`, imported only then), else a folder."""
    if isinstance(location, IndexBackend):
        return location
    if is_remote(location):
        from rag.index.milvus import MilvusBackend

        return MilvusBackend(str(location))
    return EmbeddedBackend(Path(location), verify=verify)


def built_with(location: IndexBackend | Path | str) -> str | None:
    """The name of the model that built the index at ``location`` (None when there is no
    index there yet; StoreError when it cannot be read)."""
    manifest = open_backend(location).manifest()
    return model_name(manifest) if manifest is not None else None


def model_change(location: IndexBackend | Path | str, encoder: Encoder) -> str | None:
    """What indexing ``location`` with ``encoder`` re-embeds when the index there was built
    with another model (:func:`rag.index.manifest.reembed_notice`); None when it was not,
    or there is no readable index there yet (a build then rebuilds it anyway)."""
    backend = open_backend(location, verify=False)
    try:
        manifest = backend.manifest()
    except (StoreError, OSError, ValueError):
        return None
    return reembed_notice(manifest, encoder, location=backend.location)
