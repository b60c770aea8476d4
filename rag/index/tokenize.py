"""Tokenizers for the BM25 channel: jieba for Chinese runs, word tokens for Latin script.

A tokenizer is any callable ``str -> list[str]``; the index stores the tokenizer's name
in its manifest so a query is always tokenized the way the corpus was.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from functools import lru_cache

Tokenizer = Callable[[str], list[str]]

# A run of CJK ideographs, or a Latin/digit word (keeps 2019, e5, ipo, a-shares → a, shares).
_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[A-Za-z]+|\d+(?:\.\d+)?")

# Function words that carry no retrieval signal in statutes or questions. Kept short on
# purpose: legal words such as 不得, 应当, 可以 separate obligations from permissions.
STOPWORDS = frozenset(
    "的 了 和 与 或 及 以及 是 在 对 为 被 把 将 由 从 向 于 之 其 该 这 那 这个 那个 "
    "吗 呢 吧 啊 么 什么 怎么 怎样 如何 哪些 哪个 多少 是否 会 能 要 有 没有 就 都 也 "
    "还 又 而 并 等 个 我 你 他 她 它 我们 你们 他们 请问 一下 问 "
    "a an the of to in on at by for with from and or is are was were be been being "
    "what which who whom how when where why does do did can could should would will "
    "it its this that these those as about under into than then there any".split()
)

_jieba_lock = threading.Lock()


@lru_cache(maxsize=1)
def _jieba():  # type: ignore[no-untyped-def]
    import jieba

    from rag.index.jieba_dict import install
    from rag.paths import model_cache_dir

    jieba.setLogLevel(logging.WARNING)
    with _jieba_lock:
        if not jieba.dt.initialized:
            install(jieba.dt, model_cache_dir())  # read by first character (~0.4 s less)
    return jieba


def _cjk_tokens(run: str, *, search_mode: bool) -> list[str]:
    jieba = _jieba()
    words = jieba.lcut_for_search(run) if search_mode else jieba.lcut(run)
    return [w for w in words if w.strip()]


def tokenize(
    text: str, *, search_mode: bool = True, stopwords: frozenset[str] = STOPWORDS
) -> list[str]:
    """Split ``text`` into BM25 terms.

    Chinese runs go through jieba (search mode also emits the parts of long words, so
    内幕交易 yields 内幕, 交易 and 内幕交易); Latin words are lower-cased; numbers kept.
    Single CJK characters are kept only when jieba yields nothing longer for them.
    """
    tokens: list[str] = []
    for match in _RUN.finditer(text):
        run = match.group()
        if run[0].isascii():
            word = run.lower()
            if word not in stopwords:
                tokens.append(word)
            continue
        tokens.extend(w for w in _cjk_tokens(run, search_mode=search_mode) if w not in stopwords)
    return tokens


def word_spans(text: str) -> list[tuple[str, int, int]]:
    """``text`` cut into words with jieba's dictionary (no HMM guessing, so the same words
    are cut the same way wherever they occur): (word, start, end), covering all of
    ``text``, punctuation and white space included. For comparing versions, not BM25."""
    return [(w, s, e) for w, s, e in _jieba().tokenize(text, HMM=False)]


TOKENIZERS: dict[str, Tokenizer] = {
    "jieba-search-v1": lambda text: tokenize(text, search_mode=True),
    "jieba-v1": lambda text: tokenize(text, search_mode=False),
}
DEFAULT_TOKENIZER = "jieba-search-v1"


def get_tokenizer(name: str) -> Tokenizer:
    try:
        return TOKENIZERS[name]
    except KeyError:
        raise ValueError(
            f"unknown tokenizer {name!r}; choose one of {sorted(TOKENIZERS)}"
        ) from None
