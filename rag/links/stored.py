"""Links written at build time beside the index (``links.jsonl``) and read back lazily.

A build stores every penalty link, duty sentence, penalty clause and reverse reference of
its generation in one JSON-lines file (:data:`LINKS`, a :class:`rag.index.derived.Derived`
table): a header line (format, the rules' digest, the crimes' digest, and per document
its input digest and where its line is), then one line per document. Opening an index
reads nothing; the first question about links reads the file and parses only the lines
of the documents it asks about (:class:`StoredLinks`, the query API of
:class:`~rag.links.table.LinkTable`). Verbatim texts are not stored: an evidence or duty
is its offsets into its document's text.

A document's word-compared links are taken from the previous generation's file when
neither its records, nor the links made from references to its duties, nor the crimes
changed (the full national corpus takes ~90 s to link from scratch on 2 cores).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from rag.core.clauses import Clause
from rag.core.documents import Document
from rag.core.files import replace_file
from rag.index.backend import StoreError
from rag.links.duties import Duty
from rag.links.model import Evidence, Link, is_criminal_code, ordered
from rag.links.table import LinkTable

LINKS_FILE = "links.jsonl"
FORMAT = "rag-links"
FORMAT_VERSION = 1
# the code and data links are computed by (besides every file of rag.links: its rules,
# the fitted penalty model, this format): a change to any of it makes stored links stale
RULES = {
    "rag.search": ("crossrefs.py",),
    "rag.index": ("tokenize.py",),
    "rag.core": ("numbering.py", "titles.py", "versions.py"),
}
_DIGEST: list[str] = []


def rules_digest() -> str:
    """sha256 of the linking rules' source and data, jieba's version and this file format."""
    if not _DIGEST:
        import jieba

        digest = hashlib.sha256(f"{FORMAT}/{FORMAT_VERSION}/jieba {jieba.__version__}".encode())
        own = sorted(f.name for f in resources.files("rag.links").iterdir()
                     if f.name.endswith((".py", ".json")))
        for package, names in {"rag.links": tuple(own), **RULES}.items():
            for name in names:
                try:
                    data = resources.files(package).joinpath(name).read_bytes()
                except OSError:
                    data = b"(missing)"
                digest.update(f"\0{package}.{name}\0".encode() + data)
        _DIGEST.append(digest.hexdigest())
    return _DIGEST[0]


class LinkFile:
    """The links of a generation as a derived table of the index build."""

    name = LINKS_FILE

    def identity(self) -> str:
        return f"{FORMAT}/{FORMAT_VERSION}/{rules_digest()}"

    def write(self, documents: Sequence[Document], clauses: Sequence[Clause], path: Path, *,
              previous: Path | None) -> None:
        replace_file(path, "".join(link_lines(documents, clauses, previous=previous)))


LINKS = LinkFile()


# ---------------------------------------------------------------- writing


def _sha(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _inputs(table: LinkTable, documents: Mapping[str, Document],
            clauses: Mapping[str, list[Clause]]) -> tuple[str, dict[str, str]]:
    """The crimes' digest and, per document, the digest of what its word-compared links
    depend on: its records, the references its clauses resolve, the links made when the
    table was made (with the penalty words they point at)."""
    crimes = _sha(*(repr((documents[d], clauses.get(d, []))) for d in sorted(documents)
                    if is_criminal_code(documents[d])), repr(table.crimes))
    made = table.made_with_table()
    keys = {}
    for doc_id, doc in documents.items():
        own = clauses.get(doc_id, [])
        mentions = [(c.id, table.clauses[row].id, start, end)
                    for c in own for row, start, end in table.references.mentions(c)]
        links = sorted(made.get(doc_id, []), key=lambda k: (k.source, k.target, k.kind))
        words = [_conduct_text(table, link) for link in links]
        keys[doc_id] = _sha(repr(doc), repr(own), repr(mentions), repr(links), repr(words))
    return crimes, keys


def _conduct_text(table: LinkTable, link: Link) -> str:
    if link.conduct is None or link.target not in table.unit_rows:
        return ""
    target = table.clauses[table.unit_rows[link.target][0]]
    return table.documents[target.doc_id].text[slice(*link.conduct)]


def link_lines(documents: Sequence[Document], clauses: Sequence[Clause], *,
               previous: Path | None = None) -> Iterable[str]:
    """The ``links.jsonl`` of these records (reusing ``previous``'s unchanged documents)."""
    table = LinkTable(documents, clauses)
    docs = {d.doc_id: d for d in documents}
    by_doc: dict[str, list[Clause]] = {}
    for clause in clauses:
        by_doc.setdefault(clause.doc_id, []).append(clause)
    crimes, keys = _inputs(table, docs, by_doc)
    old = _read_previous(previous, docs, table) if previous is not None else None
    if old is not None and old.crimes == crimes:
        try:
            reused = {d: old.links_from(d) for d, key in keys.items() if old.keys.get(d) == key}
        except LinksFileError:
            reused = {}  # a damaged file: everything is compared again
        for doc_id, found in reused.items():
            table.adopt(doc_id, found)
    links: dict[str, list[Link]] = {}
    for link in table.all_links():
        links.setdefault(_doc(table, link.source), []).append(link)
    cited: dict[str, dict[str, list[str]]] = {}
    penalties: dict[str, list[str]] = {}
    for clause in clauses:
        unit = clause.unit_id
        citing = table.referenced_by(unit)
        if citing and unit not in cited.setdefault(clause.doc_id, {}):
            cited[clause.doc_id][unit] = citing
        if table.is_penalty(unit) and unit not in penalties.get(clause.doc_id, []):
            penalties.setdefault(clause.doc_id, []).append(unit)
    body = []
    for doc_id in sorted(docs):
        text = docs[doc_id].text
        row = {
            "doc": doc_id,
            "duties": [[d.clause_id, d.label, d.start, d.end, d.modality, list(d.actors),
                        d.modal, _unless_slice(d.text, text, d.start, d.end)]
                       for d in table.duties(doc_id)],
            "penalties": penalties.get(doc_id, []),
            "cited": cited.get(doc_id, {}),
            "links": [_link_row(k, docs) for k in links.get(doc_id, [])],
        }
        body.append((json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
                    .encode())
    places, at = {}, 0
    for doc_id, line in zip(sorted(docs), body, strict=True):
        places[doc_id] = [keys[doc_id], at, len(line)]
        at += len(line)
    header = {"format": FORMAT, "version": FORMAT_VERSION, "rules": rules_digest(),
              "crimes": crimes, "documents": places}
    yield json.dumps(header, ensure_ascii=False, separators=(",", ":")) + "\n"
    for line in body:
        yield line.decode()


def _doc(table: LinkTable, unit: str) -> str:
    rows = table.unit_rows.get(unit)
    return table.clauses[rows[0]].doc_id if rows else unit.split("#", 1)[0]


def _unless_slice(said: str, text: str, start: int, end: int) -> str | None:
    """None when ``said`` is the document's text at its offsets (it always is today)."""
    return None if text[start:end] == said else said


def _link_row(link: Link, docs: Mapping[str, Document]) -> list[Any]:
    evidence = [[e.doc_id, e.start, e.end,
                 _unless_slice(e.text, docs[e.doc_id].text, e.start, e.end)
                 if e.doc_id in docs else e.text] for e in link.evidence]
    return [link.source, link.target, link.kind, link.confidence, evidence, link.paragraph,
            link.via, list(link.conduct) if link.conduct is not None else None]


# ---------------------------------------------------------------- reading


class LinksFileError(StoreError):
    """A links file that cannot be read (the message says to rebuild)."""


@dataclass
class _Parsed:
    duties: list[Duty]
    penalties: frozenset[str]
    cited: dict[str, list[str]]
    links: list[Link]


class StoredLinks:
    """The links of one generation from its ``links.jsonl``: the query API of
    :class:`~rag.links.table.LinkTable`, each document's line parsed on first use."""

    def __init__(self, path: Path, documents: Mapping[str, Document], clauses: Sequence[Clause],
                 *, row_of: Mapping[str, int] | None = None) -> None:
        self.path = Path(path)
        self.documents = documents
        self.clauses = clauses
        self._row_of = row_of
        self._lock = threading.RLock()
        self._data = b""
        self._start = 0
        self._places: dict[str, list[Any]] = {}
        self._parsed: dict[str, _Parsed] = {}
        self._units: dict[str, list[Duty]] | None = None
        self._targets: dict[str, list[Link]] | None = None
        self.crimes = ""
        self.keys: dict[str, str] = {}
        self._read_header()

    def _read_header(self) -> None:
        try:
            self._data = self.path.read_bytes()
            end = self._data.index(b"\n") + 1
            header = json.loads(self._data[:end])
        except (OSError, ValueError) as error:
            raise LinksFileError(f"{self.path}: unreadable ({error}); rebuild the index with "
                                 "`rag index`") from None
        if (not isinstance(header, dict) or header.get("format") != FORMAT
                or header.get("version") != FORMAT_VERSION
                or not isinstance(header.get("documents"), dict)):
            raise LinksFileError(f"{self.path}: not a {FORMAT} v{FORMAT_VERSION} file; "
                                 "rebuild the index with `rag index`")
        self._start = end
        self._places = header["documents"]
        self.crimes = str(header.get("crimes", ""))
        self.keys = {d: str(p[0]) for d, p in self._places.items()}
        self.rules = str(header.get("rules", ""))

    # ------------------------------------------------------------ queries

    def referenced_by(self, clause_id: str) -> list[str]:
        """Ids of the clauses that cite ``clause_id`` (any part of its article)."""
        unit = self._unit(clause_id)
        return list(self._doc(self._doc_of(unit)).cited.get(unit, ()))

    def penalties(self, clause_id: str) -> list[Link]:
        """The links from a duty clause to what enforces it (see :class:`LinkTable`)."""
        unit = self._unit(clause_id)
        return ordered(k for k in self._doc(self._doc_of(unit)).links if k.source == unit)

    def enforces(self, clause_id: str) -> list[Link]:
        """The links into a penalty clause: the duties it enforces (ties by duty id)."""
        with self._lock:
            if self._targets is None:
                targets: dict[str, list[Link]] = {}
                for doc_id in sorted(self._places):
                    for link in self._doc(doc_id).links:
                        targets.setdefault(link.target, []).append(link)
                self._targets = targets
        return ordered(sorted(self._targets.get(self._unit(clause_id), ()),
                              key=lambda k: k.source))

    def duties(self, doc_id: str) -> list[Duty]:
        """The duty sentences of a document, in text order."""
        return list(self._doc(doc_id).duties)

    def duties_of(self, clause_id: str) -> list[Duty]:
        """The duty sentences of a clause's article, in text order."""
        unit = self._unit(clause_id)
        return [d for d in self._doc(self._doc_of(unit)).duties
                if self._unit(d.clause_id) == unit]

    def is_penalty(self, clause_id: str) -> bool:
        unit = self._unit(clause_id)
        return unit in self._doc(self._doc_of(unit)).penalties

    def all_links(self) -> list[Link]:
        """Every penalty link, duty by duty."""
        found = [k for doc_id in sorted(self._places) for k in self._doc(doc_id).links]
        return [link for source in sorted({k.source for k in found})
                for link in ordered(k for k in found if k.source == source)]

    def links_from(self, doc_id: str) -> list[Link]:
        """Every link from a duty of ``doc_id``."""
        return list(self._doc(doc_id).links)

    # ------------------------------------------------------------ parsing

    @property
    def row_of(self) -> Mapping[str, int]:
        if self._row_of is None:
            self._row_of = {c.id: r for r, c in enumerate(self.clauses)}
        return self._row_of

    def _unit(self, clause_id: str) -> str:
        row = self.row_of.get(clause_id)
        return self.clauses[row].unit_id if row is not None else clause_id

    def _doc_of(self, unit: str) -> str:
        row = self.row_of.get(unit)
        if row is None:
            row = self.row_of.get(f"{unit}.part1")
        return self.clauses[row].doc_id if row is not None else unit.split("#", 1)[0]

    def _doc(self, doc_id: str) -> _Parsed:
        found = self._parsed.get(doc_id)
        if found is not None:
            return found
        with self._lock:
            found = self._parsed.get(doc_id)
            if found is None:
                found = self._parsed[doc_id] = self._parse(doc_id)
            return found

    def _parse(self, doc_id: str) -> _Parsed:
        place = self._places.get(doc_id)
        document = self.documents.get(doc_id)
        if place is None or document is None:
            return _Parsed([], frozenset(), {}, [])
        start = self._start + int(place[1])
        try:
            row = json.loads(self._data[start:start + int(place[2])])
            text = document.text
            duties = [Duty(clause_id, doc_id, label, a, b,
                           text[a:b] if said is None else said, modality, tuple(actors), modal)
                      for clause_id, label, a, b, modality, actors, modal, said
                      in row["duties"]]
            links = [self._link(k) for k in row["links"]]
            return _Parsed(duties, frozenset(row["penalties"]), dict(row["cited"]), links)
        except (ValueError, KeyError, TypeError, IndexError) as error:
            raise LinksFileError(f"{self.path}: the line of {doc_id} is malformed ({error}); "
                                 "rebuild the index with `rag index`") from None

    def _link(self, row: list[Any]) -> Link:
        source, target, kind, confidence, evidence, paragraph, via, conduct = row
        return Link(source, target, kind, float(confidence), tuple(
            Evidence(doc, a, b, self.documents[doc].text[a:b] if said is None else said)
            for doc, a, b, said in evidence),
            paragraph=paragraph, via=via,
            conduct=(int(conduct[0]), int(conduct[1])) if conduct is not None else None)


def _read_previous(path: Path, documents: Mapping[str, Document], table: LinkTable
                   ) -> StoredLinks | None:
    """The previous generation's file when it is readable and made by these rules."""
    try:
        old = StoredLinks(path, documents, table.clauses)
    except LinksFileError:
        return None
    return old if old.rules == rules_digest() else None
