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
    hub,
    load_encoder,
    st_load,
    weights_sha256,
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
        "import sys, rag.encoders, rag.encoders.e5_cache, rag.encoders.e5_folder,"
        " rag.encoders.e5s1, rag.encoders.hub, rag.encoders.st_load;"
        "heavy = ('torch', 'sentence_transformers', 'transformers');"
        "print([m for m in heavy if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- hub names (no network)


def test_hub_name_is_constructed_offline_without_loading() -> None:
    # without HF_HUB_OFFLINE, so that a reachability probe would open a socket
    code = (
        "import socket, sys\n"
        "def refuse(*args, **kwargs):\n"
        "    raise AssertionError(f'network access: {args}')\n"
        "socket.create_connection = refuse\n"
        "from rag.encoders import SentenceTransformerEncoder, load_encoder\n"
        "for enc in (SentenceTransformerEncoder('rag-tests/no-such-model'),\n"
        "            load_encoder('BAAI/bge-m3', query_prefix='q: ')):\n"
        "    repr(enc)\n"
        "heavy = ('torch', 'sentence_transformers', 'transformers', 'huggingface_hub')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    offline = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    env = {k: v for k, v in os.environ.items() if k not in offline}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True,
        cwd=Path(__file__).resolve().parent.parent, env=env,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def _fake_snapshot(folder: Path, dimension: int = 8) -> Path:
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling",
         "type": "sentence_transformers.models.Pooling"},
    ]))
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": dimension}))
    (folder / "model.safetensors").write_bytes(b"weights")
    return folder


class _FakeModel:
    """Stands in for a loaded SentenceTransformer."""


def test_hub_model_is_downloaded_on_first_use_and_says_so(monkeypatch, tmp_path, capsys) -> None:
    snapshot = _fake_snapshot(tmp_path / "snapshot")
    opened: list[tuple[str, dict]] = []

    def open_model(model: str, device: str, **options: object) -> _FakeModel:
        opened.append((model, options))
        if options.get("local_files_only"):
            raise OSError("not in the local cache")
        return _FakeModel()

    monkeypatch.setenv("HF_ENDPOINT", "https://hub.example")
    monkeypatch.setattr(hub, "reachable", lambda timeout=3.0: True)
    monkeypatch.setattr(hub, "open_model", open_model)
    monkeypatch.setattr(hub, "cached_snapshot", lambda name: snapshot if len(opened) > 1 else None)
    encoder = SentenceTransformerEncoder("rag-tests/tiny")
    assert opened == [] and capsys.readouterr().err == ""
    assert encoder.identity == "sha256:" + weights_sha256(snapshot)
    assert encoder.dimension == 8
    assert [options for _, options in opened] == [{"local_files_only": True}, {}]
    err = capsys.readouterr().err
    assert err == "downloading model rag-tests/tiny from the Hugging Face hub (https://hub.example)…\n"
    assert "identity='sha256:" in repr(encoder)


def test_cached_hub_model_is_described_without_loading(monkeypatch, tmp_path, capsys) -> None:
    snapshot = _fake_snapshot(tmp_path / "snapshot", dimension=16)

    def offline(*args: object, **kwargs: object) -> bool:
        raise AssertionError("the hub was probed for a cached model")

    def open_model(model: str, device: str, **options: object) -> _FakeModel:
        assert options == {"local_files_only": True}
        return _FakeModel()

    monkeypatch.setattr(hub, "reachable", offline)
    monkeypatch.setattr(hub, "open_model", open_model)
    monkeypatch.setattr(hub, "cached_snapshot", lambda name: snapshot)
    encoder = SentenceTransformerEncoder("rag-tests/cached")
    assert encoder.identity == "sha256:" + weights_sha256(snapshot)
    assert encoder.dimension == 16
    assert isinstance(encoder._st, _FakeModel)
    assert capsys.readouterr().err == ""


def test_unreachable_hub_error_keeps_the_cause(monkeypatch) -> None:
    miss = OSError("We couldn't connect to 'https://huggingface.co'.\nCheck your connection.")

    def open_model(model: str, device: str, **options: object) -> _FakeModel:
        assert options == {"local_files_only": True}
        raise miss

    monkeypatch.setattr(hub, "open_model", open_model)
    monkeypatch.setattr(hub, "cached_snapshot", lambda name: None)
    encoder = SentenceTransformerEncoder("rag-tests/no-such-model")  # HF_HUB_OFFLINE is set
    with pytest.raises(EncoderLoadError) as info:
        encoder.identity  # noqa: B018
    message = str(info.value)
    assert "unreachable" in message and "HF_HUB_OFFLINE" in message
    assert "OSError: We couldn't connect to 'https://huggingface.co'." in message
    assert info.value.__cause__ is miss


# --------------------------------------------------------------------------- load errors


def test_broken_folder_error_names_the_cause(monkeypatch, tmp_path) -> None:
    folder = _fake_snapshot(tmp_path / "model")
    damage = RuntimeError("size mismatch for embeddings.word_embeddings.weight")

    def open_model(model: str, device: str, **options: object) -> _FakeModel:
        raise damage

    monkeypatch.setattr(st_load, "open_model", open_model)
    encoder = SentenceTransformerEncoder(str(folder))
    assert encoder.dimension == 8  # declared by the folder: no load
    with pytest.raises(EncoderLoadError) as info:
        encoder.encode_queries(["内幕交易"])
    assert "RuntimeError: size mismatch for embeddings.word_embeddings.weight" in str(info.value)
    assert str(folder) in str(info.value)
    assert info.value.__cause__ is damage


def test_unexpected_errors_are_not_swallowed(monkeypatch) -> None:
    def open_model(model: str, device: str, **options: object) -> _FakeModel:
        raise TypeError("a bug, not a missing model")

    def no_probe(*args: object, **kwargs: object) -> bool:
        raise AssertionError("the error was swallowed and the hub probed")

    monkeypatch.setattr(hub, "open_model", open_model)
    monkeypatch.setattr(hub, "reachable", no_probe)
    monkeypatch.setattr(hub, "cached_snapshot", lambda name: None)
    with pytest.raises(TypeError, match="a bug"):
        SentenceTransformerEncoder("rag-tests/model").encode_queries(["x"])


def test_no_broad_exception_handlers() -> None:
    import ast

    import rag.encoders

    broad = {"Exception", "BaseException"}
    found = []
    for path in sorted(Path(rag.encoders.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler):
                caught = node.type
                names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
                if caught is None or any(isinstance(n, ast.Name) and n.id in broad
                                         for n in names):
                    found.append(f"{path.name}:{node.lineno}")
    assert found == []


def test_thread_tuner_keeps_the_fastest_thread_count(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    from rag.encoders.threads import ThreadTuner

    chosen: list[int] = []
    fake = types.SimpleNamespace(set_num_threads=chosen.append)
    monkeypatch.setitem(sys.modules, "torch", fake)
    clock = {"now": 0.0}
    monkeypatch.setattr("rag.encoders.threads.time.perf_counter", lambda: clock["now"])
    cost = {1: 1.0, 2: 3.0}  # a busy machine: one thread is faster

    def work() -> str:
        clock["now"] += cost[chosen[-1]]
        return "done"

    tuner = ThreadTuner(max_threads=2, recheck=10)
    assert [tuner.run(work, size=4) for _ in range(10)] == ["done"] * 10
    assert chosen[:2] == [1, 2] and chosen[2:] == [1] * 8 and tuner.best == 1
    cost.update({1: 2.0, 2: 1.0})  # the machine got quiet: the next check switches
    for _ in range(10):
        tuner.run(work, size=4)
    assert tuner.best == 2 and chosen[-8:] == [2] * 8


def test_thread_tuner_does_nothing_without_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from rag.encoders.threads import ThreadTuner

    monkeypatch.delitem(sys.modules, "torch", raising=False)
    assert ThreadTuner(max_threads=2).run(lambda: 7, size=1) == 7
