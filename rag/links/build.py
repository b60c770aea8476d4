"""Index builds that store the clause links with each generation (what `rag index` runs)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rag.index import BuildReport
from rag.index import index_paths as _index_paths
from rag.index.derived import Derived
from rag.links.stored import LINKS


def index_paths(paths: Sequence[Path | str], *, derived: Sequence[Derived] = (LINKS,),
                **options: Any) -> BuildReport:
    """:func:`rag.index.index_paths` with the links file (``links.jsonl``) written beside
    each generation, so the first question does not compute them; ``options`` are that
    function's (``index``, ``encoder``, ``search``, ``progress`` …)."""
    return _index_paths(paths, derived=derived, **options)
