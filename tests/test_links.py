"""Links between clauses: cited-by, penalty links, consequence answers, the register of duties.

Unit tier: the shipped corpus indexed with the hashing encoder (links do not depend on
the encoder; look-ups of named articles do not either). Integration tier: the two
questions of the issue with the real model, where search has to find the duty.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook

import rag.answer.compose as compose
from rag.answer import answer
from rag.answer.compose import NAMED_TEXT, with_named_text
from rag.answer.records import AnswerRecord
from rag.answer.wording import NO_PENALTY
from rag.chunking import chunk_document
from rag.cli import main
from rag.core.filters import Filters
from rag.encoders import Encoder, HashingEncoder
from rag.export.common import duty_line
from rag.export.docx import memo_docx_bytes
from rag.export.markdown import memo_markdown
from rag.export.register import Row, register_bytes, register_rows, write_register
from rag.export.text import format_answer
from rag.links import Link, LinkTable, duties, links_for, modality
from rag.links.score import FEATURES
from rag.readers import read_document
from rag.search import Hit, Index, Query, prepare, retrieve
from rag.search.liability import asks_consequence
from ui.render import answer_html, citation_card_html

from .conftest import CORPUS, DATA

SEC = "证券法-2019-12-28"
CO = "公司法-2023-12-29"
LAW = CORPUS / "lawrefbook" / "民法商法" / "证券法(2019-12-28).md"


def visible_text(fragment: str) -> str:
    """What a browser shows of an HTML fragment."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def links_to(index: Index, clause_id: str) -> dict[str, Link]:
    return {link.target: link for link in links_for(index).penalties(clause_id)}


def evidence_is_verbatim(index: Index, link: Link) -> bool:
    return all(index.documents[e.doc_id].text[e.start:e.end] == e.text for e in link.evidence)


def test_an_article_a_penalty_cites_is_linked_explicitly_with_the_reference_as_evidence(
        shipped_index: Index) -> None:
    found = links_to(shipped_index, f"{SEC}#art40")
    assert list(found) == [f"{SEC}#art187"]
    link = found[f"{SEC}#art187"]
    assert (link.kind, link.confidence) == ("explicit", 1.0)
    assert [e.text for e in link.evidence] == ["本法第四十条"]
    assert evidence_is_verbatim(shipped_index, link)


def test_a_penalty_that_names_the_conduct_is_linked_implicitly(shipped_index: Index) -> None:
    # 第二百一十四条 "证券公司…未按照规定保存有关文件和资料的" names no article:
    # 第一百三十七条 obliges 证券公司 to keep its clients' records
    found = links_to(shipped_index, f"{SEC}#art137")
    link = found[f"{SEC}#art214"]
    assert link.kind == "implicit" and 0.3 <= link.confidence <= 1.0
    words = {e.text for e in link.evidence}
    assert {"隐匿", "伪造", "篡改"} <= words
    assert evidence_is_verbatim(shipped_index, link)
    # and the record keeping of the registrar (第一百五十三条) by the same penalty
    assert links_to(shipped_index, f"{SEC}#art153")[f"{SEC}#art214"].kind == "implicit"


def test_fraudulent_issuance_reaches_the_crime_through_its_administrative_penalty(
        shipped_index: Index) -> None:
    # 第十九条: 发行人报送的证券发行申请文件…必须真实、准确、完整 → 第一百八十一条
    # (隐瞒重要事实或者编造重大虚假内容) → 刑法第一百六十条 欺诈发行证券罪
    found = links_to(shipped_index, f"{SEC}#art19")
    assert found[f"{SEC}#art181"].kind == "implicit"
    crime = found["刑法#art160"]
    assert crime.kind == "criminal" and crime.via == f"{SEC}#art181"
    assert {"隐瞒", "编造", "虚假"} <= {e.text for e in crime.evidence}
    assert evidence_is_verbatim(shipped_index, crime)
    # insider dealing and manipulation, each to its own crime
    assert links_to(shipped_index, f"{SEC}#art53")["刑法#art180"].kind == "criminal"
    assert links_to(shipped_index, f"{SEC}#art55")["刑法#art182"].kind == "criminal"


def test_who_pays_is_not_part_of_the_conduct_a_civil_provision_names(
        shipped_index: Index) -> None:
    # 公司法第二百二十六条 "违反本法规定减少注册资本的，股东应当退还其收到的资金": the
    # conduct is the unlawful reduction (by the company); 股东 is who pays back, so the
    # company's duty in 第二百二十四条 (公司减少注册资本，应当…) is reached: the rule links
    # it, and the fitted model sees no clash of actors (whether it links is its threshold's)
    rules = LinkTable(shipped_index.documents.values(), shipped_index.clauses, scorer="rules")
    link = {k.target: k for k in rules.penalties(f"{CO}#art224")}[f"{CO}#art226"]
    assert link.kind == "civil" and link.conduct is not None
    assert shipped_index.documents[CO].text[slice(*link.conduct)] == "违反本法规定减少注册资本的"
    assert evidence_is_verbatim(shipped_index, link)
    learned = LinkTable(shipped_index.documents.values(), shipped_index.clauses)
    pair = next(c for c in learned.candidates_of(CO)
                if (c.source, c.target) == (f"{CO}#art224", f"{CO}#art226"))
    best = pair.best(learned.model)
    assert best.conduct.text == "违反本法规定减少注册资本的"
    assert best.features[FEATURES.index("actor_clash")] == 0.0


def test_penalties_come_administrative_then_criminal_then_civil(shipped_index: Index) -> None:
    kinds = [link.kind for link in links_for(shipped_index).penalties(f"{SEC}#art78")]
    assert kinds and kinds == sorted(kinds, key=["explicit", "implicit", "criminal",
                                                 "civil"].index)
    assert {"implicit", "criminal", "civil"} <= set(kinds)


def test_a_duty_without_penalty_and_a_penalty_have_no_links(shipped_index: Index) -> None:
    table = links_for(shipped_index)
    assert table.penalties(f"{SEC}#art38") == []  # 应当采用公开的集中交易方式
    assert table.is_penalty(f"{SEC}#art187") and not table.is_penalty(f"{SEC}#art40")
    assert table.penalties(f"{SEC}#art187") == []
    assert [link.source for link in table.enforces(f"{SEC}#art187")] == [f"{SEC}#art40"]


def test_references_are_recorded_in_reverse(shipped_index: Index) -> None:
    table = links_for(shipped_index)
    assert f"{SEC}#art191" in table.referenced_by(f"{SEC}#art53")
    assert f"{SEC}#art191" in table.referenced_by(f"{SEC}#art54")
    for row, clause in enumerate(shipped_index.clauses[:400]):
        for cited in shipped_index.references.rows(clause):
            assert clause.unit_id in table.referenced_by(shipped_index.clauses[cited].id), row


def test_links_are_computed_from_the_generation_and_follow_its_text() -> None:
    doc = read_document(LAW)
    before = LinkTable([doc], chunk_document(doc))
    assert [k.target for k in before.penalties(f"{SEC}#art40")] == [f"{SEC}#art187"]
    # a later generation where 第一百八十七条 cites 第四十二条 instead
    changed = replace(doc, text=doc.text.replace("违反本法第四十条的规定",
                                                 "违反本法第四十二条的规定"))
    after = LinkTable([changed], chunk_document(changed))
    assert after.penalties(f"{SEC}#art40") == []
    assert f"{SEC}#art187" in [k.target for k in after.penalties(f"{SEC}#art42")]
    again = LinkTable([doc], chunk_document(doc))  # deterministic
    assert again.all_links() == before.all_links()


@pytest.mark.parametrize(("sentence", "expected"), [
    ("证券公司应当妥善保存客户开户资料。", ("obligation", "应当")),
    ("非依法发行的证券，不得买卖。", ("prohibition", "不得")),
    ("禁止任何人以下列手段操纵证券市场：", ("prohibition", "禁止")),
    ("投资者可以向投资者保护机构申请调解。", ("permission", "可以")),
    ("The issuer shall not disclose it.", ("prohibition", "shall not")),
    ("Members may vote.", ("permission", "may")),
    ("内幕交易行为给投资者造成损失的，应当依法承担赔偿责任。", None),  # liability, not duty
    ("Market manipulation is prohibited.", ("prohibition", "is prohibited")),
    ("No person shall trade on inside information.", ("prohibition", "No person shall")),
    ("A securities company must keep records.", ("obligation", "must")),
    # sanctions, not duties
    ("An issuer that fails to disclose shall be fined up to 100,000 yuan.", None),
    ("The director is liable to compensate the company.", None),
    ("Where a crime is constituted, criminal liability shall be pursued.", None),
    ("前款所称重大事件包括：", None),
])
def test_modality(sentence: str, expected: tuple[str, str] | None) -> None:
    assert modality(sentence) == expected


def test_duty_sentences_are_verbatim_slices_with_their_actor() -> None:
    doc = read_document(LAW)
    clauses = chunk_document(doc)
    found = [d for c in clauses for d in duties(c)]
    assert len(found) > 250
    assert all(doc.text[d.start:d.end] == d.text for d in found)
    keep = [d for d in found if d.label == "第一百三十七条"]
    assert keep[0].actors == ("证券公司",) and keep[0].modality == "obligation"


@pytest.mark.parametrize(("question", "expected"), [
    ("违反《证券法》第四十条的规定会受到什么处罚？", True),
    ("内幕交易要承担什么责任", True),
    ("操纵市场罚款多少", True),
    ("What is the penalty for insider dealing?", True),
    ("《证券法》第四十条 罚则", True),
    ("上市公司应当披露哪些信息？", False),
    ("什么是内幕信息", False),
])
def test_consequence_questions(question: str, expected: bool) -> None:
    assert asks_consequence(question) is expected


def test_a_consequence_question_quotes_the_penalty_after_the_duty(
        shipped_index: Index, hashing_encoder: HashingEncoder) -> None:
    found = answer("违反《证券法》第四十条的规定会受到什么处罚？", index=shipped_index,
                   encoder=hashing_encoder)
    first, second = found.citations[:2]
    assert (first.clause_id, first.via) == (f"{SEC}#art40", "lookup")
    assert [(p.clause_id, p.kind) for p in first.penalties] == [(f"{SEC}#art187", "explicit")]
    assert (second.clause_id, second.via, second.enforces) == (f"{SEC}#art187", "penalty",
                                                               first.clause_id)
    doc = shipped_index.documents[SEC]
    assert second.text == doc.text[second.start:second.end]
    assert second.text.startswith("第一百八十七条 法律、行政法规规定禁止参与股票交易的人员")
    text = format_answer(found)
    assert "penalty: 由第一百八十七条处罚" in text and f"enforces: {SEC}#art40" in text
    record = AnswerRecord.of(found).model_dump(mode="json")
    assert record["citations"][1]["via"] == "penalty"
    assert record["citations"][0]["penalties"][0]["evidence"][0]["text"] == "本法第四十条"
    json.dumps(record, ensure_ascii=False)


def test_criminal_penalties_follow_the_administrative_ones(
        shipped_index: Index, hashing_encoder: HashingEncoder) -> None:
    found = answer("违反《证券法》第五十三条的规定会受到什么处罚？", index=shipped_index,
                   encoder=hashing_encoder)
    ids = [c.clause_id for c in found.citations]
    assert ids[:3] == [f"{SEC}#art53", f"{SEC}#art191", "刑法#art180"]
    assert "刑法第一百八十条" in format_answer(found)


def test_a_penalty_found_first_is_quoted_after_the_duty_it_enforces(
        shipped_index: Index, hashing_encoder: HashingEncoder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A search that finds the crime and the administrative penalty before any duty (as
    the fine-tuned model does for 利用内幕消息炒股会被罚多少钱): the duty they enforce that
    ranks best among the hits leads, then the administrative penalty, then the crime."""
    def hit(clause_id: str, score: float) -> Hit:
        return Hit(shipped_index.clauses[shipped_index.row_of[clause_id]], score,
                   {"dense": score}, {"dense": 1})

    searched = [hit("刑法#art180", 0.9), hit(f"{SEC}#art191", 0.8), hit(f"{SEC}#art2", 0.7),
                hit(f"{SEC}#art54", 0.6), hit(f"{SEC}#art53", 0.5)]
    monkeypatch.setattr("rag.answer.compose.retrieve", lambda *a, **kw: list(searched))
    found = answer("利用内幕消息炒股会被罚多少钱？", index=shipped_index,
                   encoder=hashing_encoder, k=3)
    assert [(c.clause_id, c.via, c.enforces) for c in found.citations] == [
        (f"{SEC}#art54", "search", None), (f"{SEC}#art191", "penalty", f"{SEC}#art54"),
        ("刑法#art180", "penalty", f"{SEC}#art54")]
    # not a consequence question: the search's order stands
    found = answer("利用内幕消息炒股", index=shipped_index, encoder=hashing_encoder, k=3)
    assert [c.clause_id for c in found.citations] == ["刑法#art180", f"{SEC}#art191", f"{SEC}#art2"]
    # no duty of theirs among the hits: nothing is brought in, nothing guessed
    searched[3:] = []
    found = answer("利用内幕消息炒股会被罚多少钱？", index=shipped_index,
                   encoder=hashing_encoder, k=3)
    assert [c.clause_id for c in found.citations] == ["刑法#art180", f"{SEC}#art191", f"{SEC}#art2"]


def test_among_a_duty_s_penalties_the_one_the_search_ranked_comes_first(
        shipped_index: Index, hashing_encoder: HashingEncoder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """反洗钱法第三十五条 (report suspicious transactions) is enforced by several
    administrative penalties; asked about the fine, the one the search ranked first (第五十三条)
    is quoted right after the duty, before those the links list first."""
    aml = "反洗钱法-2024-11-08"

    def hit(clause_id: str, score: float) -> Hit:
        return Hit(shipped_index.clauses[shipped_index.row_of[clause_id]], score,
                   {"dense": score}, {"dense": 1})

    searched = [hit(f"{aml}#art53", 0.9), hit(f"{aml}#art35", 0.8), hit(f"{SEC}#art2", 0.7)]
    monkeypatch.setattr("rag.answer.compose.retrieve", lambda *a, **kw: list(searched))
    found = answer("金融机构未按规定报告可疑交易会被罚多少钱？", index=shipped_index,
                   encoder=hashing_encoder, k=3)
    duty = found.citations[0]
    administrative = [p.clause_id for p in duty.penalties if p.kind in ("explicit", "implicit")]
    assert duty.clause_id == f"{aml}#art35" and f"{aml}#art53" in administrative[1:]
    assert [(c.clause_id, c.via, c.enforces) for c in found.citations[1:3]] == [
        (f"{aml}#art53", "search", f"{aml}#art35"),
        (administrative[0], "penalty", f"{aml}#art35")]


def test_a_consequence_question_naming_a_clause_is_searched_with_its_words(
        shipped_index: Index, hashing_encoder: HashingEncoder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """"违反《公司法》第三十条…" names the duty, not its conduct (虚报注册资本): the search
    takes the named clause's words too, and finds the penalty that names that conduct."""
    question = "违反《公司法》第三十条的规定会受到什么处罚？"
    searched: list[str] = []
    real = compose.retrieve

    def spy(query: Query, **kwargs: object) -> list[Hit]:
        searched.append(query.text)
        return real(query, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(compose, "retrieve", spy)
    found = answer(question, index=shipped_index, encoder=hashing_encoder, k=5)
    duty = shipped_index.clauses[shipped_index.row_of[f"{CO}#art30"]]
    assert searched[-1] == f"{question} {duty.text[:NAMED_TEXT]}"  # the 2023 article's
    assert found.citations[0].clause_id == f"{CO}#art30"
    # 虚报注册资本…的 (第二百五十条): beyond the top 100 searched as asked, within the top 50
    # with the duty's words (the hashing encoder; the real model puts it in the top 5)
    asked = prepare(question, index=shipped_index)

    def rank_of(query: Query) -> int | None:
        units = [h.clause.unit_id for h in retrieve(query, index=shipped_index,
                                                    encoder=hashing_encoder, k=100)]
        return units.index(f"{CO}#art250") + 1 if f"{CO}#art250" in units else None

    assert rank_of(asked) is None
    widened = with_named_text(asked, [duty], index=shipped_index, encoder=hashing_encoder)
    assert (rank_of(widened) or 101) <= 50
    # the same clause looked up without asking for consequences: searched as asked
    answer("《公司法》第三十条", index=shipped_index, encoder=hashing_encoder, k=5)
    assert searched[-1] == "《公司法》第三十条"


def test_penalty_citations_keep_to_the_filters(shipped_index: Index,
                                               hashing_encoder: HashingEncoder) -> None:
    found = answer("违反《证券法》第五十三条的规定会受到什么处罚？", index=shipped_index,
                   encoder=hashing_encoder, filters=Filters(doc_ids=(SEC,)))
    assert {c.doc_id for c in found.citations} == {SEC}
    assert [c.clause_id for c in found.citations[:2]] == [f"{SEC}#art53", f"{SEC}#art191"]
    # the cited duty still says what enforces it elsewhere
    assert "刑法#art180" in [p.clause_id for p in found.citations[0].penalties]


def test_an_article_without_penalty_says_so_and_nothing_is_guessed(
        shipped_index: Index, hashing_encoder: HashingEncoder) -> None:
    found = answer("违反《证券法》第三十八条的规定会受到什么处罚？", index=shipped_index,
                   encoder=hashing_encoder)
    first = found.citations[0]
    assert (first.clause_id, first.penalty_note) == (f"{SEC}#art38", NO_PENALTY)
    assert not any(c.via == "penalty" for c in found.citations)
    assert "No penalty provision links to this clause in the indexed documents" in \
        format_answer(found)
    # the chat card says it too, in words a reader sees; a duty with a penalty names it
    card = visible_text(citation_card_html(first))
    assert NO_PENALTY in card
    enforced = answer("违反《证券法》第四十条的规定会受到什么处罚？", index=shipped_index,
                      encoder=hashing_encoder).citations[0]
    assert enforced.penalty_note is None
    assert "由第一百八十七条处罚" in visible_text(citation_card_html(enforced))
    assert NO_PENALTY not in visible_text(citation_card_html(enforced))
    # not a consequence question: no note, no penalty citations
    plain = answer("《证券法》第三十八条", index=shipped_index, encoder=hashing_encoder)
    assert plain.citations[0].penalty_note is None


def test_a_quoted_penalty_names_the_duty_it_enforces_on_the_card_and_in_memos(
        shipped_index: Index, hashing_encoder: HashingEncoder) -> None:
    found = answer("违反《证券法》第五十三条的规定会受到什么处罚？", index=shipped_index,
                   encoder=hashing_encoder)
    duty, admin, crime = found.citations[:3]
    assert [c.clause_id for c in (duty, admin, crime)] == [
        f"{SEC}#art53", f"{SEC}#art191", "刑法#art180"]
    # the same law: the article alone; another law: its short name too
    assert duty_line(admin, found.citations) == "对应义务 第五十三条"
    assert duty_line(crime, found.citations) == "对应义务 证券法第五十三条"
    assert duty_line(duty, found.citations) is None  # cited for itself
    assert duty_line(admin, [admin, crime]) is None  # the duty not quoted: nothing named
    page = visible_text(answer_html(found))
    assert page.count("对应义务 第五十三条") == 1 and "对应义务 证券法第五十三条" in page
    memo = memo_markdown([found])
    assert "Duty: 对应义务 第五十三条" in memo and "Duty: 对应义务 证券法第五十三条" in memo
    word = Document(io.BytesIO(memo_docx_bytes([found])))
    assert "Duty: 对应义务 证券法第五十三条" in "\n".join(p.text for p in word.paragraphs)


def test_cited_clauses_carry_who_cites_them(shipped_index: Index,
                                            hashing_encoder: HashingEncoder) -> None:
    found = answer("《证券法》第五十三条", index=shipped_index, encoder=hashing_encoder)
    first = found.citations[0]
    assert f"{SEC}#art191" in [r.clause_id for r in first.referenced_by]
    assert all(r.kind == "cites" for r in first.referenced_by)


def test_the_register_rows_are_verbatim_and_filtered(shipped_index: Index) -> None:
    rows = register_rows(shipped_index, doc_ids=[SEC])
    assert len(rows) > 250
    text = shipped_index.documents[SEC].text
    assert all(text[r.start:r.end] == r.duty for r in rows)
    keep = next(r for r in rows if r.article == "第一百三十七条" and "妥善保存" in r.duty)
    assert f"{SEC}#art214" in [p.clause_id for p in keep.penalties]
    bans = register_rows(shipped_index, doc_ids=[SEC], kinds=["prohibition"])
    assert bans and {r.modality for r in bans} == {"prohibition"}
    every = register_rows(shipped_index)
    assert {r.doc_id for r in every} >= {SEC, "公司法-2023-12-29"} and "刑法" not in {
        r.doc_id for r in every}
    with pytest.raises(ValueError, match="unknown document id nope"):
        register_rows(shipped_index, doc_ids=["nope"])
    with pytest.raises(ValueError, match="unknown kind duty"):
        register_rows(shipped_index, kinds=["duty"])


def test_the_register_as_xlsx_reads_back_and_csv_cells_cannot_run(
        shipped_index: Index, tmp_path: Path) -> None:
    rows = register_rows(shipped_index, doc_ids=[SEC])
    out = tmp_path / "register.xlsx"
    assert write_register(rows, out) == len(rows)
    sheet = load_workbook(out).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:7] == ("document", "doc_id", "article", "clause_id", "modality",
                             "actors", "duty")
    assert len(values) == len(rows) + 1
    assert [(v[6], v[7], v[8]) for v in values[1:]] == [(r.duty, r.start, r.end) for r in rows]
    # a cell that looks like a formula stays text, in xlsx and in csv
    evil = replace(rows[0], duty="=HYPERLINK(\"http://x\")", actors=("@SUM(1)",))
    sheet = load_workbook(io.BytesIO(register_bytes([evil], ".xlsx"))).active
    assert sheet is not None and sheet["G2"].value == evil.duty and sheet["G2"].data_type == "s"
    cells = list(csv.reader(io.StringIO(register_bytes([evil], ".csv").decode("utf-8-sig"))))
    assert cells[1][6] == "'" + evil.duty and cells[1][5] == "'@SUM(1)"
    lines = register_bytes(rows[:3], ".jsonl").decode().splitlines()
    assert [json.loads(line)["duty"] for line in lines] == [r.duty for r in rows[:3]]
    assert register_bytes(rows[:3], ".docx").startswith(b"PK")
    with pytest.raises(ValueError, match="unknown format"):
        write_register(rows, tmp_path / "register.pdf")


def test_rag_obligations(shipped_index_dir: Path, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "duties.csv"
    assert main(["obligations", "--index", str(shipped_index_dir), "--doc", SEC,
                 "--kind", "prohibition", "--out", str(out)]) == 0
    assert "duty sentences" in capsys.readouterr().err
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert rows and {r["modality"] for r in rows} == {"prohibition"}
    assert main(["obligations", "--index", str(shipped_index_dir), "--doc", "nope",
                 "--out", str(out)]) == 1
    assert "unknown document id nope" in capsys.readouterr().err
    assert main(["obligations", "--index", str(shipped_index_dir),
                 "--out", str(tmp_path / "x.pdf")]) == 2
    assert "unknown format .pdf" in capsys.readouterr().err


def test_a_row_is_plain_data() -> None:
    row = Row(document="d", doc_id="x", article="第一条", clause_id="x#art1",
              modality="obligation", actors=(), duty="应当。", start=0, end=3, penalties=())
    assert register_bytes([row], ".csv").decode("utf-8-sig").splitlines()[1].startswith("d,x,")


@pytest.mark.integration
@pytest.mark.parametrize(("question", "penalty"), [
    ("违反《证券法》第四十条的规定会受到什么处罚？", f"{SEC}#art187"),
    ("证券公司没有妥善保存客户的开户资料和交易记录，会受到什么处罚？", f"{SEC}#art214"),
])
def test_the_issues_questions_with_the_real_model(real_index: Index, real_encoder: Encoder,
                                                  question: str, penalty: str) -> None:
    found = answer(question, index=real_index, encoder=real_encoder)
    top = [c.clause_id for c in found.citations[:5]]
    assert penalty in top, top
    quoted = found.citations[top.index(penalty)]
    assert quoted.via == "penalty" and quoted.enforces in top
    doc = real_index.documents[SEC]
    assert quoted.text == doc.text[quoted.start:quoted.end]


@pytest.mark.integration
def test_the_duty_comes_first_then_its_administrative_then_its_criminal_penalty(
        real_index: Index, real_encoder: Encoder) -> None:
    """The search ranks 刑法第一百八十条 first for this question; a consequence answer
    quotes the duty, then its administrative penalty, then the crime, as the issue asks."""
    found = answer("利用内幕消息炒股会被罚多少钱？", index=real_index, encoder=real_encoder, k=3)
    top = [c.clause_id for c in found.citations]
    # the insider-trading duty the search ranked best: 第五十条 (禁止…利用内幕信息从事证券交易),
    # 第五十三条 (知情人…不得买卖) or 第五十四条 (未公开信息)
    assert top[0] in {f"{SEC}#art50", f"{SEC}#art53", f"{SEC}#art54"}, top
    assert top[1:] == [f"{SEC}#art191", "刑法#art180"], top
    assert [c.rank for c in found.citations] == [1, 2, 3]
    duty = found.citations[0]
    assert [p.clause_id for p in duty.penalties][:2] == [f"{SEC}#art191", "刑法#art180"]
    assert [c.enforces for c in found.citations] == [None, top[0], top[0]]


# --------------------------------------------------------------------------- English

EN = "sample_securities_act"
EN_ACT = DATA / "links" / "sample_securities_act.md"


def english_table() -> tuple[LinkTable, str]:
    doc = read_document(EN_ACT)
    return LinkTable([doc], chunk_document(doc)), doc.text


def test_english_penalties_cite_the_duty_article_and_are_linked_explicitly() -> None:
    table, text = english_table()
    found = {f"Article {n}": [(k.target.removeprefix(EN + "#"), k.kind, k.confidence,
                               [e.text for e in k.evidence])
                              for k in table.penalties(f"{EN}#art{n}")]
             for n in (1, 2, 3, 4, 5, 6, 7, 8)}
    assert found == {
        "Article 1": [],  # no duty
        "Article 2": [("art20", "explicit", 1.0, ["Article 2 of this Law"])],  # shall
        "Article 3": [("art21", "explicit", 1.0, ["Article 3"])],  # shall not
        "Article 4": [("art23", "explicit", 1.0, ["Article 4"])],  # must
        "Article 5": [("art22", "explicit", 1.0, ["Article 5 of this Law"])],  # is prohibited
        "Article 6": [("art24", "civil", 1.0, ["Article 6 of this Law"])],  # may not; damages
        "Article 7": [],  # may: a permission
        "Article 8": [],  # a duty nothing enforces
    }
    for n in (2, 3, 4, 5, 6):
        for link in table.penalties(f"{EN}#art{n}"):
            assert all(text[e.start:e.end] == e.text for e in link.evidence)
            assert link.conduct is not None
    # what each penalty punishes is the words before its sanction, verbatim
    link = table.penalties(f"{EN}#art3")[0]
    assert link.conduct is not None
    assert text[slice(*link.conduct)] == \
        "Any insider who, in violation of Article 3, buys or sells securities"
    # "Article 2 of the Companies Act" is another law's article: not this Act's Article 2
    assert [k.source for k in table.enforces(f"{EN}#art25")] == []
    assert table.referenced_by(f"{EN}#art2") == [f"{EN}#art20"]
    # penalty articles are not duties, and carry no penalty links of their own
    for n in range(20, 26):
        assert table.is_penalty(f"{EN}#art{n}") and table.duties_of(f"{EN}#art{n}") == []


@pytest.fixture(scope="module")
def english_index_dir(tmp_path_factory: pytest.TempPathFactory,
                      hashing_encoder: HashingEncoder) -> Path:
    from rag.index import index_paths

    folder = tmp_path_factory.mktemp("english-links") / "index"
    index_paths([EN_ACT.parent], index=folder, encoder=hashing_encoder)
    return folder


def test_an_english_consequence_question_quotes_the_penalty_or_says_there_is_none(
        english_index_dir: Path, hashing_encoder: HashingEncoder) -> None:
    from rag.search import open_index

    index = open_index(english_index_dir, encoder=hashing_encoder)
    found = answer("What is the penalty for violating Article 2 of the Sample Securities Act?",
                   index=index, encoder=hashing_encoder)
    assert [(c.clause_id, c.via, c.enforces) for c in found.citations[:2]] == [
        (f"{EN}#art2", "lookup", None), (f"{EN}#art20", "penalty", f"{EN}#art2")]
    assert "penalty: penalised by Article 20\n" in format_answer(found)
    civil = answer("What is the penalty for violating Article 6 of the Sample Securities Act?",
                   index=index, encoder=hashing_encoder)
    assert "penalty: civil liability: Article 24\n" in format_answer(civil)
    none = answer("What is the penalty for violating Article 8 of the Sample Securities Act?",
                  index=index, encoder=hashing_encoder)
    first = none.citations[0]
    assert (first.clause_id, first.penalty_note) == (f"{EN}#art8", NO_PENALTY)
    assert not any(c.via == "penalty" for c in none.citations)
    assert NO_PENALTY in format_answer(none)
    assert NO_PENALTY in visible_text(citation_card_html(first))


def test_rag_obligations_lists_the_english_duties_with_their_penalties(
        english_index_dir: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "duties.csv"
    assert main(["obligations", "--index", str(english_index_dir), "--out", str(out)]) == 0
    assert "7 duty sentences (5 with a linked penalty)" in capsys.readouterr().err
    rows = list(csv.DictReader(io.StringIO(out.read_text("utf-8-sig"))))
    assert [(r["article"], r["modality"], r["actors"], r["duty"], r["penalty_ids"])
            for r in rows] == [
        ("Article 2", "obligation", "issuer", "An issuer shall disclose material information "
         "within two business days after it becomes aware of it.", f"{EN}#art20"),
        ("Article 3", "prohibition", "insider", "An insider shall not buy or sell securities of "
         "the issuer before material information is disclosed.", f"{EN}#art21"),
        ("Article 4", "obligation", "securities company", "A securities company must keep the "
         "account records of its clients for twenty years.", f"{EN}#art23"),
        ("Article 5", "prohibition", "", "Market manipulation is prohibited.", f"{EN}#art22"),
        ("Article 6", "prohibition", "director", "A director may not serve on the board of a "
         "competing company.", f"{EN}#art24"),
        ("Article 7", "permission", "investor",
         "An investor may apply to the Commission for mediation.", ""),
        ("Article 8", "obligation", "commission",
         "The Commission shall publish its decisions on its website.", ""),
    ]
    text = EN_ACT.read_text(encoding="utf-8")
    document = read_document(EN_ACT).text
    assert all(document[int(r["start"]):int(r["end"])] == r["duty"] for r in rows)
    assert all(r["duty"] in text for r in rows)
    assert "(civil, 1.00)" in rows[4]["penalties"] and "(explicit, 1.00)" in rows[0]["penalties"]
