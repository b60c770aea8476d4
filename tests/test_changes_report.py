"""Change reports between index generations, their exports, ``rag changes``, ``rag diff``,
``rag index``'s closing lines, and the memo's tracked-change formatting."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path

import docx
import pytest

from rag import cli
from rag.answer import answer
from rag.changes.generations import generation_records, index_folder
from rag.changes.report import ChangeReport, changes_since
from rag.encoders import HashingEncoder
from rag.export.changes import report_csv, report_jsonl, report_markdown, write_report
from rag.export.docx import memo_docx
from rag.export.markdown import memo_markdown
from rag.export.records import CSV_COLUMNS, batch_row, csv_rows
from rag.index import StoreError, index_paths

from .conftest import CORPUS

SEC = "证券法(2019-12-28).md"
OLD_LAW, NEW_LAW = "公司法(2018-10-26).md", "公司法(2023-12-29).md"
ART191 = "并处以违法所得一倍以上十倍以下的罚款；没有违法所得或者违法所得不足五十万元"
ENCODER = HashingEncoder(dimension=64)


def build(laws: Path, index: Path) -> None:
    index_paths([laws], index=index, encoder=ENCODER)


@pytest.fixture()
def edited(tmp_path: Path) -> tuple[Path, Path, ChangeReport]:
    """证券法 and 公司法 2018 indexed; then 证券法 edited (第一条 and 第一百九十一条
    changed, 第一百九十二条 deleted), 公司法 2023 added, and the index rebuilt."""
    laws = tmp_path / "laws"
    (laws / "民法商法").mkdir(parents=True)
    source = CORPUS / "lawrefbook"
    shutil.copy(source / "db.sqlite3", laws / "db.sqlite3")
    for name in (SEC, OLD_LAW):
        shutil.copy(source / "民法商法" / name, laws / "民法商法" / name)
    index = tmp_path / "index"
    build(laws, index)
    path = laws / "民法商法" / SEC
    lines = path.read_text(encoding="utf-8").split("\n")
    for n, line in enumerate(lines):
        if line.startswith("第一条 "):
            lines[n] = line.replace("制定本法。", "制定本法=1+1。")
        elif line.startswith("第一百九十一条 "):
            lines[n] = line.replace(ART191, ART191.replace("一倍以上十倍", "二倍以上二十倍"))
    path.write_text("\n".join(x for x in lines if not x.startswith("第一百九十二条 ")),
                    encoding="utf-8")
    shutil.copy(source / "民法商法" / NEW_LAW, laws / "民法商法" / NEW_LAW)
    build(laws, index)
    return laws, index, changes_since(index)


def test_the_report_lists_each_change_with_its_diff(edited) -> None:  # type: ignore[no-untyped-def]
    _, _, report = edited
    shown = [(c.change, c.document.doc_id, c.old.doc_id if c.old else None)
             for c in report.documents]
    assert shown == [("new_version", "公司法-2023-12-29", "公司法-2018-10-26"),
                     ("changed", "证券法-2019-12-28", "证券法-2019-12-28")]
    securities = report.documents[1]
    articles = [(a.relation, a.old.label if a.old else None, a.new.label if a.new else None)
                for a in securities.articles]
    assert articles == [("changed", "第一条", "第一条"),
                        ("changed", "第一百九十一条", "第一百九十一条"),
                        ("removed", "第一百九十二条", None)]
    changed = securities.articles[1]
    assert changed.diff is not None
    assert [changed.old.text[s:e] for s, e in changed.diff.deleted()] == ["一倍以上十倍"]
    assert [changed.new.text[s:e] for s, e in changed.diff.inserted()] == ["二倍以上二十倍"]
    assert changed.new_citation == "《中华人民共和国证券法》（2019年修订）第一百九十一条"
    counts = report.counts()
    assert (counts["documents_new_version"], counts["documents_changed"]) == (1, 1)
    assert report.summary().startswith(f"{report.changed_clauses()} clauses changed since gen-")
    # the new version is aligned with the one it follows: 第二十八条 became 第四十九条
    company = report.documents[0]
    moved = [a for a in company.articles if a.new and a.new.label == "第四十九条"]
    assert moved and moved[0].old is not None and moved[0].old.label == "第二十八条"
    assert {a.relation for a in company.articles} == {"changed", "added", "removed"}


def test_report_texts_are_slices_of_each_generation(edited) -> None:  # type: ignore[no-untyped-def]
    _, index, report = edited
    before = {d.doc_id: d for d in generation_records(index, report.since).documents}
    after = {d.doc_id: d for d in generation_records(index, report.until).documents}
    checked = 0
    for change in report.documents:
        for article in change.articles:
            if article.old is not None:
                assert before[article.old.doc_id].text[article.old.start:article.old.end] \
                    == article.old.text
                checked += 1
            if article.new is not None:
                assert after[article.new.doc_id].text[article.new.start:article.new.end] \
                    == article.new.text
                checked += 1
    assert checked > 200
    removed = report.documents[1].articles[2]
    assert removed.old is not None
    assert removed.old.text.startswith("第一百九十二条 违反本法第五十五条")


def test_nothing_to_compare_on_a_first_build(tmp_path: Path) -> None:
    (tmp_path / "laws").mkdir()
    (tmp_path / "laws" / "a.txt").write_text("第一条 甲应当登记。\n", encoding="utf-8")
    build(tmp_path / "laws", tmp_path / "index")
    with pytest.raises(StoreError, match="only the live generation"):
        changes_since(tmp_path / "index")
    with pytest.raises(StoreError, match="no index here yet"):
        changes_since(tmp_path / "nothing")


def test_a_milvus_index_says_reports_need_the_folder_index() -> None:
    with pytest.raises(StoreError, match="a Milvus index keeps none"):
        index_folder("milvus://127.0.0.1:19530/laws")


def test_unchanged_rebuild_reports_nothing(edited) -> None:  # type: ignore[no-untyped-def]
    laws, index, _ = edited
    (laws / "民法商法" / "extra.txt").write_text("第一条 新增的内部规定。\n", encoding="utf-8")
    build(laws, index)
    report = changes_since(index)
    assert [(c.change, c.clauses) for c in report.documents] == [("added", 1)]
    assert report.changed_clauses() == 1 and report.summary().startswith("1 clause changed")


# ---------------------------------------------------------------- exports


def test_markdown_marks_deletions_and_insertions(edited) -> None:  # type: ignore[no-untyped-def]
    text = report_markdown(edited[2])
    assert "<del>一倍以上十倍</del><ins>二倍以上二十倍</ins>" in text
    assert "## 新版本 new version: 《中华人民共和国公司法》 2023-12-29" in text


def test_csv_cells_cannot_run_formulas(edited) -> None:  # type: ignore[no-untyped-def]
    rows = list(csv.DictReader(io.StringIO(report_csv(edited[2]).lstrip("\ufeff"))))
    first = next(r for r in rows if r["new_clause_id"] == "证券法-2019-12-28#art1")
    assert first["inserted"] == "'=1+1"  # neutralised: a spreadsheet shows it as text
    art191 = next(r for r in rows if r["new_clause_id"] == "证券法-2019-12-28#art191")
    assert (art191["deleted"], art191["inserted"], art191["relation"]) == (
        "一倍以上十倍", "二倍以上二十倍", "changed")


def test_jsonl_has_one_row_per_change_with_offsets(edited) -> None:  # type: ignore[no-untyped-def]
    rows = [json.loads(line) for line in report_jsonl(edited[2]).splitlines()]
    art191 = next(r for r in rows if r.get("new_clause_id") == "证券法-2019-12-28#art191")
    (edit,) = art191["edits"]
    assert edit["op"] == "replace" and art191["deleted"] == ["一倍以上十倍"]
    assert {r["change"] for r in rows} == {"new_version", "changed"}


def test_word_report_underlines_insertions_and_strikes_deletions(edited, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_report(edited[2], tmp_path / "report.docx")
    runs = [run for p in docx.Document(str(path)).paragraphs for run in p.runs]
    struck = [r.text for r in runs if r.font.strike]
    underlined = [r.text for r in runs if r.font.underline]
    assert "一倍以上十倍" in struck and "二倍以上二十倍" in underlined
    assert "=1+1" in underlined and "一倍以上十倍" not in underlined
    with pytest.raises(ValueError, match=r"unknown report format \.txt"):
        write_report(edited[2], tmp_path / "report.txt")


def test_the_memo_quotes_both_versions_with_tracked_changes(shipped_index, hashing_encoder,  # type: ignore[no-untyped-def]
                                                            tmp_path) -> None:
    result = answer("公司法第四十九条", index=shipped_index, encoder=hashing_encoder, k=1)
    path = memo_docx([result], tmp_path / "memo.docx")
    paragraphs = docx.Document(str(path)).paragraphs
    texts = [p.text for p in paragraphs]
    compared = result.citations[0].versions[0]
    assert compared.newer.text in texts and compared.older.text in texts  # verbatim, both
    assert "Compared with the 2018-10-26 version: 第二十八条 → 第四十九条, 有修改 changed" in texts
    # the newer text is quoted twice: as the citation (key sentence in bold), then marked
    assert texts.count(compared.newer.text) == 2
    older = paragraphs[texts.index(compared.older.text)].runs
    newer = paragraphs[len(texts) - 1 - texts[::-1].index(compared.newer.text)].runs
    assert [r.text for r in older if r.font.strike] == [
        "中", "不按照前款规定", "向已按期足额缴纳出资的股东承担违约责任"]
    assert [r.text for r in newer if r.font.underline] == [
        "\n", "未按期足额", "对给公司造成的损失承担赔偿责任"]
    assert not any(r.font.underline for r in older) and not any(r.font.strike for r in newer)
    markdown = memo_markdown([result])
    assert "<del>中</del>" in markdown and "<ins>未按期足额</ins>" in markdown


def test_batch_rows_carry_the_other_version(shipped_index, hashing_encoder) -> None:  # type: ignore[no-untyped-def]
    result = answer("公司法第四十九条", index=shipped_index, encoder=hashing_encoder, k=1)
    row = batch_row(id="1", question=result.question, line=1, result=result, error=None)
    (compared,) = row["citations"][0]["versions"]
    assert (compared["older"]["label"], compared["relation"]) == ("第二十八条", "changed")
    json.dumps(row, ensure_ascii=False)
    (cells,) = list(csv_rows(row))
    assert dict(zip(CSV_COLUMNS, cells, strict=True))["versions"] == (
        "2018-10-26 第二十八条 → 2023-12-29 第四十九条 changed")


# ---------------------------------------------------------------- the CLI


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_rag_changes_prints_the_report(edited, capsys) -> None:  # type: ignore[no-untyped-def]
    _, index, _ = edited
    code, out, err = run(capsys, "changes", "--index", str(index))
    assert code == 0, err
    assert "[-一倍以上十倍-]{+二倍以上二十倍+}" in out and "== 新版本 new version" in out
    # 第一百九十二条 (the penalty for manipulation, citing 第五十五条) was deleted
    links = out[out.index("Penalty links changed"):]
    assert "- 《中华人民共和国证券法》（2019年修订）第五十五条 ← 《中华人民共和国证券法》" \
        "（2019年修订）第一百九十二条 (explicit)" in links
    assert "公司法" not in links  # a new version's links come with it, not one by one
    code, out, _ = run(capsys, "changes", "--index", str(index), "--list")
    assert code == 0 and out.count(" live") == 1 and "generations kept (up to 13" in out


def test_rag_changes_since_a_date_or_a_name(edited, capsys) -> None:  # type: ignore[no-untyped-def]
    _, index, report = edited
    for since in (report.since, dt.date.today().isoformat()):
        code, out, _ = run(capsys, "changes", "--index", str(index), "--since", since)
        assert code == 0 and "{+二倍以上二十倍+}" in out, since
    code, _, err = run(capsys, "changes", "--index", str(index), "--since", "1999-01-01")
    assert code == 1 and "no kept generation was published on or before 1999-01-01" in err
    code, _, err = run(capsys, "changes", "--index", str(index), "--since", "gen-nope")
    assert code == 1 and "is not one of the kept generations; kept: gen-" in err
    code, _, err = run(capsys, "changes", "--index", str(index), "--since", "last tuesday")
    assert code == 1 and "give a date (YYYY-MM-DD) or a generation name" in err


def test_rag_changes_out_files(edited, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, index, _ = edited
    for name in ("r.md", "r.docx", "r.csv", "r.jsonl"):
        code, _, err = run(capsys, "changes", "--index", str(index), "--out",
                           str(tmp_path / name))
        assert code == 0 and f"→ {tmp_path / name}" in err and (tmp_path / name).stat().st_size
    code, _, err = run(capsys, "changes", "--index", str(index), "--out", str(tmp_path / "r.txt"))
    assert code == 2 and "unknown format .txt" in err


def test_rag_index_ends_by_saying_what_changed(edited, capsys) -> None:  # type: ignore[no-untyped-def]
    laws, index, _ = edited
    path = laws / "民法商法" / SEC
    path.write_text(path.read_text(encoding="utf-8").replace("二倍以上二十倍", "三倍以上三十倍"),
                    encoding="utf-8")
    code, _, err = run(capsys, "index", str(laws), "--index", str(index), "--model",
                       "hashing:64", "--quiet")
    assert code == 0, err
    assert "1 clause changed since gen-" in err
    assert f"see them with `rag changes --index {index}`" in err
    assert "3 generations kept (up to 13: $RAG_KEEP_GENERATIONS)" in err and "MB on disk" in err


def test_retention_drops_the_oldest_generation(edited, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    laws, index, report = edited
    monkeypatch.setenv("RAG_KEEP_GENERATIONS", "2")
    (laws / "民法商法" / "extra.txt").write_text("第一条 新增的内部规定。\n", encoding="utf-8")
    build(laws, index)
    code, _, err = run(capsys, "changes", "--index", str(index), "--since", report.since)
    assert code == 1 and "is not one of the kept generations" in err


def test_rag_diff_shows_both_versions(shipped_index_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run(capsys, "diff", "公司法第四十九条", "--index", str(shipped_index_dir))
    assert code == 0, err
    assert out.startswith("2018-10-26 第二十八条 → 2023-12-29 第四十九条 · changed")
    assert "2018-10-26 version (已被修订): 《中华人民共和国公司法》（2018年修正）第二十八条" in out
    assert "缴纳公司章程[-中-]规定" in out and "股东{+未按期足额+}缴纳出资" in out
    code, same, _ = run(capsys, "diff", "公司法第二十八条", "--numbering", "from", "--index",
                        str(shipped_index_dir))
    assert code == 0 and same == out  # the 2018 number names the same pair
    code, out, _ = run(capsys, "diff", "公司法第四十九条", "--json", "--index",
                       str(shipped_index_dir))
    data = json.loads(out)
    assert (data["older"]["label"], data["newer"]["label"], data["relation"]) == (
        "第二十八条", "第四十九条", "changed")
    assert data["older"]["text"][20:21] == "中"


def test_rag_diff_as_of_dates_and_errors(shipped_index_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    where = ("--index", str(shipped_index_dir))
    code, out, _ = run(capsys, "diff", "反洗钱法第三条", "--to", "2020-01-01", "--numbering",
                       "to", *where)
    assert code == 0 and out.startswith("2006-10-31 第三条 → 2024-11-08 第六条 · changed")
    code, _, err = run(capsys, "diff", "证券法第一条", *where)
    assert code == 1 and "has one version in the index (2019-12-28): nothing to compare" in err
    code, _, err = run(capsys, "diff", "没有条文", *where)
    assert code == 2 and "names no article" in err
    code, _, err = run(capsys, "diff", "公司法第九百条", *where)
    assert code == 1 and "has no 第九百条; its articles run from 第一条 to 第二百六十六条" in err
    code, _, err = run(capsys, "diff", "公司法第一条", "--from", "1990-01-01", *where)
    assert code == 1 and "was in force on 1990-01-01" in err
    code, _, err = run(capsys, "diff", "公司法第一条", "--from", "2019-01-01", "--to",
                       "2020-01-01", *where)
    assert code == 1 and "was in force on both dates" in err


def test_rag_ask_names_the_other_version(shipped_index_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, "ask", "公司法第四十九条", "--top", "1", "--index",
                       str(shipped_index_dir), "--model", "hashing:256")
    assert code == 0
    assert ("    Compared with the 2018-10-26 version: 第二十八条 → 第四十九条, 有修改 changed"
            in out)


def test_hostile_arguments_are_refused_cleanly(edited, shipped_index_dir, capsys) -> None:  # type: ignore[no-untyped-def]
    _, index, _ = edited
    code, _, err = run(capsys, "changes", "--index", str(index), "--since", "gen-../../etc")
    assert code == 1 and "is not one of the kept generations" in err
    with pytest.raises(StoreError, match="not a generation name"):
        generation_records(index, "../../etc")
    code, out, err = run(capsys, "diff", "公司法第四十九条\x1b[2J", "--index",
                         str(shipped_index_dir))
    assert code == 0 and "\x1b[2J" not in out  # the article is found; nothing is obeyed
    code, _, err = run(capsys, "diff", "第" * 5000, "--index", str(shipped_index_dir))
    assert code == 2 and "names no article" in err and len(err) < 400
