"""Index build cost against raw sentence-transformers encoding, in the same run.

    python benchmarks/index_build.py                  # 4,000 clauses sampled from LawRefBook
    python benchmarks/index_build.py --sample 0       # the full national corpus (~1 h)

Prints, for the same passages: raw ``SentenceTransformer.encode`` throughput, our
``build_index`` throughput and the overhead ratio (goal ≤ 10 %); then the time of a
no-change re-index of the shipped corpus through the CLI (goal ≤ 5 s), the index size on
disk and the peak memory of each step (each runs in its own process).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

STEP = r"""
import json, resource, sys, time
from pathlib import Path
sys.path.insert(0, {repo!r})
from rag.chunking import chunk_document
from rag.encoders import load_encoder
from rag.index import EmbeddedBackend, build_index
from rag.index.passages import dense_passage
from rag.readers import load_documents

mode, corpus, index_dir = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
sample = int(sys.argv[4])
docs, _ = load_documents([corpus])
clauses = [c for d in docs for c in chunk_document(d)]
if sample:
    import random
    picked = random.Random(7).sample(clauses, min(sample, len(clauses)))
    clauses = sorted(picked, key=lambda c: c.id)
by_id = {{d.doc_id: d for d in docs}}
encoder = load_encoder("multilingual-e5-small")
t0 = time.perf_counter()
if mode == "raw":
    texts = ["passage: " + dense_passage(c, by_id[c.doc_id]) for c in clauses]
    encoder._st.encode(texts, batch_size=32, normalize_embeddings=True)
    size = 0
else:
    used = {{c.doc_id for c in clauses}}
    build_index([d for d in docs if d.doc_id in used], clauses,
                backend=EmbeddedBackend(index_dir), encoder=encoder)
    size = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())
seconds = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"clauses": len(clauses), "seconds": seconds, "bytes": size, "peak_mb": peak}}))
"""


def run_step(mode: str, corpus: Path, index_dir: Path, sample: int) -> dict:
    script = STEP.format(repo=str(REPO))
    out = subprocess.run(
        [sys.executable, "-c", script, mode, str(corpus), str(index_dir), str(sample)],
        check=True, capture_output=True, text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpora" / "lawrefbook")
    parser.add_argument("--sample", type=int, default=4000,
                        help="clauses to sample (0 = the whole corpus)")
    args = parser.parse_args()
    random.seed(7)

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        raw = run_step("raw", args.corpus, tmp_path / "unused", args.sample)
        ours = run_step("index", args.corpus, tmp_path / "index", args.sample)
        n = raw["clauses"]
        print(f"passages: {n}")
        print(f"raw SentenceTransformer.encode: {raw['seconds']:.1f} s "
              f"({n / raw['seconds']:.1f} clauses/s), peak {raw['peak_mb']:.0f} MB")
        print(f"rag build_index:                {ours['seconds']:.1f} s "
              f"({n / ours['seconds']:.1f} clauses/s), peak {ours['peak_mb']:.0f} MB")
        print(f"overhead: {100 * (ours['seconds'] / raw['seconds'] - 1):+.1f} % (goal <= 10 %)")
        print(f"index size on disk: {ours['bytes'] / 2**20:.1f} MB "
              f"({ours['bytes'] / n / 1024:.2f} KB per clause)")

        # no-change re-index of the shipped corpus, as a user runs it
        shipped = tmp_path / "shipped"
        command = [str(Path(sys.executable).with_name("rag")), "index", str(REPO / "corpus"),
                   "--index", str(shipped), "--quiet"]
        subprocess.run(command, check=True, capture_output=True)
        t0 = time.perf_counter()
        done = subprocess.run(command, check=True, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"no-change re-index of corpus/ (CLI, whole process): {seconds:.2f} s (goal <= 5 s)"
              f" — {done.stderr.strip().splitlines()[-1]}")
        print(f"peak memory of any child step: {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
