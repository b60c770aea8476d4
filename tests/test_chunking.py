"""Clause chunking: exact ids, labels, paths and spans on real and synthetic documents."""

from __future__ import annotations

import bisect
import itertools
import json
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from rag.chunking import chunk_document, chunk_documents, clause_to_dict
from rag.core.clauses import Clause
from rag.core.documents import Document, Heading
from rag.core.numbering import cn_to_int, int_to_cn
from rag.readers import DocumentError, read_document

ROOT = Path(__file__).resolve().parents[1]
# the seeds and these statutes ship in corpus/; the whole national corpus is in ../shared
SEEDS = ROOT / "corpus" / "seeds"
SHIPPED_LAWS = ROOT / "corpus" / "lawrefbook"
LAWREF = ROOT.parent / "shared" / "corpora" / "lawrefbook"
SEED_POLICY = SEEDS / "001_fac9b76a4238144e.txt"
SECURITIES_LAW = SHIPPED_LAWS / "民法商法" / "证券法(2019-12-28).md"
CRIMINAL_LAW = SHIPPED_LAWS / "刑法" / "刑法.md"
ENGLISH_SAMPLE = ROOT / "tests" / "data" / "readers" / "english_sample.md"

needs_national_corpus = pytest.mark.skipif(
    not LAWREF.is_dir(), reason="the national corpus is in ../shared, beside the checkout")


# --------------------------------------------------------------------------- helpers


def make_doc(
    lines: Sequence[str | tuple[int, str]],
    *,
    doc_id: str = "t",
    kind: str = "other",
    title: str = "",
    subtitle: str | None = None,
    history: tuple[str, ...] = (),
) -> Document:
    """A Document of one paragraph per entry; ``(level, text)`` entries are headings."""
    parts: list[str] = []
    headings: list[Heading] = []
    offset = 0
    for entry in lines:
        level, text = entry if isinstance(entry, tuple) else (None, entry)
        if level is not None:
            headings.append(Heading(level, offset, offset + len(text), text))
        parts.append(text)
        offset += len(text) + 1
    return Document(
        doc_id=doc_id,
        title=title,
        text="\n".join(parts),
        kind=kind,
        source_path=f"{doc_id}.txt",
        subtitle=subtitle,
        history=history,
        headings=tuple(headings),
    )


def doc_from_file_lines(path: Path, *, doc_id: str = "seed") -> Document:
    """One paragraph per stripped non-empty line of a plain-text file."""
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return make_doc([line for line in lines if line], doc_id=doc_id, kind="policy")


def read(path: Path) -> Document:
    return read_document(path)


def by_local(clauses: list[Clause]) -> dict[str, Clause]:
    return {c.local_id: c for c in clauses}


def span_texts(doc: Document, clause: Clause) -> dict[str, tuple[str, str]]:
    return {s.key: (s.label, doc.text[s.start : s.end]) for s in clause.spans}


def units(clauses: list[Clause], kind: str = "article") -> list[str]:
    """Unit ids (part suffix dropped) of one kind, in order, without repeats."""
    seen: list[str] = []
    for clause in clauses:
        if clause.kind == kind and (not seen or seen[-1] != clause.unit_id):
            seen.append(clause.unit_id)
    return seen


def assert_invariants(doc: Document, clauses: list[Clause], **options: int) -> None:
    """The chunking contract, checked on every fixture and every real file.

    ``options`` are the ``chunk_document`` options that produced ``clauses``.
    """
    text = doc.text
    ids = [c.id for c in clauses]
    assert len(ids) == len(set(ids)), "duplicate clause ids"
    previous_end = -1
    for clause in clauses:
        assert clause.id == f"{doc.doc_id}#{clause.local_id}"
        assert clause.doc_id == doc.doc_id
        assert text[clause.start : clause.end] == clause.text
        assert clause.text.strip(), f"{clause.id}: empty clause"
        assert clause.text == clause.text.strip(), f"{clause.id}: edge whitespace"
        assert clause.start >= previous_end, f"{clause.id}: overlaps or out of order"
        previous_end = clause.end
        keys = [s.key for s in clause.spans]
        assert len(keys) == len(set(keys)), f"{clause.id}: duplicate span keys"
        for span in clause.spans:
            assert clause.start <= span.start < span.end <= clause.end, (clause.id, span)
            assert text[span.start : span.end].strip(), (clause.id, span)
        if clause.part is not None:
            assert clause.id.endswith(f".part{clause.part}")
    assert_lines_covered(doc, clauses)
    assert chunk_document(doc, **options) == clauses  # deterministic


def assert_lines_covered(doc: Document, clauses: list[Clause]) -> None:
    """Every non-heading line is inside clauses (parts may share a long line, with only
    whitespace between them); section lines used as path components are headings too."""
    text = doc.text
    heading_starts = sorted(h.start for h in doc.headings)
    path_texts = {part for c in clauses for part in c.path}
    bounds = [(c.start, c.end) for c in clauses]
    starts = [start for start, _ in bounds]
    offset = 0
    for raw in text.split("\n"):
        line_start, line_end = offset, offset + len(raw)
        offset = line_end + 1
        stripped = raw.strip()
        if not stripped:
            continue
        h = bisect.bisect_left(heading_starts, line_start)
        if h < len(heading_starts) and heading_starts[h] <= line_end:
            continue
        if " ".join(stripped.split()) in path_texts:
            continue
        pos = line_start + raw.index(stripped[0])
        end = pos + len(stripped)
        i = max(0, bisect.bisect_right(starts, pos) - 1)
        while pos < end:
            while i < len(bounds) and bounds[i][1] <= pos:
                i += 1
            if i < len(bounds) and bounds[i][0] <= pos:
                pos = bounds[i][1]
                continue
            gap_end = min(bounds[i][0] if i < len(bounds) else end, end)
            assert not text[pos:gap_end].strip(), f"lost text: {text[pos:gap_end][:40]!r}"
            pos = gap_end


# --------------------------------------------------------------------------- seed 001: policy


def test_policy_seed_sections_and_numbered_clauses() -> None:
    doc = doc_from_file_lines(SEED_POLICY)
    clauses = chunk_document(doc)
    assert_invariants(doc, clauses)
    numbered = [c for c in clauses if c.kind == "numbered"]
    assert [c.label for c in numbered] == [f"（{int_to_cn(n)}）" for n in range(1, 31)]
    assert all(c.part is None for c in numbered)
    sections = list(dict.fromkeys(c.path for c in numbered))
    assert [path[0][:2] for path in sections] == [f"{int_to_cn(n)}、" for n in range(1, 9)]
    assert sections[0] == ("一、总体要求",)
    assert sections[-1] == ("八、加强组织保障和监督问责",)
    assert all(len(path) == 1 for path in sections)
    clause = by_local(clauses)
    assert clause["sec1.c1"].label == "（一）"
    assert clause["sec2.c7"].label == "（七）"  # （七） sits in section 二 of the real file
    assert clause["sec3.c9"].path == ("三、建立健全依法从严打击证券违法活动的执法司法体制机制",)
    assert clause["sec8.c30"].label == "（三十）"
    # Section heading lines are path, never clause text.
    assert not any("一、总体要求" in c.text for c in clauses)


def test_policy_seed_lead_phrases() -> None:
    doc = doc_from_file_lines(SEED_POLICY)
    heading = {c.label: c.heading for c in chunk_document(doc) if c.kind == "numbered"}
    assert heading["（一）"] == "指导思想"
    assert heading["（二）"] == "工作原则"
    assert heading["（七）"] == "健全民事赔偿制度"
    line = next(x for x in SEED_POLICY.read_text(encoding="utf-8").splitlines() if "（二十）" in x)
    assert heading["（二十）"] == line.strip().removeprefix("（二十）").split("。")[0]
    assert heading["（二十）"] == "加强中概股监管"
    assert heading["（三十）"] == "加强监督问责"


def test_policy_seed_bullets_and_intro() -> None:
    doc = doc_from_file_lines(SEED_POLICY)
    clauses = chunk_document(doc)
    clause = by_local(clauses)
    principles = clause["sec1.c2"]
    assert principles.text.startswith("（二）工作原则\n——坚持零容忍要求。")
    spans = span_texts(doc, principles)
    assert list(spans) == ["b1", "b2", "b3", "b4"]
    assert [label for label, _ in spans.values()] == ["第1项", "第2项", "第3项", "第4项"]
    assert spans["b2"][1].startswith("——坚持法治原则。遵循公开、公平、公正原则")
    assert spans["b4"][1].endswith("严防风险叠加共振、放大升级。")
    intro = [c for c in clauses if c.kind == "paragraph"]
    assert [c.local_id for c in intro] == ["p1", "p2", "p3"]
    assert intro[1].text == "《关于依法从严打击证券违法活动的意见》主要内容如下。"
    assert all(c.path == () for c in intro)


def test_policy_seed_same_ids_from_reader() -> None:
    """The reader records 一、 lines as headings; the clauses must not change."""
    ours = chunk_document(doc_from_file_lines(SEED_POLICY))
    theirs = chunk_document(read(SEED_POLICY))
    key = [(c.local_id, c.label, c.path, c.heading) for c in ours if c.kind == "numbered"]
    assert key == [(c.local_id, c.label, c.path, c.heading) for c in theirs if c.kind == "numbered"]


def test_sections_without_numbered_clauses() -> None:
    doc = make_doc(
        [
            "总的来看，今年的工作安排如下。",
            "一、总体要求",
            "坚持稳中求进工作总基调，统筹发展和安全。",
            "加强监管协同，形成工作合力。",
            "二、重点任务",
            "完善基础制度，提升监管效能和透明度。",
        ]
    )
    clauses = chunk_document(doc)
    assert_invariants(doc, clauses)
    assert [(c.local_id, c.kind, c.path) for c in clauses] == [
        ("p1", "paragraph", ()),
        ("sec1.p1", "paragraph", ("一、总体要求",)),
        ("sec1.p2", "paragraph", ("一、总体要求",)),
        ("sec2.p1", "paragraph", ("二、重点任务",)),
    ]


def test_sentence_like_numbered_items_are_clauses() -> None:
    """Amendment-style 一、 items are clauses; quoted paragraphs stay inside them."""
    doc = make_doc(
        [
            "一、将刑法第十七条修改为：“已满十六周岁的人犯罪，应当负刑事责任。",
            "“已满十四周岁不满十六周岁的人，应当负刑事责任。”",
            "二、在刑法第一百三十四条后增加一条，作为第一百三十四条之一：“有下列情形之一的：",
            "“（一）关闭、破坏直接关系生产安全的设备的；",
            "“（二）拒不执行的。”",
            "三、本修正案自2021年3月1日起施行。",
        ]
    )
    clauses = chunk_document(doc)
    assert_invariants(doc, clauses)
    assert [(c.local_id, c.label, c.kind) for c in clauses] == [
        ("sec1", "一、", "numbered"),
        ("sec2", "二、", "numbered"),
        ("sec3", "三、", "numbered"),
    ]
    assert clauses[0].heading == "将刑法第十七条修改为"
    assert clauses[1].text.endswith("“（二）拒不执行的。”")


def test_outline_numbered_sub_items_and_quotes() -> None:
    doc = make_doc(
        [
            (1, "一、执行机构及其职责"),
            "1.执行机构负责执行下列生效法律文书：",
            "（1）人民法院民事、行政判决、裁定、调解书；",
            "（2）依法应由人民法院执行的行政处罚决定。",
            "2.将第一条修改为：",
            "“人民法院受理下列专利纠纷案件：",
            "1.专利申请权权属纠纷案件；",
            "3.专利合同纠纷案件；",
            "4.其他专利纠纷案件。”",
            "3.执行人员执行公务时，应向有关人员出示工作证件。",
        ]
    )
    clauses = chunk_document(doc)
    assert_invariants(doc, clauses)
    assert [(c.local_id, c.label) for c in clauses] == [
        ("sec1.c1", "1."),
        ("sec1.c2", "2."),
        ("sec1.c3", "3."),
    ]
    spans = span_texts(doc, clauses[0])
    assert spans == {
        "i1": ("第（1）项", "（1）人民法院民事、行政判决、裁定、调解书；"),
        "i2": ("第（2）项", "（2）依法应由人民法院执行的行政处罚决定。"),
    }
    assert clauses[1].text.endswith("4.其他专利纠纷案件。”")


# --------------------------------------------------------------------------- statutes


def test_securities_law_articles_in_order() -> None:
    doc = read(SECURITIES_LAW)
    clauses = chunk_document(doc)
    assert_invariants(doc, clauses)
    articles = [c for c in clauses if c.kind == "article"]
    assert units(clauses) == [f"{doc.doc_id}#art{n}" for n in range(1, 227)]
    labels = list(dict.fromkeys((c.unit_id, c.label) for c in articles))
    assert [label for _, label in labels] == [f"第{int_to_cn(n)}条" for n in range(1, 227)]
    clause = by_local(clauses)
    assert clause["preamble"].kind == "preamble"
    assert clause["preamble"].label == "题注"
    assert clause["preamble"].text.startswith("中华人民共和国证券法\n1998年12月29日")
    assert clauses[0].local_id == "preamble"
    assert clause["art1"].path == ("第一章 总则",)
    assert clause["art1"].text.startswith("第一条 为了规范证券发行和交易行为")
    assert clause["art51"].path == ("第三章 证券交易", "第三节 禁止的交易行为")
    assert clause["art191"].path == ("第十三章 法律责任",)
    assert clause["art226"].path == ("第十四章 附则",)
    assert clause["art226"].text == "第二百二十六条 本法自2020年3月1日起施行。"
    # The cross-reference "依照本法第五十三条" inside 第一百九十一条 starts nothing.
    assert "违反本法第五十三条的规定" in clause["art191"].text


def test_securities_law_items_and_paragraphs() -> None:
    doc = read(SECURITIES_LAW)
    clause = by_local(chunk_document(doc))
    spans = span_texts(doc, clause["art51"])
    assert list(spans) == [f"i{n}" for n in range(1, 10)]
    assert [label for label, _ in spans.values()] == [
        f"第（{int_to_cn(n)}）项" for n in range(1, 10)
    ]
    assert spans["i3"] == (
        "第（三）项",
        "（三）发行人控股或者实际控制的公司及其董事、监事、高级管理人员；",
    )
    assert spans["i9"][1] == "（九）国务院证券监督管理机构规定的可以获取内幕信息的其他人员。"
    assert clause["art51"].text.endswith(spans["i9"][1])

    spans = span_texts(doc, clause["art9"])
    assert list(spans) == ["p1", "p2", "p2.i1", "p2.i2", "p2.i3", "p3"]
    assert spans["p1"][0] == "第一款"
    assert spans["p1"][1].startswith("公开发行证券，必须符合法律")  # label 第九条 excluded
    assert spans["p2"][1].startswith("有下列情形之一的，为公开发行：\n（一）")
    assert spans["p2.i1"] == ("第二款第（一）项", "（一）向不特定对象发行证券；")
    assert spans["p3"] == ("第三款", "非公开发行证券，不得采用广告、公开劝诱和变相公开方式。")
    assert clause["art1"].spans == ()  # a single-paragraph article has no spans


def test_criminal_law_sub_articles_and_paths() -> None:
    doc = read(CRIMINAL_LAW)
    clauses = chunk_document(doc)
    assert_invariants(doc, clauses)
    source = CRIMINAL_LAW.read_text(encoding="utf-8")
    sub_article = re.compile(
        r"^第([一二三四五六七八九十百千零]+)条之([一二三四五六七八九十]+) ", re.M
    )
    expected = {
        f"{doc.doc_id}#art{cn_to_int(m.group(1))}-{cn_to_int(m.group(2))}"
        for m in sub_article.finditer(source)
    }
    assert len(expected) > 20
    assert expected <= set(units(clauses))
    clause = by_local(clauses)
    assert clause["art120-1"].label == "第一百二十条之一"
    assert clause["art120-2"].label == "第一百二十条之二"
    assert clause["art17-1"].path == ("第一编 总则", "第二章 犯罪", "第一节 犯罪和刑事责任")
    financial = ("第二编 分则", "第三章 破坏社会主义市场经济秩序罪", "第四节 破坏金融管理秩序罪")
    assert clause["art182"].path == financial
    assert clause["art180"].path == financial
    # A new 章 drops the old 节.
    assert clause["art232"].path == ("第二编 分则", "第四章 侵犯公民人身权利、民主权利罪")
    special = [c for c in clauses if c.kind == "article" and c.path[:1] == ("第二编 分则",)]
    assert special and all(len(c.path) in (2, 3) for c in special)
    chapter3 = [c for c in special if c.path[1] == "第三章 破坏社会主义市场经济秩序罪"]
    assert chapter3 and all(len(c.path) == 3 for c in chapter3)
    # Text after the last article under 附件 headings: tail paragraphs, not article text.
    assert clause["art452"].path == ("附则",)
    assert clause["art452"].text.endswith("分别依据各法律所规定的施行日期确定。")
    assert clause["tail1"].path == ("附件一",)
    assert clause["tail1"].text.startswith("全国人民代表大会常务委员会制定的下列条例")
    tails = [c for c in clauses if c.local_id.startswith("tail")]
    assert tails and all(c.kind == "paragraph" and c.path[0].startswith("附件") for c in tails)


def test_statute_synthetic_structure() -> None:
    doc = make_doc(
        [
            "中华人民共和国示例法",
            "2020年1月1日 第十三届全国人民代表大会常务委员会第一次会议通过",
            (1, "第一章 总则"),
            "第一条 为了规范示例行为，制定本法。",
            "第二条　有下列情形之一的，依照本法第五十三条处理：",
            "（一）甲；",
            "（二）乙。",
            "前款规定的情形，由国务院规定。",
            "第五条的规定不适用于本章。",
            (1, "第二章 附则"),
            (2, "第一节 一般规定"),
            "第三条本法自公布之日起施行。",
            "第三条之一 本条是后来增加的。",
            (2, "第二节 其他"),
            "第三条 附件中重新编号的条文。",
            (1, "附件"),
            "一、示例附件的正文内容第一段。",
            "附表",
        ],
        title="中华人民共和国示例法",
        history=("2020年1月1日 第十三届全国人民代表大会常务委员会第一次会议通过",),
    )
    clauses = chunk_document(doc)
    assert_invariants(doc, clauses)
    assert [(c.local_id, c.kind, c.label) for c in clauses] == [
        ("preamble", "preamble", "题注"),
        ("art1", "article", "第一条"),
        ("art2", "article", "第二条"),
        ("art3", "article", "第三条"),
        ("art3-1", "article", "第三条之一"),
        ("art3-dup2", "article", "第三条"),
        ("tail1", "paragraph", ""),
    ]
    clause = by_local(clauses)
    assert clause["preamble"].text == "中华人民共和国示例法\n" + doc.history[0]
    assert clause["art2"].text.endswith("第五条的规定不适用于本章。")
    spans = span_texts(doc, clause["art2"])
    # Items belong to the first 款 and do not count as 款: the next paragraph is 第二款.
    assert spans == {
        "p1": ("第一款", "有下列情形之一的，依照本法第五十三条处理：\n（一）甲；\n（二）乙。"),
        "p1.i1": ("第一款第（一）项", "（一）甲；"),
        "p1.i2": ("第一款第（二）项", "（二）乙。"),
        "p2": ("第二款", "前款规定的情形，由国务院规定。"),
        "p3": ("第三款", "第五条的规定不适用于本章。"),
    }
    assert clause["art3"].path == ("第二章 附则", "第一节 一般规定")
    assert clause["art3-dup2"].path == ("第二章 附则", "第二节 其他")
    assert clause["tail1"].path == ("附件",)
    assert clause["tail1"].text == "一、示例附件的正文内容第一段。\n附表"  # short line joined


def test_statute_single_paragraph_with_items_and_plain_headings() -> None:
    """Without recorded headings, plain 第X章 lines still become the path."""
    doc = make_doc(
        [
            "第一章 总则",
            "第一条 本办法所称知情人包括：",
            "（一）发行人的董事；",
            "1.独立董事；",
            "2.职工董事；",
            "（二）监事。",
            "第二章 附则",
            "第二条 本办法自发布之日起施行。",
        ]
    )
    clauses = chunk_document(doc)
    assert_invariants(doc, clauses)
    first, second = clauses
    assert (first.local_id, first.path) == ("art1", ("第一章 总则",))
    assert (second.local_id, second.path) == ("art2", ("第二章 附则",))
    assert span_texts(doc, first) == {
        "i1": ("第（一）项", "（一）发行人的董事；\n1.独立董事；\n2.职工董事；"),
        "i2": ("第（二）项", "（二）监事。"),
    }


# --------------------------------------------------------------------------- news


def test_news_seed_paragraphs_starting_with_markers() -> None:
    doc = read(SEEDS / "003_09ea28eacbf07f88.txt")
    clauses = chunk_document(doc)
    assert_invariants(doc, clauses)
    assert [(c.local_id, c.kind, c.label) for c in clauses] == [
        ("p1", "paragraph", ""),
        ("p2.1", "item", "一是"),
        ("p3.1", "item", "二是"),
        ("p4.1", "item", "三是"),
        ("p5.1", "item", "四是"),
        ("p6", "paragraph", ""),
    ]
    assert clauses[1].text.startswith("一是以构建执法合作机制为出发点")
    assert clauses[-1].text.endswith("（郭渭鹏）")  # part of its paragraph, not a fragment


def test_news_seed_inline_markers_and_first_next_last() -> None:
    doc = read(SEEDS / "000_f3c2838118472376.txt")
    clauses = chunk_document(doc)
    assert_invariants(doc, clauses)
    clause = by_local(clauses)
    # 一是 opens inside paragraph 3 after "主要包括："; 二是…四是 open the next paragraphs.
    assert clause["p3"].text.endswith("主要包括：")
    assert clause["p3.1"].label == "一是"
    assert clause["p3.1"].text.startswith("一是为上海市承担的重大国家战略保驾护航。")
    assert [clause[f"p{n}.1"].label for n in (4, 5, 6)] == ["二是", "三是", "四是"]
    assert clause["p7"].text.endswith("切实抓好《上海方案》贯彻落实。")
    assert [(clause[f"p7.{k}"].label, clause[f"p7.{k}"].kind) for k in range(1, 5)] == [
        ("首先", "item"),
        ("其次", "item"),
        ("再次", "item"),
        ("最后", "item"),
    ]
    assert clause["p7.1"].text == (
        "首先，加强学习，提高认识。积极组织辖区有关部门、各市场主体学习《上海方案》出台的重要意义；"
    )


def test_news_seed_byline_joins_next_paragraph() -> None:
    doc = read(SEEDS / "002_c05529d807c41e48.txt")
    clauses = chunk_document(doc)
    assert_invariants(doc, clauses)
    assert doc.text.startswith("◎记者 刘礼文\n")
    first = clauses[0]
    assert first.text.startswith("◎记者 刘礼文\n为进一步建立健全上海证券期货领域执法司法体制机制")
    assert first.local_id == "p2"  # the id of the longer member
    assert [c.label for c in clauses if c.kind == "item"] == ["一是", "二是", "三是", "四是"]


def test_all_seeds_hold_invariants() -> None:
    for path in sorted(SEEDS.glob("*.txt")):
        doc = read(path)
        assert_invariants(doc, chunk_document(doc))


def test_enumeration_synthetic() -> None:
    doc = make_doc(
        [
            "会议强调，各方要统一是非标准。一是加强组织领导；二是完善制度建设；三是强化监督问责。",
            "我们要坚持统一是非观，不搞一是一二是二的简单做法，这是长期经验。",
            "一是孤立的一句话，后面没有二是。",
        ]
    )
    clauses = chunk_document(doc)
    assert_invariants(doc, clauses)
    assert [(c.local_id, c.kind, c.label, c.text) for c in clauses] == [
        ("p1", "paragraph", "", "会议强调，各方要统一是非标准。"),
        ("p1.1", "item", "一是", "一是加强组织领导；"),
        ("p1.2", "item", "二是", "二是完善制度建设；"),
        ("p1.3", "item", "三是", "三是强化监督问责。"),
        ("p2", "paragraph", "", doc.text.split("\n")[1]),
        ("p3", "paragraph", "", doc.text.split("\n")[2]),
    ]


def test_enumeration_short_intro_joins_first_item() -> None:
    doc = make_doc(["重点是：一是稳增长，扩大有效需求；二是防风险，守住底线。"])
    clauses = chunk_document(doc)
    assert [(c.local_id, c.label, c.text) for c in clauses] == [
        ("p1.1", "一是", "重点是：一是稳增长，扩大有效需求；"),
        ("p1.2", "二是", "二是防风险，守住底线。"),
    ]


def test_short_fragments_join_neighbours() -> None:
    doc = make_doc(
        [
            "◎记者 刘礼文",
            "上海市人民检察院与上海证监局于近日签署了协作意见，确立了十二个方面的协作机制。",
            "记者了解到，本次协作意见的签署是双方贯彻相关意见的最新举措。",
            "责任编辑：王蒙",
        ]
    )
    clauses = chunk_document(doc)
    assert_invariants(doc, clauses)
    lines = doc.text.split("\n")
    assert [(c.local_id, c.text) for c in clauses] == [
        ("p2", f"{lines[0]}\n{lines[1]}"),
        ("p3", f"{lines[2]}\n{lines[3]}"),
    ]


def test_prose_paths_and_heading_blocks() -> None:
    doc = make_doc([(1, "范围"), "本标准规定了人体损伤程度鉴定的原则。", (1, "术语"), "短行。"])
    clauses = chunk_document(doc)
    assert_invariants(doc, clauses)
    assert [(c.local_id, c.path) for c in clauses] == [("p1", ("范围",)), ("p2", ("术语",))]


# --------------------------------------------------------------------------- English


def test_english_sample_articles() -> None:
    if not ENGLISH_SAMPLE.exists():
        pytest.skip("readers fixture english_sample.md not present")
    doc = read(ENGLISH_SAMPLE)
    clauses = chunk_document(doc)
    assert_invariants(doc, clauses)
    articles = [c for c in clauses if c.kind == "article"]
    assert [(c.local_id, c.label) for c in articles] == [
        (f"art{n}", f"Article {n}") for n in range(1, 6)
    ]
    clause = by_local(clauses)
    assert clause["art1"].path == ("Chapter I General Provisions",)
    assert clause["art4"].path == ("Chapter II Disclosure Obligations",)
    spans = span_texts(doc, clause["art5"])
    assert list(spans) == ["a", "b", "c"]
    assert spans["a"] == ("(a)", "(a) buy or sell securities of the listed company;")
    assert [label for label, _ in span_texts(doc, clause["art2"]).values()] == [
        "(a)",
        "(b)",
        "(c)",
    ]
    assert clause["art4"].text.endswith("during the deferral.")


def test_english_synthetic_paragraphs_items_and_plain_headings() -> None:
    doc = make_doc(
        [
            "Sample Act",
            "PART 1 PRELIMINARY",
            "Chapter I Scope",
            "Article 1",
            "Definitions",
            "1. In this Act:",
            "(a) 'issuer' means a company;",
            "(b) 'security' means a share, including:",
            "(i) a depositary receipt; or",
            "(ii) a unit.",
            "2. Words in the singular include the plural.",
            "ARTICLE 2. Application",
            "This Act applies to all issuers. See Article 1 for definitions.",
            "Chapter II Duties",
            "Article 3 - Disclosure",
            "An issuer shall disclose material information promptly.",
        ]
    )
    clauses = chunk_document(doc)
    assert_invariants(doc, clauses)
    assert [(c.local_id, c.kind, c.label, c.heading) for c in clauses] == [
        ("preamble", "preamble", "Preamble", None),
        ("art1", "article", "Article 1", "Definitions"),
        ("art2", "article", "ARTICLE 2", "Application"),
        ("art3", "article", "Article 3", "Disclosure"),
    ]
    clause = by_local(clauses)
    assert clause["art1"].path == ("PART 1 PRELIMINARY", "Chapter I Scope")
    assert clause["art3"].path == ("PART 1 PRELIMINARY", "Chapter II Duties")
    spans = span_texts(doc, clause["art1"])
    assert list(spans) == ["p1", "p1.a", "p1.b", "p2"]
    assert spans["p1"][0] == "paragraph 1"
    assert spans["p1"][1].startswith("1. In this Act:") and spans["p1"][1].endswith("(ii) a unit.")
    assert spans["p1.b"] == (
        "(b)",
        "(b) 'security' means a share, including:\n(i) a depositary receipt; or\n(ii) a unit.",
    )
    assert spans["p2"] == ("paragraph 2", "2. Words in the singular include the plural.")


def test_english_sections_play_the_article_role() -> None:
    doc = make_doc(
        [
            "Section 1. Short title",
            "This Act may be cited as the Sample Act.",
            "§ 2 Definitions",
            "(a) Issuer.—The term issuer means a company.",
            "(b) Security.—The term security means a share.",
        ]
    )
    clauses = chunk_document(doc)
    assert_invariants(doc, clauses)
    assert [(c.local_id, c.label) for c in clauses] == [("sec1", "Section 1"), ("sec2", "§ 2")]
    assert [s.key for s in clauses[1].spans] == ["a", "b"]


# --------------------------------------------------------------------------- long clauses


def test_over_long_article_splits_into_parts() -> None:
    sentence = "证券公司应当建立健全内部控制制度，采取有效隔离措施，防范利益冲突。"
    body = sentence * 60  # about 2,000 characters in one paragraph
    doc = make_doc(["第一条 " + body, "第二条 本法自公布之日起施行。"])
    original = doc.text.split("\n")[0]
    assert len(original) > 1900
    clauses = chunk_document(doc, max_chars=300)
    assert_invariants(doc, clauses, max_chars=300)
    parts = [c for c in clauses if c.unit_id == "t#art1"]
    assert len(parts) >= 7
    assert [c.local_id for c in parts] == [f"art1.part{k}" for k in range(1, len(parts) + 1)]
    assert [c.part for c in parts] == list(range(1, len(parts) + 1))
    assert all(len(c.text) <= 300 for c in parts)
    assert all(c.text.endswith("。") for c in parts)  # cut at sentence ends
    assert {(c.label, c.kind, c.path, c.heading) for c in parts} == {
        ("第一条", "article", (), None)
    }
    rebuilt = parts[0].text
    for previous, part in itertools.pairwise(parts):
        separator = doc.text[previous.end : part.start]
        assert not separator.strip()
        rebuilt += separator + part.text
    assert rebuilt == original
    assert clauses[-1].local_id == "art2" and clauses[-1].part is None


def test_over_long_split_prefers_line_breaks_and_keeps_whole_spans() -> None:
    paragraph = "经营者应当依法履行信息披露义务，" * 10 + "不得隐瞒。"
    lines = ["第一条 " + paragraph] + [paragraph] * 4
    doc = make_doc(lines)
    clauses = chunk_document(doc, max_chars=400)
    assert_invariants(doc, clauses, max_chars=400)
    assert all(len(c.text) <= 400 for c in clauses)
    assert all(c.text.endswith("不得隐瞒。") for c in clauses)  # every cut at a line break
    kept = [s.key for c in clauses for s in c.spans]
    assert sorted(kept) == ["p1", "p2", "p3", "p4", "p5"]  # each 款 lies inside one part


def test_over_long_sentence_without_stops_is_cut_at_commas_then_hard() -> None:
    doc = make_doc(["长" * 250 + "，" + "句" * 250 + "，" + "尾" * 50])
    clauses = chunk_document(doc, max_chars=300)
    assert_invariants(doc, clauses, max_chars=300)
    assert [len(c.text) for c in clauses] == [251, 251, 50]
    doc = make_doc(["字" * 1000])
    clauses = chunk_document(doc, max_chars=300)
    assert_invariants(doc, clauses, max_chars=300)
    assert [len(c.text) for c in clauses] == [300, 300, 300, 100]


# --------------------------------------------------------------------------- edge cases


def test_edge_cases() -> None:
    assert chunk_document(make_doc([])) == []
    assert chunk_document(make_doc([""])) == []
    assert chunk_document(make_doc(["  ", "\u3000\u3000", "\t"])) == []
    assert chunk_document(make_doc([(1, "第一章 总则"), (2, "第一节 一般规定")])) == []
    one = make_doc(["附件"])
    clauses = chunk_document(one)
    assert [(c.local_id, c.text) for c in clauses] == [("p1", "附件")]
    assert_invariants(one, clauses)
    padded = make_doc(
        ["　　 第一条　本法所称证券，是指股票。  ", "", "　第二条 本法自公布之日起施行。"]
    )
    clauses = chunk_document(padded)
    assert_invariants(padded, clauses)
    assert [c.text for c in clauses] == [
        "第一条　本法所称证券，是指股票。",
        "第二条 本法自公布之日起施行。",
    ]
    with pytest.raises(ValueError):
        chunk_document(one, max_chars=0)


def test_cross_references_never_start_articles() -> None:
    doc = make_doc(
        [
            "第十条 依照本法第五十三条的规定处理。",
            "第五十三条、第五十四条的规定，适用于前款情形。",
            "第五十三条第二款另有规定的除外。",
            "第十一条 本法自公布之日起施行。",
        ]
    )
    clauses = chunk_document(doc)
    assert [c.local_id for c in clauses] == ["art10", "art11"]
    assert len(clauses[0].spans) == 3


def test_chunk_documents_and_clause_to_dict() -> None:
    first = make_doc(["第一条 为了规范证券发行。", "第二条 本法自公布之日起施行。"], doc_id="a")
    second = make_doc(["一则新闻的正文段落，内容足够长。"], doc_id="b", kind="news")
    clauses = chunk_documents([first, second])
    assert [c.id for c in clauses] == ["a#art1", "a#art2", "b#p1"]
    record = clause_to_dict(clauses[0], first)
    assert json.loads(json.dumps(record, ensure_ascii=False)) == record
    assert record["id"] == "a#art1"
    assert record["text"] == "第一条 为了规范证券发行。"
    assert record["path"] == [] and record["spans"] == []
    assert record["document"] == first.metadata()
    assert set(record) == {
        "id", "doc_id", "label", "path", "heading", "kind", "part", "start", "end", "text",
        "spans", "document",
    }  # fmt: skip


# --------------------------------------------------------------------------- whole corpus


@needs_national_corpus
def test_whole_lawrefbook_corpus_holds_invariants() -> None:
    """Every LawRefBook file: invariants hold and every 第X条 line starts one article."""
    numeral = r"[零〇一二三四五六七八九十百千两\d]+"
    article_line = re.compile(rf"^第{numeral}条(?:之{numeral})?[ \u3000]", re.M)
    documents = clauses_total = article_total = 0
    for path in sorted(LAWREF.rglob("*.md")):
        try:
            doc = read_document(path, root=LAWREF)
        except DocumentError:
            continue
        clauses = chunk_document(doc)
        assert_invariants(doc, clauses)
        starts = {c.start for c in clauses if c.kind == "article" and c.part in (None, 1)}
        expected = {m.start() for m in article_line.finditer(doc.text)}
        assert starts == expected, path
        documents += 1
        clauses_total += len(clauses)
        article_total += len(expected)
    assert documents > 1400
    assert article_total > 64000
    assert article_total < clauses_total < article_total + 10000
