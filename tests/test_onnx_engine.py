"""The encoder on ONNX Runtime: chosen by name, exported once and checked, the same vectors and
answers as torch, and no torch when answering (integration tests use the real model)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rag.cli.parser import build_parser
from rag.encoders import DEFAULT_MODEL, EncoderLoadError, SentenceTransformerEncoder, load_encoder
from rag.encoders.engine import ENGINE_ENV, choose_engine
from rag.encoders.onnx_export import MIN_COSINE, probe_texts
from rag.encoders.onnx_model import (
    DATA_FILE,
    EXPORT_DIR,
    GRAPH_FILE,
    RECORD_FILE,
    STAMP_FILE,
    OnnxModel,
    file_sha256,
    read_record,
)
from rag.encoders.threads import ThreadTuner
from tests.conftest import CORPUS, DATA, REPO, small_corpus

HEAVY = ("torch", "transformers", "sentence_transformers")
# modules only a build needs: jieba's part-of-speech tagger compares words for the links
BUILD_ONLY = ("jieba.posseg",)


def question_sets() -> list[str]:
    """The compliance questions of tests/data and the English question set."""
    chinese = [q for q in (DATA / "parity_questions.txt").read_text("utf-8").splitlines() if q]
    english = [json.loads(line)["question"] for line in
               (REPO / "benchmarks/data/english_questions.jsonl").open(encoding="utf-8")
               if line.strip()]
    return chinese + english


# --------------------------------------------------------------------------- choosing


def test_engine_is_onnx_unless_told(monkeypatch) -> None:
    monkeypatch.delenv(ENGINE_ENV, raising=False)
    assert choose_engine() == "onnx"
    monkeypatch.setenv(ENGINE_ENV, "torch")
    assert choose_engine() == "torch"
    assert choose_engine("onnx") == "onnx"  # an explicit choice wins over the variable
    monkeypatch.setenv(ENGINE_ENV, "tensorrt")
    with pytest.raises(ValueError, match=rf"\${ENGINE_ENV}: unknown encoder engine 'tensorrt'"):
        choose_engine()
    with pytest.raises(ValueError, match="onnx, torch"):
        load_encoder(DEFAULT_MODEL, engine="tpu")
    assert load_encoder("hashing", engine="torch").name == "hashing"  # ignored for hashing


@pytest.mark.parametrize("argv", [
    ["ask", "内幕交易", "--encoder-engine", "torch"],
    ["batch", "q.txt", "--encoder-engine", "torch"],
    ["index", "--encoder-engine", "torch"],
    ["serve", "--encoder-engine", "torch"],
    ["mcp", "--encoder-engine", "torch"],
])
def test_commands_that_load_a_model_take_the_engine(argv: list[str]) -> None:
    assert build_parser().parse_args(argv).encoder_engine == "torch"
    assert build_parser().parse_args(argv[:-2]).encoder_engine is None  # → env, else onnx


def test_bad_engine_on_the_command_line_is_usage(capsys) -> None:  # type: ignore[no-untyped-def]
    from rag import cli

    assert cli.main(["ask", "内幕交易", "--encoder-engine", "gpu"]) == 2
    assert "invalid choice: 'gpu'" in capsys.readouterr().err


def test_identity_does_not_name_the_engine(tmp_path: Path) -> None:
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights")
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    onnx = SentenceTransformerEncoder(str(folder), engine="onnx")
    torch = SentenceTransformerEncoder(str(folder), engine="torch")
    assert onnx.identity == torch.identity and onnx.name == torch.name
    (folder / EXPORT_DIR).mkdir()
    (folder / EXPORT_DIR / "encoder.onnx.data").write_bytes(b"an export beside the weights")
    assert SentenceTransformerEncoder(str(folder)).identity == onnx.identity


def test_incomplete_or_stale_export_records_are_not_used(tmp_path: Path) -> None:
    (tmp_path / GRAPH_FILE).write_bytes(b"graph")
    (tmp_path / DATA_FILE).write_bytes(b"weights")
    record = {"format": "rag-onnx", "format_version": 1, "weights_sha256": "ab",
              "files": {GRAPH_FILE: {"size": 5}, DATA_FILE: {"size": 7}}}
    assert read_record(tmp_path) is None  # no record yet: an export in progress
    (tmp_path / RECORD_FILE).write_text(json.dumps(record), encoding="utf-8")
    assert read_record(tmp_path, weights_sha256="ab") == record
    assert read_record(tmp_path, weights_sha256="cd") is None  # made from other weights
    (tmp_path / DATA_FILE).write_bytes(b"truncated!")
    assert read_record(tmp_path) is None
    (tmp_path / RECORD_FILE).write_text("{not json", encoding="utf-8")
    assert read_record(tmp_path) is None


def test_thread_tuner_sets_the_encoders_threads() -> None:
    class Encoder:
        def __init__(self) -> None:
            self.threads: list[int] = []

        def use_threads(self, threads: int) -> None:
            self.threads.append(threads)

    encoder = Encoder()
    tuner = ThreadTuner(max_threads=2, recheck=10, encoder=encoder)
    for _ in range(6):
        assert tuner.run(lambda: 7, size=1) == 7
    assert encoder.threads[:2] == [1, 2] and tuner.best in (1, 2)
    assert set(encoder.threads[2:]) == {tuner.best}


# --------------------------------------------------------------------------- real model


@pytest.fixture(scope="module")
def engines() -> tuple[SentenceTransformerEncoder, SentenceTransformerEncoder]:
    onnx = SentenceTransformerEncoder(DEFAULT_MODEL, engine="onnx")
    torch = SentenceTransformerEncoder(DEFAULT_MODEL, engine="torch")
    assert onnx.onnx_model() is not None  # exported (once) if the cached folder had none
    return onnx, torch


@pytest.mark.integration
def test_export_is_recorded_beside_the_weights(engines) -> None:  # type: ignore[no-untyped-def]
    onnx, _ = engines
    model = onnx.onnx_model()
    assert model is not None
    record = read_record(model.folder, weights_sha256=onnx.identity.removeprefix("sha256:"))
    assert record is not None and model.folder.name == EXPORT_DIR
    for name in (GRAPH_FILE, DATA_FILE):
        assert record["files"][name]["sha256"] == file_sha256(model.folder / name)
    assert record["probe"]["min_cosine"] >= MIN_COSINE
    assert record["probe"]["texts"] == len(probe_texts("query: ", "passage: ")) >= 10
    assert record["max_seq_length"] == json.loads(
        (model.folder.parent / "sentence_bert_config.json").read_text("utf-8"))["max_seq_length"]


@pytest.mark.integration
def test_engines_give_the_same_vectors(engines) -> None:  # type: ignore[no-untyped-def]
    onnx, torch = engines
    questions = [*question_sets(), "  spaces around  ", "名为“个体工商户”实为“合伙”" * 60]
    passages = [line for line in (CORPUS / "lawrefbook" / "民法商法" / "证券法(2019-12-28).md")
                .read_text("utf-8").splitlines() if line.strip()][:80]
    for encode in ("encode_queries", "encode_passages"):
        texts = questions if encode == "encode_queries" else passages
        a = getattr(onnx, encode)(texts)
        b = getattr(torch, encode)(texts)
        assert a.shape == b.shape == (len(texts), 384) and a.dtype == np.float32
        assert float((a * b).sum(1).min()) >= MIN_COSINE
        np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    for question in questions[:5]:  # one at a time as when answering
        single = onnx.encode_queries([question])[0]
        assert float(single @ torch.encode_queries([question])[0]) >= MIN_COSINE


@pytest.mark.integration
def test_a_damaged_export_is_refused(engines, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model = engines[0].onnx_model()
    record = json.loads((model.folder / RECORD_FILE).read_text("utf-8"))
    record["files"][GRAPH_FILE]["sha256"] = "0" * 64
    damaged = OnnxModel(model.folder, model.folder.parent / "tokenizer.json", record=record)
    with pytest.raises(EncoderLoadError, match=rf"{GRAPH_FILE}: sha256 is .*delete"):
        damaged.encode(["query: 内幕交易"])


@pytest.mark.integration
def test_verified_files_are_trusted_by_their_stamp_and_a_changed_file_is_caught(
        engines, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    import rag.encoders.onnx_model as onnx_model

    model = engines[0].onnx_model()
    folder = tmp_path / EXPORT_DIR
    folder.mkdir()
    os.link(model.folder / DATA_FILE, folder / DATA_FILE)  # the 470 MB weights, not copied
    for name in (GRAPH_FILE, RECORD_FILE):
        shutil.copy2(model.folder / name, folder / name)
    record = json.loads((folder / RECORD_FILE).read_text("utf-8"))
    tokenizer = model.folder.parent / "tokenizer.json"
    hashed: list[str] = []
    real_sha256 = onnx_model.file_sha256

    def counting(path: Path) -> str:
        hashed.append(Path(path).name)
        return real_sha256(path)

    monkeypatch.setattr(onnx_model, "file_sha256", counting)
    first = OnnxModel(folder, tokenizer, record=record)
    vector = first.encode(["query: 内幕交易"])
    assert sorted(hashed) == sorted([GRAPH_FILE, DATA_FILE])  # verified once …
    stamp = json.loads((folder / STAMP_FILE).read_text("utf-8"))["files"]
    assert stamp[DATA_FILE]["size"] == (folder / DATA_FILE).stat().st_size
    assert stamp[DATA_FILE]["sha256"] == record["files"][DATA_FILE]["sha256"]

    hashed.clear()
    again = OnnxModel(folder, tokenizer, record=record)  # … then trusted while unchanged
    np.testing.assert_array_equal(again.encode(["query: 内幕交易"]), vector)
    assert hashed == []

    graph = folder / GRAPH_FILE  # the same size, other bytes, written in place
    data = bytearray(graph.read_bytes())
    data[-1] ^= 0xFF
    graph.write_bytes(bytes(data))
    with pytest.raises(EncoderLoadError, match=rf"{GRAPH_FILE}: sha256 is .*delete"):
        OnnxModel(folder, tokenizer, record=record).encode(["query: 内幕交易"])
    assert hashed == [GRAPH_FILE]

    # replaced by another file with the verified file's size and mtime: the inode differs
    shutil.copy2(model.folder / GRAPH_FILE, graph)
    OnnxModel(folder, tokenizer, record=record).encode(["query: 内幕交易"])  # re-verified
    kept = graph.stat()
    other = folder / "other.onnx"
    other.write_bytes(bytes(data))
    os.utime(other, ns=(kept.st_atime_ns, kept.st_mtime_ns))
    os.replace(other, graph)
    hashed.clear()
    with pytest.raises(EncoderLoadError, match=rf"{GRAPH_FILE}: sha256 is"):
        OnnxModel(folder, tokenizer, record=record).encode(["query: 内幕交易"])
    assert hashed == [GRAPH_FILE]


@pytest.mark.integration
def test_export_at_build_time_and_on_first_use(tmp_path: Path, engines) -> None:  # type: ignore[no-untyped-def]
    from rag.encoders import ensure_default_model

    folder = ensure_default_model(cache_dir=tmp_path, progress=False)
    record = read_record(folder / EXPORT_DIR)  # built with the model folder
    assert record is not None and record["probe"]["min_cosine"] >= MIN_COSINE
    shared = read_record(engines[0].onnx_model().folder)
    assert shared is not None and record["files"] == shared["files"]  # the export is repeatable

    shutil.rmtree(folder / EXPORT_DIR)  # a folder from before the engine: exported when used
    encoder = SentenceTransformerEncoder(str(folder))
    vectors = encoder.encode_queries(["利用内幕消息炒股会被罚多少钱？"])
    assert read_record(folder / EXPORT_DIR) is not None
    assert not [p for p in folder.iterdir() if p.name.startswith(f".{EXPORT_DIR}.tmp-")]
    assert float(vectors[0] @ engines[1].encode_queries(["利用内幕消息炒股会被罚多少钱？"])[0]) \
        >= MIN_COSINE


def top10(index, encoder, questions: list[str]) -> list[list[str]]:  # type: ignore[no-untyped-def]
    from rag.answer import answer

    return [[c.clause_id for c in answer(q, index=index, encoder=encoder, k=10).citations]
            for q in questions]


@pytest.mark.integration
def test_same_top10_with_either_engine_on_the_shipped_index(real_index, engines) -> None:  # type: ignore[no-untyped-def]
    onnx, torch = engines
    questions = question_sets()
    with_onnx = top10(real_index, onnx, questions)
    assert sum(1 for ids in with_onnx if ids) >= len(questions) // 2
    assert with_onnx == top10(real_index, torch, questions)


@pytest.mark.integration
@pytest.mark.parametrize("built_with", ["torch", "onnx"])
def test_an_index_built_with_one_engine_answers_with_the_other(
        built_with: str, engines, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from rag.index import index_paths
    from rag.search import open_index

    onnx, torch = engines
    builder, other = (torch, onnx) if built_with == "torch" else (onnx, torch)
    location = tmp_path / "index"
    index_paths([small_corpus(tmp_path / "corpus")], index=location, encoder=builder)
    index = open_index(location, encoder=other)  # same model identity: accepted
    questions = [q for q in question_sets() if "证券" in q or "insider" in q.lower()][:12]
    assert len(questions) >= 6
    answered = top10(index, other, questions)
    assert answered == top10(open_index(location, encoder=builder), builder, questions)
    assert any(ids for ids in answered)


def python_env() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop(ENGINE_ENV, None)
    return env


@pytest.mark.integration
def test_rag_ask_imports_no_torch(real_index_dir: Path, engines) -> None:  # type: ignore[no-untyped-def]
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "rag", "ask", "利用内幕消息炒股会被罚多少钱？",
         "--index", str(real_index_dir), "--json"],
        capture_output=True, text=True, env=python_env(), cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["citations"]
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0]
                for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "onnxruntime" in imported and "tokenizers" in imported
    assert not imported & set(HEAVY), sorted(imported & set(HEAVY))
    # the reranker (on by default for this model) is scored by ONNX Runtime, not LightGBM
    # (importing it, scikit-learn behind, costs ~0.9 s)
    assert "lightgbm" not in imported and "sklearn" not in imported
    modules = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
               if line.startswith("import time:")}
    assert "jieba" in modules and not modules & set(BUILD_ONLY)  # links read from the index
    assert "sqlalchemy" not in modules  # no feedback store here: nothing to remember


@pytest.mark.integration
def test_library_api_and_chat_answer_without_torch(real_index_dir: Path, engines) -> None:  # type: ignore[no-untyped-def]
    code = (
        "import sys\n"
        "import rag.api.app, rag.api.service, rag.mcp.server, rag.mcp.http, ui.app, ui.cli,"
        " ui.server\n"
        "from rag.answer import answer, answer_many\n"
        "from rag.encoders import load_encoder\n"
        "from rag.search import open_index\n"
        f"encoder = load_encoder({DEFAULT_MODEL!r})\n"
        "index = open_index(sys.argv[1], encoder=encoder)\n"
        "assert answer('操纵证券市场构成犯罪吗？', index=index, encoder=encoder).citations\n"
        "assert len(list(answer_many(['内幕交易', 'insider trading'], index=index,"
        " encoder=encoder))) == 2\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(real_index_dir)], capture_output=True,
                          text=True, env=python_env(), cwd=REPO, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    modules = {m.split(".")[0] for m in done.stdout.split()}
    assert "onnxruntime" in modules and not modules & set(HEAVY)
    assert not set(done.stdout.split()) & set(BUILD_ONLY)


def test_builtin_commands_parse_without_plugins() -> None:
    from rag.cli.parser import command_names

    builtin = command_names(build_parser(plugins=False))
    assert {"ask", "batch", "index", "mcp"} <= builtin and "serve" not in builtin
    assert command_names(build_parser()) == builtin | {"serve"}


def test_a_model_that_cannot_be_exported_falls_back_to_torch_with_one_warning(
        tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from rag.encoders.onnx_export import OnnxExportError

    folder = tmp_path / "odd-model"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights")

    def refuse(self: SentenceTransformerEncoder) -> OnnxModel:
        raise OnnxExportError("torch.onnx.export failed: an unsupported operator")

    monkeypatch.setattr(SentenceTransformerEncoder, "_open_onnx", refuse)
    encoder = SentenceTransformerEncoder(str(folder), engine="onnx")
    assert encoder.onnx_model() is None and encoder.engine == "torch"
    assert encoder.onnx_model() is None  # decided once
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("warning: ")
    assert "unsupported operator; encoding with torch instead" in err
