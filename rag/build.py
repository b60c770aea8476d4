"""Files in, index out: read → chunk → index, the pipeline behind ``rag index``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rag.chunking import chunk_document
from rag.encoders import Encoder
from rag.index import BuildReport, build_index
from rag.readers import load_documents


def index_paths(
    paths: Sequence[Path],
    *,
    index_dir: Path,
    encoder: Encoder,
    search: str = "exact",
    max_chars: int = 600,
    progress: bool = False,
) -> BuildReport:
    """Read and chunk every document under ``paths`` and update the index in ``index_dir``.

    Files that cannot be read are reported in ``BuildReport.skipped_files`` and left out;
    the rest of the corpus is indexed.
    """
    for path in paths:
        if not Path(path).exists():
            raise FileNotFoundError(f"{path}: no such file or folder")
    documents, errors = load_documents(paths)
    clauses = [c for doc in documents for c in chunk_document(doc, max_chars=max_chars)]
    return build_index(
        documents,
        clauses,
        index_dir=index_dir,
        encoder=encoder,
        search=search,
        skipped_files=[str(e) for e in errors],
        sources=[str(p) for p in paths],
        progress=progress,
    )
