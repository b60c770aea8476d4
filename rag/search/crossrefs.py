"""Cross-references in clause text (依照本法第五十三条), resolved to the clauses they name.

依照本法第五十三条 → this document's 第五十三条; 刑法第一百八十二条第一款 / 《中华人民共和国
证券法》第一百九十一条 → that document's article, when it is indexed (the version preferred
today). Used to offer referenced clauses beside a quote, and as a retrieval signal: a
judicial interpretation that ranks high points at the statute article it interprets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property

from rag.core.clauses import Clause
from rag.core.documents import Document
from rag.core.numbering import article_label, article_pattern
from rag.core.titles import title_aliases, title_key
from rag.core.versions import version_table

_REF = re.compile(
    r"(?:《(?P<title>[^》]{2,60})》|(?P<self>本法|本条例|本规定|本办法|本解释|本决定|本细则)"
    r"|(?P<short>[\u4e00-\u9fff]{1,16}?法典?))?"
    + article_pattern()
)
# English: Article 40 (of this Law), Section 5(2); "of the Companies Act" names another law,
# which is not resolved
_EN_REF = re.compile(
    r"\b(?P<kind>Article|Section)\s+(?P<num>\d+[A-Za-z]?)(?:\(\d+\))*"
    r"(?P<of>\s+of\s+(?P<self>this\s+(?:Law|Act|Regulation|Code|Ordinance|Rules|Measures|"
    r"Decree|Directive))?)?", re.I)


class CrossReferences:
    """Resolves references for one set of documents and clauses (build once per index)."""

    def __init__(self, documents: Iterable[Document], clauses: list[Clause]) -> None:
        self.documents = {d.doc_id: d for d in documents}
        self.clauses = clauses
        self._rows: dict[str, tuple[Clause, tuple[int, ...]]] = {}  # clause id → (it, rows)

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
                for name in title_aliases(doc.title)}

    @cached_property
    def _by_label(self) -> dict[tuple[str, str], int]:
        table: dict[tuple[str, str], int] = {}
        for row, clause in enumerate(self.clauses):
            table.setdefault((clause.doc_id, clause.label), row)
        return table

    @cached_property
    def _by_english_label(self) -> dict[tuple[str, str], int]:
        """(doc_id, 'article 40') → row: English labels compared without case."""
        return {(doc_id, label.casefold()): row
                for (doc_id, label), row in self._by_label.items() if label.isascii()}

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
        """Rows of the clauses ``clause`` refers to, in order of mention, once each
        (remembered per clause: every answer asks again for the clauses it cites)."""
        known = self._rows.get(clause.id)
        if known is not None and known[0] is clause:
            return list(known[1])
        found: list[int] = []
        for row, _, _ in self.mentions(clause):
            if row not in found:
                found.append(row)
        self._rows[clause.id] = (clause, tuple(found))
        return found

    def mentions(self, clause: Clause) -> list[tuple[int, int, int]]:
        """Each resolved reference in ``clause``: (row it names, start, end), the offsets
        of the words (本法第四十条) in ``clause.text``, in order of mention."""
        found: list[tuple[int, int, int]] = []
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
            if row is not None and self.clauses[row].unit_id != clause.unit_id:
                found.append((row, match.start(), match.end()))
        if clause.kind == "article" and clause.label.isascii():
            found.extend(self._english(clause))
            found.sort(key=lambda m: m[1])
        return found

    def _english(self, clause: Clause) -> list[tuple[int, int, int]]:
        """Article 40 / Article 40 of this Law in an English article: this document's."""
        found = []
        for match in _EN_REF.finditer(clause.text):
            if match.start() == 0 or (match.group("of") and not match.group("self")):
                continue  # the clause's own label; another law's article
            label = f"{match.group('kind')} {match.group('num')}".casefold()
            row = self._by_english_label.get((clause.doc_id, label))
            if row is not None and self.clauses[row].unit_id != clause.unit_id:
                found.append((row, match.start(), match.end()))
        return found

    @staticmethod
    def _bare_is_local(clause: Clause, match: re.Match[str]) -> bool:
        """A bare 第X条 (依照第五十三条的规定) in a statute means the same statute."""
        return clause.kind == "article" and match.start() > 0
