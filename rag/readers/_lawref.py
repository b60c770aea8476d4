"""LawRefBook statute markdown: ``# title``, history lines, ``<!-- INFO END -->``, body."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from rag.readers._frontmatter import split_front_matter
from rag.readers._lawdb import LawRow, find_db, load_index
from rag.readers._markdown import inline_text, markdown_blocks, strip_comments
from rag.readers._text import Block, FormatError, Parsed, cn_date

INFO_END = "<!-- INFO END -->"
_DATED_STEM = re.compile(r"^(.*?)\s*\((\d{4}-\d{2}-\d{2})\)$")
_TITLE = re.compile(r"^#[ \t]+(.*)$")
_EFFECTIVE_ONLY = re.compile(r"^[(（]?自?\s*\d{4}年\d{1,2}月\d{1,2}日\s*起?\s*施行[)）]?$")
_LEVEL_KINDS = {
    "法律": "law",
    "宪法": "law",
    "行政法规": "regulation",
    "部门规章": "regulation",
    "司法解释": "judicial_interpretation",
}
_FOLDER_KINDS = {
    "司法解释": "judicial_interpretation",
    "行政法规": "regulation",
    "部门规章": "regulation",
}
_ORGAN = re.compile(r"(?:院|部|委员会|委|署|局|厅|银行|中央|政府|办公室)$")
_ISSUER_PREFIX = re.compile(r"^(.{2,60}?)关于")


@dataclass
class _Preamble:
    title: str | None = None
    subtitle: str | None = None
    history: list[str] = field(default_factory=list)


def is_lawrefbook(text: str) -> bool:
    return INFO_END in text


def read_lawrefbook(text: str, path: Path, *, today: date) -> Parsed:
    """A LawRefBook statute file; metadata joined from the nearest ``db.sqlite3``."""
    _, text = split_front_matter(text)
    head, _, body = text.partition(INFO_END)
    preamble = _parse_preamble(head)
    name, file_date = split_dated_stem(path.stem)
    title = preamble.title or name
    lead = [Block(line) for line in (title, preamble.subtitle, *preamble.history) if line]
    blocks = markdown_blocks(body, heading_shift=1)
    if not blocks:
        raise FormatError("statute file has no text after <!-- INFO END -->")
    version = file_date or _history_version(preamble.history)
    parsed = Parsed(
        title=title,
        blocks=[*lead, *blocks],
        kind=_FOLDER_KINDS.get(_top_folder(path), "law"),
        date=version,
        version=version,
        subtitle=preamble.subtitle,
        history=tuple(preamble.history),
        valid_from=_history_effective(preamble.history),
        extra={"format": "lawrefbook"},
        lead_blocks=len(lead),
    )
    _apply_db(parsed, path, name=name, file_date=file_date, today=today)
    parsed.issuer = _issuer(title, path)
    return parsed


def split_dated_stem(stem: str) -> tuple[str, str | None]:
    """``证券法(2019-12-28)`` → (``证券法``, ``2019-12-28``); undated stems unchanged."""
    match = _DATED_STEM.match(stem)
    return (match.group(1), match.group(2)) if match else (stem, None)


def _parse_preamble(head: str) -> _Preamble:
    preamble = _Preamble()
    for raw in strip_comments(head).split("\n"):
        title = _TITLE.match(raw.strip())
        line = inline_text(title.group(1) if title else raw)
        if not line:
            continue
        if title and preamble.title is None:
            preamble.title = line
        elif title and preamble.subtitle is None:
            preamble.subtitle = line
        else:
            preamble.history.append(line)
    return preamble


def _history_version(history: list[str]) -> str | None:
    """Date of the last dated history line, skipping lines that only say when it takes effect."""
    dated = [(line, cn_date(line)) for line in history]
    dated = [(line, iso) for line, iso in dated if iso]
    enacted = [iso for line, iso in dated if not _EFFECTIVE_ONLY.match(line)]
    if enacted:
        return enacted[-1]
    return dated[-1][1] if dated else None


def _history_effective(history: list[str]) -> str | None:
    effective = [cn_date(line) for line in history if _EFFECTIVE_ONLY.match(line)]
    return effective[-1] if effective else None


def _apply_db(
    parsed: Parsed, path: Path, *, name: str, file_date: str | None, today: date
) -> None:
    db = find_db(path)
    index = load_index(db) if db else None
    if index is None:
        return
    folder = _relative_folder(path, index.root)
    row = index.find(name, publish=file_date, folder=folder)
    if row is None:
        return
    parsed.kind = _LEVEL_KINDS.get(row.level, "other")
    parsed.valid_from = row.valid_from or parsed.valid_from
    parsed.status = _status(row, parsed.valid_from, today=today)
    parsed.extra["level"] = row.level


def _status(row: LawRow, valid_from: str | None, *, today: date) -> str:
    if row.expired:
        return "repealed"
    if valid_from and valid_from > today.isoformat():
        return "not_yet_in_force"
    return "in_force"


def _relative_folder(path: Path, root: Path) -> str:
    try:
        return path.resolve().parent.relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.parent.name


def _top_folder(path: Path) -> str:
    """The category folder: the parent, or the grandparent for 部门规章/<ministry>/."""
    parent = path.parent
    if parent.parent.name in _FOLDER_KINDS:
        return parent.parent.name
    return parent.name


def _issuer(title: str, path: Path) -> str | None:
    """Issuer when obvious: ``最高人民法院、最高人民检察院关于…`` or 部门规章/<ministry>/."""
    if path.parent.parent.name == "部门规章":
        return path.parent.name
    match = _ISSUER_PREFIX.match(title)
    if not match:
        return None
    organs = match.group(1).split("、")
    return match.group(1) if all(_ORGAN.search(organ) for organ in organs) else None
