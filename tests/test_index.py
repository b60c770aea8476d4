"""The index on disk: round trip, incremental builds, refusal of foreign or broken indexes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from rag.core.filters import Filters
from rag.encoders import HashingEncoder
from rag.index import EmbeddedBackend, StoreError, index_paths
from rag.index.folder import current_generation, generations
from rag.search import open_index

from .conftest import small_corpus


class CountingEncoder(HashingEncoder):
    """A hashing encoder that records how many passages it embedded."""

    def __init__(self, dimension: int = 64) -> None:
        super().__init__(dimension=dimension)
        self.passages_seen = 0

    def encode_passages(self, texts, *, batch_size=32, progress=False):  # type: ignore[no-untyped-def, override]
        self.passages_seen += len(texts)
        return super().encode_passages(texts, batch_size=batch_size, progress=progress)


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    """A small writable corpus: two statutes, the policy document and one news post."""
    return small_corpus(tmp_path / "corpus")


def build(corpus: Path, index_dir: Path, encoder: HashingEncoder):  # type: ignore[no-untyped-def]
    return index_paths([corpus], index=index_dir, encoder=encoder)


def test_round_trip_search_matches_a_fresh_build(corpus: Path, tmp_path: Path) -> None:
    encoder = HashingEncoder(dimension=64)
    report = build(corpus, tmp_path / "index", encoder)
    index = open_index(tmp_path / "index", encoder=encoder)
    assert report.clauses == len(index.clauses) > 300
    assert report.embedded == report.clauses
    query = encoder.encode_queries(["内幕信息的知情人"])[0]
    found = index.backend.search_dense(query, 5)
    stored = EmbeddedBackend(tmp_path / "index").vectors
    expected = np.argsort(-(stored @ query), kind="stable")[:5]
    assert set(found.rows.tolist()) == set(expected.tolist())
    # vectors are scanned as float16: scores agree with float32 to about 1e-4
    assert np.allclose(found.scores, (stored @ query)[found.rows], atol=1e-3)
    # every stored clause resolves to its verbatim text without re-reading sources
    for clause in index.clauses:
        assert index.documents[clause.doc_id].text[clause.start:clause.end] == clause.text
    found = index.backend.search_keyword("内幕信息的知情人包括哪些？发行人的董事、监事算不算", 3)
    assert index.clauses[found.rows[0]].label == "第五十一条"


def test_manifest_records_model_corpus_and_files(corpus: Path, tmp_path: Path) -> None:
    encoder = HashingEncoder(dimension=64)
    build(corpus, tmp_path / "index", encoder)
    manifest = open_index(tmp_path / "index", encoder=encoder).manifest
    assert manifest["model"] == {
        "name": "hashing", "identity": encoder.identity, "dimension": 64, "normalized": True,
    }
    assert manifest["format_version"] == 1 and manifest["package_version"]
    assert len(str(manifest["corpus_fingerprint"])) == 32
    assert {"clauses.jsonl", "documents.jsonl", "vectors.npy"} <= set(manifest["files"])  # type: ignore[arg-type]
    assert manifest["created"]


def test_rebuild_with_nothing_changed_embeds_nothing(corpus: Path, tmp_path: Path) -> None:
    encoder = CountingEncoder()
    first = build(corpus, tmp_path / "index", encoder)
    generation = current_generation(tmp_path / "index")
    seen = encoder.passages_seen
    second = build(corpus, tmp_path / "index", encoder)
    assert encoder.passages_seen == seen
    assert (second.embedded, second.reused, second.removed) == (0, first.clauses, 0)
    assert not second.changed
    assert current_generation(tmp_path / "index") == generation


def test_editing_one_document_reembeds_only_its_changed_clauses(
    corpus: Path, tmp_path: Path
) -> None:
    encoder = CountingEncoder()
    build(corpus, tmp_path / "index", encoder)
    law = corpus / "laws" / "证券法(2019-12-28).md"
    text = law.read_text(encoding="utf-8")
    edited = text.replace("第三条 证券的发行、交易活动，必须遵循公开、公平、公正的原则。",
                          "第三条 证券的发行、交易活动，必须遵循公开、公平、公正和诚信的原则。")
    assert edited != text
    law.write_text(edited, encoding="utf-8")
    before = encoder.passages_seen
    report = build(corpus, tmp_path / "index", encoder)
    assert encoder.passages_seen - before == 1 == report.embedded
    assert report.removed == 1
    index = open_index(tmp_path / "index", encoder=encoder)
    art3 = index.clauses[index.row_of["证券法-2019-12-28#art3"]]
    assert "诚信" in art3.text


def test_changed_metadata_alone_publishes_a_new_index_without_embedding(
    corpus: Path, tmp_path: Path
) -> None:
    """A corrected date or status changes no passage, but the index must not keep the old one."""
    encoder = CountingEncoder()
    build(corpus, tmp_path / "index", encoder)
    meta = corpus / "001_fac9b76a4238144e.txt.meta.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("2021-07-06", "2021-07-07"),
                    encoding="utf-8")
    before = encoder.passages_seen
    report = build(corpus, tmp_path / "index", encoder)
    assert report.changed and report.embedded == 0 == encoder.passages_seen - before
    index = open_index(tmp_path / "index", encoder=encoder)
    assert index.documents["001_fac9b76a4238144e"].date == "2021-07-07"


def test_deleting_a_document_removes_its_clauses(corpus: Path, tmp_path: Path) -> None:
    encoder = CountingEncoder()
    first = build(corpus, tmp_path / "index", encoder)
    (corpus / "003_09ea28eacbf07f88.txt").unlink()
    report = build(corpus, tmp_path / "index", encoder)
    index = open_index(tmp_path / "index", encoder=encoder)
    assert report.embedded == 0
    assert report.removed == first.clauses - report.clauses > 0
    assert not any(c.doc_id == "003_09ea28eacbf07f88" for c in index.clauses)
    assert "003_09ea28eacbf07f88" not in index.documents


def test_loading_with_another_model_is_refused_with_rebuild_advice(
    corpus: Path, tmp_path: Path
) -> None:
    build(corpus, tmp_path / "index", HashingEncoder(dimension=64))
    with pytest.raises(StoreError, match=r"built with model hashing.*rag index"):
        open_index(tmp_path / "index", encoder=HashingEncoder(dimension=32))


def test_a_different_model_rebuilds_every_vector(corpus: Path, tmp_path: Path) -> None:
    first = build(corpus, tmp_path / "index", HashingEncoder(dimension=64))
    other = CountingEncoder(dimension=32)
    report = build(corpus, tmp_path / "index", other)
    assert report.embedded == other.passages_seen == first.clauses
    assert EmbeddedBackend(tmp_path / "index").vectors.shape[1] == 32


@pytest.mark.parametrize("damage", ["truncate", "flip", "delete", "pointer"])
def test_damaged_index_files_are_detected_not_served(
    corpus: Path, tmp_path: Path, damage: str
) -> None:
    encoder = HashingEncoder(dimension=64)
    build(corpus, tmp_path / "index", encoder)
    folder = current_generation(tmp_path / "index")
    assert folder is not None
    vectors = folder / "vectors.npy"
    if damage == "truncate":
        vectors.write_bytes(vectors.read_bytes()[:-100])
    elif damage == "flip":
        data = bytearray(vectors.read_bytes())
        data[-5] ^= 0xFF
        vectors.write_bytes(bytes(data))
    elif damage == "delete":
        (folder / "clauses.jsonl").unlink()
    else:
        (tmp_path / "index" / "CURRENT").write_text("gen-missing\n")
    with pytest.raises(StoreError, match="rebuild"):
        open_index(tmp_path / "index", encoder=encoder)


def test_a_missing_index_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="rag index"):
        open_index(tmp_path / "nothing", encoder=HashingEncoder())


KILLER = """
import sys, time
from pathlib import Path
from rag.index import index_paths
from rag.encoders import HashingEncoder

class Slow(HashingEncoder):
    def encode_passages(self, texts, *, batch_size=32, progress=False):
        out = []
        for i in range(0, len(texts), 16):
            time.sleep(0.01)
            out.append(super().encode_passages(texts[i:i + 16]))
        import numpy as np
        return np.concatenate(out) if out else super().encode_passages([])

print("start", flush=True)
index_paths([Path(sys.argv[1])], index=Path(sys.argv[2]), encoder=Slow(dimension=64))
print("done", flush=True)
"""


def test_killing_a_build_midway_leaves_the_previous_index_answering(
    corpus: Path, tmp_path: Path
) -> None:
    encoder = HashingEncoder(dimension=64)
    index_dir = tmp_path / "index"
    build(corpus, index_dir, encoder)
    old = open_index(index_dir, encoder=encoder).manifest["corpus_fingerprint"]
    # change every clause so the next build must embed all of them (slowly)
    for path in corpus.rglob("*.md"):
        path.write_text(path.read_text(encoding="utf-8").replace("证券", "证劵"), "utf-8")
    script = tmp_path / "killer.py"
    script.write_text(KILLER, encoding="utf-8")
    fingerprints = set()
    for delay in (0.3, 0.8, 1.5, 2.5):
        proc = subprocess.Popen(
            [sys.executable, str(script), str(corpus), str(index_dir)],
            stdout=subprocess.PIPE, cwd=Path(__file__).resolve().parents[1],
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"start"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        index = open_index(index_dir, encoder=encoder)  # verifies every checksum
        fingerprints.add(index.manifest["corpus_fingerprint"])
        assert len(index.backend.search_keyword("内幕信息", 1)) == 1
    assert old in fingerprints
    # a later build still completes: the index then holds exactly the edited corpus (a
    # killed build may already have published it, so this one may find nothing to do)
    build(corpus, index_dir, encoder)
    build(corpus, tmp_path / "fresh", encoder)
    expected = open_index(tmp_path / "fresh", encoder=encoder).manifest["corpus_fingerprint"]
    assert expected != old
    assert open_index(index_dir, encoder=encoder).manifest["corpus_fingerprint"] == expected
    assert not list(index_dir.glob(".tmp-*"))  # what killed builds left is cleaned up
    # every generation on disk was published and recorded: none half-written
    assert {p.name for p in index_dir.glob("gen-*")} == {g.name for g in generations(index_dir)}


def test_clause_records_are_plain_json(corpus: Path, tmp_path: Path) -> None:
    build(corpus, tmp_path / "index", HashingEncoder(dimension=64))
    folder = current_generation(tmp_path / "index")
    assert folder is not None
    first = json.loads((folder / "clauses.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert {"id", "doc_id", "label", "path", "start", "end", "hash"} <= set(first)
    assert not list(folder.rglob("*.pkl")) and not list(folder.rglob("*.pickle"))


def test_approximate_hnsw_index_agrees_with_exact_search(corpus: Path, tmp_path: Path) -> None:
    from rag.chunking import chunk_document
    from rag.index import build_index
    from rag.readers import load_documents

    encoder = HashingEncoder(dimension=64)
    docs, _ = load_documents([corpus])
    clauses = [c for d in docs for c in chunk_document(d)]
    build_index(docs, clauses, backend=EmbeddedBackend(tmp_path / "exact"), encoder=encoder)
    build_index(docs, clauses, backend=EmbeddedBackend(tmp_path / "hnsw"), encoder=encoder,
                search="hnsw")
    exact = open_index(tmp_path / "exact", encoder=encoder)
    approx = open_index(tmp_path / "hnsw", encoder=encoder)
    assert approx.manifest["search"] == "hnsw"
    agree = 0
    queries = ["内幕信息的知情人", "操纵证券市场", "基金管理人的职责", "证券公司", "投资者保护"]
    for text in queries:
        vector = encoder.encode_queries([text])[0]
        want = exact.backend.search_dense(vector, 5).rows
        got = approx.backend.search_dense(vector, 5).rows
        agree += len(set(want.tolist()) & set(got.tolist()))
    assert agree / (5 * len(queries)) >= 0.9
    only_policy = Filters(doc_ids=("001_fac9b76a4238144e",))
    found = approx.backend.search_dense(encoder.encode_queries(["打击证券违法"])[0], 5,
                                        filters=only_policy)
    assert len(found) == 5
    assert {approx.clauses[r].doc_id for r in found.rows} == {"001_fac9b76a4238144e"}


def test_unknown_search_kind_is_rejected(corpus: Path, tmp_path: Path) -> None:
    from rag.index import build_index

    with pytest.raises(ValueError, match=r"exact.*hnsw"):
        build_index([], [], backend=EmbeddedBackend(tmp_path / "x"), encoder=HashingEncoder(),
                    search="ivf")
