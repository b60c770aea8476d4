"""Cross-references inside clause text, resolved to the clauses they name.

依照本法第五十三条 → this document's 第五十三条; 刑法第一百八十二条第一款 / 《中华人民共和国
证券法》第一百九十一条 → that document's article, when it is indexed (the version preferred
today). Used to offer referenced clauses beside a quote, and as a retrieval signal: a
judicial interpretation that ranks high points at the statute article it interprets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

from rag.clauses import Clause, Span
from rag.documents import Document
from rag.lookup import aliases
from rag.numerals import CN_NUMERAL_CHARS, article_label, cn_to_int
from rag.versions import title_key, version_table

_NUM = rf"[0-9{CN_NUMERAL_CHARS}]+"
_REF = re.compile(
    rf"(?:《(?P<title>[^》]{{2,60}})》|(?P<self>本法|本条例|本规定|本办法|本解释|本决定|本细则)"
    rf"|(?P<short>[\u4e00-\u9fff]{{1,16}}?法典?))?"
    rf"第(?P<num>{_NUM})条(?:之(?P<sub>[{CN_NUMERAL_CHARS}]+))?"
)


class References:
    """Resolves references for one set of documents and clauses (build once per index)."""

    def __init__(self, documents: Iterable[Document], clauses: list[Clause]) -> None:
        self.documents = {d.doc_id: d for d in documents}
        self.clauses = clauses

    @cached_property
    def _families(self) -> dict[str, list[str]]:
        """Normalised title → its documents, versions in force first.

        One title can be several documents: versions of a law, and the parts a code is
        published in (民法典 总则, 合同编, … are separate files); 民法典第五百八十四条 is in
        whichever of them has that article.
        """
        preferred = version_table(self.documents.values())
        families: dict[str, list[str]] = {}
        for doc in sorted(self.documents.values(),
                          key=lambda d: (not preferred[d.doc_id].preferred, d.doc_id)):
            families.setdefault(title_key(doc.title), []).append(doc.doc_id)
        return families

    @cached_property
    def _by_alias(self) -> dict[str, str]:
        """A name a clause may use (证券法, 中华人民共和国证券法) → its normalised title."""
        return {name: title_key(doc.title)
                for doc in sorted(self.documents.values(), key=lambda d: d.doc_id)
                for name in aliases(doc)}

    @cached_property
    def _by_label(self) -> dict[tuple[str, str], int]:
        table: dict[tuple[str, str], int] = {}
        for row, clause in enumerate(self.clauses):
            table.setdefault((clause.doc_id, clause.label), row)
        return table

    def _family(self, name: str) -> list[str]:
        """The documents a (possibly preceded-by-other-words) law name refers to."""
        for start in range(len(name)):
            found = self._by_alias.get(name[start:])
            if found:
                return self._families[found]
        return []

    def _own(self, doc_id: str) -> list[str]:
        """Where 本法第X条 can be: this document first, then others of its title."""
        family = self._families[title_key(self.documents[doc_id].title)]
        return [doc_id] + [d for d in family if d != doc_id]

    def rows(self, clause: Clause) -> list[int]:
        """Rows of the clauses ``clause`` refers to, in order of mention, once each."""
        found: list[int] = []
        for match in _REF.finditer(clause.text):
            if match.start() == 0:
                continue  # the clause's own label
            title, short = match.group("title"), match.group("short")
            if short and short.endswith("本法"):
                places = self._own(clause.doc_id)
            elif title or short:
                places = self._family(title or short or "")
            elif match.group("self") or self._bare_is_local(clause, match):
                places = self._own(clause.doc_id)
            else:
                continue
            try:
                label = article_label(match.group("num"), match.group("sub"))
            except ValueError:
                continue
            row = next((r for r in (self._by_label.get((d, label)) for d in places)
                        if r is not None), None)
            if row is not None and row not in found and self.clauses[row].unit_id != clause.unit_id:
                found.append(row)
        return found

    @staticmethod
    def _bare_is_local(clause: Clause, match: re.Match[str]) -> bool:
        """A bare 第X条 (依照第五十三条的规定) in a statute means the same statute."""
        return clause.kind == "article" and match.start() > 0


# --------------------------------------------------------- references inside one article

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
