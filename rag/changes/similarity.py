"""How alike two article texts are: cosine of tf-idf weighted character bigrams.

Chinese has no spaces, and an amended article keeps most of its words but not their
segmentation (jieba may cut 公司章程中规定 and 公司章程规定 differently), so texts are
compared by character bigrams of their letters and digits (punctuation and spaces
dropped). Bigrams are weighted by ``(1 + log tf) * idf``, with the idf taken over the
articles of both versions: 公司 or 股东 occur in most articles of the Company Law and
say little about which article is which; 出资期限 says a lot.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
from scipy import sparse

_NOT_WORD = re.compile(r"\W+")
_BLOCK_CELLS = 2_000_000  # similarity cells computed at once (memory stays small)


def bigrams(text: str) -> Counter[str]:
    """Character bigrams of ``text``'s letters and digits (one unigram for one letter)."""
    letters = _NOT_WORD.sub("", text)
    if len(letters) == 1:
        return Counter([letters])
    return Counter(letters[i:i + 2] for i in range(len(letters) - 1))


def _matrix(counts: Sequence[Counter[str]], vocabulary: dict[str, int],
            idf: np.ndarray) -> sparse.csr_matrix:
    rows, cols, values = [], [], []
    for row, grams in enumerate(counts):
        for gram, tf in grams.items():
            col = vocabulary[gram]
            rows.append(row)
            cols.append(col)
            values.append((1.0 + math.log(tf)) * idf[col])
    matrix = sparse.csr_matrix((np.asarray(values, np.float64), (rows, cols)),
                               shape=(len(counts), len(vocabulary)))
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix)


def similar_pairs(
    old: Sequence[str], new: Sequence[str], *, floor: float
) -> dict[tuple[int, int], float]:
    """``{(i, j): cosine}`` for every pair of ``old[i]`` and ``new[j]`` at least ``floor``
    alike (0..1). Computed in blocks of rows, so long documents stay within memory."""
    if not old or not new:
        return {}
    counts_old = [bigrams(t) for t in old]
    counts_new = [bigrams(t) for t in new]
    df: Counter[str] = Counter()
    for grams in (*counts_old, *counts_new):
        df.update(grams.keys())
    vocabulary = {gram: n for n, gram in enumerate(df)}
    total = len(old) + len(new)
    idf = np.array([math.log((1 + total) / (1 + df[g])) + 1.0 for g in vocabulary])
    a = _matrix(counts_old, vocabulary, idf)
    b = _matrix(counts_new, vocabulary, idf).T.tocsc()
    pairs: dict[tuple[int, int], float] = {}
    step = max(1, _BLOCK_CELLS // len(new))
    for first in range(0, len(old), step):
        block = (a[first:first + step] @ b).tocoo()
        keep = block.data >= floor
        for i, j, value in zip(block.row[keep], block.col[keep], block.data[keep],
                               strict=True):
            pairs[(first + int(i), int(j))] = min(1.0, float(value))
    return pairs
