"""The four collections one index occupies on a Milvus server, and JSON split into rows.

For an index named ``NAME``:

- ``NAME_clauses``: one row per clause: its dense vector, the hashes a build compares
  (passage, record, keyword passage), its document's id, kind and day (version date, else
  date) for filters, and its keyword length (for BM25's average length);
- ``NAME_keywords``: one row per clause that has keyword terms: a sparse vector of its
  BM25 term weights (:mod:`rag.index.milvus.keywords`) and the same filter fields;
- ``NAME_terms``: one row per term: its id in the sparse vectors and its document
  frequency (idf is computed at query time, so it is always the corpus's own);
- ``NAME_records``: JSON blobs split into rows of at most :data:`PIECE_BYTES`: each
  document with its clause records (what quotes are cut from), the document order, the
  keyword statistics, the build lock and the manifest.

Every collection has a vector field (Milvus requires one); the term and record
collections carry a constant 2-d placeholder that is never searched.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from rag.index.passages import content_hash

CLAUSES, KEYWORDS, TERMS, RECORDS = "clauses", "keywords", "terms", "records"
PARTS = (CLAUSES, KEYWORDS, TERMS, RECORDS)
ID_BYTES = 1024
HASH_BYTES = 64
PIECE_BYTES = 60_000  # a VARCHAR holds at most 65,535 bytes
TERM_BYTES = 256
PLACEHOLDER = [1.0, 0.0]
HNSW = {"M": 32, "efConstruction": 80}
HNSW_EF_SEARCH = 64


def collection(name: str, part: str) -> str:
    return f"{name}_{part}"


def _fields(schema: Any, data_type: Any, *, filters: bool) -> None:
    schema.add_field("id", data_type.VARCHAR, is_primary=True, max_length=ID_BYTES)
    if filters:
        schema.add_field("doc_id", data_type.VARCHAR, max_length=ID_BYTES)
        schema.add_field("kind", data_type.VARCHAR, max_length=64)
        schema.add_field("day", data_type.VARCHAR, max_length=32)


def create(client: Any, name: str, part: str, *, dimension: int = 0,
           search: str = "exact") -> None:
    """Create collection ``part`` of index ``name`` with its indexes, loaded."""
    from pymilvus import DataType

    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    index = client.prepare_index_params()
    if part == CLAUSES:
        _fields(schema, DataType, filters=True)
        for field in ("passage_hash", "record_hash", "keyword_hash"):
            schema.add_field(field, DataType.VARCHAR, max_length=HASH_BYTES)
        schema.add_field("length", DataType.INT64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=dimension)
        if search == "hnsw":
            index.add_index("vector", index_type="HNSW", metric_type="IP", params=HNSW)
        else:
            index.add_index("vector", index_type="FLAT", metric_type="IP")
    elif part == KEYWORDS:
        _fields(schema, DataType, filters=True)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
    elif part == TERMS:
        schema.add_field("term", DataType.VARCHAR, is_primary=True, max_length=TERM_BYTES)
        schema.add_field("tid", DataType.INT64)
        schema.add_field("df", DataType.INT64)
    elif part == RECORDS:
        schema.add_field("key", DataType.VARCHAR, is_primary=True, max_length=ID_BYTES + 16)
        schema.add_field("family", DataType.VARCHAR, max_length=16)
        schema.add_field("name", DataType.VARCHAR, max_length=ID_BYTES)
        schema.add_field("part", DataType.INT64)
        schema.add_field("parts", DataType.INT64)
        schema.add_field("hash", DataType.VARCHAR, max_length=HASH_BYTES)
        schema.add_field("piece", DataType.VARCHAR, max_length=PIECE_BYTES + 4)
    else:
        raise ValueError(f"unknown collection part {part!r}; one of {PARTS}")
    if part in (TERMS, RECORDS):
        schema.add_field("placeholder", DataType.FLOAT_VECTOR, dim=len(PLACEHOLDER))
        index.add_index("placeholder", index_type="FLAT", metric_type="L2")
    client.create_collection(collection(name, part), schema=schema, index_params=index,
                             consistency_level="Strong")


def term_key(term: str) -> str:
    """The primary key of a term: itself, or a hash when too long for the key field."""
    if len(term.encode("utf-8")) <= TERM_BYTES - 8:
        return term
    return "#sha:" + content_hash(term)


# ---------------------------------------------------------------- JSON blobs


def split_text(text: str, *, limit: int = PIECE_BYTES) -> list[str]:
    """``text`` cut into pieces of at most ``limit`` UTF-8 bytes, never inside a character."""
    data = text.encode("utf-8")
    pieces: list[str] = []
    start = 0
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # a continuation byte
            end -= 1
        pieces.append(data[start:end].decode("utf-8"))
        start = end
    return pieces or [""]


def blob_key(name: str, part: int) -> str:
    return f"{name}\t{part:06d}"


def blob_rows(family: str, name: str, value: object) -> Iterator[dict[str, Any]]:
    """The rows that store ``value`` as JSON under ``name`` (hash of the whole JSON)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    digest = content_hash(text)
    pieces = split_text(text)
    for part, piece in enumerate(pieces):
        yield {"key": blob_key(name, part), "family": family, "name": name, "part": part,
               "parts": len(pieces), "hash": digest, "piece": piece,
               "placeholder": PLACEHOLDER}


def join_blob(rows: list[dict[str, Any]], *, where: str) -> Any:
    """The JSON value stored in ``rows`` (one blob's pieces, any order)."""
    rows = sorted(rows, key=lambda r: int(r["part"]))
    parts = int(rows[0]["parts"]) if rows else 0
    if not rows or [int(r["part"]) for r in rows] != list(range(parts)):
        raise ValueError(f"{where}: {len(rows)} of {parts} pieces stored")
    text = "".join(str(r["piece"]) for r in rows)
    if content_hash(text) != rows[0]["hash"]:
        raise ValueError(f"{where}: pieces do not match their hash")
    return json.loads(text)


def quoted(values: object) -> str:
    """A list of strings (or ints) as a Milvus expression literal."""
    return json.dumps(list(values), ensure_ascii=False)  # type: ignore[call-overload]
