"""Tables derived from a generation's records at build time, stored beside them as files.

A :class:`Derived` table (the penalty links of :mod:`rag.links.stored`, say) is computed
from the documents and clauses once, when a build publishes a generation, instead of by
every process that opens the index. Its file is listed in the generation's manifest with
its size and sha256 like every other file, and ``manifest["derived"]`` records its
identity (what made it: format and rules); a build whose tables have another identity
publishes again (without embedding anything), and a reader that finds another identity,
or no file, computes the table itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from rag.core.clauses import Clause
from rag.core.documents import Document

DERIVED = "derived"  # the manifest key: file name → identity


class Derived(Protocol):
    """One table a build derives from a generation's records and stores as one file."""

    name: str  # its file name in the generation folder

    def identity(self) -> str:
        """What made the file (format and rules): another identity means recompute."""
        ...

    def write(self, documents: Sequence[Document], clauses: Sequence[Clause], path: Path, *,
              previous: Path | None) -> None:
        """Write the table of these records to ``path``; ``previous`` is the file of the
        generation being replaced (same identity), whose unchanged parts may be reused."""
        ...


def identities(derived: Sequence[Derived]) -> dict[str, str]:
    return {table.name: table.identity() for table in derived}


def recorded(manifest: dict[str, object] | None) -> dict[str, str]:
    """The identities ``manifest`` records for its derived files."""
    found = (manifest or {}).get(DERIVED)
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}
