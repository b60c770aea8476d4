"""Scale check (not a test): synthetic clauses in the embedded backend and in Milvus Lite.

    python benchmarks/scale.py                       # 100,000 clauses
    python benchmarks/scale.py --sizes 100000 300000 --queries 50
    python benchmarks/scale.py --sizes 1000000 --embedded-only   # past Milvus Lite's memory

Clauses are real-looking text (sentences of the shipped corpus recombined into articles
of synthetic statutes, 50 per document, with kinds and dates) and random 384-d unit
vectors (a seeded stand-in for e5-small, so no model runs). Each backend builds the same
corpus through ``build_index`` in a process of its own; then the same queries run on each
channel at the fusion depth (200). Printed per size: build time and clauses/s, query
p50/p95 per channel, peak memory (the client process, plus the server for Milvus Lite),
size on disk — and the ratio Milvus Lite / embedded, measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import hashlib, json, random, resource, statistics, sys, time
from pathlib import Path
import numpy as np
sys.path.insert(0, {repo!r})
from rag.core.clauses import Clause
from rag.core.documents import KINDS, Document
from rag.index import build_index, open_backend
from rag.readers import load_documents
from rag.paths import shipped_corpus

location, size, queries, depth = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), 200
DIM = 384

class RandomEncoder:
    name = "random-384"; identity = "random-384-v1"; dimension = DIM
    def _vectors(self, texts):
        out = np.empty((len(texts), DIM), np.float32)
        for i, t in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little")
            v = np.random.default_rng(seed).standard_normal(DIM).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out
    def encode_passages(self, texts, *, batch_size=32, progress=False):
        return self._vectors(texts)
    def encode_queries(self, texts, *, batch_size=32):
        return self._vectors(["q:" + t for t in texts])

docs, _ = load_documents([shipped_corpus()])
pool = sorted({{s.strip() for d in docs for s in d.text.replace("\n", "。").split("。")
               if 8 <= len(s.strip()) <= 90}})
rng = random.Random(7)
documents, clauses = [], []
for n in range(size // 50):
    doc_id = f"synthetic-{{n:07d}}"
    parts, spans = [], []
    offset = 0
    for k in range(1, 51):
        body = "第" + str(k) + "条 " + "。".join(rng.sample(pool, rng.randint(1, 3))) + "。"
        spans.append((offset, offset + len(body), k))
        parts.append(body)
        offset += len(body) + 1
    text = "\n".join(parts)
    year = 1995 + n % 30
    doc = Document(doc_id=doc_id, title=f"合成规定第{{n}}号", text=text,
                   kind=KINDS[n % len(KINDS)], source_path=f"synthetic/{{doc_id}}.md",
                   date=f"{{year}}-0{{1 + n % 9}}-1{{n % 10}}")
    documents.append(doc)
    for start, end, k in spans:
        clauses.append(Clause(id=f"{{doc_id}}#art{{k}}", doc_id=doc_id, label=f"第{{k}}条",
                              path=(), start=start, end=end, text=text[start:end],
                              kind="article"))
backend = open_backend(location)
t0 = time.perf_counter()
build_index(documents, clauses, backend=backend, encoder=RandomEncoder())
build = time.perf_counter() - t0
backend = open_backend(location)  # a fresh open, as a new replica would
t0 = time.perf_counter()
records = backend.records()
load = time.perf_counter() - t0
questions = [rng.choice(pool) for _ in range(queries)]
vectors = RandomEncoder().encode_queries(questions)
times = {{"dense": [], "keyword": []}}
backend.search_dense(vectors[0], depth); backend.search_keyword(questions[0], depth)  # warm
for q, v in zip(questions, vectors):
    t = time.perf_counter(); backend.search_dense(v, depth)
    times["dense"].append(time.perf_counter() - t)
    t = time.perf_counter(); backend.search_keyword(q, depth)
    times["keyword"].append(time.perf_counter() - t)
def pct(xs, q):
    xs = sorted(xs); return xs[max(0, min(len(xs) - 1, round(q * (len(xs) - 1))))]
print(json.dumps({{"clauses": len(records.clauses), "build_s": build, "load_s": load,
    **{{f"{{c}}_p50_ms": 1000 * statistics.median(x) for c, x in times.items()}},
    **{{f"{{c}}_p95_ms": 1000 * pct(x, 0.95) for c, x in times.items()}},
    "client_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def _peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def _child(location: str, size: int, queries: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD.format(repo=str(REPO)), location,
                          str(size), str(queries)], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"{location}: the build failed:\n{out.stderr[-3000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--embedded-only", action="store_true",
                        help="skip Milvus Lite (for sizes past what it holds in memory here)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from tests.servers import milvus_server

    rows = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "embedded"
            embedded = _child(str(folder), size, args.queries)
            embedded["disk_mb"] = _size_mb(folder)
            milvus: dict | None = None
            if not args.embedded_only:
                with milvus_server(Path(tmp) / "milvus") as server:
                    milvus = _child(f"{server.uri}/scale", size, args.queries)
                    assert server.process is not None
                    milvus["server_peak_mb"] = _peak_mb(server.process.pid)
                    milvus["disk_mb"] = _size_mb(server.data_dir)
        rows.append((size, embedded, milvus))
        print(f"size {size}: embedded {json.dumps(embedded)}", file=sys.stderr)
        print(f"size {size}: milvus   {json.dumps(milvus)}", file=sys.stderr)

    print("| clauses | backend | build s | clauses/s | open s | dense p50/p95 ms | "
          "keyword p50/p95 ms | peak MB (client + server) | disk MB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for size, emb, mil in rows:
        measured = [("embedded (FAISS + bm25s)", emb)] + ([("Milvus Lite 3.2.2", mil)] if mil
                                                          else [])
        for label, r in measured:
            peak = r["client_peak_mb"] + r.get("server_peak_mb", 0.0)
            print(f"| {size:,} | {label} | {r['build_s']:.0f} | {r['clauses'] / r['build_s']:.0f} "
                  f"| {r['load_s']:.1f} | {r['dense_p50_ms']:.1f} / {r['dense_p95_ms']:.1f} | "
                  f"{r['keyword_p50_ms']:.1f} / {r['keyword_p95_ms']:.1f} | {peak:.0f} | "
                  f"{r['disk_mb']:.0f} |")
        if mil is None:
            continue
        ratio = {k: mil[k] / emb[k] for k in ("build_s", "dense_p50_ms", "keyword_p50_ms")}
        peak = (mil["client_peak_mb"] + mil["server_peak_mb"]) / emb["client_peak_mb"]
        print(f"| {size:,} | ratio Milvus Lite / embedded | ×{ratio['build_s']:.1f} | | | "
              f"×{ratio['dense_p50_ms']:.0f} | ×{ratio['keyword_p50_ms']:.0f} | ×{peak:.1f} | "
              f"×{mil['disk_mb'] / emb['disk_mb']:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
