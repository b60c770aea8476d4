"""Index build: one process against a local Ray cluster, same corpus, same run (not a test).

    python benchmarks/ray_build.py                           # shipped corpus, e5-small
    python benchmarks/ray_build.py --model hashing:256       # reading/chunking overhead only
    python benchmarks/ray_build.py --cpus 2 --corpus PATH...

Starts a local cluster (``ray start --head --num-cpus N``, every port pinned to one free
range, stopped afterwards), builds the corpus into a fresh index once with
``index_paths`` in this process and once with ``index_paths_on_ray``, checks both indexes
hold the same records and fingerprint, and prints both times and their ratio.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    sys.path.insert(0, str(REPO))
    from rag.encoders import load_encoder
    from rag.index import index_paths
    from rag.index.ray_build import index_paths_on_ray
    from rag.paths import shipped_corpus
    from rag.search import open_index
    from tests.servers import ray_cluster

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, nargs="+", default=[shipped_corpus()])
    parser.add_argument("--model", default="multilingual-e5-small")
    parser.add_argument("--cpus", type=int, default=2)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        encoder = load_encoder(args.model)  # loaded once, outside both timings
        started = time.perf_counter()
        local = index_paths(args.corpus, index=folder / "local", encoder=encoder)
        single = time.perf_counter() - started
        with ray_cluster(folder / "ray", cpus=args.cpus) as address:
            import ray

            started = time.perf_counter()
            distributed = index_paths_on_ray(args.corpus, index=folder / "ray",
                                             model=args.model, address=address)
            on_ray = time.perf_counter() - started
            ray.shutdown()
        same = (open_index(folder / "local").manifest["corpus_fingerprint"]
                == open_index(folder / "ray").manifest["corpus_fingerprint"])
    print(f"{local.documents} documents, {local.clauses} clauses, model {args.model}; "
          f"same records and fingerprint: {same}")
    print("| build | seconds | clauses/s |")
    print("|---|---|---|")
    print(f"| one process | {single:.1f} | {local.clauses / single:.1f} |")
    print(f"| local Ray cluster, {args.cpus} CPUs (incl. joining it, actors loading the model) "
          f"| {on_ray:.1f} | {distributed.clauses / on_ray:.1f} |")
    print(f"| ratio Ray / one process | ×{on_ray / single:.2f} | |")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
