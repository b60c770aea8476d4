"""Where an index lives: a folder (the embedded backend) or a milvus:// URI, and how to build it."""

from __future__ import annotations

MILVUS_SCHEMES = ("milvus://", "milvus+https://")


def is_remote(location: object) -> bool:
    """Whether ``location`` (a folder, a URI or a backend with ``.location``) names an index
    on a server (a milvus:// URI), not a folder."""
    location = getattr(location, "location", location)
    return isinstance(location, str) and location.startswith(MILVUS_SCHEMES)


def rebuild_command(location: object, *, paths: str = "PATH...") -> str:
    """The ``rag index`` command that (re)builds the index at ``location``: ``--backend URI``
    for a server index, ``--index DIR`` for a folder (``paths``: what it reads)."""
    where = getattr(location, "location", location)
    option = "--backend" if is_remote(where) else "--index"
    return " ".join(part for part in ("rag index", paths, option, str(where)) if part)
