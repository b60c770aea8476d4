"""The manifest: which model, settings and corpus built an index, checked before use."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any

from rag.core.locations import rebuild_command
from rag.core.version import __version__
from rag.encoders import Encoder
from rag.index.backend import StoreError
from rag.index.passages import PASSAGE_FORMAT
from rag.learned import Learned, learned_for

FORMAT = "rag-index"
FORMAT_VERSION = 1
SEARCH_KINDS = ("exact", "hnsw")


@dataclass(frozen=True)
class BM25Params:
    """BM25 settings of the keyword channel (bm25s names)."""

    k1: float = 1.2
    b: float = 0.75
    method: str = "lucene"


def settings(encoder: Encoder, *, tokenizer: str, bm25: BM25Params, search: str) -> dict[str, Any]:
    """Everything about an index that, when it changes, means rebuilding it."""
    if search not in SEARCH_KINDS:
        raise ValueError(f"search must be one of {SEARCH_KINDS}, not {search!r}")
    learned = learned_for(encoder.identity)
    return {
        "model": {
            "name": encoder.name,
            "identity": encoder.identity,
            "dimension": encoder.dimension,
            "normalized": True,
        },
        "tokenizer": tokenizer,
        "passage_format": PASSAGE_FORMAT,
        "bm25": asdict(bm25),
        "search": search,
        # the trained query adapter and reranker queries will use (sha256 of each)
        "retrieval": learned.identity if learned else None,
    }


def new_manifest(
    settings: dict[str, Any], *, fingerprint: str, documents: int, clauses: int,
    sources: list[str], follow_links: bool, skipped_files: list[str],
) -> dict[str, Any]:
    """The manifest a build publishes (an engine adds what it stores, e.g. file sizes)."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **settings,
        "corpus_fingerprint": fingerprint,
        "counts": {"documents": documents, "clauses": clauses},
        "sources": sources,
        "follow_links": follow_links,
        "skipped_files": skipped_files,
    }


def validate(data: object, *, where: str, rebuild: str) -> dict[str, Any]:
    """``data`` as a manifest of this format, else StoreError naming ``where`` and saying
    how to rebuild (``rebuild`` is the command)."""
    if not isinstance(data, dict):
        raise StoreError(
            f"{where}: not an index manifest (a JSON {type(data).__name__}, expected an "
            f"object); rebuild the index with `{rebuild}`"
        )
    if data.get("format") != FORMAT or data.get("format_version") != FORMAT_VERSION:
        found = (f"index format {data.get('format')} v{data.get('format_version')} (built by "
                 f"rag {data.get('package_version')})" if "format" in data else "no index format")
        raise StoreError(
            f"{where}: {found}, expected {FORMAT} v{FORMAT_VERSION}; rebuild the index with "
            f"`{rebuild}`"
        )
    model = data.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("dimension"), int):
        raise StoreError(f"{where}: the manifest has no model section; rebuild the index "
                         f"with `{rebuild}`")
    return data


def model_section(manifest: dict[str, Any]) -> dict[str, Any]:
    model = manifest.get("model")
    if not isinstance(model, dict):
        raise StoreError("manifest has no model section; rebuild the index")
    return model


def model_name(manifest: dict[str, Any]) -> str:
    """The name of the model that built the index (what :func:`rag.encoders.load_encoder`
    loads it by)."""
    name = model_section(manifest).get("name")
    if not isinstance(name, str) or not name:
        raise StoreError("the manifest names no model; rebuild the index")
    return name


def check_model(manifest: dict[str, Any], encoder: Encoder, *, location: str) -> None:
    """Refuse to search an index with vectors from another model."""
    model = model_section(manifest)
    if model.get("identity") != encoder.identity or model.get("dimension") != encoder.dimension:
        raise StoreError(
            f"{location} was built with model {model.get('name')} "
            f"({model.get('identity')}, dimension {model.get('dimension')}), but the query "
            f"model is {encoder.name} ({encoder.identity}, dimension {encoder.dimension}). "
            f"Use --model {model.get('name')}, or rebuild with "
            f"`{rebuild_command(location)} --model {encoder.name}`"
        )


def check_learned(manifest: dict[str, Any], learned: Learned | None, *, location: str) -> None:
    """Refuse to search an index with trained parts other than the ones it records."""
    recorded = manifest.get("retrieval")
    installed = learned.identity if learned else None
    if recorded != installed:
        raise StoreError(
            f"{location} was built for the trained retrieval parts {recorded}, but this "
            f"installation has {installed}; update it with `{rebuild_command(location, paths='')}` "
            "(nothing is re-embedded)"
        )


# Clauses a second a bundled e5-small model embeds on 2 idle cores (onnxruntime, batch 32):
# re-embedding the full national corpus, README "A model tuned to statutes (issue 20)".
EMBED_RATE = 30.0


def reembed_notice(manifest: dict[str, Any] | None, encoder: Encoder, *, location: str
                   ) -> str | None:
    """What building the index at ``location`` with ``encoder`` costs when the index was
    built with another model (every clause is embedded again), else None."""
    if manifest is None:
        return None
    model = model_section(manifest)
    if model.get("identity") == encoder.identity:
        return None
    clauses = int((manifest.get("counts") or {}).get("clauses") or 0)
    seconds = clauses / EMBED_RATE
    took = f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"
    return (f"{location} was built with model {model.get('name')} ({model.get('identity')}); "
            f"indexing it with {encoder.name} ({encoder.identity}) re-embeds all "
            f"{clauses:,} of its clauses: about {took} on 2 cores "
            f"(at ~{EMBED_RATE:.0f} clauses/s)")
