"""The feedback database's tables and the migrations that bring any older one up to date.

One schema for SQLite and PostgreSQL (SQLAlchemy Core). ``rag_schema`` holds the version
the tables are at; :func:`migrate` applies the missing steps, in one transaction, at open.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    CheckConstraint,
    Column,
    Connection,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
)

SCHEMA_VERSION = 1
VERDICTS = ("governs", "not_relevant")
STATUSES = ("pending", "accepted", "rejected")
SOURCES = ("chat", "api", "learn", "import", "cli")

metadata = MetaData()

schema_table = Table(
    "rag_schema", metadata,
    Column("version", Integer, nullable=False),
)

feedback_table = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("question", Text, nullable=False),
    Column("clause_id", String(400), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("client", String(200), nullable=False),
    Column("created", String(32), nullable=False),  # ISO 8601, UTC
    Column("decided_at", String(32)),
    Column("decided_by", String(200)),
    Column("source", String(16), nullable=False),
    CheckConstraint(f"verdict IN {VERDICTS}", name="feedback_verdict"),
    CheckConstraint(f"status IN {STATUSES}", name="feedback_status"),
    Index("feedback_by_status", "status", "id"),
)

# question vectors, so a restart embeds only questions confirmed since (per model)
vector_table = Table(
    "memory_vectors", metadata,
    Column("model", String(200), primary_key=True),
    Column("question_sha", String(64), primary_key=True),
    Column("dim", Integer, nullable=False),
    Column("vector", LargeBinary, nullable=False),  # float32, little-endian
)


class SchemaError(ValueError):
    """A database that is not a feedback database this version of rag can use."""


def _create_v1(connection: Connection) -> None:
    metadata.create_all(connection, tables=[feedback_table, vector_table])


# version reached → the step that reaches it from the one before
MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _create_v1}


def current_version(connection: Connection) -> int | None:
    """The schema version recorded, None for an empty database."""
    tables = set(inspect(connection).get_table_names())
    if "rag_schema" not in tables:
        if tables & {"feedback", "memory_vectors"}:
            raise SchemaError("it has feedback tables but no rag_schema version table: not "
                              "a database rag wrote")
        return None
    versions = connection.execute(select(schema_table.c.version)).scalars().all()
    if len(versions) != 1:
        raise SchemaError(f"its rag_schema table holds {len(versions)} rows, not one")
    return int(versions[0])


def migrate(connection: Connection) -> int:
    """Bring the tables up to :data:`SCHEMA_VERSION` (inside the caller's transaction);
    the version they were at (0 for a new database)."""
    found = current_version(connection)
    if found is not None and found > SCHEMA_VERSION:
        raise SchemaError(f"schema version {found} was written by a newer rag (this one "
                          f"reads up to {SCHEMA_VERSION}); upgrade rag")
    if found is not None and found < 1:
        raise SchemaError(f"schema version {found} is not one rag ever wrote")
    start = found or 0
    if start == SCHEMA_VERSION:
        return start
    if found is None:
        metadata.create_all(connection, tables=[schema_table])
    for version in range(start + 1, SCHEMA_VERSION + 1):
        MIGRATIONS[version](connection)
    if found is None:
        connection.execute(schema_table.insert().values(version=SCHEMA_VERSION))
    else:
        connection.execute(schema_table.update().values(version=SCHEMA_VERSION))
    return start
