"""The securities law, the company law (2023) and the criminal law linked as one table:
what the penalty-link rule tests read, built once per session."""

from __future__ import annotations

from functools import cache

from rag.chunking import chunk_documents
from rag.links import LinkTable
from rag.readers import read_document

from .conftest import CORPUS

LAWS = CORPUS / "lawrefbook" / "民法商法"
SEC = "证券法-2019-12-28"
CO = "公司法-2023-12-29"
CRIMES = "刑法"


@cache
def table() -> LinkTable:
    docs = [read_document(LAWS / "证券法(2019-12-28).md"),
            read_document(LAWS / "公司法(2023-12-29).md"),
            read_document(CORPUS / "lawrefbook" / "刑法" / "刑法.md")]
    return LinkTable(docs, chunk_documents(docs))


def links(doc_id: str, article: int) -> list[tuple[str, str]]:
    """(target article, kind) of the penalty links of ``doc_id``'s article ``article``."""
    return [(k.target.split("#")[1], k.kind) for k in table().penalties(f"{doc_id}#art{article}")]
