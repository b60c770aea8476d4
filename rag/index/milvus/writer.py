"""Applying a build's :class:`~rag.index.backend.Change` to an index's Milvus collections.

Only what changed is written: the clause rows whose passage, record, keyword passage or
document fields (kind, day) changed, the keyword rows and term frequencies of clauses
whose keyword passage changed, the document blobs whose JSON changed; removed clauses
and documents are deleted. The manifest is written last, so an interrupted apply leaves
the previous manifest, and the next build finds what was already written by its hashes
and writes the rest.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from rag.core.documents import Document
from rag.index.backend import Change, ClauseRow, StoreError
from rag.index.milvus import schema
from rag.index.milvus.filters import day_of
from rag.index.milvus.keywords import KeywordStats, clause_weights, df_changes, length
from rag.index.milvus.schema import CLAUSES, KEYWORDS, RECORDS, TERMS, term_key
from rag.index.milvus.tables import Tables
from rag.index.passages import content_hash
from rag.index.records import clause_row, document_row
from rag.index.tokenize import get_tokenizer

MANIFEST, ORDER, STATS, LOCK = "meta/manifest", "meta/order", "meta/keywords", "meta/lock"
CLAUSE_FIELDS = ("id", "doc_id", "kind", "day", "passage_hash", "record_hash",
                 "keyword_hash", "length")


def doc_blob_name(doc_id: str) -> str:
    return f"doc/{doc_id}"


def blob_hash(value: object) -> str:
    return content_hash(json.dumps(value, ensure_ascii=False, sort_keys=True))


def reset(tables: Tables, *, dimension: int, search: str) -> None:
    """Empty the index: new clause, keyword and term collections, no documents."""
    for part in (CLAUSES, KEYWORDS, TERMS):
        tables.drop(part)
    if not tables.exists(RECORDS):
        tables.create(RECORDS)
    tables.delete_where(RECORDS, 'family == "doc"')
    tables.delete_blobs([MANIFEST, ORDER, STATS])
    tables.create(CLAUSES, dimension=dimension, search=search)
    tables.create(KEYWORDS)
    tables.create(TERMS)


def stored_vectors(tables: Tables, hashes: Iterable[str]) -> dict[str, np.ndarray]:
    rows = tables.fetch(CLAUSES, "passage_hash", hashes, ["passage_hash", "vector"])
    return {str(r["passage_hash"]): np.asarray(r["vector"], np.float32) for r in rows}


def apply_change(tables: Tables, change: Change) -> None:
    settings = change.manifest
    dimension = int(settings["model"]["dimension"])
    search = str(settings.get("search", "exact"))
    params = settings["bm25"]
    if params.get("method") != "lucene":
        raise StoreError(f"{tables.connection.location.uri}: the Milvus backend scores BM25 "
                         f"as bm25s' lucene variant, not {params.get('method')!r}")
    tokenize = get_tokenizer(str(settings["tokenizer"]))
    fresh = change.replace or not tables.exists(CLAUSES)
    if fresh:
        reset(tables, dimension=dimension, search=search)
        stats = KeywordStats(k1=float(params["k1"]), b=float(params["b"]))
        current: dict[str, dict[str, Any]] = {}
    else:
        stats = KeywordStats.from_json(tables.blob(STATS))
        current = {str(r["id"]): r for r in tables.scan(CLAUSES, CLAUSE_FIELDS)}

    docs = {d.doc_id: d for d in change.documents}
    wanted = {r.clause.id: _clause_fields(r, docs[r.clause.doc_id]) for r in change.clauses}
    deleted = [i for i in current if i not in wanted]
    rewrite = [r for r in change.clauses if r.clause.id in change.upserts
               or any(current.get(r.clause.id, {}).get(f) != v
                      for f, v in wanted[r.clause.id].items())]
    retokenize = [r for r in rewrite if current.get(r.clause.id, {}).get("keyword_hash")
                  != wanted[r.clause.id]["keyword_hash"]]
    tokens = {r.clause.id: tokenize(r.keywords) for r in retokenize}
    old_sparse = {str(r["id"]): r["sparse"] for r in tables.fetch(
        KEYWORDS, "id", [r.clause.id for r in rewrite if r.clause.id in current] + deleted,
        ["id", "sparse"])}

    # term frequencies: the old terms of rewritten and deleted clauses out, the new in
    changed_ids = [i for i in tokens if i in current] + deleted
    removed, added = df_changes((old_sparse.get(i, {}).keys() for i in changed_ids),
                                tokens.values())
    stats, tids = _update_terms(tables, stats, removed, added)
    total = sum(length(tokens[i]) if i in tokens else int(current[i]["length"])
                for i in wanted)
    stats = KeywordStats(documents=len(wanted), total_length=total, avgdl=stats.avgdl,
                         next_tid=stats.next_tid, k1=stats.k1, b=stats.b)
    keyword_rows = rewrite
    if stats.drifted():  # new average length: every clause's weights are rewritten
        stats = KeywordStats(**{**stats.to_json(), "avgdl": stats.live_avgdl})  # type: ignore[arg-type]
        for r in change.clauses:
            if r.clause.id not in tokens:
                tokens[r.clause.id] = tokenize(r.keywords)
        missing = {t for toks in tokens.values() for t in toks} - set(tids)
        tids.update(_term_ids(tables, missing))
        keyword_rows = list(change.clauses)

    # clause rows: vectors from the change, else the ones already stored
    need = {r.passage_hash for r in rewrite} - set(change.vectors)
    vectors: Mapping[str, np.ndarray] = {**stored_vectors(tables, need), **change.vectors}
    lost = need - set(vectors)
    if lost:
        raise StoreError(f"{tables.connection.location.uri}: no vector for {len(lost)} "
                         "passages; rebuild the index")
    tables.upsert(CLAUSES, (
        {**wanted[r.clause.id], "length": length(tokens[r.clause.id]) if r.clause.id in tokens
         else int(current[r.clause.id]["length"]),
         "vector": np.asarray(vectors[r.passage_hash], np.float32).tolist()}
        for r in rewrite))
    empty: list[str] = []
    rows = []
    for r in keyword_rows:
        cid = r.clause.id
        if cid in tokens:
            sparse = clause_weights(tokens[cid], tids, avgdl=stats.avgdl, k1=stats.k1, b=stats.b)
        else:
            sparse = {int(k): float(v) for k, v in old_sparse.get(cid, {}).items()}
        if sparse:
            rows.append({**{f: wanted[cid][f] for f in ("id", "doc_id", "kind", "day")},
                         "sparse": sparse})
        else:
            empty.append(cid)
    tables.upsert(KEYWORDS, rows)
    tables.delete(KEYWORDS, "id", [*deleted, *(i for i in empty if i in current)])
    tables.delete(CLAUSES, "id", deleted)
    _write_documents(tables, change, fresh=fresh)
    tables.write_blob("meta", STATS, stats.to_json())
    tables.flush((CLAUSES, KEYWORDS, TERMS))
    tables.write_blob("meta", MANIFEST, change.manifest)
    tables.flush((RECORDS,))


def _clause_fields(row: ClauseRow, doc: Document) -> dict[str, Any]:
    return {"id": row.clause.id, "doc_id": doc.doc_id, "kind": doc.kind, "day": day_of(doc),
            "passage_hash": row.passage_hash, "record_hash": row.record_hash,
            "keyword_hash": content_hash(row.keywords)}


def _term_ids(tables: Tables, terms: Iterable[str]) -> dict[str, int]:
    keys = {term_key(t): t for t in terms}
    rows = tables.fetch(TERMS, "term", keys, ["term", "tid"])
    return {keys[str(r["term"])]: int(r["tid"]) for r in rows}


def _update_terms(tables: Tables, stats: KeywordStats, removed: Mapping[int, int],
                  added: Mapping[str, int]) -> tuple[KeywordStats, dict[str, int]]:
    """Apply document-frequency changes to the term rows; term → id of the added terms."""
    keys = {term_key(t): t for t in added}
    rows: dict[str, dict[str, Any]] = {}
    for row in tables.fetch(TERMS, "term", keys, ["term", "tid", "df"]):
        rows[str(row["term"])] = {"term": str(row["term"]), "tid": int(row["tid"]),
                                  "df": int(row["df"])}
    for row in tables.fetch(TERMS, "tid", removed, ["term", "tid", "df"]):
        rows[str(row["term"])] = {"term": str(row["term"]), "tid": int(row["tid"]),
                                  "df": int(row["df"])}
    next_tid = stats.next_tid
    for key, term in keys.items():
        if key not in rows:
            rows[key] = {"term": key, "tid": next_tid, "df": 0}
            next_tid += 1
        rows[key]["df"] += added[term]
    for row in rows.values():
        row["df"] -= removed.get(row["tid"], 0)
    tables.upsert(TERMS, ({**r, "placeholder": schema.PLACEHOLDER}
                          for r in rows.values() if r["df"] > 0))
    tables.delete(TERMS, "term", [k for k, r in rows.items() if r["df"] <= 0])
    tids = {term: rows[key]["tid"] for key, term in keys.items()}
    return KeywordStats(**{**stats.to_json(), "next_tid": next_tid}), tids  # type: ignore[arg-type]


def _write_documents(tables: Tables, change: Change, *, fresh: bool) -> None:
    """One blob per document (its record and its clauses' records), and the order."""
    clauses: dict[str, list[dict[str, Any]]] = {d.doc_id: [] for d in change.documents}
    for r in change.clauses:
        clauses[r.clause.doc_id].append(clause_row(r.clause, r.passage_hash))
    stored = {} if fresh else tables.blob_hashes("doc")
    names = set()
    for doc in change.documents:
        name = doc_blob_name(doc.doc_id)
        names.add(name)
        value = {"document": document_row(doc), "clauses": clauses[doc.doc_id]}
        if stored.get(name) != blob_hash(value):
            tables.write_blob("doc", name, value)
    tables.delete_blobs(sorted(set(stored) - names))
    order = [d.doc_id for d in change.documents]
    if fresh or tables.blob(ORDER) != order:
        tables.write_blob("meta", ORDER, order)
