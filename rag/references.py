"""Cross-references inside clause text, resolved to the clauses they name.

依照本法第五十三条 → this document's 第五十三条; 刑法第一百八十二条第一款 / 《中华人民共和国
证券法》第一百九十一条 → that document's article, when it is indexed (the version preferred
today). Used to offer referenced clauses beside a quote, and as a retrieval signal: a
judicial interpretation that ranks high points at the statute article it interprets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cached_property

from rag.clauses import Clause
from rag.documents import Document
from rag.lookup import aliases
from rag.numerals import CN_NUMERAL_CHARS, article_label
from rag.versions import version_table

_NUM = rf"[0-9{CN_NUMERAL_CHARS}]+"
_REF = re.compile(
    rf"(?:《(?P<title>[^》]{{2,60}})》|(?P<self>本法|本条例|本规定|本办法|本解释|本决定|本细则)"
    rf"|(?P<short>[\u4e00-\u9fff]{{1,16}}?法))?"
    rf"第(?P<num>{_NUM})条(?:之(?P<sub>[{CN_NUMERAL_CHARS}]+))?"
)


class References:
    """Resolves references for one set of documents and clauses (build once per index)."""

    def __init__(self, documents: Iterable[Document], clauses: list[Clause]) -> None:
        self.documents = {d.doc_id: d for d in documents}
        self.clauses = clauses

    @cached_property
    def _by_alias(self) -> dict[str, str]:
        preferred = version_table(self.documents.values())
        table: dict[str, str] = {}
        for doc in sorted(self.documents.values(), key=lambda d: d.doc_id):
            for name in aliases(doc):
                if name not in table or preferred[doc.doc_id].preferred:
                    table[name] = doc.doc_id
        return table

    @cached_property
    def _by_label(self) -> dict[tuple[str, str], int]:
        table: dict[tuple[str, str], int] = {}
        for row, clause in enumerate(self.clauses):
            table.setdefault((clause.doc_id, clause.label), row)
        return table

    def _document(self, name: str) -> str | None:
        """The doc_id a (possibly preceded-by-other-words) law name refers to."""
        for start in range(len(name)):
            found = self._by_alias.get(name[start:])
            if found:
                return found
        return None

    def rows(self, clause: Clause) -> list[int]:
        """Rows of the clauses ``clause`` refers to, in order of mention, once each."""
        found: list[int] = []
        for match in _REF.finditer(clause.text):
            if match.start() == 0:
                continue  # the clause's own label
            title, short = match.group("title"), match.group("short")
            doc_id: str | None
            if short and short.endswith("本法"):
                doc_id = clause.doc_id
            elif title or short:
                doc_id = self._document(title or short or "")
                if doc_id is None:
                    continue
            elif match.group("self") or self._bare_is_local(clause, match):
                doc_id = clause.doc_id
            else:
                continue
            try:
                label = article_label(match.group("num"), match.group("sub"))
            except ValueError:
                continue
            row = self._by_label.get((doc_id, label))
            if row is not None and row not in found and self.clauses[row].unit_id != clause.unit_id:
                found.append(row)
        return found

    @staticmethod
    def _bare_is_local(clause: Clause, match: re.Match[str]) -> bool:
        """A bare 第X条 (依照第五十三条的规定) in a statute means the same statute."""
        return clause.kind == "article" and match.start() > 0
