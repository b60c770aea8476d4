"""jieba's dictionary loaded one first character at a time, for a quick first question.

jieba keeps its word → frequency table (~600,000 entries with the prefixes it adds) in one
marshal file it loads whole: ~0.4 s of a cold ``rag ask`` that tokenizes one question. The
same table, split by first character, is written once beside the models
(``jieba-<version>-<digest>.dict``: a header with the total and where each character's
part is, then the parts); :func:`install` gives jieba a table that reads the parts its
lookups reach. After :data:`FULL_AFTER` parts (a build tokenizing a corpus) the whole table
replaces it, so bulk work runs on a plain dict. The frequencies are jieba's own, so words
are cut exactly as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
import os
import threading
from pathlib import Path
from typing import Any

FORMAT = b"rag-jieba-dict/1\n"
FULL_AFTER = 400  # characters looked up before the whole table is loaded


def cache_path(folder: Path, dictionary: Path, version: str) -> Path:
    """The split table of ``dictionary`` (its path, size and mtime name the file)."""
    found = dictionary.stat()
    key = f"{dictionary.resolve()}\0{found.st_size}\0{found.st_mtime_ns}\0{version}"
    return folder / f"jieba-{version}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.dict"


def write_table(path: Path, freq: dict[str, int], total: int) -> None:
    """Write jieba's table ``freq`` split by first character (atomically)."""
    parts: dict[str, dict[str, int]] = {}
    for word, count in freq.items():
        parts.setdefault(word[:1], {})[word] = count
    blobs = {char: marshal.dumps(part) for char, part in parts.items()}
    places, at = {}, 0
    for char, blob in blobs.items():
        places[char] = (at, len(blob))
        at += len(blob)
    header = marshal.dumps((total, places))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as handle:
        handle.write(FORMAT + len(header).to_bytes(8, "little") + header)
        for blob in blobs.values():
            handle.write(blob)
    os.replace(tmp, path)


class LazyFreq(dict):  # type: ignore[type-arg]
    """jieba's ``FREQ`` read part by part from a split table; becomes the whole table in
    ``owner.FREQ`` once :data:`FULL_AFTER` parts were read."""

    def __init__(self, data: bytes, start: int, places: dict[str, tuple[int, int]],
                 owner: Any) -> None:
        super().__init__()
        self._data = data
        self._start = start
        self._places = places
        self._owner = owner
        self._read: set[str] = set()
        self._lock = threading.Lock()

    def _fill(self, word: str) -> None:
        char = word[:1]
        if char in self._read:
            return
        with self._lock:  # a part is marked read only once it is in (threads answer at once)
            if char in self._read:
                return
            place = self._places.get(char)
            if place is not None:
                at = self._start + place[0]
                self.update(marshal.loads(self._data[at:at + place[1]]))
            self._read.add(char)
            if len(self._read) >= FULL_AFTER:
                self._owner.FREQ = self.whole()

    def whole(self) -> dict[str, int]:
        """The whole table as a plain dict."""
        out: dict[str, int] = {}
        for offset, size in self._places.values():
            at = self._start + offset
            out.update(marshal.loads(self._data[at:at + size]))
        out.update(self)  # words added since (jieba.add_word)
        return out

    def __contains__(self, word: object) -> bool:
        if isinstance(word, str):
            self._fill(word)
        return super().__contains__(word)

    def __getitem__(self, word: str) -> int:
        self._fill(word)
        return int(super().__getitem__(word))

    def get(self, word: str, default: Any = None) -> Any:  # type: ignore[override]
        self._fill(word)
        return super().get(word, default)

    def __setitem__(self, word: str, count: int) -> None:
        self._fill(word)
        super().__setitem__(word, count)


def read_table(path: Path, owner: Any) -> tuple[LazyFreq, int] | None:
    """The split table at ``path`` for tokenizer ``owner``, None when absent or not ours."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if not data.startswith(FORMAT):
        return None
    try:
        size = int.from_bytes(data[len(FORMAT):len(FORMAT) + 8], "little")
        start = len(FORMAT) + 8
        total, places = marshal.loads(data[start:start + size])
    except (ValueError, EOFError, TypeError):
        return None
    return LazyFreq(data, start + size, places, owner), int(total)


def install(tokenizer: Any, folder: Path) -> bool:
    """Give jieba's ``tokenizer`` (not yet initialised) the split table kept in ``folder``,
    writing it there first from jieba's own table if missing (when ``folder`` can be
    written). False when jieba was initialised the usual way instead."""
    from importlib import resources

    import jieba

    dictionary = Path(tokenizer.dictionary) if tokenizer.dictionary else \
        Path(str(resources.files("jieba").joinpath("dict.txt")))
    path = cache_path(folder, dictionary, jieba.__version__)
    found = read_table(path, tokenizer)
    if found is None:
        tokenizer.initialize()
        with contextlib.suppress(OSError):  # a read-only folder: jieba's own cache serves
            write_table(path, tokenizer.FREQ, tokenizer.total)
        return False
    with tokenizer.lock:
        if not tokenizer.initialized:
            tokenizer.FREQ, tokenizer.total = found
            tokenizer.initialized = True
    return True
