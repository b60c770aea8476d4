"""Split a :class:`~rag.documents.Document` into clauses, the units answers quote and cite.

The strategy is chosen from the text's own structure (not from ``Document.kind``):

* **Statutes** — lines starting ``第X条`` (``第一百八十条之一``): one ``article`` clause per
  条 (``art191``, ``art180-1``), path = enclosing 编/章/节 headings, 款 and 项 as spans
  (``p2``/``第二款``, ``p2.i1``/``第二款第（一）项``, or ``i3``/``第（三）项`` when the article
  has a single 款). Title/subtitle/history lines form one ``preamble`` clause (``题注``);
  other non-article text becomes ``paragraph`` clauses (``p{n}``, or ``tail{n}`` after the
  last article).
* **English** — lines ``Article 12`` (or ``Section 3`` / ``§ 3`` when there are no
  Articles): one ``article`` clause each (``art12``/``sec3``), path = Part/Chapter headings,
  spans for numbered paragraphs (``p1``/``paragraph 1``) and lettered items (``a`` or
  ``p1.a``/``(a)``).
* **Outlines** (policy documents) — ``一、`` section lines are path, not clause text; one
  ``numbered`` clause per ``（七）`` line with its following lines (``sec2.c7``, label
  ``（七）``, ``heading`` = lead phrase); ``——`` bullets are spans ``b1``… labelled
  ``第1项``…; sub-items ``1.``/``（1）`` are spans ``i1``… labelled ``第1项``/``第（1）项``.
  Paragraphs outside numbered clauses are ``sec{s}.p{k}`` inside a section, else ``p{n}``.
  ``一、`` lines that are sentences rather than titles (amendment items, Q&A) are
  ``numbered`` clauses themselves (``sec1``, label ``一、``).
* **Prose** (news) — one ``paragraph`` clause per line (``p{n}``, n counts the non-heading
  lines); ``一是…二是…`` and ``首先，…其次，…最后，`` enumerations become ``item`` clauses
  ``p{n}.{k}`` labelled ``一是``/``首先``.

Afterwards, whole lines shorter than ``min_chars`` (bylines) join the neighbouring
paragraph/item clause of the same heading block, and clauses longer than ``max_chars`` are
split into ``.part{k}`` clauses at sentence boundaries. Spans that cross a part boundary are
dropped (a span always quotes a complete 款/项); spans inside one part stay on it.

Every clause satisfies ``doc.text[c.start:c.end] == c.text``; clause texts never start or
end with whitespace; ids are unique within a document and stable across runs.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from rag.clauses import Clause, Span
from rag.documents import Document, Heading
from rag.numerals import cn_to_int, int_to_cn

__all__ = ["chunk_document", "chunk_documents", "clause_to_dict"]

_CN_NUM = "零〇一二三四五六七八九十百千两"

# 第X条 / 第X条之一 at the start of a line. Cross-references that happen to open a line
# ("第五条、第六条…", "第五条的规定", "第五条第二款", "第五条之规定") are not articles.
_ARTICLE = re.compile(
    rf"第(?P<num>[{_CN_NUM}]+|\d+)条(?:之(?P<sub>[{_CN_NUM}]+|\d+))?"
    r"(?![、，,。；;：:至到和及或与第的中所之规])"
)
# A plain-text statute heading (used only when the reader recorded no headings):
# "第一章 总则", "第二编 分则", "第一节 …" — short, no sentence punctuation.
_CN_HEADING = re.compile(
    rf"^第[{_CN_NUM}\d]+(?P<unit>分编|编|章|节|部分)(?:[\s　]*[^\s。，；：,;:]{{0,30}})?$"
)
_CN_HEADING_LEVELS = {"编": 1, "部分": 1, "分编": 2, "章": 3, "节": 4}
# A line opening an appendix after the articles: "附件：…", "附件1", "附表", "附：".
_APPENDIX = re.compile(r"^附(?:件|表|录)?[一二三四五六七八九十\d]*(?:[:：\s]|$)")
# Statute item 项: "（一）…" (full-width or ASCII brackets).
_ITEM = re.compile(rf"^[（(](?P<num>[{_CN_NUM}]+)[）)]")
# Sub-items 目 under an item: "1." / "1．" / "1、" / "（1）".
_SUBITEM = re.compile(r"^(?:\d{1,3}\s*[.．、](?!\d)|[（(]\d{1,3}[）)])")

# Outline markers of a policy document, outermost first.
_L1 = re.compile(rf"^(?P<num>[{_CN_NUM}]+)、")  # 一、总体要求
_L2 = re.compile(rf"^[（(](?P<num>[{_CN_NUM}]+)[）)]")  # （一）指导思想。
_L3 = re.compile(r"^(?P<num>\d{1,3})\s*[.．、](?!\d)")  # 1. / 1．/ 1、
_L4 = re.compile(r"^[（(](?P<num>\d{1,3})[）)]")  # （1）
_BULLET = re.compile(r"^——")  # ——坚持零容忍要求。
_OUTLINE_MARKERS = (("L1", _L1), ("L2", _L2), ("L3", _L3), ("L4", _L4))
# Punctuation that makes an 一、 line a sentence rather than a section title.
_SENTENCE_PUNCT = re.compile(r"[。；;！!？?：:]")
_SECTION_TITLE_MAX = 50
# Internal heading level for detected 一、 section lines: deeper than any reader heading.
_SECTION_LEVEL = 100

# English structure. "Article 12", "Article 12.", "ARTICLE 12", "Art. 12".
_EN_ARTICLE = re.compile(
    r"^(?:Article|ARTICLE|Art\.)\s*(?P<num>\d+[A-Za-z]?)(?![.]?\d)(?=[\s.:\-–—]|$)"
)
# "Section 3", "SECTION 3", "Sec. 3", "§ 3".
_EN_SECTION = re.compile(
    r"^(?:Section|SECTION|Sec\.|§+)\s*(?P<num>\d+[A-Za-z]?)(?![.]?\d)(?=[\s.:\-–—]|$)"
)
# "Chapter I …", "Part 2 …", "TITLE III".
_EN_HEADING = re.compile(r"^(?P<unit>Chapter|Part|Title|CHAPTER|PART|TITLE)\s+(?:[IVXLCDM]+|\d+)\b")
_EN_HEADING_LEVELS = {"part": 1, "title": 1, "chapter": 2}
# Numbered paragraph "1. …" / "(1) …" and lettered item "(a) …" inside an Article.
_EN_PARAGRAPH = re.compile(r"^(?:(?P<dot>\d{1,3})\.(?!\d)|\((?P<paren>\d{1,3})\))")
_EN_ITEM = re.compile(r"^\((?P<letter>[a-z]{1,2}|[ivx]{1,5})\)")
_EN_ROMAN = re.compile(r"^\((?:i|ii|iii|iv|v|vi|vii|viii|ix|x|xi|xii)\)")
_EN_TITLE_SEPARATORS = " \t.:-–—"
_EN_SENTENCE_END = (".", ";", ":", ",", "!", "?")
_CJK = re.compile(r"[\u3400-\u9fff]")

# Enumerations in prose: "一是…二是…" and "首先，…其次，…再次，…最后，…".
_ENUM_SHI = re.compile(r"(?P<num>[一二三四五六七八九十]{1,3})是")
_ENUM_ORDER = re.compile(r"(?P<word>首先|其次|再次|最后)[，,]")
_ENUM_ORDER_RANK = {"首先": 1, "其次": 2, "再次": 3, "最后": 4}
# A list marker must follow the line start or one of these (optionally with spaces).
_ENUM_AFTER = frozenset("。；：！？;:!?")

# Front matter of a statute: history lines start with a date, or the whole note is bracketed.
_DATE_LEAD = re.compile(r"^[（(]?\s*\d{4}\s*年")
_BRACKETED = re.compile(r"^[（(].*[）)]$")
_TITLE_MAX = 80

# Over-long clauses: where a part may end.
_SENTENCE_END = re.compile(r"[。！？；]|[.!?;](?=\s)")
_PHRASE_END = re.compile(r"[，,、：:]")
_CLOSERS = "”’」』）)》〉\"'"
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class _Line:
    """One non-empty line of the document, stripped; offsets into ``Document.text``."""

    start: int
    end: int
    text: str
    index: int  # 1-based position among non-heading lines; 0 for heading lines
    heading: Heading | None = None


@dataclass
class _Draft:
    """A clause under construction (local id, offsets, spans)."""

    local: str
    kind: str
    label: str
    path: tuple[str, ...]
    block: int
    start: int
    end: int
    heading: str | None = None
    spans: list[Span] = field(default_factory=list)
    whole_line: bool = False


class _Outline:
    """The heading stack while walking a document: current path, section number, block."""

    def __init__(self) -> None:
        self.frames: list[tuple[int, str, int | None]] = []
        self.block = 0

    def push(self, level: int, text: str, number: int | None = None) -> None:
        while self.frames and self.frames[-1][0] >= level:
            self.frames.pop()
        self.frames.append((level, _normalize(text), number))
        self.block += 1

    def push_section(self, text: str, number: int) -> None:
        """A detected ``一、`` section line replaces the current numbered section."""
        while self.frames and (self.frames[-1][0] >= _SECTION_LEVEL or self.frames[-1][2]):
            self.frames.pop()
        self.frames.append((_SECTION_LEVEL, _normalize(text), number))
        self.block += 1

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(text for _, text, _ in self.frames)

    @property
    def section(self) -> int | None:
        for _, _, number in reversed(self.frames):
            if number is not None:
                return number
        return None


# --------------------------------------------------------------------------- public API


def chunk_document(doc: Document, *, max_chars: int = 600, min_chars: int = 12) -> list[Clause]:
    """Split ``doc`` into clauses, sorted by offset. Deterministic and pure."""
    if max_chars < 1:
        raise ValueError(f"max_chars must be positive, got {max_chars}")
    lines = _split_lines(doc)
    if not any(line.heading is None for line in lines):
        return []
    style = _choose_style(doc, lines)
    if style == "statute":
        drafts = _chunk_articles(doc, lines, _statute_style(doc))
    elif style == "english":
        drafts = _chunk_articles(doc, lines, _english_style(lines))
    else:
        front, body = _metadata_front(doc, lines)
        drafts = _chunk_outline(body) if style == "outline" else _chunk_prose(body)
        drafts = _split_enumerations(drafts, doc.text, min_chars=min_chars)
        drafts.extend(_front_drafts(doc, front))
    drafts = _merge_short(sorted(drafts, key=lambda d: d.start), doc.text, min_chars=min_chars)
    _make_unique(drafts)
    clauses: list[Clause] = []
    for draft in drafts:
        clauses.extend(_finish(draft, doc, max_chars=max_chars))
    return clauses


def chunk_documents(
    docs: Iterable[Document], *, max_chars: int = 600, min_chars: int = 12
) -> list[Clause]:
    """Chunk several documents, in order."""
    clauses: list[Clause] = []
    for doc in docs:
        clauses.extend(chunk_document(doc, max_chars=max_chars, min_chars=min_chars))
    return clauses


def clause_to_dict(clause: Clause, doc: Document) -> dict[str, object]:
    """A JSON-ready record of a clause with its document's metadata."""
    return {
        "id": clause.id,
        "doc_id": clause.doc_id,
        "label": clause.label,
        "path": list(clause.path),
        "heading": clause.heading,
        "kind": clause.kind,
        "part": clause.part,
        "start": clause.start,
        "end": clause.end,
        "text": clause.text,
        "spans": [
            {"key": s.key, "label": s.label, "start": s.start, "end": s.end} for s in clause.spans
        ],
        "document": doc.metadata(),
    }


# --------------------------------------------------------------------------- lines


def _is_space(ch: str) -> bool:
    return ch.isspace() or ch in _INVISIBLE


def _normalize(text: str) -> str:
    """Collapse whitespace runs (path components are compared and shown normalised)."""
    return " ".join(text.split())


def _split_lines(doc: Document) -> list[_Line]:
    """Non-empty lines with stripped offsets; lines holding a recorded heading are marked."""
    text = doc.text
    heading_starts = sorted((h.start, i) for i, h in enumerate(doc.headings))
    starts = [start for start, _ in heading_starts]
    lines: list[_Line] = []
    index = 0
    offset = 0
    for raw in text.split("\n"):
        raw_start, raw_end = offset, offset + len(raw)
        offset = raw_end + 1
        start, end = raw_start, raw_end
        while start < end and _is_space(text[start]):
            start += 1
        while end > start and _is_space(text[end - 1]):
            end -= 1
        if start == end:
            continue
        heading = None
        pos = bisect.bisect_left(starts, raw_start)
        if pos < len(starts) and starts[pos] <= raw_end:
            heading = doc.headings[heading_starts[pos][1]]
        if heading is None:
            index += 1
        lines.append(_Line(start, end, text[start:end], 0 if heading else index, heading))
    return lines


def _choose_style(doc: Document, lines: list[_Line]) -> str:
    content = [line for line in lines if line.heading is None]
    articles = [m for line in content if (m := _ARTICLE.match(line.text))]
    if len(articles) >= 2 or (articles and _spaced_after(articles[0])):
        return "statute"
    if _is_english(content) and any(
        _EN_ARTICLE.match(line.text) or _EN_SECTION.match(line.text) for line in content
    ):
        return "english"
    l1 = sum(1 for line in content if _L1.match(line.text))
    l2 = sum(1 for line in content if _L2.match(line.text))
    l3 = sum(1 for line in content if _L3.match(line.text))
    numbered_headings = any(_L1.match(h.text) for h in doc.headings)
    if l1 >= 2 or l2 >= 2 or (numbered_headings and l3 >= 2):
        return "outline"
    return "prose"


def _spaced_after(match: re.Match[str]) -> bool:
    rest = match.string[match.end() :]
    return not rest or rest[0].isspace()


def _is_english(content: list[_Line]) -> bool:
    sample = "".join(line.text for line in content[:200])
    return len(_CJK.findall(sample)) < 0.3 * max(1, len(sample))


# --------------------------------------------------------------------------- articles


@dataclass(frozen=True)
class _ArticleStyle:
    """How to recognise and name articles, headings and spans in one kind of text."""

    match: Callable[[str], re.Match[str] | None]
    local: Callable[[re.Match[str]], str]
    spans: Callable[[list[_Line], int], list[Span]]
    heading: Callable[[list[_Line], re.Match[str]], str | None]
    heading_level: Callable[[str], int | None]
    ends_article: Callable[[str], bool]
    preamble_label: str = "题注"


def _statute_style(doc: Document) -> _ArticleStyle:
    infer_headings = not doc.headings
    return _ArticleStyle(
        match=_ARTICLE.match,
        local=_statute_local,
        spans=_statute_spans,
        heading=lambda lines, match: None,
        heading_level=_cn_heading_level if infer_headings else (lambda text: None),
        ends_article=lambda text: bool(_APPENDIX.match(text)),
    )


def _english_style(lines: list[_Line]) -> _ArticleStyle:
    has_articles = any(_EN_ARTICLE.match(line.text) for line in lines if line.heading is None)
    if has_articles:
        return _ArticleStyle(
            match=_EN_ARTICLE.match,
            local=lambda m: f"art{m.group('num')}",
            spans=_english_spans,
            heading=_english_heading,
            heading_level=_en_heading_level_with_sections,
            ends_article=lambda text: False,
            preamble_label="Preamble",
        )
    return _ArticleStyle(
        match=_EN_SECTION.match,
        local=lambda m: f"sec{m.group('num')}",
        spans=_english_spans,
        heading=_english_heading,
        heading_level=_en_heading_level,
        ends_article=lambda text: False,
        preamble_label="Preamble",
    )


def _statute_local(match: re.Match[str]) -> str:
    local = f"art{_number(match.group('num'))}"
    if match.group("sub"):
        local += f"-{_number(match.group('sub'))}"
    return local


def _number(numeral: str) -> str:
    try:
        return str(cn_to_int(numeral))
    except ValueError:
        return numeral


def _cn_heading_level(text: str) -> int | None:
    match = _CN_HEADING.match(text)
    return _CN_HEADING_LEVELS[match.group("unit")] if match else None


def _en_heading_level(text: str) -> int | None:
    match = _EN_HEADING.match(text)
    return _EN_HEADING_LEVELS[match.group("unit").lower()] if match else None


def _en_heading_level_with_sections(text: str) -> int | None:
    """Part/Chapter headings, plus short ``Section N`` titles grouping Articles."""
    level = _en_heading_level(text)
    if level is not None or not _EN_SECTION.match(text) or len(text) > _TITLE_MAX:
        return level
    if not text.endswith((".", ";", ":")) or _EN_SECTION.fullmatch(text.rstrip(".")):
        return 3
    return None


def _chunk_articles(doc: Document, lines: list[_Line], style: _ArticleStyle) -> list[_Draft]:
    """Articles with their paragraphs; front matter, in-between and trailing text."""
    outline = _Outline()
    drafts: list[_Draft] = []
    front: list[_Line] = []
    loose: list[tuple[_Line, tuple[str, ...], int]] = []
    article: list[_Line] = []
    opening: re.Match[str] | None = None
    seen_structure = False
    article_place: tuple[tuple[str, ...], int] = ((), 0)

    def close() -> None:
        nonlocal article, opening
        if article and opening is not None:
            drafts.append(_article_draft(article, opening, style, *article_place))
        article, opening = [], None

    for line in lines:
        level = line.heading.level if line.heading else style.heading_level(line.text)
        if level is not None:
            close()
            outline.push(level, line.text)
            seen_structure = True
            continue
        match = style.match(line.text)
        if match:
            close()
            article, opening = [line], match
            article_place = (outline.path, outline.block)
            seen_structure = True
        elif article and not style.ends_article(line.text):
            article.append(line)
        else:
            close()
            if seen_structure:
                loose.append((line, outline.path, outline.block))
            else:
                front.append(line)
    close()
    drafts.extend(_front_drafts(doc, front, label=style.preamble_label))
    last_article = max((d.start for d in drafts if d.kind == "article"), default=-1)
    tail = 0
    for line, path, block in loose:
        if line.start > last_article:
            tail += 1
            local = f"tail{tail}"
        else:
            local = f"p{line.index}"
        drafts.append(_line_draft(line, local, path, block))
    return drafts


def _article_draft(
    lines: list[_Line],
    match: re.Match[str],
    style: _ArticleStyle,
    path: tuple[str, ...],
    block: int,
) -> _Draft:
    first = lines[0]
    return _Draft(
        local=style.local(match),
        kind="article",
        label=match.group(0),
        path=path,
        block=block,
        start=first.start,
        end=lines[-1].end,
        heading=style.heading(lines, match),
        spans=style.spans(lines, first.start + match.end()),
    )


def _line_draft(line: _Line, local: str, path: tuple[str, ...], block: int) -> _Draft:
    return _Draft(
        local=local,
        kind="paragraph",
        label="",
        path=path,
        block=block,
        start=line.start,
        end=line.end,
        whole_line=True,
    )


def _front_drafts(doc: Document, front: list[_Line], *, label: str = "题注") -> list[_Draft]:
    """Title/subtitle/history lines → one preamble clause; other front lines → paragraphs."""
    known = {_normalize(t) for t in (doc.title, doc.subtitle, *doc.history) if t}
    count = 0
    for position, line in enumerate(front):
        if not _is_front_matter(line.text, position, known):
            break
        count += 1
    drafts = []
    if count:
        drafts.append(
            _Draft(
                local="preamble",
                kind="preamble",
                label=label,
                path=(),
                block=0,
                start=front[0].start,
                end=front[count - 1].end,
            )
        )
    drafts.extend(_line_draft(line, f"p{line.index}", (), 0) for line in front[count:])
    return drafts


def _metadata_front(doc: Document, lines: list[_Line]) -> tuple[list[_Line], list[_Line]]:
    """Leading lines that repeat the title, subtitle or history → (front, rest)."""
    known = {_normalize(t) for t in (doc.title, doc.subtitle, *doc.history) if t}
    count = 0
    while (
        count < len(lines)
        and lines[count].heading is None
        and _normalize(lines[count].text) in known
    ):
        count += 1
    return lines[:count], lines[count:]


def _is_front_matter(text: str, position: int, known: set[str]) -> bool:
    text = _normalize(text)
    if text in known or _DATE_LEAD.match(text) or _BRACKETED.match(text):
        return True
    return position == 0 and len(text) <= _TITLE_MAX and "。" not in text


@dataclass
class _OpenSpan:
    """A span whose end may still grow while the lines of its clause are read."""

    key: str
    label: str
    start: int
    end: int
    items: list[_OpenSpan] = field(default_factory=list)

    def span(self) -> Span:
        return Span(self.key, self.label, self.start, self.end)


def _statute_spans(lines: list[_Line], content_start: int) -> list[Span]:
    """款 (paragraphs) and 项 (items) of one article as spans.

    Items ``（一）`` belong to the preceding 款 and are not 款 themselves; sub-items
    ``1.``/``（1）`` (目) extend the current item (or the 款 when there is no item).
    """
    paragraphs: list[_OpenSpan] = []
    first = lines[0]
    start = content_start
    while start < first.end and _is_space(first.text[start - first.start]):
        start += 1
    if start < first.end:
        paragraphs.append(_OpenSpan("", "", start, first.end))
    for line in lines[1:]:
        item = _ITEM.match(line.text)
        if item and paragraphs:
            numeral = item.group("num")
            key, label = f"i{_number(numeral)}", f"第（{numeral}）项"
            paragraphs[-1].items.append(_OpenSpan(key, label, line.start, line.end))
            paragraphs[-1].end = line.end
        elif _SUBITEM.match(line.text) and paragraphs:
            if paragraphs[-1].items:
                paragraphs[-1].items[-1].end = line.end
            paragraphs[-1].end = line.end
        else:
            paragraphs.append(_OpenSpan("", "", line.start, line.end))
    spans: list[Span] = []
    if len(paragraphs) > 1:
        for k, paragraph in enumerate(paragraphs, 1):
            name = f"第{int_to_cn(k)}款"
            spans.append(Span(f"p{k}", name, paragraph.start, paragraph.end))
            spans.extend(
                Span(f"p{k}.{i.key}", f"{name}{i.label}", i.start, i.end) for i in paragraph.items
            )
    elif paragraphs:
        spans.extend(item.span() for item in paragraphs[0].items)
    return _unique_keys(spans)


def _unique_keys(spans: list[Span]) -> list[Span]:
    seen: dict[str, int] = {}
    unique = []
    for span in spans:
        count = seen.get(span.key, 0) + 1
        seen[span.key] = count
        unique.append(span if count == 1 else replace(span, key=f"{span.key}-dup{count}"))
    return unique


def _english_heading(lines: list[_Line], match: re.Match[str]) -> str | None:
    """The Article's title: the rest of its first line, or a short title line after it."""
    rest = match.string[match.end() :].lstrip(_EN_TITLE_SEPARATORS)
    candidate = rest
    if not rest and len(lines) > 1:
        candidate = lines[1].text
        if _EN_PARAGRAPH.match(candidate) or _EN_ITEM.match(candidate):
            return None
    if candidate and len(candidate) <= _TITLE_MAX and not candidate.endswith(_EN_SENTENCE_END):
        return candidate
    return None


def _english_spans(lines: list[_Line], content_start: int) -> list[Span]:
    """Numbered paragraphs ``1.``/``(1)`` → ``p1``; lettered items ``(a)`` → ``a``/``p1.a``.

    A paragraph runs to the next numbered paragraph; an item is its own line plus roman
    sub-items ``(i)``, ``(ii)``….
    """
    paragraphs: list[_OpenSpan] = []
    items: list[_OpenSpan] = []
    last_item: _OpenSpan | None = None
    for line in lines[1:]:
        numbered = _EN_PARAGRAPH.match(line.text)
        if numbered:
            number = numbered.group("dot") or numbered.group("paren")
            paragraphs.append(_OpenSpan(f"p{number}", f"paragraph {number}", line.start, line.end))
            last_item = None
            continue
        item = _EN_ITEM.match(line.text)
        if item and last_item is not None and _is_roman_subitem(item.group("letter"), last_item):
            last_item.end = line.end
        elif item:
            letter = item.group("letter")
            prefix = f"{paragraphs[-1].key}." if paragraphs else ""
            last_item = _OpenSpan(f"{prefix}{letter}", f"({letter})", line.start, line.end)
            items.append(last_item)
        if paragraphs:
            paragraphs[-1].end = line.end
    spans = [open_span.span() for open_span in paragraphs + items]
    spans.sort(key=lambda s: (s.start, -s.end))
    return _unique_keys(spans)


def _is_roman_subitem(letter: str, last_item: _OpenSpan) -> bool:
    """``(i)``/``(ii)`` under a lettered item, unless ``(i)`` simply follows ``(h)``."""
    if not _EN_ROMAN.match(f"({letter})"):
        return False
    previous = last_item.label[1:-1]
    return not (len(letter) == 1 and len(previous) == 1 and ord(letter) == ord(previous) + 1)


# --------------------------------------------------------------------------- outlines


def _marker(text: str) -> tuple[str, re.Match[str]] | None:
    for name, pattern in _OUTLINE_MARKERS:
        match = pattern.match(text)
        if match:
            return name, match
    return None


_Marked = tuple[str, re.Match[str]]


@dataclass
class _OpenClause:
    """A numbered clause of an outline while its lines are read."""

    draft: _Draft
    lines: list[_Line]
    level: str  # marker level of its own label: "L1", "L2" or "L3"
    number: int
    top_level: bool  # a sentence-like 一、 clause: lower markers inside it are its items
    quote_depth: int = 0

    def add(self, line: _Line) -> None:
        self.lines.append(line)
        self.quote_depth = _quote_depth(self.quote_depth, line.text)

    def quotes(self, marker: _Marked) -> bool:
        """Whether a clause-level line is quoted text inside this clause.

        Inside an open quotation only the very next number after a finished sentence starts
        a new clause (sources sometimes forget the closing ”).
        """
        if self.quote_depth == 0:
            return False
        finished = self.lines[-1].text.endswith(("。", "”"))
        return not (finished and _marker_number(marker) == self.number + 1)

    def finish(self) -> _Draft:
        self.draft.end = self.lines[-1].end
        self.draft.spans = _outline_spans(self.lines, self.level)
        return self.draft


def _chunk_outline(lines: list[_Line]) -> list[_Draft]:
    """Policy documents: 一、 sections, （N） clauses, bullets and sub-items."""
    markers = [None if line.heading else _marker(line.text) for line in lines]
    l1_headings = sum(1 for line in lines if line.heading and _L1.match(line.text))
    use_l1 = sum(1 for m in markers if m and m[0] == "L1") + l1_headings >= 2
    sections, clauses_l1 = _l1_roles(lines, markers, use_l1)
    level = _clause_level(lines, markers, sections, clauses_l1)
    outline = _Outline()
    drafts: list[_Draft] = []
    clause: _OpenClause | None = None
    paragraph_count = 0
    for i, line in enumerate(lines):
        marker = markers[i]
        if line.heading is not None or i in sections:
            if clause is not None:
                drafts.append(clause.finish())
                clause = None
            paragraph_count = 0
            _push_outline(outline, line, marker)
            continue
        top_level = i in clauses_l1
        starts = top_level or (
            marker is not None
            and marker[0] == level
            and not (clause is not None and clause.top_level)
        )
        if marker is not None and starts and not (clause is not None and clause.quotes(marker)):
            if clause is not None:
                drafts.append(clause.finish())
            clause = _open_clause(line, marker, outline, top_level=top_level)
        elif clause is not None:
            clause.add(line)
        else:
            section = outline.section
            if section is not None:
                paragraph_count += 1
                local = f"sec{section}.p{paragraph_count}"
            else:
                local = f"p{line.index}"
            drafts.append(_line_draft(line, local, outline.path, outline.block))
    if clause is not None:
        drafts.append(clause.finish())
    return drafts


def _push_outline(outline: _Outline, line: _Line, marker: _Marked | None) -> None:
    """A recorded heading or a detected 一、 section line enters the path."""
    if line.heading is not None:
        numbered = _L1.match(line.text)
        number = _marker_number(("L1", numbered)) if numbered else None
        outline.push(line.heading.level, line.text, number)
    elif marker is not None:
        outline.push_section(line.text, _marker_number(marker))


def _open_clause(
    line: _Line, marker: _Marked, outline: _Outline, *, top_level: bool
) -> _OpenClause:
    return _OpenClause(
        draft=_numbered_draft(line, marker, outline, top_level),
        lines=[line],
        level=marker[0],
        number=_marker_number(marker),
        top_level=top_level,
        quote_depth=_quote_depth(0, line.text),
    )


def _marker_number(marker: _Marked | None) -> int:
    try:
        return cn_to_int(marker[1].group("num")) if marker else -1
    except ValueError:
        return -1


def _quote_depth(depth: int, text: str) -> int:
    """Open “ quotes after ``text``. A quoted passage of several paragraphs opens each
    paragraph with “ and closes only the last with ”, so a leading “ inside an open quote
    continues it rather than nesting."""
    if depth > 0 and text.startswith("“"):
        text = text[1:]
    return max(0, depth + text.count("“") - text.count("”"))


def _l1_roles(lines: list[_Line], markers: list, use_l1: bool) -> tuple[set[int], set[int]]:
    """Split 一、 lines into section titles (path) and sentence-like numbered clauses."""
    sections: set[int] = set()
    clauses: set[int] = set()
    if not use_l1:
        return sections, clauses
    for i, marker in enumerate(markers):
        if not marker or marker[0] != "L1":
            continue
        rest = lines[i].text[marker[1].end() :].strip()
        title_like = 0 < len(rest) <= _SECTION_TITLE_MAX and not _SENTENCE_PUNCT.search(rest)
        following = i + 1 < len(lines) and lines[i + 1].heading is None
        followed_by_text = following and not (markers[i + 1] and markers[i + 1][0] == "L1")
        if title_like and followed_by_text:
            sections.add(i)
        else:
            clauses.add(i)
    return sections, clauses


def _clause_level(
    lines: list[_Line], markers: list, sections: set[int], clauses_l1: set[int]
) -> str | None:
    """The marker level of numbered clauses: the first （N） or 1. line outside 一、 clauses."""
    inside = False
    counts = {"L2": 0, "L3": 0}
    first = None
    for i, line in enumerate(lines):
        if line.heading is not None or i in sections:
            inside = False
            continue
        if i in clauses_l1:
            inside = True
            continue
        marker = markers[i]
        if inside or not marker or marker[0] not in counts:
            continue
        counts[marker[0]] += 1
        first = first or marker[0]
    if first == "L2" or (first == "L3" and counts["L3"] >= 2):
        return first
    return None


def _numbered_draft(
    line: _Line, marker: tuple[str, re.Match[str]], outline: _Outline, top_level: bool
) -> _Draft:
    match = marker[1]
    number = _number(match.group("num"))
    section = outline.section
    if top_level:
        local = f"sec{section}.c{number}" if section is not None else f"sec{number}"
    else:
        local = f"sec{section}.c{number}" if section is not None else f"c{number}"
    return _Draft(
        local=local,
        kind="numbered",
        label=match.group(0).strip(),
        path=outline.path,
        block=outline.block,
        start=line.start,
        end=line.end,
        heading=_lead_phrase(line.text[match.end() :]),
    )


def _lead_phrase(rest: str) -> str | None:
    """The clause's lead phrase: ``指导思想`` in ``（一）指导思想。以…``."""
    rest = rest.strip()
    if not rest:
        return None
    period = rest.find("。")
    if 0 < period <= 30:
        # "将刑法第十七条修改为：“……。" — the phrase stops before a colon or a quotation.
        phrase = re.split(r"[：:“]", rest[:period], maxsplit=1)[0]
        return phrase or None
    if period == -1 and len(rest) <= 30:
        phrase = rest.rstrip("：:，,；;")
        return phrase or None
    for i, ch in enumerate(rest[:31]):
        if ch in "，：,:":
            return rest[:i] if i > 0 else None
    return None


def _outline_spans(lines: list[_Line], own_level: str) -> list[Span]:
    """Bullets ``——`` → ``b1``…; the first sub-marker level (``1.``, ``（1）``…) → ``i1``…"""
    spans: list[Span] = []
    bullets = 0
    item_level: str | None = None
    open_item: int | None = None
    for line in lines[1:]:
        if _BULLET.match(line.text):
            bullets += 1
            spans.append(Span(f"b{bullets}", f"第{bullets}项", line.start, line.end))
            open_item = None
            continue
        marker = _marker(line.text)
        if marker and marker[0] != own_level and marker[0] != "L1":
            level, match = marker
            item_level = item_level or level
            if level == item_level:
                numeral = match.group("num")
                shown = numeral if level == "L3" else f"（{numeral}）"
                spans.append(Span(f"i{_number(numeral)}", f"第{shown}项", line.start, line.end))
                open_item = len(spans) - 1
                continue
            if open_item is not None:
                spans[open_item] = replace(spans[open_item], end=line.end)
                continue
        open_item = None
    return _unique_keys(spans)


# --------------------------------------------------------------------------- prose


def _chunk_prose(lines: list[_Line]) -> list[_Draft]:
    outline = _Outline()
    drafts = []
    for line in lines:
        if line.heading is not None:
            outline.push(line.heading.level, line.text)
            continue
        drafts.append(_line_draft(line, f"p{line.index}", outline.path, outline.block))
    return drafts


@dataclass(frozen=True)
class _Marker:
    pos: int  # offset in the paragraph text
    rank: int
    label: str
    final: bool = False  # 最后: nothing may follow


def _list_markers(text: str, family: str) -> list[_Marker]:
    """Real list markers of one family in a paragraph (after line start or punctuation)."""
    found = []
    if family == "shi":
        for match in _ENUM_SHI.finditer(text):
            if _marker_position_ok(text, match.start()):
                rank = cn_to_int(match.group("num"))
                found.append(_Marker(match.start(), rank, match.group(0)))
    else:
        for match in _ENUM_ORDER.finditer(text):
            if _marker_position_ok(text, match.start()):
                word = match.group("word")
                found.append(_Marker(match.start(), _ENUM_ORDER_RANK[word], word, word == "最后"))
    return found


def _marker_position_ok(text: str, pos: int) -> bool:
    i = pos - 1
    while i >= 0 and _is_space(text[i]):
        i -= 1
    return i < 0 or text[i] in _ENUM_AFTER


def _follows(previous: _Marker, marker: _Marker, family: str) -> bool:
    if family == "shi":
        return marker.rank == previous.rank + 1
    return not previous.final and marker.rank > previous.rank


def _enumeration_chains(texts: list[str | None], family: str) -> list[list[_Marker]]:
    """Per paragraph, the list markers that split it (lists need ≥ 2 items in all).

    A list starts at a first marker (一是/首先) anywhere valid in a paragraph and may
    continue in the following paragraphs when they start with the next marker.
    ``None`` texts break lists.
    """
    chains: list[list[_Marker]] = [[] for _ in texts]
    members: list[int] = []
    last: _Marker | None = None

    def settle() -> None:
        if sum(len(chains[i]) for i in members) < 2:
            for i in members:
                chains[i] = []
        members.clear()

    for i, text in enumerate(texts):
        markers = _list_markers(text, family) if text is not None else []
        chain: list[_Marker] = []
        if (
            last is not None
            and markers
            and markers[0].pos == 0
            and _follows(last, markers[0], family)
        ):
            chain = [markers[0]]
        else:
            settle()
            chain = [m for m in markers if m.rank == 1][:1]
        if not chain:
            last = None
            continue
        for marker in markers:
            if marker.pos > chain[-1].pos and _follows(chain[-1], marker, family):
                chain.append(marker)
        chains[i] = chain
        members.append(i)
        last = chain[-1]
    settle()
    return chains


def _split_enumerations(drafts: list[_Draft], text: str, *, min_chars: int) -> list[_Draft]:
    """Split whole-line paragraphs holding 一是…二是… (or 首先，…) lists into items."""
    result: list[_Draft] = []
    run: list[_Draft] = []

    def flush() -> None:
        if not run:
            return
        texts: list[str | None] = [text[d.start : d.end] for d in run]
        shi = _enumeration_chains(texts, "shi")
        masked = [None if shi[i] else t for i, t in enumerate(texts)]
        order = _enumeration_chains(masked, "order")
        for i, draft in enumerate(run):
            chain = shi[i] or order[i]
            result.extend(_split_paragraph(draft, chain, text, min_chars) if chain else [draft])
        run.clear()

    for draft in drafts:
        if draft.kind == "paragraph" and draft.whole_line:
            if run and run[-1].block != draft.block:
                flush()
            run.append(draft)
        else:
            flush()
            result.append(draft)
    flush()
    return result


def _split_paragraph(
    draft: _Draft, chain: list[_Marker], text: str, min_chars: int
) -> list[_Draft]:
    starts = [draft.start + m.pos for m in chain]
    pieces: list[_Draft] = []
    intro_end = _rstrip(text, draft.start, starts[0])
    if intro_end - draft.start >= max(min_chars, 1):
        pieces.append(replace(draft, end=intro_end, whole_line=False))
    else:
        starts[0] = draft.start
    for k, marker in enumerate(chain):
        end = _rstrip(text, starts[k], starts[k + 1]) if k + 1 < len(chain) else draft.end
        pieces.append(
            replace(
                draft,
                local=f"{draft.local}.{k + 1}",
                kind="item",
                label=marker.label,
                start=starts[k],
                end=end,
                whole_line=False,
            )
        )
    return pieces


def _rstrip(text: str, start: int, end: int) -> int:
    while end > start and _is_space(text[end - 1]):
        end -= 1
    return end


# --------------------------------------------------------------------------- finishing


def _mergeable(draft: _Draft) -> bool:
    return draft.kind in ("paragraph", "item")


def _merge_short(drafts: list[_Draft], text: str, *, min_chars: int) -> list[_Draft]:
    """Whole lines shorter than ``min_chars`` join the next paragraph/item of their block
    (or the previous one when nothing follows)."""
    result: list[_Draft] = []
    pending: list[_Draft] = []

    def flush() -> None:
        if not pending:
            return
        previous = result[-1] if result else None
        if previous is not None and previous.block == pending[0].block and _mergeable(previous):
            result[-1] = _merge([previous, *pending], text)
        else:
            result.append(_merge(pending, text))
        pending.clear()

    for draft in drafts:
        if pending and (draft.block != pending[0].block or not _mergeable(draft)):
            flush()
        if draft.whole_line and draft.kind == "paragraph" and draft.end - draft.start < min_chars:
            pending.append(draft)
            continue
        if pending:
            draft = _merge([*pending, draft], text)
            pending.clear()
        result.append(draft)
    flush()
    return result


def _merge(members: list[_Draft], text: str) -> _Draft:
    if len(members) == 1:
        return members[0]
    main = max(members, key=lambda d: d.end - d.start)  # first of the longest
    spans = sorted((s for d in members for s in d.spans), key=lambda s: s.start)
    return replace(
        main,
        start=members[0].start,
        end=members[-1].end,
        spans=spans,
        whole_line=False,
    )


def _make_unique(drafts: list[_Draft]) -> None:
    """Repeated local ids (restarted numbering) get ``-dup2``, ``-dup3``… in order."""
    seen: set[str] = {d.local for d in drafts}
    counts: dict[str, int] = {}
    for draft in drafts:
        count = counts.get(draft.local, 0) + 1
        counts[draft.local] = count
        if count == 1:
            continue
        candidate = f"{draft.local}-dup{count}"
        while candidate in seen:
            count += 1
            candidate = f"{draft.local}-dup{count}"
        seen.add(candidate)
        draft.local = candidate


def _finish(draft: _Draft, doc: Document, *, max_chars: int) -> list[Clause]:
    text = doc.text
    base = Clause(
        id=f"{doc.doc_id}#{draft.local}",
        doc_id=doc.doc_id,
        label=draft.label,
        path=draft.path,
        start=draft.start,
        end=draft.end,
        text=text[draft.start : draft.end],
        kind=draft.kind,
        heading=draft.heading,
        spans=tuple(draft.spans),
    )
    if draft.end - draft.start <= max_chars:
        return [base]
    parts = []
    for k, (start, end) in enumerate(_part_bounds(base.text, max_chars), 1):
        a, b = draft.start + start, draft.start + end
        parts.append(
            replace(
                base,
                id=f"{base.id}.part{k}",
                start=a,
                end=b,
                text=text[a:b],
                part=k,
                spans=tuple(s for s in draft.spans if a <= s.start and s.end <= b),
            )
        )
    return parts


def _part_bounds(text: str, max_chars: int) -> list[tuple[int, int]]:
    """Cut ``text`` into stripped pieces of at most ``max_chars``, preferring line breaks,
    then sentence ends, then commas, and finally a hard cut."""
    bounds = []
    pos, n = 0, len(text)
    while n - pos > max_chars:
        cut = _best_cut(text, pos, pos + max_chars)
        bounds.append((pos, _rstrip(text, pos, cut)))
        pos = cut
        while pos < n and _is_space(text[pos]):
            pos += 1
    if pos < n:
        bounds.append((pos, n))
    return bounds


def _best_cut(text: str, pos: int, limit: int) -> int:
    """Where the piece starting at ``pos`` should end (exclusive, ``pos < cut <= limit``)."""
    newline = text.rfind("\n", pos + 1, limit + 1)
    if newline != -1 and newline - pos >= (limit - pos) // 3:
        return newline
    sentence = _last_break(_SENTENCE_END, text, pos, limit)
    if sentence:
        return sentence
    if newline != -1:
        return newline
    phrase = _last_break(_PHRASE_END, text, pos, limit)
    return phrase or limit


def _last_break(pattern: re.Pattern[str], text: str, pos: int, limit: int) -> int | None:
    best = None
    for match in pattern.finditer(text, pos, limit):
        cut = match.end()
        while cut < limit and text[cut] in _CLOSERS:
            cut += 1
        if pos < cut <= limit:
            best = cut
    return best
