"""Nearest-neighbour search over clause vectors with FAISS, and top-k over score arrays."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

# One query is scanned on one thread. On 2 cores, FAISS's OpenMP threads otherwise fight
# torch's (still spinning after embedding the question) and the query gets slower, not
# faster: STARD p50 30.1 ms with 2 search threads against 22.6 ms with 1.
SEARCH_THREADS = 1
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 64


def exhaustive_index(vectors: np.ndarray) -> Any:
    """Exhaustive inner-product search over vectors held as float16 in memory.

    Every vector is scored (no approximation in the search); holding them as float16
    halves the memory each query scans, which on 2 cores made a 69,528-clause search
    4x faster (10.1 ms → 2.4 ms) with identical top-10 on STARD queries. Scores differ
    from float32 by about 1e-4.
    """
    import faiss

    index = faiss.IndexScalarQuantizer(
        vectors.shape[1], faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
    )
    data = np.ascontiguousarray(vectors, dtype=np.float32)
    index.train(data)
    index.add(data)
    return index


def hnsw_index(
    vectors: np.ndarray, *, m: int = HNSW_M, ef_construction: int = HNSW_EF_CONSTRUCTION
) -> Any:
    """Approximate (HNSW) inner-product search, for corpora too large to scan."""
    import faiss

    index = faiss.IndexHNSWFlat(vectors.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


@contextmanager
def faiss_threads(count: int) -> Iterator[None]:
    """Run FAISS on ``count`` OpenMP threads inside the block, then restore the setting."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def search(
    index: Any, query: np.ndarray, k: int, *, allowed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Top-k (scores, rows) of ``index`` for one query; ``allowed`` is a row mask."""
    import faiss  # its SWIG stubs lack the SearchParameters keywords

    k = min(k, index.ntotal)
    if k <= 0:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    hnsw = isinstance(index, faiss.IndexHNSW)
    params = None
    if allowed is not None:
        ids = np.flatnonzero(allowed).astype(np.int64)
        if len(ids) == 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        k = min(k, len(ids))
        selector = faiss.IDSelectorBatch(ids)
        if hnsw:
            params = faiss.SearchParametersHNSW(  # type: ignore[attr-defined]
                sel=selector, efSearch=max(HNSW_EF_SEARCH, 2 * k)
            )
        else:
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
    elif hnsw:
        params = faiss.SearchParametersHNSW(efSearch=max(HNSW_EF_SEARCH, 2 * k))  # type: ignore[attr-defined]
    with faiss_threads(SEARCH_THREADS):
        scores, rows = index.search(query, k, params=params)
    keep = rows[0] >= 0
    return scores[0][keep], rows[0][keep]


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows with the k highest positive scores, best first (ties broken by row)."""
    positive = np.flatnonzero(scores > 0)
    if len(positive) == 0 or k <= 0:
        return np.zeros(0, np.float32), np.zeros(0, np.int64)
    if len(positive) > k:
        part = np.argpartition(-scores[positive], k - 1)[:k]
        positive = positive[part]
    order = np.lexsort((positive, -scores[positive]))
    rows = positive[order]
    return scores[rows].astype(np.float32), rows.astype(np.int64)
