"""How document titles are normalised: grouping versions, matching names people use."""

from __future__ import annotations

import re
from functools import lru_cache

_SPACE = re.compile(r"\s+")
# title marks and spaces carry no meaning when a title is matched against a question
TITLE_NOISE = re.compile(r"[《》〈〉\s]")
_YEAR_SUFFIX = re.compile(r"[（(]\d{4}.*?[)）]$")
PRC = "中华人民共和国"


def title_key(title: str) -> str:
    """Normalised title used to group versions and to match gold data: 《》, spaces and
    中华人民共和国 dropped."""
    key = _SPACE.sub("", title).replace("《", "").replace("》", "")
    return key.replace(PRC, "")


def criminal_code(title: str) -> bool:
    """Whether ``title`` names a criminal code (刑法 and its amendments): its articles
    define crimes, not duties."""
    return title_key(title).endswith(("刑法", "刑法修正案")) or "刑法修正案" in title


def compact(text: str) -> str:
    """``text`` without title marks and spaces, for matching names inside questions."""
    return TITLE_NOISE.sub("", text)


@lru_cache(maxsize=65536)
def title_aliases(title: str) -> frozenset[str]:
    """Names a question or a clause may use for a document titled ``title``: the full
    title, without 中华人民共和国, without a trailing year note, all without 《》."""
    full = compact(title)
    names = {full}
    # 证券法 for 中华人民共和国证券法, and 最高人民法院关于适用《民法典》…的解释 (as people
    # cite it) for 最高人民法院关于适用中华人民共和国民法典…的解释 (as it is titled)
    names.add(full.replace(PRC, ""))
    names.add(_YEAR_SUFFIX.sub("", full))
    return frozenset(n for n in names if len(n) >= 2)
