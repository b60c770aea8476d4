"""Fast tests of the encoder interface (no model, no torch)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.encoders import (
    Encoder,
    EncoderLoadError,
    HashingEncoder,
    SentenceTransformerEncoder,
    load_encoder,
)

TEXTS = [
    "上市公司不得利用内幕信息进行证券交易。",
    "禁止利用内幕信息从事证券交易活动。",
    "劳动合同应当以书面形式订立。",
    "What is the penalty for insider trading?",
    "",
    "a",
]


def test_shape_dtype_and_normalisation() -> None:
    enc = HashingEncoder()
    vectors = enc.encode_passages(TEXTS)
    assert vectors.shape == (len(TEXTS), 64)
    assert vectors.dtype == np.float32
    assert vectors.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert enc.encode_queries(TEXTS[:2]).shape == (2, 64)


def test_deterministic_across_instances_and_processes() -> None:
    first = HashingEncoder(dimension=32).encode_queries(TEXTS)
    second = HashingEncoder(dimension=32).encode_queries(TEXTS)
    np.testing.assert_array_equal(first, second)
    # Python's str hash() is salted per process; the encoder must not depend on it
    code = (
        "import sys, json; from rag.encoders import HashingEncoder;"
        "print(json.dumps(HashingEncoder(32).encode_queries(json.loads(sys.argv[1])).tolist()))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, json.dumps(TEXTS)],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    np.testing.assert_allclose(np.array(json.loads(out.stdout), dtype=np.float32), first)


def test_queries_and_passages_share_a_space() -> None:
    enc = HashingEncoder()
    np.testing.assert_array_equal(enc.encode_queries(TEXTS), enc.encode_passages(TEXTS))


def test_empty_input() -> None:
    enc = HashingEncoder(dimension=16)
    for vectors in (enc.encode_queries([]), enc.encode_passages([], batch_size=4)):
        assert vectors.shape == (0, 16)
        assert vectors.dtype == np.float32


def test_single_string_is_rejected() -> None:
    with pytest.raises(TypeError, match="not a single string"):
        HashingEncoder().encode_queries("内幕交易")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected str"):
        HashingEncoder().encode_queries(["ok", 3])  # type: ignore[list-item]


def test_similarity_ordering() -> None:
    enc = HashingEncoder(dimension=256)
    query = enc.encode_queries(["内幕信息 证券交易"])[0]
    passages = enc.encode_passages([
        "禁止利用内幕信息从事证券交易活动。",
        "劳动合同应当以书面形式订立。",
        "The weather is nice today.",
    ])
    scores = passages @ query
    assert scores[0] > scores[1]
    assert scores[0] > scores[2]
    assert scores[0] > 0.3


def test_identity_and_name() -> None:
    assert HashingEncoder().identity == "hashing-v1-d64"
    assert HashingEncoder().name == "hashing"
    enc = HashingEncoder(dimension=128)
    assert enc.identity == "hashing-v1-d128"
    assert load_encoder(enc.name).identity == enc.identity
    assert isinstance(enc, Encoder)


@pytest.mark.parametrize("bad", [0, 1, -3, 2.5, True])
def test_bad_dimension(bad: object) -> None:
    with pytest.raises(ValueError, match="dimension"):
        HashingEncoder(dimension=bad)  # type: ignore[arg-type]


def test_load_encoder_names() -> None:
    enc = load_encoder("hashing")
    assert isinstance(enc, HashingEncoder) and enc.dimension == 64
    enc = load_encoder("hashing:32", device="cpu", cache_dir=None)  # model options are ignored
    assert isinstance(enc, HashingEncoder) and enc.dimension == 32
    with pytest.raises(ValueError, match="hashing:<dim>"):
        load_encoder("hashing:big")


def test_missing_local_folder_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(EncoderLoadError, match="does not exist"):
        load_encoder(str(missing))
    with pytest.raises(EncoderLoadError, match="does not exist"):
        SentenceTransformerEncoder("./models/no-such-model")


def test_import_is_light() -> None:
    code = (
        "import sys, rag.encoders, rag.e5model;"
        "heavy = ('torch', 'sentence_transformers', 'transformers');"
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert out.stdout.strip() == "[]"
