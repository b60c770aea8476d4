"""Keyword channel on Milvus: server-side BM25 (jieba analyzer) vs our client-side sparse
vectors, each against the embedded bm25s channel, on the same questions (not a test).

    python benchmarks/milvus_bm25.py            # starts a Milvus Lite server on a free port
    python benchmarks/milvus_bm25.py --uri milvus://127.0.0.1:19530/bm25bench

Indexes the keyword passages of the shipped corpus three ways: bm25s (the embedded
backend, the baseline), our Milvus backend (client-side jieba tokens → sparse BM25
weights, :mod:`rag.index.milvus.keywords`) and a Milvus collection with a BM25
``Function`` over a VARCHAR field with ``analyzer_params={"tokenizer": "jieba"}``. For the
fixed parity questions (tests/data/parity_questions.txt, glossary-expanded as search
does) it prints each channel's top-10 overlap with bm25s, top-1 agreement and query
latency p50/p95.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

K = 10


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))]


def _server_side(uri: str, rows: list[tuple[str, str]]) -> tuple[object, str, float]:
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    from rag.index.milvus import MilvusLocation

    where = MilvusLocation.parse(uri)
    client = MilvusClient(uri=where.endpoint)
    name = f"{where.name}_server_bm25"
    if client.has_collection(name):
        client.drop_collection(name)
    schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=1024)
    schema.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True,
                     analyzer_params={"tokenizer": "jieba"})
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25,
                                 input_field_names=["text"], output_field_names=["sparse"]))
    index = client.prepare_index_params()
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                    params={"bm25_k1": 1.2, "bm25_b": 0.75})
    client.create_collection(name, schema=schema, index_params=index,
                             consistency_level="Strong")
    started = time.perf_counter()
    for start in range(0, len(rows), 500):
        client.insert(name, [{"id": i, "text": t} for i, t in rows[start:start + 500]])
    client.flush(name)
    return client, name, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uri", default=None, help="default: a Milvus Lite server started here")
    args = parser.parse_args(argv)

    from tests.servers import milvus_server

    with tempfile.TemporaryDirectory() as tmp:
        if args.uri:
            return run(args.uri, Path(tmp))
        with milvus_server(Path(tmp) / "milvus") as server:
            return run(f"{server.uri}/bm25bench", Path(tmp))


def run(uri: str, tmp: Path) -> int:
    from rag.encoders import HashingEncoder
    from rag.index import index_paths
    from rag.index.passages import keyword_passage
    from rag.paths import shipped_corpus
    from rag.search import open_index, prepare

    encoder = HashingEncoder(dimension=64)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    index_paths([shipped_corpus()], index=tmp / "embedded", encoder=encoder)
    timings["embedded"] = time.perf_counter() - started
    started = time.perf_counter()
    index_paths([shipped_corpus()], index=uri, encoder=encoder)
    timings["client"] = time.perf_counter() - started
    embedded = open_index(tmp / "embedded", encoder=encoder)
    milvus = open_index(uri, encoder=encoder)
    rows = [(c.id, keyword_passage(c, embedded.documents[c.doc_id])) for c in embedded.clauses]
    client, name, timings["server"] = _server_side(uri, rows)

    questions = [q for q in (REPO / "tests/data/parity_questions.txt").read_text(
        "utf-8").splitlines() if q]
    texts = [prepare(q, index=embedded).text for q in questions]
    results: dict[str, list[list[str]]] = {"embedded": [], "client": [], "server": []}
    latency: dict[str, list[float]] = {key: [] for key in results}
    for text in texts:
        for key, backend in (("embedded", embedded.backend), ("client", milvus.backend)):
            t0 = time.perf_counter()
            found = backend.search_keyword(text, K)
            latency[key].append(time.perf_counter() - t0)
            results[key].append([embedded.clauses[r].id for r in found.rows])
        t0 = time.perf_counter()
        hits = client.search(name, data=[text], anns_field="sparse", limit=K,  # type: ignore[attr-defined]
                             output_fields=["id"], search_params={"metric_type": "BM25"})
        latency["server"].append(time.perf_counter() - t0)
        results["server"].append([str(h["id"]) for h in hits[0]])

    print(f"{len(embedded.clauses)} clauses (shipped corpus), {len(questions)} questions, "
          f"top-{K}; baseline: embedded bm25s")
    print("build s: the whole index (dense + records + BM25) for the first two, the BM25 "
          "collection alone for the server-side one")
    print("| keyword channel | build s | top-10 overlap with bm25s | top-1 agrees | "
          "questions with no hit | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|---|")
    base = results["embedded"]
    for key, label in (("embedded", "embedded bm25s (baseline)"),
                       ("client", "Milvus, client-side jieba → sparse (shipped)"),
                       ("server", "Milvus, server-side BM25 Function (jieba)")):
        overlap = statistics.mean(len(set(a) & set(b)) / len(b) if b else float(not a)
                                  for a, b in zip(results[key], base, strict=True))
        top1 = statistics.mean(a[:1] == b[:1] for a, b in zip(results[key], base, strict=True))
        empty = sum(1 for a in results[key] if not a)
        print(f"| {label} | {timings[key]:.1f} | {overlap:.3f} | {top1:.1%} | {empty} | "
              f"{1000 * statistics.median(latency[key]):.1f} | "
              f"{1000 * _percentile(latency[key], 0.95):.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
