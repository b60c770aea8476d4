"""News prose: one clause per paragraph, 一是…二是… and 首先…其次… enumerations split into items."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rag.chunking.lines import Draft, Line, Outline, is_space, line_draft, rstrip
from rag.core.numbering import cn_to_int

# Enumerations in prose: "一是…二是…" and "首先，…其次，…再次，…最后，…".
_ENUM_SHI = re.compile(r"(?P<num>[一二三四五六七八九十]{1,3})是")
_ENUM_ORDER = re.compile(r"(?P<word>首先|其次|再次|最后)[，,]")
_ENUM_ORDER_RANK = {"首先": 1, "其次": 2, "再次": 3, "最后": 4}
# A list marker must follow the line start or one of these (optionally with spaces).
_ENUM_AFTER = frozenset("。；：！？;:!?")


def chunk_prose(lines: list[Line]) -> list[Draft]:
    """One paragraph draft per line; recorded headings form the path."""
    outline = Outline()
    drafts = []
    for line in lines:
        if line.heading is not None:
            outline.push(line.heading.level, line.text)
            continue
        drafts.append(line_draft(line, f"p{line.index}", outline.path, outline.block))
    return drafts


@dataclass(frozen=True)
class _Marker:
    pos: int  # offset in the paragraph text
    rank: int
    label: str
    final: bool = False  # 最后: nothing may follow


def _list_markers(text: str, family: str) -> list[_Marker]:
    """Real list markers of one family in a paragraph (after line start or punctuation)."""
    found = []
    if family == "shi":
        for match in _ENUM_SHI.finditer(text):
            if _marker_position_ok(text, match.start()):
                rank = cn_to_int(match.group("num"))
                found.append(_Marker(match.start(), rank, match.group(0)))
    else:
        for match in _ENUM_ORDER.finditer(text):
            if _marker_position_ok(text, match.start()):
                word = match.group("word")
                found.append(_Marker(match.start(), _ENUM_ORDER_RANK[word], word, word == "最后"))
    return found


def _marker_position_ok(text: str, pos: int) -> bool:
    i = pos - 1
    while i >= 0 and is_space(text[i]):
        i -= 1
    return i < 0 or text[i] in _ENUM_AFTER


def _follows(previous: _Marker, marker: _Marker, family: str) -> bool:
    if family == "shi":
        return marker.rank == previous.rank + 1
    return not previous.final and marker.rank > previous.rank


def _enumeration_chains(texts: list[str | None], family: str) -> list[list[_Marker]]:
    """Per paragraph, the list markers that split it (lists need ≥ 2 items in all).

    A list starts at a first marker (一是/首先) anywhere valid in a paragraph and may
    continue in the following paragraphs when they start with the next marker.
    ``None`` texts break lists.
    """
    chains: list[list[_Marker]] = [[] for _ in texts]
    members: list[int] = []
    last: _Marker | None = None

    def settle() -> None:
        if sum(len(chains[i]) for i in members) < 2:
            for i in members:
                chains[i] = []
        members.clear()

    for i, text in enumerate(texts):
        markers = _list_markers(text, family) if text is not None else []
        chain: list[_Marker] = []
        if (
            last is not None
            and markers
            and markers[0].pos == 0
            and _follows(last, markers[0], family)
        ):
            chain = [markers[0]]
        else:
            settle()
            chain = [m for m in markers if m.rank == 1][:1]
        if not chain:
            last = None
            continue
        for marker in markers:
            if marker.pos > chain[-1].pos and _follows(chain[-1], marker, family):
                chain.append(marker)
        chains[i] = chain
        members.append(i)
        last = chain[-1]
    settle()
    return chains


def split_enumerations(drafts: list[Draft], text: str, *, min_chars: int) -> list[Draft]:
    """Split whole-line paragraphs holding 一是…二是… (or 首先，…) lists into items."""
    result: list[Draft] = []
    run: list[Draft] = []

    def flush() -> None:
        if not run:
            return
        texts: list[str | None] = [text[d.start : d.end] for d in run]
        shi = _enumeration_chains(texts, "shi")
        masked = [None if shi[i] else t for i, t in enumerate(texts)]
        order = _enumeration_chains(masked, "order")
        for i, draft in enumerate(run):
            chain = shi[i] or order[i]
            result.extend(_split_paragraph(draft, chain, text, min_chars) if chain else [draft])
        run.clear()

    for draft in drafts:
        if draft.kind == "paragraph" and draft.whole_line:
            if run and run[-1].block != draft.block:
                flush()
            run.append(draft)
        else:
            flush()
            result.append(draft)
    flush()
    return result


def _split_paragraph(
    draft: Draft, chain: list[_Marker], text: str, min_chars: int
) -> list[Draft]:
    starts = [draft.start + m.pos for m in chain]
    pieces: list[Draft] = []
    intro_end = rstrip(text, draft.start, starts[0])
    if intro_end - draft.start >= max(min_chars, 1):
        pieces.append(replace(draft, end=intro_end, whole_line=False))
    else:
        starts[0] = draft.start
    for k, marker in enumerate(chain):
        end = rstrip(text, starts[k], starts[k + 1]) if k + 1 < len(chain) else draft.end
        pieces.append(
            replace(
                draft,
                local=f"{draft.local}.{k + 1}",
                kind="item",
                label=marker.label,
                start=starts[k],
                end=end,
                whole_line=False,
            )
        )
    return pieces


