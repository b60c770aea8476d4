"""Mend the character artefacts of Chinese PDF and OCR text without changing its words.

* Kangxi radicals and CJK compatibility ideographs that some PDF fonts map their glyphs
  to (``⾦`` U+2FA6 for ``金``) become the ordinary ideograph (their NFKC form).
* Half-width ``,;:?!`` between Chinese characters, and half-width brackets around Chinese
  text (``(一)``), become the full-width forms Chinese text uses.
* Spaces inside a structural label (``第 十 二 条``) are removed.

Nothing else changes: no character is added or dropped except those spaces.
"""

from __future__ import annotations

import re
import unicodedata

from rag.core.numbering import NUMERAL_CHAR
from rag.core.script import CJK_MARKS, IDEOGRAPHS

# Ideographs and the CJK punctuation and full-width forms around them.
_CJK = IDEOGRAPHS + CJK_MARKS
# The twelve unified ideographs that live inside the compatibility block: never changed.
_UNIFIED_IN_COMPAT = frozenset(
    "\ufa0e\ufa0f\ufa11\ufa13\ufa14\ufa1f\ufa21\ufa23\ufa24\ufa27\ufa28\ufa29"
)
_RADICAL_OR_COMPAT = re.compile("[\u2e80-\u2fdf\uf900-\ufaff]")
_HALF_PUNCT = re.compile(rf"(?<=[{IDEOGRAPHS}])([,;:?!])(?=[{_CJK}])")
_FULL_PUNCT = {",": "，", ";": "；", ":": "：", "?": "？", "!": "！"}
_HALF_BRACKETS = re.compile(rf"\(([{_CJK}]{{1,30}})\)")
_SPACED_LABEL = re.compile(
    rf"第((?:\s*{NUMERAL_CHAR})+)\s*(条|章|节|编|款|项)(?=\s|[{_CJK}]|$)"
)
_SPACE = re.compile(r"\s+")


def mend_line(text: str) -> str:
    """``text`` (one line of PDF or OCR text) with the artefacts above mended."""
    if _RADICAL_OR_COMPAT.search(text):
        text = _RADICAL_OR_COMPAT.sub(_ideograph, text)
    if "(" in text:
        text = _HALF_BRACKETS.sub(r"（\1）", text)
    text = _HALF_PUNCT.sub(lambda m: _FULL_PUNCT[m.group(1)], text)
    if "第" in text:
        text = _SPACED_LABEL.sub(_join_label, text)
    return text


def is_cjk(ch: str) -> bool:
    """An ideograph, CJK punctuation or a full-width form."""
    return bool(ch) and bool(re.match(f"[{_CJK}]", ch))


def _ideograph(match: re.Match[str]) -> str:
    ch = match.group(0)
    if ch in _UNIFIED_IN_COMPAT:
        return ch
    folded = unicodedata.normalize("NFKC", ch)
    return folded if len(folded) == 1 and re.match(f"[{IDEOGRAPHS}]", folded) else ch


def _join_label(match: re.Match[str]) -> str:
    return f"第{_SPACE.sub('', match.group(1))}{match.group(2)}"
