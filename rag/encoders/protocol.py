"""What the index needs from an encoder (the Encoder protocol), its load error and shared checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Encoder(Protocol):
    """What the index needs from an embedding model.

    ``identity`` and ``dimension`` are read-only here so an encoder may work them out on first
    use (a hub model does).  On Python 3.11, ``isinstance(x, Encoder)`` reads every member, so
    it resolves them; Python 3.12+ checks without reading.
    """

    name: str  # model name or path as given by the user

    @property
    def identity(self) -> str:
        """Stable fingerprint of the exact weights, e.g. ``"sha256:..."``."""
        ...

    @property
    def dimension(self) -> int:
        """Length of every vector."""
        ...

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


def check_texts(texts: Sequence[str]) -> list[str]:
    """``texts`` as a list, refusing a single string and non-string items."""
    if isinstance(texts, str | bytes):
        raise TypeError("pass a sequence of texts (e.g. a list), not a single string")
    out = list(texts)
    for i, text in enumerate(out):
        if not isinstance(text, str):
            raise TypeError(f"text #{i} is {type(text).__name__}, expected str")
    return out


def normalised(vectors: np.ndarray) -> np.ndarray:
    """float32, C-contiguous, every row scaled to unit length (zero rows stay zero)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.maximum(norms, 1e-12)
    return np.ascontiguousarray(vectors, dtype=np.float32)
