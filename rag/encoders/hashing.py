"""HashingEncoder: a deterministic character-bigram encoder for fast tests (no model, no torch)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np

from rag.encoders.protocol import check_texts, normalised

HASHING_NAME = "hashing"


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
        texts = check_texts(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            padded = "\x02" + text.lower() + "\x03"
            for i in range(len(padded) - 1):
                h = zlib.crc32(padded[i : i + 2].encode("utf-8"))
                out[row, h % self.dimension] += 1.0 if h & 0x80000000 else -1.0
        return normalised(out)

    def __repr__(self) -> str:
        return f"HashingEncoder(dimension={self.dimension})"
