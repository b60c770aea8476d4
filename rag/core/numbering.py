"""How legal texts number their parts: Chinese numerals, 第X条 labels, 编/章/节 headings."""

from __future__ import annotations

import re

DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
          "六": 6, "七": 7, "八": 8, "九": 9}
UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10000}
CN_NUMERAL_CHARS = "".join(DIGITS) + "".join(UNITS)


def cn_to_int(text: str) -> int:
    """Parse a Chinese or Arabic numeral: ``一百九十一`` → 191, ``十`` → 10, ``191`` → 191.

    Raises ValueError for anything else.
    """
    text = text.strip()
    if not text:
        raise ValueError("empty numeral")
    if text.isdigit():
        return int(text)
    total = 0
    section = 0
    number = 0
    seen_digit = False
    for ch in text:
        if ch in DIGITS:
            number = DIGITS[ch]
            seen_digit = True
        elif ch in UNITS:
            unit = UNITS[ch]
            if unit == 10000:
                section = (section + number) * unit
                total += section
                section = 0
            else:
                section += (number if seen_digit else 1) * unit
            number = 0
            seen_digit = False
        else:
            raise ValueError(f"not a Chinese numeral: {text!r}")
    return total + section + number


def article_label(number: str, sub: str | None = None) -> str:
    """The canonical label of an article cited as ``number`` (Chinese or Arabic) with an
    optional 之 ``sub``: ("191", None) → 第一百九十一条, ("一百二十", "一") → 第一百二十条之一.

    Raises ValueError for numerals it cannot read.
    """
    label = f"第{int_to_cn(cn_to_int(number))}条"
    return label + f"之{int_to_cn(cn_to_int(sub))}" if sub else label


def int_to_cn(n: int) -> str:
    """Write a positive integer below 10000 the way statutes do: 191 → 一百九十一, 10 → 十."""
    if not 0 < n < 10000:
        raise ValueError(f"cannot write {n} as a legal numeral (1..9999)")
    digits = "零一二三四五六七八九"
    parts: list[str] = []
    units = [(1000, "千"), (100, "百"), (10, "十"), (1, "")]
    zero_pending = False
    for value, unit in units:
        d = n // value % 10
        if d == 0:
            if parts:
                zero_pending = True
            continue
        if zero_pending:
            parts.append("零")
            zero_pending = False
        if value == 10 and d == 1 and not parts:
            parts.append("十")
        else:
            parts.append(digits[d] + unit)
    return "".join(parts)


# A numeral as statutes and people write it: 一百九十一, 191, 两.
NUMERAL_CHAR = rf"[0-9０-９{CN_NUMERAL_CHARS}]"
NUMERAL = NUMERAL_CHAR + "+"
# 第一百九十一条 / 第三章 / 第二节 / 第一编 / 第一部分: a statute's structural label.
STRUCTURE_LABEL = rf"第{NUMERAL}(?:条|章|节|编|部分)"


def article_pattern(*, spaced: bool = False) -> str:
    """The regex of an article reference, 第一百九十一条 / 第191条 / 第一百八十条之一, with
    groups ``num`` and ``sub``. ``spaced`` also allows the spaces people type in
    questions (证券法 第 191 条)."""
    s = r"\s*" if spaced else ""
    return rf"第{s}(?P<num>{NUMERAL}){s}条(?:{s}之{s}(?P<sub>{NUMERAL}))?"


# 第一章 总则 / 第二编 分则 / 第一节 … : a heading line of a statute.
_STATUTE_HEADING = re.compile(
    rf"^第{NUMERAL}(?P<unit>分编|编|章|节|部分)(?P<rest>.*)$"
)
STATUTE_HEADING_LEVELS = {"编": 1, "部分": 1, "分编": 2, "章": 3, "节": 4}
_HEADING_TITLE_MAX = 30
_SENTENCE_MARK = re.compile(r"[。，；：,;:！？!?]")


def statute_heading_level(line: str) -> int | None:
    """The level of a plain-text statute heading (编 1, 分编 2, 章 3, 节 4), or None when
    ``line`` is not one: a heading is short and carries no sentence punctuation."""
    match = _STATUTE_HEADING.match(line.strip())
    if not match:
        return None
    rest = match.group("rest").strip()
    if len(rest) > _HEADING_TITLE_MAX or _SENTENCE_MARK.search(rest):
        return None
    return STATUTE_HEADING_LEVELS[match.group("unit")]


# A token that is only part of a clause number (九十, 十一 from 第一百九十一条).
_NUMERAL_WORD = re.compile(r"[第零〇一二两三四五六七八九十百千万条款项之]+")


def is_numeral_word(token: str) -> bool:
    """九十, 十一, 第一 …: pieces of a clause number, not terms of a question."""
    return bool(_NUMERAL_WORD.fullmatch(token))
