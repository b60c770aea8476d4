"""References inside one article (前款, 前两款, 本条第二款, 前项), resolved to its 款 and 项."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.core.clauses import Span
from rag.core.numbering import NUMERAL as _NUM
from rag.core.numbering import cn_to_int

_INNER = re.compile(
    rf"(?P<prev>前(?P<count>[两二三四五六七八九])?款)"
    rf"|(?P<prev_item>前项)"
    rf"|(?<!条)(?P<this>本条)?第(?P<para>{_NUM})款(?!之)"
)


@dataclass(frozen=True)
class InnerMention:
    """前款 / 前两款 / 本条第二款 / 前项 inside an article, and the spans it names."""

    phrase: str
    start: int  # document offsets of the phrase
    end: int
    targets: tuple[Span, ...]


def inner_mentions(spans: Sequence[Span], text: str, offset: int) -> list[InnerMention]:
    """Resolve mentions in ``text`` (at document ``offset``) against an article's spans.

    ``spans`` are all 款 and 项 spans of the article (every part of a split one), so a
    mention in a later part still finds the 款 before it. A mention that names a 款 the
    article does not have is left out rather than guessed.
    """
    paragraphs = [s for s in spans if "." not in s.key and s.key.startswith("p")]
    found: list[InnerMention] = []
    for match in _INNER.finditer(text):
        start, end = offset + match.start(), offset + match.end()
        here = next((i for i, s in enumerate(paragraphs) if s.start <= start < s.end), None)
        targets: list[Span] = []
        if match.group("prev") and here is not None:
            count = cn_to_int(match.group("count")) if match.group("count") else 1
            targets = paragraphs[max(0, here - count):here] if here >= count else []
        elif match.group("prev_item"):
            items = [s for s in spans if s.key.rsplit(".", 1)[-1].startswith("i")]
            current = next((i for i, s in enumerate(items) if s.start <= start < s.end), None)
            targets = [items[current - 1]] if current else []
        elif match.group("para"):
            try:
                number = cn_to_int(match.group("para"))
            except ValueError:
                continue
            if 1 <= number <= len(paragraphs) and number - 1 != here:
                targets = [paragraphs[number - 1]]
        if targets:
            found.append(InnerMention(match.group(), start, end, tuple(targets)))
    return found
