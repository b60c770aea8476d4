"""Failures found by trying to break the product: each case here failed before its fix.

Index folders, remembered sources, readers that must not leave the corpus, exports that
must not fail or inject, questions in the wrong encoding, batch edge cases.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from rag.encoders import HashingEncoder
from rag.index import EmbeddedBackend, StoreError, index_paths
from rag.index.folder import MARKER, current_generation, generations
from rag.search import open_index

from .conftest import CORPUS

SEEDS = CORPUS / "seeds"


# ---------------------------------------------------------------- index folders (item 1)


def test_a_folder_that_is_not_an_index_is_refused_and_left_alone(
    small: Path, tmp_path: Path, encoder: HashingEncoder
) -> None:
    careless = tmp_path / "careless"
    (careless / "gen-ai-policies").mkdir(parents=True)
    (careless / "gen-ai-policies" / "policy.txt").write_text("our AI policy", "utf-8")
    (careless / ".tmp-drafts").mkdir()
    (careless / ".tmp-drafts" / "draft.txt").write_text("draft", "utf-8")
    with pytest.raises(StoreError, match=r"not an index folder .*gen-ai-policies.*new or empty"):
        index_paths([small], index=careless, encoder=encoder)
    assert (careless / "gen-ai-policies" / "policy.txt").read_text("utf-8") == "our AI policy"
    assert (careless / ".tmp-drafts" / "draft.txt").read_text("utf-8") == "draft"
    assert sorted(p.name for p in careless.iterdir()) == [".tmp-drafts", "gen-ai-policies"]


def test_a_new_or_empty_folder_becomes_an_index(
    small: Path, tmp_path: Path, encoder: HashingEncoder
) -> None:
    (tmp_path / "empty").mkdir()
    for folder in (tmp_path / "empty", tmp_path / "new" / "nested"):
        index_paths([small], index=folder, encoder=encoder)
        assert (folder / MARKER).is_file() and current_generation(folder) is not None


def test_cleanup_removes_only_what_the_index_recorded(
    small: Path, tmp_path: Path, encoder: HashingEncoder
) -> None:
    folder = tmp_path / "index"
    index_paths([small], index=folder, encoder=encoder)
    # files a user put into the index folder later, named like ours
    (folder / ".tmp-notes").mkdir()
    (folder / ".tmp-notes" / "keep.txt").write_text("mine", "utf-8")
    (folder / "gen-mine").mkdir()
    (small / "003_09ea28eacbf07f88.txt").unlink()
    index_paths([small], index=folder, encoder=encoder)
    assert (folder / ".tmp-notes" / "keep.txt").read_text("utf-8") == "mine"
    assert (folder / "gen-mine").is_dir()


def test_an_index_written_before_the_marker_is_adopted(
    small: Path, tmp_path: Path, encoder: HashingEncoder
) -> None:
    folder = tmp_path / "index"
    index_paths([small], index=folder, encoder=encoder)
    (folder / MARKER).unlink()
    (folder / "generations.json").unlink()
    live = current_generation(folder)
    index_paths([small], index=folder, encoder=encoder)  # nothing changed: still fine
    assert (folder / MARKER).is_file() and current_generation(folder) == live


# ---------------------------------------------------------------- generations kept (item 9)


def test_replaced_generations_are_kept_previous_whole_older_as_records(
    small: Path, tmp_path: Path, encoder: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAG_KEEP_GENERATIONS", "3")
    folder = tmp_path / "index"
    text = small / "003_09ea28eacbf07f88.txt"
    original = text.read_text("utf-8")
    for n in range(4):
        text.write_text(original + f"\n第{n}次补充说明：本段用于测试保留策略。", "utf-8")
        index_paths([small], index=folder, encoder=encoder)
    kept = generations(folder)
    assert [g.whole for g in kept] == [False, True, True]
    assert len(list(folder.glob("gen-*"))) == 3
    oldest = folder / kept[0].name
    assert (oldest / "clauses.jsonl").is_file() and (oldest / "documents.jsonl").is_file()
    assert not (oldest / "vectors.npy").exists() and not (oldest / "bm25").exists()
    assert kept[-1].name == current_generation(folder).name  # type: ignore[union-attr]


def test_a_reader_opening_while_a_build_publishes_still_loads(
    small: Path, tmp_path: Path, encoder: HashingEncoder
) -> None:
    folder = tmp_path / "index"
    index_paths([small], index=folder, encoder=encoder)
    reader = EmbeddedBackend(folder)
    reader.manifest()  # the reader has read CURRENT …
    text = small / "003_09ea28eacbf07f88.txt"
    for n in range(3):  # … then builds publish three times before it loads the files
        text.write_text(text.read_text("utf-8") + f"\n补充{n}：新增的一段话。", "utf-8")
        index_paths([small], index=folder, encoder=encoder)
    assert reader.records().clauses


# ---------------------------------------------------------------- manifests (item 7)


@pytest.mark.parametrize("content", ["null", "[]", '{"format": "rag-index"}', "{}", "42"])
def test_a_manifest_that_is_not_one_is_refused_then_rebuilt(
    small: Path, tmp_path: Path, encoder: HashingEncoder, content: str
) -> None:
    folder = tmp_path / "index"
    index_paths([small], index=folder, encoder=encoder)
    generation = current_generation(folder)
    assert generation is not None
    (generation / "manifest.json").write_text(content, "utf-8")
    with pytest.raises(StoreError, match=r"manifest\.json: .*rebuild the index with `rag index"):
        open_index(folder, encoder=encoder)
    report = index_paths([small], index=folder, encoder=encoder)
    assert report.changed
    assert open_index(folder, encoder=encoder).clauses


def test_cli_reports_a_broken_manifest_in_one_line(
    small: Path, tmp_path: Path, encoder: HashingEncoder, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag.cli import main

    folder = tmp_path / "index"
    index_paths([small], index=folder, encoder=encoder)
    generation = current_generation(folder)
    assert generation is not None
    (generation / "manifest.json").write_text("null", "utf-8")
    code = main(["ask", "内幕交易", "--index", str(folder), "--model", "hashing:64"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert "manifest.json" in err and "rag index" in err
    assert main(["index", str(small), "--index", str(folder), "--model", "hashing:64",
                 "--quiet"]) == 0


# ---------------------------------------------------------------- remembered sources (item 2)


def test_an_index_remembers_its_sources_and_rag_index_rereads_them_all(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from rag.cli import main
    from rag.index import remembered_sources

    more = tmp_path / "more"
    more.mkdir()
    shutil.copy(SEEDS / "004_be685d8d73ec7c1f.txt", more / "own-note.txt")
    folder = tmp_path / "index"
    assert main(["index", str(small), str(more), "--index", str(folder),
                 "--model", "hashing:64", "--quiet"]) == 0
    assert remembered_sources(folder).paths == (small.resolve(), more.resolve())
    # `rag index` with no path re-reads every remembered source: nothing is dropped
    assert main(["index", "--index", str(folder), "--model", "hashing:64", "--quiet"]) == 0
    assert "own-note" in open_index(folder).documents
    assert "0 removed" in capsys.readouterr().err


def test_starting_the_chat_never_removes_documents(small: Path, tmp_path: Path) -> None:
    from rag.paths import shipped_corpus
    from ui.cli import update_sources

    folder = tmp_path / "index"
    index_paths([small], index=folder, encoder=HashingEncoder(dimension=64))
    # the chat re-reads the index's own sources, not the shipped corpus
    assert update_sources(folder, extra=[]).paths == (small.resolve(),)
    extra = tmp_path / "extra"
    extra.mkdir()
    assert update_sources(folder, extra=[extra]).paths == (small.resolve(), extra)
    # a new index starts from the shipped corpus
    assert update_sources(tmp_path / "fresh", extra=[]).paths == (shipped_corpus(),)
    # a source that went missing: serve as it is rather than drop its documents
    shutil.rmtree(small)
    assert update_sources(folder, extra=[]).paths == ()


# ---------------------------------------------------------------- reading stays inside (item 5)


def _reasons(errors: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {Path(e.path).name: e.reason for e in errors}


def test_links_out_of_the_corpus_are_not_followed_unless_asked(tmp_path: Path) -> None:
    from rag.readers import load_documents

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("董事会秘密会议纪要：不得外传。", "utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEEDS / "003_09ea28eacbf07f88.txt", corpus / "news.txt")
    (corpus / "secret.txt").symlink_to(outside / "secret.txt")
    (corpus / "passwd.txt").symlink_to("/etc/passwd")
    (corpus / "elsewhere").symlink_to(outside, target_is_directory=True)
    (corpus / "inside.txt").symlink_to(corpus / "news.txt")  # stays inside: read once
    docs, errors = load_documents([corpus])
    assert [d.doc_id for d in docs] == ["inside"] or [d.doc_id for d in docs] == ["news"]
    reasons = _reasons(errors)
    assert set(reasons) == {"secret.txt", "passwd.txt", "elsewhere"}
    assert all("outside" in r and "--follow-links" in r for r in reasons.values())
    docs, errors = load_documents([corpus], follow_links=True)
    assert "secret" in {d.doc_id for d in docs}


def test_fifos_devices_loops_and_unreadable_folders_are_reported_not_read(
    tmp_path: Path
) -> None:
    from rag.readers import load_documents

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEEDS / "003_09ea28eacbf07f88.txt", corpus / "news.txt")
    os.mkfifo(corpus / "pipe.txt")
    (corpus / "zero.txt").symlink_to("/dev/zero")
    (corpus / "loop-a.txt").symlink_to(corpus / "loop-b.txt")
    (corpus / "loop-b.txt").symlink_to(corpus / "loop-a.txt")
    locked = corpus / "locked"
    locked.mkdir()
    (locked / "inside.txt").write_text("不可读的文件夹里的文件。", "utf-8")
    locked.chmod(0)
    try:
        docs, errors = load_documents([corpus], follow_links=True)  # (a FIFO read would hang)
    finally:
        locked.chmod(0o755)
    root = os.geteuid() == 0  # root reads any folder
    assert [d.doc_id for d in docs] == ["news", "inside"] if root else ["news"]
    reasons = _reasons(errors)
    assert "FIFO" in reasons["pipe.txt"]
    assert "device" in reasons["zero.txt"]
    assert "loop" in reasons["loop-a.txt"] and "loop" in reasons["loop-b.txt"]
    if not root:
        assert "cannot read folder" in reasons["locked"]


def test_a_file_named_outright_must_still_be_a_regular_file(tmp_path: Path) -> None:
    from rag.readers import load_documents

    os.mkfifo(tmp_path / "pipe.txt")
    docs, errors = load_documents([tmp_path / "pipe.txt"])
    assert not docs and "FIFO" in errors[0].reason


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_is_read(tmp_path: Path, encoding: str) -> None:
    from rag.readers import read_document

    text = (SEEDS / "003_09ea28eacbf07f88.txt").read_text("utf-8")
    path = tmp_path / "utf16.txt"
    path.write_bytes(text.encode(encoding))
    assert read_document(path).text == read_document(SEEDS / "003_09ea28eacbf07f88.txt").text


def test_following_links_is_remembered_with_the_sources(tmp_path: Path) -> None:
    from rag.cli import main

    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(SEEDS / "003_09ea28eacbf07f88.txt", outside / "linked.txt")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "linked.txt").symlink_to(outside / "linked.txt")
    folder = tmp_path / "index"
    args = ["--index", str(folder), "--model", "hashing:64", "--quiet"]
    assert main(["index", str(corpus), "--follow-links", *args]) == 0
    assert main(["index", *args]) == 0  # re-reads the sources the same way
    assert "linked" in open_index(folder).documents


# ---------------------------------------------------------------- exports and batches (3, 6, 8, 10)


@pytest.fixture()
def run(shipped_index_dir: Path, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    from rag.cli import main

    def _run(*argv: str) -> tuple[int, str, str]:
        code = main([*argv, "--index", str(shipped_index_dir), "--model", "hashing:256"])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


FORMULAS = ["=HYPERLINK(\"http://evil\",\"x\")", "=1+1", "@SUM(A1)", "+1+1", "-1+1",
            "\t=1+1"]


def test_csv_cells_cannot_run_as_formulas(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import csv

    questions = tmp_path / "inject.csv"
    with questions.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "question"])
        for n, formula in enumerate(FORMULAS):
            writer.writerow([f"=cmd|{n}", formula + " 内幕交易"])
    out = tmp_path / "out.csv"
    code, _, _ = run("batch", str(questions), "--out", str(out), "--top", "2")
    assert code == 0
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    cells = [cell for row in rows[1:] for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert {r[1] for r in rows[1:]} == {"'" + f.strip() + " 内幕交易" for f in FORMULAS}
    # JSON lines keep the question verbatim
    code, jsonl, _ = run("batch", str(questions), "--top", "1")
    assert [json.loads(line)["question"] for line in jsonl.splitlines()] == [
        f.strip() + " 内幕交易" for f in FORMULAS]


@pytest.mark.parametrize("suffix", [".docx", ".md"])
def test_control_characters_do_not_break_a_memo(run, tmp_path: Path, suffix: str) -> None:  # type: ignore[no-untyped-def]
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"question": "内幕交易\x01的处罚\x0c是什么\u0000？"}) + "\n",
                         encoding="utf-8")
    out = tmp_path / f"memo{suffix}"
    code, _, err = run("batch", str(questions), "--out", str(out))
    assert code == 0, err
    if suffix == ".docx":
        from docx import Document

        texts = [p.text for p in Document(str(out)).paragraphs]
        assert "1. 内幕交易␁的处罚␌是什么␀？" in texts
    else:
        assert "内幕交易\x01的处罚" in out.read_text("utf-8")


def test_a_memo_is_written_whole_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rag.answer import Answer
    from rag.export import docx as docx_export

    out = tmp_path / "memo.docx"
    out.write_bytes(b"previous memo")

    def broken_save(self, target):  # type: ignore[no-untyped-def]
        target.write(b"PK\x03\x04 half a file")
        raise OSError("disk full")

    import docx.document

    monkeypatch.setattr(docx.document.Document, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        docx_export.memo_docx([Answer("q", False, 0.0, "m", ())], out)
    assert out.read_bytes() == b"previous memo"


def test_questions_in_the_wrong_encoding_get_one_clear_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gbk = "利用内幕消息炒股会被罚多少钱？".encode("gbk")
    as_argv = gbk.decode("utf-8", "surrogateescape")  # what Python makes of such argv bytes
    code, out, err = run("ask", as_argv)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "not valid UTF-8" in err and "GBK" in err
    questions = tmp_path / "gbk.txt"
    questions.write_bytes(gbk + b"\n")
    code, _, err = run("batch", str(questions))
    assert code == 1 and err.count("\n") == 1 and "not UTF-8" in err and "GBK" in err


def test_batch_text_files_split_only_on_line_feeds(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    questions = tmp_path / "q.txt"
    questions.write_text("内幕交易\x0b的处罚\n操纵市场\r\n", encoding="utf-8")
    code, out, _ = run("batch", str(questions))
    assert code == 0
    assert [json.loads(line)["question"] for line in out.splitlines()] == [
        "内幕交易\x0b的处罚", "操纵市场"]


def test_utf16_question_files_are_read(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    questions = tmp_path / "q.txt"
    questions.write_bytes("内幕交易的处罚\n操纵市场\n".encode("utf-16-le"))
    code, out, _ = run("batch", str(questions))
    assert code == 0 and len(out.splitlines()) == 2


def test_the_answers_never_overwrite_the_questions(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"question": "内幕交易"}\n', encoding="utf-8")
    code, _, err = run("batch", str(questions), "--out", str(questions))
    assert code == 2 and "questions file itself" in err
    assert questions.read_text("utf-8") == '{"question": "内幕交易"}\n'


def test_a_hard_link_to_the_questions_is_not_written_over(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # issue 24: `ln qs.txt answers.jsonl; rag batch qs.txt --out answers.jsonl` exited 0
    # and qs.txt then held the answers
    questions = tmp_path / "qs.txt"
    questions.write_text("内幕交易\n", encoding="utf-8")
    os.link(questions, tmp_path / "answers.jsonl")
    (tmp_path / "linked.jsonl").symlink_to(questions)
    for out in ("answers.jsonl", "linked.jsonl"):
        code, _, err = run("batch", str(questions), "--out", str(tmp_path / out))
        assert code == 2 and "questions file itself" in err and "hard link" in err
    assert questions.read_text("utf-8") == "内幕交易\n"
    code, _, _ = run("batch", str(questions), "--out", str(tmp_path / "fresh.jsonl"))
    assert code == 0 and questions.read_text("utf-8") == "内幕交易\n"


def test_a_fifo_as_the_questions_file_is_named_not_read(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fifo = tmp_path / "qs.txt"
    os.mkfifo(fifo)  # nobody writes to it: reading it would block forever
    code, _, err = run("batch", str(fifo))
    assert code != 0 and f"{fifo}: not a regular file" in err
    code, _, err = run("batch", str(tmp_path / "missing.txt"))
    assert code != 0 and "missing.txt: no such file" in err


def test_ctrl_c_in_a_memo_batch_keeps_what_is_done(
    run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    import rag.cli.batch as batch

    real = batch.answer_in_workers

    def interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        for n, outcome in enumerate(real(*args, **kwargs)):
            if n == 2:
                raise KeyboardInterrupt
            yield outcome

    monkeypatch.setattr(batch, "answer_in_workers", interrupted)
    questions = tmp_path / "q.txt"
    questions.write_text("内幕交易\n操纵市场\n虚假陈述\n洗钱\n", encoding="utf-8")
    out = tmp_path / "memo.md"
    code, _, err = run("batch", str(questions), "--out", str(out))
    assert code == 130 and "interrupted after 2 of 4 questions" in err
    memo = out.read_text("utf-8")
    assert "## 1. 内幕交易" in memo and "## 2. 操纵市场" in memo and "虚假陈述" not in memo


def test_terminal_output_does_not_obey_escapes_in_a_question(run) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("ask", "内幕交易\x1b]0;pwned\x07\x1b[2J", "--color", "never")
    assert code == 0
    assert "\x1b" not in out and "\x07" not in out
    assert "Q: 内幕交易\\x1b]0;pwned\\x07\\x1b[2J" in out
