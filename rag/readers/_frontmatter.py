"""YAML front matter (``---`` … ``---``) at the top of posts and markdown files."""

from __future__ import annotations

import re

import yaml

_OPEN = re.compile(r"\A\s*---[ \t]*\n")
_CLOSE = re.compile(r"^(?:---|\.\.\.)[ \t]*$", re.MULTILINE)
_KEY_VALUE = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")


def split_front_matter(text: str) -> tuple[dict[str, object] | None, str]:
    """Split leading front matter from ``text``; blank lines before ``---`` are allowed.

    Returns ``(None, text)`` when there is no closed front matter block. YAML that does not
    parse falls back to simple ``key: value`` lines, so a stray colon in a title does not
    lose the whole post.
    """
    opening = _OPEN.match(text)
    if not opening:
        return None, text
    closing = _CLOSE.search(text, opening.end())
    if not closing:
        return None, text
    raw = text[opening.end() : closing.start()]
    body = text[closing.end() :]
    return _parse(raw), body


def _parse(raw: str) -> dict[str, object]:
    try:
        data = yaml.safe_load(raw)
    except (yaml.YAMLError, ValueError):  # ValueError: impossible dates like 2022-02-30
        return _parse_lines(raw)
    if isinstance(data, dict):
        return {str(k): v for k, v in data.items()}
    return {}


def _parse_lines(raw: str) -> dict[str, object]:
    data: dict[str, object] = {}
    for line in raw.splitlines():
        match = _KEY_VALUE.match(line)
        if match and match.group(2):
            data[match.group(1)] = match.group(2).strip("'\"")
    return data


def text_field(meta: dict[str, object], *keys: str) -> str | None:
    """The first of ``keys`` holding a non-empty scalar, as a stripped string."""
    for key in keys:
        value = meta.get(key)
        if isinstance(value, (str, int, float)) and str(value).strip():
            return str(value).strip()
    return None


def list_field(meta: dict[str, object], key: str) -> list[str]:
    """A YAML list or a single scalar as a list of non-empty strings."""
    value = meta.get(key)
    items = value if isinstance(value, list) else [value]
    return [str(item).strip() for item in items if item is not None and str(item).strip()]
