"""Finishing drafts into clauses: merge short lines, make ids unique, split long ones into parts."""

from __future__ import annotations

import re
from dataclasses import replace

from rag.chunking.lines import Draft, is_space, rstrip
from rag.core.clauses import Clause
from rag.core.documents import Document

# Over-long clauses: where a part may end.
_SENTENCE_END = re.compile(r"[。！？；]|[.!?;](?=\s)")
_PHRASE_END = re.compile(r"[，,、：:]")
_CLOSERS = "”’」』）)》〉\"'"


def _mergeable(draft: Draft) -> bool:
    return draft.kind in ("paragraph", "item")


def merge_short(drafts: list[Draft], text: str, *, min_chars: int) -> list[Draft]:
    """Whole lines shorter than ``min_chars`` join the next paragraph/item of their block
    (or the previous one when nothing follows)."""
    result: list[Draft] = []
    pending: list[Draft] = []

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


def _merge(members: list[Draft], text: str) -> Draft:
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


def make_unique(drafts: list[Draft]) -> None:
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


def finish(draft: Draft, doc: Document, *, max_chars: int) -> list[Clause]:
    """The draft as a clause, or as ``.part{k}`` clauses when longer than ``max_chars``."""
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
        bounds.append((pos, rstrip(text, pos, cut)))
        pos = cut
        while pos < n and is_space(text[pos]):
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

