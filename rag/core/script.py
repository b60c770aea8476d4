"""Which characters are Chinese: the character classes every stage shares."""

from __future__ import annotations

import re

# CJK ideographs, as the body of a regex character class: Extension A, the unified block,
# the compatibility block and the supplementary planes (Extensions B onwards).
IDEOGRAPHS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
# CJK punctuation (、。「」) and the full-width forms (，：０-９), the same way.
CJK_MARKS = "\u3000-\u303f\uff00-\uffef"
# One Chinese character of the common blocks: what says a text is written in Chinese.
CHINESE = re.compile(r"[\u3400-\u9fff]")


def has_chinese(text: str) -> bool:
    """Whether ``text`` holds a Chinese character (a question asked in Chinese)."""
    return CHINESE.search(text) is not None
