"""Words inserted and deleted between two versions of an article, as offsets into each text.

Chinese has no spaces, so the bodies (the text after 第X条) are cut into words with
jieba's dictionary (no HMM guessing, so the same words cut the same way in both
versions) and compared with :class:`difflib.SequenceMatcher`. Edits are then grouped:
a run of at most :data:`JOIN_CHARS` unchanged characters between two edits (的, a comma)
joins them into one, so 向已按期足额缴纳出资的股东 → 对给公司造成的损失 reads as one
replacement, not three.

Every edit is a pair of ranges, one into each document's text; the text shown for it is
always ``document.text[start:end]`` of one version. Concatenating the old ranges of all
edits gives the old body exactly, the new ranges the new body.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass

from rag.changes.units import Article
from rag.index.tokenize import word_spans

OPS = ("equal", "insert", "delete", "replace")
JOIN_CHARS = 2  # unchanged characters between two edits that join them into one
MAX_WORDS = 20_000  # longer bodies are compared as one replacement


@dataclass(frozen=True)
class Edit:
    """One step from the old body to the new: ``old`` range replaced by ``new`` range.

    Offsets are into each version's document text; ``equal`` ranges hold the same words,
    ``insert`` has an empty old range, ``delete`` an empty new one.
    """

    op: str
    old_start: int
    old_end: int
    new_start: int
    new_end: int


@dataclass(frozen=True)
class Diff:
    """The edits between two articles' bodies, in order, covering both completely."""

    old: Article
    new: Article
    edits: tuple[Edit, ...]

    @property
    def changed(self) -> bool:
        """Whether any words differ."""
        return any(e.op != "equal" for e in self.edits)

    def deleted(self) -> list[tuple[int, int]]:
        """Ranges of the old article's text (offsets into ``old.text``) that were deleted."""
        return [(e.old_start - self.old.start, e.old_end - self.old.start)
                for e in self.edits if e.op != "equal" and e.old_end > e.old_start]

    def inserted(self) -> list[tuple[int, int]]:
        """Ranges of the new article's text (offsets into ``new.text``) that were inserted."""
        return [(e.new_start - self.new.start, e.new_end - self.new.start)
                for e in self.edits if e.op != "equal" and e.new_end > e.new_start]

    def runs(self) -> Iterator[tuple[str, str]]:
        """The change as one marked-up text (a "redline"): ``(piece, kind)`` with kind
        ``same``, ``deleted`` or ``inserted``; each piece a slice of one version's text.
        The label comes first: the new one, or ``old → new`` when the article moved."""
        old, new = self.old, self.new
        if old.label != new.label and old.body_start > old.start:
            yield old.text[:old.body_start - old.start], "deleted"
        if new.body_start > new.start:
            yield new.text[:new.body_start - new.start], "same" if old.label == new.label \
                else "inserted"
        for edit in self.edits:
            removed = old.text[edit.old_start - old.start:edit.old_end - old.start]
            added = new.text[edit.new_start - new.start:edit.new_end - new.start]
            if edit.op == "equal":
                yield added, "same"
                continue
            if removed:
                yield removed, "deleted"
            if added:
                yield added, "inserted"


def _words(text: str, offset: int) -> list[tuple[str, int, int]]:
    """(word, start, end) with document offsets; white space runs are words too."""
    return [(w, offset + s, offset + e) for w, s, e in word_spans(text)]


def diff_articles(old: Article, new: Article) -> Diff:
    """The word-level edits from ``old``'s body to ``new``'s body (labels aside)."""
    a, b = _words(old.body, old.body_start), _words(new.body, new.body_start)
    if len(a) > MAX_WORDS or len(b) > MAX_WORDS:
        op = "equal" if old.body == new.body else "replace"
        return Diff(old, new, (Edit(op, old.body_start, old.end, new.body_start, new.end),))
    matcher = difflib.SequenceMatcher(None, [w for w, _, _ in a], [w for w, _, _ in b],
                                      autojunk=False)
    edits = []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        old_start = a[i1][1] if i1 < len(a) else old.end
        old_end = a[i2 - 1][2] if i2 > i1 else old_start
        new_start = b[j1][1] if j1 < len(b) else new.end
        new_end = b[j2 - 1][2] if j2 > j1 else new_start
        edits.append(Edit(op, old_start, old_end, new_start, new_end))
    return Diff(old, new, tuple(_grouped(edits)))


def _grouped(edits: list[Edit]) -> list[Edit]:
    """Join edits separated by a short unchanged run into one replacement."""
    out: list[Edit] = []
    for edit in edits:
        if (edit.op != "equal" and len(out) >= 2 and out[-2].op != "equal"
                and out[-1].op == "equal"
                and out[-1].new_end - out[-1].new_start <= JOIN_CHARS):
            out[-2:] = [_join(out[-2], edit)]
        elif edit.op != "equal" and out and out[-1].op != "equal":
            out[-1] = _join(out[-1], edit)
        else:
            out.append(edit)
    return out


def _join(first: Edit, last: Edit) -> Edit:
    old_changed = last.old_end > first.old_start
    new_changed = last.new_end > first.new_start
    op = "replace" if old_changed and new_changed else ("delete" if old_changed else "insert")
    return Edit(op, first.old_start, last.old_end, first.new_start, last.new_end)
