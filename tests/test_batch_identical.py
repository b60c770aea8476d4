"""``rag batch`` / ``answer_many`` give exactly the answers ``answer`` gives one at a time.

Same JSON lines, byte for byte (scores, ranks and folded duplicates included, via
``--debug``), with the hashing encoder (fast) and with the real model (integration: a
batched forward pass would round the vectors differently, so only answering each
question's own embedding keeps the lines identical).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag import cli
from rag.answer import answer, answer_many
from rag.export.records import batch_row

DATA = Path(__file__).resolve().parent / "data"
BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "data"

QUESTIONS = [
    "内幕交易的法律责任",
    "《证券法》第一百九十一条",  # a named clause
    "利用内幕消息炒股会被罚多少钱？",  # a consequence question: penalties follow the duty
    "What is the penalty for market manipulation?",
    "火星上的咖啡多少钱",  # nothing in the corpus answers: refused
    "公司法第四十九条修改了什么？",  # a change question: versions side by side
    "操纵市场",
]


def sequential_lines(questions: list[str], index, encoder, *, k: int = 5) -> list[str]:  # type: ignore[no-untyped-def]
    """The JSON line each question gets when answered alone (errors as ``rag batch`` writes
    them)."""
    lines = []
    for line, question in enumerate(questions, 1):
        try:
            result, error = answer(question, index=index, encoder=encoder, k=k), None
        except ValueError as failure:
            result, error = None, str(failure)
        row = batch_row(id=str(line), question=question, line=line, result=result,
                        error=error, debug=True)
        lines.append(json.dumps(row, ensure_ascii=False))
    return lines


def batch_lines(questions: list[str], index, encoder, *, k: int = 5) -> list[str]:  # type: ignore[no-untyped-def]
    lines = []
    outcomes = answer_many(questions, index=index, encoder=encoder, k=k)
    for line, (question, outcome) in enumerate(zip(questions, outcomes, strict=True), 1):
        if isinstance(outcome, ValueError):
            row = batch_row(id=str(line), question=question, line=line, result=None,
                            error=str(outcome), debug=True)
        else:
            row = batch_row(id=str(line), question=question, line=line, result=outcome,
                            error=None, debug=True)
        lines.append(json.dumps(row, ensure_ascii=False))
    return lines


def test_rag_batch_writes_the_lines_answering_one_at_a_time_writes(
    shipped_index_dir: Path, shipped_index, hashing_encoder, tmp_path: Path,  # type: ignore[no-untyped-def]
    capsys: pytest.CaptureFixture[str],
) -> None:
    asked = [*QUESTIONS, "", "GBK bytes \ud8c4 here", *QUESTIONS[::-1]]
    source = tmp_path / "questions.jsonl"
    source.write_text("".join(json.dumps({"question": q}) + "\n" for q in asked),
                      encoding="utf-8")
    code = cli.main(["batch", str(source), "--debug", "--index", str(shipped_index_dir),
                     "--model", "hashing:256"])
    out, err = capsys.readouterr()
    assert code == 3, err  # two rows failed; every other one answered
    assert "question 8 (line 8) failed: the question is empty" in err
    assert "question 9 (line 9) failed: the question is not valid UTF-8" in err
    got = out.splitlines()
    want = sequential_lines(asked, shipped_index, hashing_encoder)
    assert len(got) == len(asked)
    for line, (mine, theirs) in enumerate(zip(got, want, strict=True), 1):
        record = json.loads(mine)
        if line in (8, 9):  # failed, and said so in its line, the question as it came
            assert record["error"] and not record["citations"]
            assert record["question"] == asked[line - 1]
            continue
        assert record["error"] is None and record["citations"]
        assert mine == theirs, f"line {line} ({asked[line - 1]}) differs"


def test_rag_batch_in_worker_processes_writes_the_same_lines_in_order(
    shipped_index_dir: Path, shipped_index, hashing_encoder, tmp_path: Path,  # type: ignore[no-untyped-def]
    capsys: pytest.CaptureFixture[str],
) -> None:
    asked = [*QUESTIONS * 6, "", *QUESTIONS[::-1]]  # more than one chunk per worker
    source = tmp_path / "questions.jsonl"
    source.write_text("".join(json.dumps({"question": q}) + "\n" for q in asked),
                      encoding="utf-8")
    code = cli.main(["batch", str(source), "--debug", "--workers", "2", "--index",
                     str(shipped_index_dir), "--model", "hashing:256"])
    out, err = capsys.readouterr()
    assert code == 3, err  # the empty question failed, in its own line
    got = out.splitlines()
    assert json.loads(got[len(QUESTIONS) * 6])["error"] == "the question is empty"
    assert got == sequential_lines(asked, shipped_index, hashing_encoder)


def test_a_worker_that_opens_another_index_generation_refuses(shipped_index,  # type: ignore[no-untyped-def]
                                                              other_index) -> None:
    from rag.answer import workers

    workers._start(lambda: other_index, workers._identity(shipped_index), 5, None)
    with pytest.raises(workers.IndexChanged, match="run the batch again"):
        workers._answer_chunk(["内幕交易"])
    workers._start(lambda: shipped_index, workers._identity(shipped_index), 5, None)
    assert workers._answer_chunk(["内幕交易"])[0] == answer("内幕交易", index=shipped_index)


@pytest.fixture()
def other_index(tmp_path: Path, small: Path, hashing_encoder):  # type: ignore[no-untyped-def]
    """Another index: three files, indexed with the same encoder."""
    from rag.index import index_paths
    from rag.search import open_index

    index_paths([small], index=tmp_path / "index", encoder=hashing_encoder)
    return open_index(tmp_path / "index", encoder=hashing_encoder)


def test_answer_many_is_answer_one_at_a_time_whatever_the_top(
    shipped_index, hashing_encoder  # type: ignore[no-untyped-def]
) -> None:
    asked = QUESTIONS * 3  # the same clauses again: their facts come from the batch's memo
    for k in (1, 3, 8):
        assert (batch_lines(asked, shipped_index, hashing_encoder, k=k)
                == sequential_lines(asked, shipped_index, hashing_encoder, k=k))


@pytest.mark.integration
def test_batch_answers_with_the_real_model_are_the_answers_one_at_a_time(
    real_index, real_encoder  # type: ignore[no-untyped-def]
) -> None:
    parity = [q for q in (DATA / "parity_questions.txt").read_text("utf-8").splitlines()
              if q.strip()]
    english = [json.loads(line)["question"]
               for line in (BENCH / "english_questions.jsonl").read_text("utf-8").splitlines()
               if line.strip()][:12]
    asked = [*QUESTIONS, *parity, *english, "   "]
    assert len(asked) >= 40
    got = batch_lines(asked, real_index, real_encoder)
    want = sequential_lines(asked, real_index, real_encoder)
    records = [json.loads(line) for line in got]
    assert records[-1]["error"] == "the question is empty"
    assert records[1]["citations"][0]["via"] == "lookup"  # the named clause, first
    assert not records[4]["answered"]  # the refusal
    duty, *after = records[2]["citations"]  # the consequence: penalties follow their duty
    assert after and after[0]["enforces"] == duty["clause_id"]
    for line, (mine, theirs) in enumerate(zip(got, want, strict=True), 1):
        assert mine == theirs, f"line {line} ({asked[line - 1]}) differs"
