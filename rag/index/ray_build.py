"""Index builds on a Ray cluster: files read and chunked, passages embedded, with Ray Data.

``rag index PATH... --ray auto|HOST:PORT`` connects to a running cluster (``auto``: the one
``ray start`` left on this machine, or ``$RAY_ADDRESS``), reads and chunks one file per
task, and embeds the passages the index does not hold yet on a pool of actors that each
load the model once. The result goes through :func:`rag.index.build.build_index` like any
build, so the index is updated incrementally by content hash and a Ray build equals a
single-process one (same records, same fingerprint).

The cluster must see the files at the same paths (a shared volume) and be able to load
the model; the ``rag`` package itself is shipped to the workers with the job
(``runtime_env.py_modules``), so they run the driver's code. Ray is imported only here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from rag.chunking import chunk_document
from rag.core.clauses import Clause
from rag.core.documents import Document, ReadError
from rag.encoders import load_encoder
from rag.index.backend import IndexBackend
from rag.index.build import BuildReport, build_index
from rag.index.derived import Derived
from rag.index.records import clause_from_row, clause_row, document_from_row, document_row

EMBED_BATCH = 64  # passages per actor call
# where workers find data and models, as the driver does
ENVIRONMENT = ("RAG_HOME", "RAG_MODEL_CACHE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


def _ray() -> Any:
    try:
        import ray
        import ray.data
    except ImportError:
        raise OSError("--ray needs Ray; install it with `pip install 'rag-compliance[scale]'`"
                      ) from None
    return ray


def connect(address: str) -> Any:
    """Join the Ray cluster at ``address`` (``auto`` or HOST:PORT) with this package."""
    ray = _ray()
    if ray.is_initialized():
        return ray
    passed = {k: os.environ[k] for k in ENVIRONMENT if k in os.environ}
    runtime_env: dict[str, Any] = {"py_modules": [str(Path(str(resources.files("rag"))))]}
    if passed:
        runtime_env["env_vars"] = passed
    try:
        ray.init(address=address, runtime_env=runtime_env, log_to_driver=False,
                 logging_level=logging.WARNING, configure_logging=True)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise ConnectionError(
            f"--ray {address}: no Ray cluster there ({str(error).splitlines()[0][:200]}); "
            "start one with `ray start --head --num-cpus=N --port=6379` (pin its other ports, "
            "see docs/scale.md) or give its address as --ray HOST:PORT"
        ) from None
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    ray.data.DataContext.get_current().enable_progress_bars = False
    return ray


def _read_and_chunk(batch: dict[str, np.ndarray], *, today: str, max_chars: int,
                    ) -> dict[str, list[Any]]:
    """Ray task: read each file of ``batch`` (as :func:`load_documents` does) and chunk it."""
    from rag.readers import load_documents

    out: dict[str, list[Any]] = {"i": [], "payload": []}
    for i, path, shown in zip(batch["i"].tolist(), batch["path"].tolist(),
                              batch["shown"].tolist(), strict=True):
        docs, errors = load_documents([Path(path)], today=dt.date.fromisoformat(today))
        # read by absolute path (a worker has its own working folder), shown as given
        docs = [dataclasses.replace(d, source_path=shown) for d in docs]
        payload: dict[str, Any] = {"errors": [{"path": shown, "reason": e.reason}
                                              for e in errors]}
        if docs:
            payload["document"] = document_row(docs[0])
            payload["clauses"] = [clause_row(c, "") for c in
                                  chunk_document(docs[0], max_chars=max_chars)]
        out["i"].append(i)
        out["payload"].append(json.dumps(payload, ensure_ascii=False))
    return out


def read_on_ray(
    paths: Sequence[Path | str], *, address: str, max_chars: int = 600,
    today: dt.date | None = None, follow_links: bool = False,
) -> tuple[list[Document], list[Clause], list[ReadError]]:
    """Documents, clauses and read errors of ``paths``, as a single process would have them,
    read and chunked on the cluster one file per task."""
    from rag.readers import list_sources, unique_ids

    ray = connect(address)
    files, errors = list_sources([Path(p) for p in paths], follow_links=follow_links)
    if not files:
        return [], [], errors
    items = [{"i": i, "path": str(f.resolve()), "shown": f.as_posix()}
             for i, f in enumerate(files)]
    dataset = ray.data.from_items(items, override_num_blocks=len(items)).map_batches(
        _read_and_chunk, batch_size=1, num_cpus=1,
        fn_kwargs={"today": (today or dt.date.today()).isoformat(), "max_chars": max_chars})
    results = sorted(dataset.take_all(), key=lambda row: int(row["i"]))
    loaded: list[tuple[Path, Document]] = []
    chunked: dict[str, list[dict[str, Any]]] = {}
    for row in results:
        payload = json.loads(row["payload"])
        errors.extend(ReadError(**e) for e in payload["errors"])
        if "document" in payload:
            doc = document_from_row(payload["document"])
            loaded.append((files[int(row["i"])], doc))
            chunked[doc.source_path] = payload["clauses"]
    documents = unique_ids(loaded)
    clauses: list[Clause] = []
    for doc, (_, original) in zip(documents, loaded, strict=True):
        if doc.doc_id != original.doc_id:  # renamed to be unique: its clause ids change
            clauses.extend(chunk_document(doc, max_chars=max_chars))
        else:
            clauses.extend(clause_from_row(r, {doc.doc_id: doc})
                           for r in chunked[doc.source_path])
    return documents, clauses, errors


class _Embed:
    """Ray actor: loads the model once, embeds batches of passages."""

    def __init__(self, model: str) -> None:
        self.encoder = load_encoder(model)

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"].tolist()]
        vectors = self.encoder.encode_passages(texts, batch_size=32, progress=False)
        return {"i": batch["i"], "vector": np.asarray(vectors, np.float32)}


class RayEmbedder:
    """Embeds passages on a pool of ``actors`` Ray actors with model ``model``."""

    def __init__(self, model: str, *, address: str, actors: int, dimension: int) -> None:
        self.model, self.address, self.actors, self.dimension = model, address, actors, dimension

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        ray = connect(self.address)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # less padding
        items = [{"i": i, "text": texts[i]} for i in order]
        blocks = max(1, min(len(items) // EMBED_BATCH, 4 * self.actors))
        dataset = ray.data.from_items(items, override_num_blocks=blocks).map_batches(
            _Embed, fn_constructor_kwargs={"model": self.model}, batch_size=EMBED_BATCH,
            compute=ray.data.ActorPoolStrategy(size=self.actors), num_cpus=1)
        out = np.zeros((len(texts), self.dimension), np.float32)
        for batch in dataset.iter_batches(batch_format="numpy", batch_size=None):
            out[np.asarray(batch["i"], np.int64)] = batch["vector"]
        return out


def index_paths_on_ray(
    paths: Sequence[Path | str],
    *,
    index: IndexBackend | Path | str,
    model: str,
    address: str,
    search: str = "exact",
    max_chars: int = 600,
    follow_links: bool = False,
    actors: int | None = None,
    derived: Sequence[Derived] = (),
) -> BuildReport:
    """:func:`rag.index.index_paths` with reading, chunking and embedding on Ray.

    ``actors`` embedding actors (default: one per CPU of the cluster); ``derived`` tables
    are computed here and stored with the generation.
    """
    from rag.index.backends import open_backend

    for path in paths:
        if not Path(path).exists():
            raise FileNotFoundError(f"{path}: no such file or folder")
    ray = connect(address)
    documents, clauses, errors = read_on_ray(paths, address=address, max_chars=max_chars,
                                             follow_links=follow_links)
    encoder = load_encoder(model)
    pool = actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
    embedder = RayEmbedder(model, address=address, actors=pool, dimension=encoder.dimension)
    return build_index(documents, clauses, backend=open_backend(index), encoder=encoder,
                       search=search, skipped_files=[str(e) for e in errors],
                       sources=[str(Path(p).resolve()) for p in paths],
                       follow_links=follow_links, embedder=embedder, derived=derived)
