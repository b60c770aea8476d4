"""Word automatic numbering: the label (第一条, （一）, 1.) a numbered paragraph shows.

Word stores list labels not in the text but in ``numbering.xml``: a paragraph names a
``w:num`` and a level; the num points to an ``w:abstractNum`` whose level has a start
value, a number format (``chineseCounting``, ``decimal``…) and a label template
(``第%1条``). :class:`Numbering` replays the counters in document order and writes each
label as Word would show it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rag.core.numbering import int_to_cn

_LEVELS = 9
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_FINANCIAL = str.maketrans("一二三四五六七八九十百千", "壹贰叁肆伍陆柒捌玖拾佰仟")
_STEMS = "甲乙丙丁戊己庚辛壬癸"
_BRANCHES = "子丑寅卯辰巳午未申酉戌亥"
_ROMAN = ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
          (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i"))
_SEPARATORS = {"tab": "\t", "space": " ", "nothing": ""}


@dataclass
class Level:
    start: int = 1
    fmt: str = "decimal"
    text: str = ""
    suffix: str = "\t"
    restart: int | None = None  # None: after any shallower level; 0: never
    legal: bool = False


@dataclass
class _Abstract:
    levels: dict[int, Level] = field(default_factory=dict)
    style_link: str | None = None  # w:numStyleLink: the list is defined by a style


@dataclass
class _Num:
    abstract: str
    starts: dict[int, int] = field(default_factory=dict)  # w:lvlOverride/w:startOverride


def qn(tag: str) -> str:
    """``w:numId`` → the namespaced name lxml uses (python-docx is imported only to read)."""
    prefix, _, name = tag.partition(":")
    if prefix != "w":
        raise ValueError(f"unknown namespace prefix in {tag!r}")
    return _W + name


def format_number(n: int, fmt: str) -> str:
    """``n`` written in Word's number format ``fmt`` (unknown formats as decimal)."""
    if fmt in ("none", "bullet"):
        return ""
    if fmt in ("chineseCounting", "chineseCountingThousand", "taiwaneseCounting",
               "taiwaneseCountingThousand", "japaneseCounting", "ideographLegalTraditional"):
        return int_to_cn(n) if 0 < n < 10000 else str(n)
    if fmt == "chineseLegalSimplified":
        return int_to_cn(n).translate(_FINANCIAL) if 0 < n < 10000 else str(n)
    if fmt in ("ideographDigital", "taiwaneseDigital"):
        return "".join("〇一二三四五六七八九"[int(d)] for d in str(n))
    if fmt == "decimalZero":
        return f"{n:02d}"
    if fmt in ("decimalFullWidth", "decimalFullWidth2"):
        return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    if fmt in ("decimalEnclosedCircle", "decimalEnclosedCircleChinese") and 0 < n <= 20:
        return chr(0x2460 + n - 1)
    if fmt == "decimalEnclosedParen" and 0 < n <= 20:
        return chr(0x2474 + n - 1)
    if fmt == "decimalEnclosedFullstop" and 0 < n <= 20:
        return chr(0x2488 + n - 1)
    if fmt == "ideographTraditional" and 0 < n <= len(_STEMS):
        return _STEMS[n - 1]
    if fmt == "ideographZodiac" and 0 < n <= len(_BRANCHES):
        return _BRANCHES[n - 1]
    if fmt in ("lowerLetter", "upperLetter") and n > 0:
        letter = chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)
        return letter if fmt == "lowerLetter" else letter.upper()
    if fmt in ("lowerRoman", "upperRoman") and 0 < n < 4000:
        roman = _roman(n)
        return roman if fmt == "lowerRoman" else roman.upper()
    return str(n)


def _roman(n: int) -> str:
    out = []
    for value, letters in _ROMAN:
        while n >= value:
            out.append(letters)
            n -= value
    return "".join(out)


class Numbering:
    """The numbering definitions of one document and the running counters."""

    def __init__(self, numbering: Any | None, styles: Any | None) -> None:
        self._abstracts: dict[str, _Abstract] = {}
        self._nums: dict[str, _Num] = {}
        self._style_nums: dict[str, str] = {}
        self._counters: dict[str, list[int | None]] = {}
        self._used: set[str] = set()
        if styles is not None:
            for style in styles.iterfind(qn("w:style")):
                num_id = style.find(f"{qn('w:pPr')}/{qn('w:numPr')}/{qn('w:numId')}")
                if num_id is not None:
                    self._style_nums[style.get(qn("w:styleId"), "")] = num_id.get(qn("w:val"))
        if numbering is not None:
            for element in numbering.iterfind(qn("w:abstractNum")):
                self._abstracts[element.get(qn("w:abstractNumId"), "")] = _abstract(element)
            for element in numbering.iterfind(qn("w:num")):
                self._nums[element.get(qn("w:numId"), "")] = _num(element)

    def label(self, num_id: str, level: int) -> str:
        """Advance the counter of list ``num_id`` at ``level``; the label plus separator.

        Empty for numId 0 (numbering switched off), unknown lists and bullets.
        """
        num = self._nums.get(num_id)
        if num is None or num_id == "0":
            return ""
        key, abstract = self._resolve(num.abstract)
        if abstract is None or not 0 <= level < _LEVELS:
            return ""
        counters = self._counters.setdefault(key, [None] * _LEVELS)
        if num_id not in self._used:
            self._used.add(num_id)
            for overridden in num.starts:
                counters[overridden] = None
        lvl = abstract.levels.get(level, Level())
        current = counters[level]
        counters[level] = num.starts.get(level, lvl.start) if current is None else current + 1
        for deeper in range(level + 1, _LEVELS):
            restart = abstract.levels.get(deeper, Level()).restart
            if restart is None or (restart and level < restart):
                counters[deeper] = None
        if lvl.fmt == "bullet" or not lvl.text:
            return ""
        return _render(lvl, counters, abstract, num) + lvl.suffix

    def _resolve(self, abstract_id: str) -> tuple[str, _Abstract | None]:
        """Follow ``w:numStyleLink`` to the list the style defines (one step)."""
        abstract = self._abstracts.get(abstract_id)
        if abstract is not None and abstract.style_link:
            num = self._nums.get(self._style_nums.get(abstract.style_link, ""))
            if num is not None and num.abstract in self._abstracts:
                return num.abstract, self._abstracts[num.abstract]
        return abstract_id, abstract

    def style_num(self, style_id: str) -> str | None:
        return self._style_nums.get(style_id)


def _render(lvl: Level, counters: list[int | None], abstract: _Abstract, num: _Num) -> str:
    out = lvl.text
    for k in range(_LEVELS, 0, -1):
        placeholder = f"%{k}"
        if placeholder not in out:
            continue
        other = abstract.levels.get(k - 1, Level())
        value = counters[k - 1]
        if value is None:
            value = num.starts.get(k - 1, other.start)
        out = out.replace(placeholder, format_number(value, "decimal" if lvl.legal
                                                     else other.fmt))
    return out


def _abstract(element: Any) -> _Abstract:
    found = _Abstract()
    link = element.find(qn("w:numStyleLink"))
    if link is not None:
        found.style_link = link.get(qn("w:val"))
    for lvl in element.iterfind(qn("w:lvl")):
        found.levels[_int(lvl.get(qn("w:ilvl")), 0)] = _level(lvl)
    return found


def _num(element: Any) -> _Num:
    abstract = element.find(qn("w:abstractNumId"))
    num = _Num(abstract.get(qn("w:val"), "") if abstract is not None else "")
    for override in element.iterfind(qn("w:lvlOverride")):
        start = override.find(qn("w:startOverride"))
        if start is not None:
            num.starts[_int(override.get(qn("w:ilvl")), 0)] = _int(start.get(qn("w:val")), 1)
    return num


def _level(lvl: Any) -> Level:
    def val(tag: str) -> str | None:
        child = lvl.find(qn(tag))
        return None if child is None else child.get(qn("w:val"))

    restart = val("w:lvlRestart")
    legal = lvl.find(qn("w:isLgl"))
    return Level(
        start=_int(val("w:start"), 1),
        fmt=val("w:numFmt") or "decimal",
        text=val("w:lvlText") or "",
        suffix=_SEPARATORS.get(val("w:suff") or "tab", "\t"),
        restart=None if restart is None else _int(restart, 0),
        legal=legal is not None and legal.get(qn("w:val"), "true") not in ("0", "false"),
    )


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value is not None else default
    except ValueError:
        return default
