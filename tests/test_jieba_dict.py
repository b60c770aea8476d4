"""jieba's dictionary read by first character: the same words as jieba's own table, and
the whole table once a build tokenizes much."""

from __future__ import annotations

from pathlib import Path

import jieba

from rag.index import jieba_dict
from rag.index.jieba_dict import LazyFreq, install

from .conftest import CORPUS, DATA


def texts() -> list[str]:
    questions = [q for q in (DATA / "parity_questions.txt").read_text("utf-8").splitlines() if q]
    law = (CORPUS / "lawrefbook" / "民法商法" / "证券法(2019-12-28).md").read_text("utf-8")
    return questions + [line for line in law.splitlines() if line.strip()][:300]


def test_the_split_table_cuts_words_as_jieba_does(tmp_path: Path) -> None:
    own = jieba.Tokenizer()
    assert install(own, tmp_path) is False  # first: jieba's table, written split beside
    assert type(own.FREQ) is dict and list(tmp_path.glob("jieba-*.dict"))
    lazy = jieba.Tokenizer()
    assert install(lazy, tmp_path) is True
    assert isinstance(lazy.FREQ, LazyFreq) and lazy.total == own.total
    question = "利用内幕消息炒股会被罚多少钱？"
    assert lazy.lcut_for_search(question) == own.lcut_for_search(question)
    assert len(lazy.FREQ) < len(own.FREQ) // 20  # only the parts this question reached
    for text in texts():
        assert lazy.lcut_for_search(text) == own.lcut_for_search(text), text
        assert lazy.lcut(text) == own.lcut(text), text
        assert list(lazy.tokenize(text, HMM=False)) == list(own.tokenize(text, HMM=False))
    assert type(lazy.FREQ) is dict and lazy.FREQ == own.FREQ  # a build: the whole table


def test_another_dictionary_file_gets_another_table(tmp_path: Path) -> None:
    words = tmp_path / "dict.txt"
    words.write_text("内幕交易 10 n\n", encoding="utf-8")
    first = jieba_dict.cache_path(tmp_path, words, jieba.__version__)
    words.write_text("内幕交易 200 n\n", encoding="utf-8")
    assert jieba_dict.cache_path(tmp_path, words, jieba.__version__) != first
    (tmp_path / "bad.dict").write_bytes(b"not a table")
    assert jieba_dict.read_table(tmp_path / "bad.dict", jieba.Tokenizer()) is None
