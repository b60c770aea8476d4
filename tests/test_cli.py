"""The ``rag`` command in-process: ask, batch (every input and output format), exit codes.

Runs on the shipped corpus indexed with the hashing encoder (``--model hashing:256``).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from rag import cli
from rag.export.records import CSV_COLUMNS

SEC191 = "证券法-2019-12-28#art191"
CITE191 = "《中华人民共和国证券法》（2019年修订）第一百九十一条"


@pytest.fixture()
def run(shipped_index_dir: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """``run(*argv)`` → (exit code, stdout, stderr) against the hashing index."""

    def _run(*argv: str, index: bool = True) -> tuple[int, str, str]:
        extra = ["--index", str(shipped_index_dir), "--model", "hashing:256"] if index else []
        code = cli.main([*argv, *extra])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def document_text(shipped_index, clause_id: str) -> str:  # type: ignore[no-untyped-def]
    clause = shipped_index.clauses[shipped_index.row_of[clause_id]]
    return shipped_index.documents[clause.doc_id].text[clause.start : clause.end]


# ---------------------------------------------------------------- ask


def test_ask_prints_citation_and_exact_quote(run, shipped_index) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run("ask", "《证券法》第一百九十一条", "--top", "2")
    assert code == 0, err
    assert f"[1] {CITE191}" in out
    assert "\n" + document_text(shipped_index, SEC191) + "\n" in out
    assert "\x1b[" not in out  # not a terminal: no ANSI, the quote is exact
    assert "现行有效" in out and "corpus/lawrefbook/民法商法/证券法(2019-12-28).md" in out


def test_ask_color_always_bolds_the_key_sentence(run, shipped_index) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("ask", "《证券法》第一百九十一条", "--top", "1", "--color", "always")
    assert code == 0
    quote = out[out.index("\x1b[1m第一百九十一条"):]  # the header lines are bold too: skip them
    assert "\x1b[0m" in quote
    plain = out.replace("\x1b[1m", "").replace("\x1b[0m", "")
    assert "\n" + document_text(shipped_index, SEC191) + "\n" in plain


def test_ask_json_parses_and_quotes_verbatim(run, shipped_index) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("ask", "《证券法》第一百九十一条", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["answered"] is True
    first = data["citations"][0]
    assert first["clause_id"] == SEC191 and first["citation"] == CITE191
    assert first["text"] == document_text(shipped_index, SEC191)
    assert len(data["citations"]) <= 5
    assert {"fingerprint", "model", "created"} <= set(data["audit"])
    assert (data["id"], data["line"], data["error"], data["debug"]) == (None, None, None, None)


def test_ask_names_what_references_inside_the_article_point_to(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("ask", "刑法第一百八十条", "--top", "1")
    assert code == 0
    assert "    前款 → 本条第一款: (quoted above)\n" in out
    code, out, _ = run("ask", "刑法第一百八十条", "--top", "1", "--json", "--debug")
    inner = json.loads(out)["debug"]["citations"][0]["inner"]
    assert {(r["phrase"], r["label"]) for r in inner} == {("前款", "第一款"), ("第一款", "第一款")}
    code, _, err = run("ask", "刑法第一百八十条", "--debug")  # debug fills the JSON record
    assert code == 2 and "--json" in err


def test_ask_refused_still_lists_candidates(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("ask", "火星殖民地的量子咖啡配方是什么？", "--json", "--top", "3")
    assert code == 0
    data = json.loads(out)
    assert data["answered"] is False
    assert 1 <= len(data["citations"]) <= 3
    assert all(c["low_confidence"] for c in data["citations"])
    code, text, _ = run("ask", "火星殖民地的量子咖啡配方是什么？", "--top", "3")
    assert "NOT ANSWERED" in text and "[low confidence]" in text


def test_ask_top_100(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("ask", "证券公司 违法 罚款", "--json", "--top", "100")
    assert code == 0
    citations = json.loads(out)["citations"]
    assert 5 < len(citations) <= 100
    assert [c["rank"] for c in citations] == list(range(1, len(citations) + 1))


def test_ask_filters(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("ask", "内幕交易 罚款", "--json", "--kind", "regulation", "--top", "10")
    assert code == 0
    citations = json.loads(out)["citations"]
    assert citations and all(c["kind"] == "regulation" for c in citations)
    code, out, _ = run("ask", "内幕交易", "--json", "--doc", "证券法-2019-12-28")
    assert {c["doc_id"] for c in json.loads(out)["citations"]} == {"证券法-2019-12-28"}
    code, out, _ = run("ask", "内幕交易", "--json", "--from", "2020-01-01", "--to", "2021-12-31")
    assert code == 0
    cited = json.loads(out)["citations"]
    assert cited
    assert all("2020-01-01" <= (c["version"] or c["date"]) <= "2021-12-31" for c in cited)


@pytest.mark.parametrize(
    "argv",
    [
        ["ask", "q", "--top", "0"],
        ["ask", "q", "--top", "101"],
        ["ask", "q", "--top", "many"],
        ["ask", "q", "--kind", "gossip"],
        ["ask", "q", "--as-of", "2020-13-45"],
        ["ask", "q", "--doc", "no-such-doc"],
        ["ask", "q", "--from", "2021-01-01", "--to", "2020-01-01"],
        ["ask", "   "],
        ["batch", "questions.xlsx"],
        ["batch", "-", "--out", "answers.xlsx"],
    ],
)
def test_bad_usage_exits_2(run, argv: list[str]) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(*argv)
    assert code == 2
    assert "Traceback" not in err and err.strip()


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["ask"], ["batch"]])
def test_missing_command_or_arguments_exit_2(run, argv: list[str]) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run(*argv, index=False)
    assert code == 2 and "usage:" in err


@pytest.mark.parametrize("command", [[], ["ask"], ["batch"], ["serve"], ["index"], ["chunk"]])
def test_help_everywhere(run, command: list[str]) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(*command, "--help", index=False)
    assert code == 0 and "usage:" in out


def test_missing_index_is_one_clean_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    code = cli.main(["ask", "内幕交易", "--index", str(tmp_path / "none")])
    _, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and "rag index" in err
    (tmp_path / "q.txt").write_text("内幕交易\n", encoding="utf-8")
    assert cli.main(["batch", str(tmp_path / "q.txt"), "--index", str(tmp_path / "none")]) == 1


def test_missing_questions_file_exits_1(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, _, err = run("batch", str(tmp_path / "nope.txt"))
    assert code == 1 and "no such file" in err


# ---------------------------------------------------------------- batch inputs


def rows(out: str) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in out.splitlines()]


def check_row(row: dict, *, question: str) -> None:  # type: ignore[type-arg]
    assert row["question"] == question
    assert row["error"] is None
    assert isinstance(row["answered"], bool) and isinstance(row["confidence"], float)
    for c in row["citations"]:
        for key in ("clause_id", "document", "label", "citation", "text", "score", "source",
                    "url", "date"):
            assert key in c


def test_batch_txt(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "q.txt"
    path.write_text("《证券法》第一百九十一条\n\n  \n操纵证券市场构成犯罪吗？\n", encoding="utf-8")
    code, out, err = run("batch", str(path), "--top", "3")
    assert code == 0, err
    got = rows(out)
    assert [r["id"] for r in got] == ["1", "2"]
    assert [r["line"] for r in got] == [1, 4]
    check_row(got[0], question="《证券法》第一百九十一条")
    check_row(got[1], question="操纵证券市场构成犯罪吗？")
    assert got[0]["answered"] and got[0]["citations"][0]["citation"] == CITE191
    assert all(len(r["citations"]) <= 3 for r in got)
    assert "2 questions" in err


def test_batch_jsonl_with_a_failing_row(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "q.jsonl"
    lines = [
        {"id": "a1", "question": "《证券法》第一百九十一条"},
        {"id": "a2", "question": ""},
        {"question": "What is the penalty for market manipulation?"},
    ]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
                    encoding="utf-8")
    code, out, err = run("batch", str(path))
    assert code == 3
    got = rows(out)
    assert [r["id"] for r in got] == ["a1", "a2", "3"]
    assert got[0]["answered"] and got[0]["citations"]
    assert got[1]["error"] and got[1]["answered"] is False and got[1]["citations"] == []
    assert got[2]["error"] is None and got[2]["citations"]
    assert "a2" in err and "failed" in err


def test_batch_jsonl_bad_lines_are_failed_rows(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "q.jsonl"
    path.write_text('not json\n["a list"]\n{"id": 7}\n{"question": "内幕交易"}\n',
                    encoding="utf-8")
    code, out, _ = run("batch", str(path))
    assert code == 3
    got = rows(out)
    assert [bool(r["error"]) for r in got] == [True, True, True, False]
    assert got[2]["id"] == "7"


@pytest.mark.parametrize("bom", ["", "\ufeff"])
def test_batch_csv_with_or_without_bom(run, tmp_path: Path, bom: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "q.csv"
    text = bom + 'id,question\nq1,《证券法》第一百九十一条\nq2,"内幕交易, 罚款"\nq3,\n'
    path.write_text(text, encoding="utf-8")
    code, out, _ = run("batch", str(path))
    assert code == 3  # q3 is empty
    got = rows(out)
    assert [r["id"] for r in got] == ["q1", "q2", "q3"]
    assert got[1]["question"] == "内幕交易, 罚款" and got[1]["error"] is None
    assert got[2]["error"] and got[2]["citations"] == []


def test_batch_csv_without_question_column_fails(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "q.csv"
    path.write_text("id,text\n1,内幕交易\n", encoding="utf-8")
    code, _, err = run("batch", str(path))
    assert code == 1 and "question" in err


def test_batch_stdin_txt_and_jsonl(run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("sys.stdin", io.StringIO("《证券法》第一百九十一条\n内幕交易\n"))
    code, out, _ = run("batch", "-")
    assert code == 0
    assert [r["question"] for r in rows(out)] == ["《证券法》第一百九十一条", "内幕交易"]
    monkeypatch.setattr("sys.stdin", io.StringIO('{"id": "x", "question": "内幕交易"}\n'))
    code, out, _ = run("batch", "-")
    assert code == 0 and rows(out)[0]["id"] == "x"


def test_batch_loads_index_and_model_once(run, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import rag.cli.commands as commands

    calls = {"index": 0, "encoder": 0}
    real_open_index, real_load_encoder = commands.open_index, commands.load_encoder

    def count_index(*a, **kw):  # type: ignore[no-untyped-def]
        calls["index"] += 1
        return real_open_index(*a, **kw)

    def count_encoder(*a, **kw):  # type: ignore[no-untyped-def]
        calls["encoder"] += 1
        return real_load_encoder(*a, **kw)

    monkeypatch.setattr(commands, "open_index", count_index)
    monkeypatch.setattr(commands, "load_encoder", count_encoder)
    path = tmp_path / "q.txt"
    path.write_text("内幕交易\n操纵市场\n虚假陈述\n", encoding="utf-8")
    code, out, _ = run("batch", str(path))
    assert code == 0 and len(rows(out)) == 3
    assert calls == {"index": 1, "encoder": 1}


def test_batch_top_100(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "q.txt"
    path.write_text("证券公司 违法 罚款\n", encoding="utf-8")
    code, out, _ = run("batch", str(path), "--top", "100")
    assert code == 0
    assert 5 < len(rows(out)[0]["citations"]) <= 100


# ---------------------------------------------------------------- batch outputs


@pytest.fixture()
def questions(tmp_path: Path) -> Path:
    path = tmp_path / "q.jsonl"
    path.write_text(
        '{"id": "one", "question": "《证券法》第一百九十一条"}\n'
        '{"id": "two", "question": "火星殖民地的量子咖啡配方是什么？"}\n'
        '{"id": "three", "question": "   "}\n',
        encoding="utf-8",
    )
    return path


def test_batch_out_jsonl(run, questions: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out_path = tmp_path / "a.jsonl"
    code, out, _ = run("batch", str(questions), "--out", str(out_path), "--top", "2")
    assert code == 3 and out == ""
    got = rows(out_path.read_text(encoding="utf-8"))
    assert [r["id"] for r in got] == ["one", "two", "three"]
    assert got[0]["citations"][0]["citation"] == CITE191


def test_batch_out_csv(run, questions: Path, tmp_path: Path, shipped_index) -> None:  # type: ignore[no-untyped-def]
    out_path = tmp_path / "a.csv"
    code, _, _ = run("batch", str(questions), "--out", str(out_path), "--top", "2")
    assert code == 3
    with out_path.open(encoding="utf-8-sig", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert list(table[0]) == list(CSV_COLUMNS)
    assert [r["id"] for r in table] == ["one", "one", "two", "two", "three"]
    first = table[0]
    assert first["rank"] == "1" and first["citation"] == CITE191
    assert first["text"] == document_text(shipped_index, SEC191)  # newlines survive
    assert first["answered"] == "True"
    assert table[-1]["answered"] == "False" and table[-1]["rank"] == ""
    assert "empty" in table[-1]["text"]


def test_batch_out_markdown_memo(run, questions: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from rag.export.markdown import md_escape

    out_path = tmp_path / "memo.md"
    code, _, _ = run("batch", str(questions), "--out", str(out_path), "--top", "2")
    assert code == 3
    text = out_path.read_text(encoding="utf-8")
    assert "## 1. 《证券法》第一百九十一条" in text
    assert md_escape(CITE191) in text
    assert "NOT ANSWERED" in text and "could not be run" in text
    assert "Audit: index fingerprint" in text and "hashing:256" in text


def test_batch_out_docx_memo(run, questions: Path, tmp_path: Path, shipped_index) -> None:  # type: ignore[no-untyped-def]
    import docx

    out_path = tmp_path / "memo.docx"
    code, _, _ = run("batch", str(questions), "--out", str(out_path), "--top", "2")
    assert code == 3
    texts = [p.text for p in docx.Document(str(out_path)).paragraphs]
    assert document_text(shipped_index, SEC191) in texts
    assert any(CITE191 in t for t in texts)
    assert "1. 《证券法》第一百九十一条" in texts


# ---------------------------------------------------------------- the old commands


def indexed_notice(tmp_path: Path, model: str) -> tuple[Path, Path]:
    """A one-notice corpus and its index built by ``rag index --model model``."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "通知.txt").write_text("关于测试的通知\n\n第一条 内幕交易的，没收违法所得。\n",
                                     encoding="utf-8")
    index_dir = tmp_path / "index"
    assert cli.main(["index", str(corpus), "--index", str(index_dir), "--model", model,
                     "--quiet"]) == 0
    return corpus, index_dir


def test_index_and_chunk_still_work(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    corpus, index_dir = indexed_notice(tmp_path, "hashing:256")
    assert cli.main(["chunk", str(corpus)]) == 0
    out, _ = capsys.readouterr()
    assert "第一条" in out
    assert cli.main(["ask", "内幕交易", "--index", str(index_dir), "--json"]) == 0
    data = json.loads(capsys.readouterr()[0])
    assert data["audit"]["model"] == "hashing:256"  # the model the index was built with


def test_serve_builds_the_index_on_first_start_then_serves(tmp_path: Path) -> None:
    """`rag serve` as `make run` starts it: index built with progress, then HTTP 200."""
    import shutil
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from .conftest import CORPUS

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / "seeds" / "001_fac9b76a4238144e.txt", corpus)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "rag", "serve", "--corpus", str(corpus), "--index",
         str(tmp_path / "index"), "--model", "hashing:256", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 90
        status = None
        while time.monotonic() < deadline and status != 200:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:
                    status = page.status
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                time.sleep(0.5)
        assert status == 200
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    import re

    assert re.search(r"1 documents, [1-9]\d* clauses: [1-9]\d* added", err), err
    assert "open http://127.0.0.1" in err
    assert (tmp_path / "index" / "CURRENT").is_file()


def test_index_keeps_the_model_the_index_was_built_with(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """`rag index --index DIR` (the update a refused index is told to run) re-reads with the
    index's own model and embeds nothing; only an explicit other --model re-embeds, and says
    so first."""
    _, index_dir = indexed_notice(tmp_path, "hashing:128")
    capsys.readouterr()
    assert cli.main(["index", "--index", str(index_dir), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "re-embeds" not in err and "0 added, 2 unchanged" in err, err
    assert cli.main(["ask", "内幕交易", "--index", str(index_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr()[0])["audit"]["model"] == "hashing:128"
    assert cli.main(["index", "--index", str(index_dir), "--model", "hashing:256",
                     "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "re-embeds all 2 of its clauses" in err, err
    assert cli.main(["ask", "内幕交易", "--index", str(index_dir), "--json"]) == 0
    assert json.loads(capsys.readouterr()[0])["audit"]["model"] == "hashing:256"
