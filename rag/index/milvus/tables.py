"""Reading and writing one index's collections: scans, look-ups by key, batched upserts,
deletes and JSON blobs, every call through the connection's error handling."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rag.core.locations import rebuild_command
from rag.index.backend import StoreError
from rag.index.milvus import schema
from rag.index.milvus.connection import Connection

BATCH = 500  # rows per upsert and keys per `in [...]` look-up
SCAN_BATCH = 4000


class Tables:
    """The collections of index ``connection.location.name`` on its server."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.name = connection.location.name
        connection.reload = self._load_all

    def full(self, part: str) -> str:
        return schema.collection(self.name, part)

    def call(self, what: str, action: Any) -> Any:
        return self.connection.call(what, action)

    # ------------------------------------------------------------ collections

    def exists(self, part: str) -> bool:
        return bool(self.call("look up collections",
                              lambda client: client.has_collection(self.full(part))))

    def _load_all(self, client: Any) -> None:
        for part in schema.PARTS:
            if client.has_collection(self.full(part)):
                client.load_collection(self.full(part))

    def create(self, part: str, *, dimension: int = 0, search: str = "exact") -> None:
        self.call(f"create collection {self.full(part)}", lambda client: schema.create(
            client, self.name, part, dimension=dimension, search=search))

    def drop(self, part: str) -> None:
        def action(client: Any) -> None:
            if client.has_collection(self.full(part)):
                client.drop_collection(self.full(part))
        self.call(f"drop collection {self.full(part)}", action)

    def describe(self, part: str) -> dict[str, Any]:
        return dict(self.call(f"describe {self.full(part)}",
                              lambda client: client.describe_collection(self.full(part))))

    def flush(self, parts: Iterable[str]) -> None:
        for part in parts:
            self.call(f"flush {self.full(part)}", lambda client, p=part: client.flush(self.full(p)))

    # ------------------------------------------------------------ rows

    def scan(self, part: str, fields: Sequence[str], *, where: str = "") -> list[dict[str, Any]]:
        """Every row of ``part`` matching ``where`` (all when empty), ``fields`` only."""
        def action(client: Any) -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = []
            iterator = client.query_iterator(self.full(part), batch_size=SCAN_BATCH,
                                             filter=where, output_fields=list(fields))
            try:
                while batch := iterator.next():
                    rows.extend(batch)
            finally:
                iterator.close()
            return rows
        return list(self.call(f"read {self.full(part)}", action))

    def fetch(self, part: str, key: str, values: Iterable[Any], fields: Sequence[str],
              ) -> list[dict[str, Any]]:
        """Rows of ``part`` whose ``key`` is one of ``values``."""
        values = list(dict.fromkeys(values))
        rows: list[dict[str, Any]] = []
        for start in range(0, len(values), BATCH):
            where = f"{key} in {schema.quoted(values[start:start + BATCH])}"
            rows.extend(self.call(f"read {self.full(part)}", lambda client, w=where: client.query(
                self.full(part), filter=w, output_fields=list(fields))))
        return rows

    def upsert(self, part: str, rows: Iterable[dict[str, Any]]) -> int:
        batch: list[dict[str, Any]] = []
        count = 0
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                count += self._upsert(part, batch)
                batch = []
        if batch:
            count += self._upsert(part, batch)
        return count

    def _upsert(self, part: str, batch: list[dict[str, Any]]) -> int:
        self.call(f"write {self.full(part)}",
                  lambda client: client.upsert(self.full(part), batch))
        return len(batch)

    def delete(self, part: str, key: str, values: Iterable[Any]) -> None:
        values = list(dict.fromkeys(values))
        for start in range(0, len(values), BATCH):
            where = f"{key} in {schema.quoted(values[start:start + BATCH])}"
            self.call(f"delete from {self.full(part)}",
                      lambda client, w=where: client.delete(self.full(part), filter=w))

    def delete_where(self, part: str, where: str) -> None:
        self.call(f"delete from {self.full(part)}",
                  lambda client: client.delete(self.full(part), filter=where))

    # ------------------------------------------------------------ JSON blobs

    def blob(self, name: str) -> Any:
        """The JSON value stored under ``name``, None when there is none."""
        rows = self.call(f"read {self.full(schema.RECORDS)}", lambda client: client.query(
            self.full(schema.RECORDS), filter=f"name == {schema.quoted([name])[1:-1]}",
            output_fields=["part", "parts", "hash", "piece"]))
        if not rows:
            return None
        try:
            return schema.join_blob(list(rows), where=f"{self.connection.location.uri} {name}")
        except ValueError as error:
            raise StoreError(f"{error}; rebuild the index with "
                             f"`{rebuild_command(self.connection.location.uri)}`") from None

    def blobs(self, family: str) -> dict[str, Any]:
        """name → JSON value of every blob of ``family``."""
        grouped: dict[str, list[dict[str, Any]]] = {}
        for row in self.scan(schema.RECORDS, ["name", "part", "parts", "hash", "piece"],
                             where=f'family == "{family}"'):
            grouped.setdefault(str(row["name"]), []).append(row)
        try:
            return {name: schema.join_blob(rows, where=f"{self.connection.location.uri} {name}")
                    for name, rows in grouped.items()}
        except ValueError as error:
            raise StoreError(f"{error}; rebuild the index with "
                             f"`{rebuild_command(self.connection.location.uri)}`") from None

    def blob_hashes(self, family: str) -> dict[str, str]:
        """name → hash of every blob of ``family`` (its first pieces only are read)."""
        rows = self.scan(schema.RECORDS, ["name", "hash"],
                         where=f'family == "{family}" and part == 0')
        return {str(r["name"]): str(r["hash"]) for r in rows}

    def write_blob(self, family: str, name: str, value: object) -> None:
        rows = list(schema.blob_rows(family, name, value))
        self.upsert(schema.RECORDS, rows)
        self.delete_where(schema.RECORDS, f"name == {schema.quoted([name])[1:-1]} "
                          f"and part >= {len(rows)}")

    def delete_blobs(self, names: Iterable[str]) -> None:
        self.delete(schema.RECORDS, "name", names)
