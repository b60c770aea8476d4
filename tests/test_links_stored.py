"""Links stored at build time (links.jsonl): written, listed, read lazily, equal to computing them.

Unit tier: the shipped corpus indexed with the hashing encoder, as ``rag index`` builds it
(links do not depend on the encoder), and small indexes of a few shipped laws.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rag.encoders import HashingEncoder
from rag.index import index_paths
from rag.index.store import MANIFEST, file_sha256
from rag.links import LinkTable, links_for
from rag.links import stored as stored_links
from rag.links.model import ordered
from rag.links.stored import LINKS, LINKS_FILE, StoredLinks
from rag.search import Index, open_index

from .conftest import CORPUS

SEC = "证券法-2019-12-28"
LAWS = CORPUS / "lawrefbook"


def live(folder: Path) -> Path:
    return folder / (folder / "CURRENT").read_text(encoding="utf-8").strip()


def manifest(folder: Path) -> dict:
    return json.loads((live(folder) / MANIFEST).read_text(encoding="utf-8"))


def test_the_build_writes_the_links_file_and_lists_it_in_the_manifest(
        shipped_index_dir: Path) -> None:
    found = manifest(shipped_index_dir)
    path = live(shipped_index_dir) / LINKS_FILE
    assert found["files"][LINKS_FILE] == {"bytes": path.stat().st_size,
                                          "sha256": file_sha256(path)}
    assert found["derived"] == {LINKS_FILE: LINKS.identity()}
    header = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    assert header["format"] == "rag-links" and header["version"] == 1
    assert len(header["documents"]) == found["counts"]["documents"]


def test_stored_links_are_the_links_computed_from_the_records(shipped_index: Index) -> None:
    table = links_for(shipped_index)
    assert isinstance(table, StoredLinks)
    computed = LinkTable(shipped_index.documents.values(), shipped_index.clauses)
    assert table.all_links() == computed.all_links()
    assert len(computed.all_links()) > 100
    for clause in shipped_index.clauses:
        assert table.penalties(clause.id) == computed.penalties(clause.id), clause.id
        assert table.referenced_by(clause.id) == computed.referenced_by(clause.id), clause.id
        assert table.duties_of(clause.id) == computed.duties_of(clause.id), clause.id
        assert table.is_penalty(clause.id) == computed.is_penalty(clause.id), clause.id
        if computed.is_penalty(clause.id) or clause.doc_id.startswith("刑法"):
            # the same links, in the same order but for ties (the computed table keeps
            # the order it happened to make them in)
            into = table.enforces(clause.id)
            assert sorted(map(repr, into)) == sorted(map(repr, computed.enforces(clause.id)))
            assert into == ordered(into), clause.id
    for doc_id in shipped_index.documents:
        assert table.duties(doc_id) == computed.duties(doc_id)


def test_opening_reads_the_links_lazily(shipped_index_dir: Path,
                                        hashing_encoder: HashingEncoder) -> None:
    index = open_index(shipped_index_dir, encoder=hashing_encoder)
    table = links_for(index)
    assert isinstance(table, StoredLinks) and not table._parsed
    kinds = [k.kind for k in table.penalties(f"{SEC}#art53")]
    assert kinds[:1] == ["explicit"] and "criminal" in kinds
    assert list(table._parsed) == [SEC]  # only the document asked about


def laws(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "laws"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(next(LAWS.rglob(name)), folder / name)
    return folder


def test_an_index_without_the_file_computes_its_links_and_a_build_stores_them(
        tmp_path: Path, hashing_encoder: HashingEncoder) -> None:
    corpus = laws(tmp_path, "证券法(2019-12-28).md", "刑法.md")
    index_dir = tmp_path / "index"
    index_paths([corpus], index=index_dir, encoder=hashing_encoder)  # as before links were kept
    assert not (live(index_dir) / LINKS_FILE).exists()
    old = open_index(index_dir, encoder=hashing_encoder)
    assert isinstance(links_for(old), LinkTable)
    before = links_for(old).all_links()

    report = index_paths([corpus], index=index_dir, encoder=hashing_encoder,
                         derived=(LINKS,))
    assert report.changed and report.embedded == 0  # published again, nothing embedded
    new = open_index(index_dir, encoder=hashing_encoder)
    assert isinstance(links_for(new), StoredLinks)
    assert links_for(new).all_links() == before
    again = index_paths([corpus], index=index_dir, encoder=hashing_encoder, derived=(LINKS,))
    assert not again.changed


def test_links_made_by_other_rules_are_computed_and_stored_again(
        tmp_path: Path, hashing_encoder: HashingEncoder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = laws(tmp_path, "证券法(2019-12-28).md")
    index_dir = tmp_path / "index"
    index_paths([corpus], index=index_dir, encoder=hashing_encoder, derived=(LINKS,))
    monkeypatch.setattr(stored_links, "_DIGEST", ["other rules"])
    assert isinstance(links_for(open_index(index_dir, encoder=hashing_encoder)), LinkTable)
    report = index_paths([corpus], index=index_dir, encoder=hashing_encoder, derived=(LINKS,))
    assert report.changed and report.embedded == 0
    assert manifest(index_dir)["derived"][LINKS_FILE].endswith("other rules")
    assert isinstance(links_for(open_index(index_dir, encoder=hashing_encoder)), StoredLinks)


def test_a_changed_document_is_linked_again_and_the_others_reuse_their_links(
        tmp_path: Path, hashing_encoder: HashingEncoder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = laws(tmp_path, "证券法(2019-12-28).md", "证券投资基金法(2015-04-24).md", "刑法.md")
    index_dir = tmp_path / "index"
    index_paths([corpus], index=index_dir, encoder=hashing_encoder, derived=(LINKS,))
    fund = next(d for d in open_index(index_dir, encoder=hashing_encoder).documents
                if d.startswith("证券投资基金法"))

    compared: list[str] = []
    implicit = LinkTable._implicit

    def spy(self: LinkTable, pairs: dict, units: dict, named: set) -> list:
        compared.extend(pairs)
        return implicit(self, pairs, units, named)

    monkeypatch.setattr(LinkTable, "_implicit", spy)
    law = corpus / "证券法(2019-12-28).md"  # 第一百八十七条 now cites 第四十二条
    law.write_text(law.read_text(encoding="utf-8").replace(
        "违反本法第四十条的规定", "违反本法第四十二条的规定"), encoding="utf-8")
    report = index_paths([corpus], index=index_dir, encoder=hashing_encoder, derived=(LINKS,))
    assert report.changed
    assert SEC in compared and fund not in compared  # the unchanged fund law is reused

    index = open_index(index_dir, encoder=hashing_encoder)
    table = links_for(index)
    assert isinstance(table, StoredLinks)
    assert [k.target for k in table.penalties(f"{SEC}#art42")].count(f"{SEC}#art187") == 1
    assert f"{SEC}#art187" not in [k.target for k in table.penalties(f"{SEC}#art40")]
    monkeypatch.setattr(LinkTable, "_implicit", implicit)
    assert table.all_links() == LinkTable(index.documents.values(), index.clauses).all_links()


def test_rag_changes_reads_the_stored_links_of_both_generations(
        tmp_path: Path, hashing_encoder: HashingEncoder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from rag.changes.generations import generation_records, pick
    from rag.links import changes

    corpus = laws(tmp_path, "证券法(2019-12-28).md")
    index_dir = tmp_path / "index"
    index_paths([corpus], index=index_dir, encoder=hashing_encoder, derived=(LINKS,))
    law = corpus / "证券法(2019-12-28).md"
    law.write_text(law.read_text(encoding="utf-8").replace(
        "违反本法第四十条的规定", "违反本法第四十二条的规定"), encoding="utf-8")
    index_paths([corpus], index=index_dir, encoder=hashing_encoder, derived=(LINKS,))
    before, after = pick(index_dir, None).name, live(index_dir).name
    computed = changes.compare_links(generation_records(index_dir, before),
                                     generation_records(index_dir, after))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("links computed although both generations stored them")

    monkeypatch.setattr(changes, "LinkTable", refuse)
    found = changes.link_changes_since(index_dir)
    assert found == computed
    assert [(c.change, c.kind) for c in found] == [("removed", "explicit"), ("added", "explicit")]
    assert "第四十二条" in found[1].duty and "第一百八十七条" in found[1].penalty


def test_the_public_index_call_stores_the_links(
        tmp_path: Path, hashing_encoder: HashingEncoder) -> None:
    import rag

    corpus = laws(tmp_path, "证券法(2019-12-28).md")
    index_dir = tmp_path / "index"
    rag.index_paths([corpus], index=index_dir, encoder=hashing_encoder)
    assert manifest(index_dir)["derived"] == {LINKS_FILE: LINKS.identity()}
    assert isinstance(links_for(open_index(index_dir, encoder=hashing_encoder)), StoredLinks)
