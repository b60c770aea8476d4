"""Hit testing (rag explain) and labelled-file evaluation (rag eval), and the feedback and
learn commands, on the shipped corpus with the hashing encoder."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from rag import cli
from rag.encoders import HashingEncoder
from rag.evaluate.explain import explain, format_explanation
from rag.evaluate.metrics import first_rank, mean, score
from rag.evaluate.report import write_report
from rag.evaluate.run import evaluate
from rag.feedback.labelled import read_labelled
from rag.search import Filters, Index
from rag.search.memory import Memory

SEC191 = "证券法-2019-12-28#art191"
CRIMINAL = "刑法#art446"
QUESTION = "谁可以成为个体工商户？"


def test_metrics() -> None:
    gold = {("证券法", "第一条"), ("刑法", "第二条")}
    ranked = [("公司法", "第一条"), ("刑法", "第二条"), ("证券法", "第一条")]
    assert score(ranked, gold) == {"R@1": 0.0, "R@5": 1.0, "R@10": 1.0, "R@100": 1.0,
                                   "MRR@10": 0.5}
    assert first_rank(ranked, gold) == 2 and first_rank(ranked, {("x", "y")}) is None
    assert mean([]) == {"R@1": 0.0, "R@5": 0.0, "R@10": 0.0, "R@100": 0.0, "MRR@10": 0.0}


def test_explain_shows_every_channel_and_the_lookup(
        shipped_index: Index, hashing_encoder: HashingEncoder) -> None:
    result = explain("《证券法》第一百九十一条 内幕交易罚款", index=shipped_index,
                     encoder=hashing_encoder, k=8)
    first = result.rows[0]
    assert (first.clause_id, first.via, first.ranks) == (SEC191, "lookup", {"lookup": 1})
    assert "exact look-up" in first.why
    assert result.answered and result.confidence == 1.0
    searched = [r for r in result.rows if r.via == "search"]
    assert searched and all(set(r.ranks) <= {"dense", "bm25", "definition", "reference"}
                            for r in searched)
    assert any({"dense", "bm25"} <= set(r.ranks) for r in searched)
    assert all(r.why.startswith("fused from ") for r in searched)
    assert [r.rank for r in result.rows] == list(range(1, len(result.rows) + 1))
    assert SEC191 not in [r.clause_id for r in searched]  # shown once
    text = format_explanation(result)
    assert SEC191 in text and "dense" in text and "bm25" in text
    json.dumps(result.to_dict(), ensure_ascii=False)  # serialisable


def test_explain_names_memory_voters_and_respects_filters(
        shipped_index: Index, hashing_encoder: HashingEncoder) -> None:
    index = replace(shipped_index)
    index.memory = Memory.from_pairs([(QUESTION, CRIMINAL)],
                                     hashing_encoder.encode_queries([QUESTION]))
    result = explain(QUESTION, index=index, encoder=hashing_encoder, k=5)
    assert (result.rows[0].clause_id, result.rows[0].via) == (CRIMINAL, "memory")
    assert result.rows[0].ranks["memory"] == 1 and "pinned" in result.rows[0].why
    assert [(v.question, v.clause_id) for v in result.voters] == [(QUESTION, CRIMINAL)]
    assert result.voters[0].similarity == pytest.approx(1.0, abs=1e-4)
    law = next(d for d in index.documents.values() if d.title.endswith("证券法"))
    narrowed = explain(QUESTION, index=index, encoder=hashing_encoder, k=5,
                       filters=Filters(doc_ids=(law.doc_id,)))
    assert {r.clause_id.split("#")[0] for r in narrowed.rows} == {law.doc_id}
    with pytest.raises(ValueError, match="empty"):
        explain("  ", index=index, encoder=hashing_encoder)


def labelled_file(tmp_path: Path) -> Path:
    lines = [
        {"question": "《证券法》第一百九十一条怎么规定", "clause_id": SEC191},
        {"question": "内幕交易 <script>alert(1)</script>", "gold": [
            {"law": "中华人民共和国证券法", "article": "第一百九十一条"}]},
        {"question": QUESTION, "clause_id": CRIMINAL},
        {"question": "找不到", "clause_id": "none#art1"},
    ]
    path = tmp_path / "team.jsonl"
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines),
                    encoding="utf-8")
    return path


def test_eval_scores_misses_and_reports(
        shipped_index: Index, hashing_encoder: HashingEncoder, tmp_path: Path) -> None:
    labelled = read_labelled(labelled_file(tmp_path), shipped_index)
    result = evaluate(labelled.items, index=shipped_index, encoder=hashing_encoder)
    assert [o.line for o in result.outcomes] == [1, 2, 3]
    named, _, criminal = result.outcomes
    assert named.rank == 1 and named.scores["R@1"] == 1.0 and named.scores["MRR@10"] == 1.0
    assert criminal.rank is None or criminal.rank > 10
    assert set(criminal.channel_ranks) == {"dense", "bm25"}  # no memory attached
    misses = result.misses()
    assert misses[0].line == 3 and 1 not in [o.line for o in misses]
    assert all(o.rank is None or o.rank > 10 for o in misses)
    assert result.problems == ["line 4: no gold article in this index"]
    overall = result.overall()
    assert overall["R@1"] == pytest.approx(sum(o.scores["R@1"] for o in result.outcomes) / 3)

    md = tmp_path / "report.md"
    text = write_report(result, md, title="team")
    assert (tmp_path / "report.png").read_bytes().startswith(b"\x89PNG")
    assert "![rank of the first gold article](report.png)" in text
    assert "| overall (as answered) |" in text and "| dense alone |" in text
    assert "<script>" not in text  # question text is escaped
    page = tmp_path / "report.html"
    html = write_report(result, page, title="team")
    assert "data:image/png;base64,iVBOR" in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    with pytest.raises(ValueError, match=r"report\.txt: the report is \.md or \.html"):
        write_report(result, tmp_path / "report.txt", title="team")

    with_memory = replace(shipped_index)
    with_memory.memory = Memory.from_pairs([(QUESTION, CRIMINAL)],
                                           hashing_encoder.encode_queries([QUESTION]))
    remembered = evaluate(labelled.items, index=with_memory, encoder=hashing_encoder)
    assert remembered.outcomes[2].rank == 1
    assert remembered.outcomes[2].channel_ranks["memory"] == 1


@pytest.fixture()
def run(shipped_index_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path):  # type: ignore[no-untyped-def]
    db = f"sqlite:///{tmp_path / 'fb.sqlite3'}"

    def _run(*argv: str, index: bool = True) -> tuple[int, str, str]:
        extra = ["--index", str(shipped_index_dir)] if index else []
        if argv[0] in ("learn", "explain", "eval"):
            extra += ["--model", "hashing:256"]
        code = cli.main([*argv, *extra, "--feedback-db", db])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


def test_learn_feedback_explain_and_eval_commands(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = labelled_file(tmp_path)
    code, _, err = run("eval", str(path))
    assert code == 3 and "none#art1 is not a clause of this index" in err
    code, _, err = run("learn", str(path))
    assert code == 3 and "3 added, 0 already there, 1 not used" in err
    assert "the memory holds 3 confirmed pairs" in err
    code, out, err = run("explain", QUESTION, "--top", "3")
    assert code == 0 and out.splitlines()[0] == QUESTION
    assert CRIMINAL in out.splitlines()[5]  # the first row, after the header
    code, out, _ = run("explain", QUESTION, "--top", "3", "--json", "--no-memory")
    assert CRIMINAL not in [r["clause_id"] for r in json.loads(out)["rows"]]
    code, out, _ = run("eval", str(path), "--out", str(tmp_path / "r.html"))
    assert code == 3 and (tmp_path / "r.html").exists()
    code, out, err = run("feedback", "--status", "accepted")
    assert code == 0 and len(out.splitlines()) == 3 and "0 pending, 3 accepted" in err
    first = json.loads(out.splitlines()[0])["id"]
    assert run("feedback", "reject", str(first))[0] == 0
    code, _, err = run("feedback", "accept", "999")
    assert code == 3 and "no feedback 999" in err
    code, _, err = run("feedback", "export", "--file", str(tmp_path / "all.jsonl"))
    assert code == 0 and "exported 3 records" in err
    assert run("feedback", "delete", str(first))[0] == 0
    code, _, err = run("feedback", "import", "--file", str(tmp_path / "all.jsonl"))
    assert code == 0 and "1 added, 2 already there" in err
    code, _, err = run("eval", str(path), "--out", str(tmp_path / "r.txt"))
    assert code == 2 and "the report is .md or .html" in err
    gone = tmp_path / "gone.jsonl"  # a confirmed clause a rebuilt corpus no longer has
    gone.write_text(json.dumps({"question": "旧问题", "clause_id": "已删除#art1",
                                "verdict": "governs", "status": "accepted"},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    assert run("feedback", "import", "--file", str(gone))[0] == 0
    code, out, err = run("feedback")
    assert code == 3 and len(out.splitlines()) == 4
    assert "warning: feedback 5: confirmed clause 已删除#art1 is not in the index" in err


def test_a_tampered_database_is_one_line(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"garbage" * 1000)
    code = cli.main(["feedback", "--feedback-db", f"sqlite:///{bad}"])
    assert code == 1
