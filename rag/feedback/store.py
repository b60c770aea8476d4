"""The feedback store: readers' verdicts on clauses, in SQLite (default) or PostgreSQL.

One code path (SQLAlchemy Core) for both. SQLite runs in WAL mode with a busy timeout and
takes its write lock at the start of each transaction, so several processes may write at
once; PostgreSQL serialises the migration at open with an advisory lock. The store is
the only place feedback lives: it survives restarts and index rebuilds (records name
clauses by their stable id, not by a row of one index).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, create_engine, delete, event, func, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from rag.feedback.schema import (
    SCHEMA_VERSION,
    SOURCES,
    STATUSES,
    VERDICTS,
    SchemaError,
    feedback_table,
    migrate,
    vector_table,
)
from rag.paths import FEEDBACK_DB_ENV, FEEDBACK_DB_FILE, default_feedback_db

DB_ENV = FEEDBACK_DB_ENV
DB_FILE = FEEDBACK_DB_FILE
MAX_QUESTION_CHARS = 2000  # as /ask: a longer question is refused, not cut
MAX_CLAUSE_ID_CHARS = 400
MAX_CLIENT_CHARS = 200
BUSY_TIMEOUT_MS = 15_000
_PG_LOCK = 0x7261675F6662  # "rag_fb": one migration at a time per PostgreSQL database


class FeedbackStoreError(ValueError):
    """A store that cannot be opened or used; the message names it and says what to do."""


class NoSuchFeedback(KeyError):
    """No feedback record with that id."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Feedback:
    """One verdict: a reader says ``clause_id`` governs (or is not relevant to) ``question``."""

    id: int
    question: str
    clause_id: str
    verdict: str  # governs | not_relevant
    status: str  # pending | accepted | rejected
    client: str  # who sent it: a client address, a token's name, a user
    created: str
    decided_at: str | None
    decided_by: str | None
    source: str  # chat | api | learn | import | cli

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def default_url() -> str:
    """``$RAG_FEEDBACK_DB``, else a SQLite file under the data home."""
    env = os.environ.get(DB_ENV, "").strip()
    return env or f"sqlite:///{default_feedback_db()}"


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def question_sha(question: str) -> str:
    return hashlib.sha256(question.encode("utf-8")).hexdigest()


def check_record(question: str, clause_id: str, verdict: str) -> tuple[str, str]:
    """The question and clause id trimmed, or ValueError saying what is wrong."""
    if not isinstance(question, str) or not question.strip():
        raise ValueError("the question is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise ValueError(f"the question is {len(question):,} characters; at most "
                         f"{MAX_QUESTION_CHARS:,} are kept")
    if not isinstance(clause_id, str) or not clause_id.strip():
        raise ValueError("the clause id is empty")
    if len(clause_id) > MAX_CLAUSE_ID_CHARS:
        raise ValueError(f"the clause id is {len(clause_id):,} characters; no clause id is "
                         f"longer than {MAX_CLAUSE_ID_CHARS}")
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, not {verdict!r}")
    return question.strip(), clause_id.strip()


def _engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise FeedbackStoreError(f"{url!r} is not a database URL; use sqlite:///PATH or "
                                 "postgresql://USER@HOST:PORT/DB") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi: Any, _record: Any) -> None:
            dbapi.isolation_level = None  # transactions begin below, not by the driver
            cursor = dbapi.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Connection) -> None:
            # the write lock at the start: two writers never both read, then deadlock
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            return create_engine(parsed, pool_pre_ping=True)
        except NoSuchModuleError as error:
            raise FeedbackStoreError(f"{error}; install psycopg[binary]") from None
    raise FeedbackStoreError(f"{parsed.get_backend_name()!r} databases are not supported "
                             "for feedback; use sqlite:///PATH or postgresql://…")


def _shown(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


class FeedbackStore:
    """Feedback records in one database, opened (and migrated) once per process."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url or default_url()
        self.shown = _shown(self.url)
        self.engine = _engine(self.url)
        self.changed = threading.Event()  # set on each write: memories rebuild lazily
        try:
            with self.engine.begin() as connection:
                if self.engine.dialect.name == "postgresql":
                    connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_LOCK})")
                self.migrated_from = migrate(connection)
        except SchemaError as error:
            self.engine.dispose()
            raise FeedbackStoreError(f"feedback database {self.shown}: {error}") from None
        except SQLAlchemyError as error:
            self.engine.dispose()
            raise FeedbackStoreError(f"feedback database {self.shown}: {_reason(error)}"
                                     ) from None

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> FeedbackStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ records

    def add(self, question: str, clause_id: str, verdict: str, *, client: str,
            source: str, status: str = "pending", created: str | None = None,
            decided_by: str | None = None) -> Feedback:
        """Store one verdict (checked: bounded sizes, known verdict, status, source)."""
        question, clause_id = check_record(question, clause_id, verdict)
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        if source not in SOURCES:
            raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
        stamp = now()
        values: dict[str, Any] = {
            "question": question, "clause_id": clause_id, "verdict": verdict,
            "status": status, "client": (client or "unknown")[:MAX_CLIENT_CHARS],
            "created": created or stamp, "source": source,
            "decided_at": stamp if status != "pending" else None,
            "decided_by": (decided_by or client)[:MAX_CLIENT_CHARS]
            if status != "pending" else None,
        }
        with self._write() as connection:
            new_id = connection.execute(
                feedback_table.insert().values(**values).returning(feedback_table.c.id)
            ).scalar_one()
        return Feedback(id=int(new_id), **values)

    def get(self, feedback_id: int) -> Feedback:
        with self._read() as connection:
            row = connection.execute(
                select(feedback_table).where(feedback_table.c.id == feedback_id)).first()
        if row is None:
            raise NoSuchFeedback(f"no feedback {feedback_id}")
        return Feedback(**row._asdict())

    def records(self, status: str | None = None, *, limit: int | None = None,
             offset: int = 0) -> list[Feedback]:
        """Records, oldest first; only those with ``status`` when given."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
        query = select(feedback_table).order_by(feedback_table.c.id).offset(offset)
        if status is not None:
            query = query.where(feedback_table.c.status == status)
        if limit is not None:
            query = query.limit(limit)
        with self._read() as connection:
            return [Feedback(**row._asdict()) for row in connection.execute(query)]

    def counts(self) -> dict[str, int]:
        """status → how many records have it."""
        query = select(feedback_table.c.status, func.count()).group_by(feedback_table.c.status)
        with self._read() as connection:
            found = {str(s): int(n) for s, n in connection.execute(query)}
        return {status: found.get(status, 0) for status in STATUSES}

    def decide(self, feedback_id: int, status: str, *, by: str) -> Feedback:
        """Accept or reject a record (deciding again overwrites the decision)."""
        if status not in ("accepted", "rejected"):
            raise ValueError(f"a decision is accepted or rejected, not {status!r}")
        with self._write() as connection:
            done = connection.execute(
                update(feedback_table).where(feedback_table.c.id == feedback_id)
                .values(status=status, decided_at=now(), decided_by=by[:MAX_CLIENT_CHARS]))
        if not done.rowcount:
            raise NoSuchFeedback(f"no feedback {feedback_id}")
        return self.get(feedback_id)

    def delete(self, feedback_id: int) -> Feedback:
        record = self.get(feedback_id)
        with self._write() as connection:
            connection.execute(delete(feedback_table).where(feedback_table.c.id == feedback_id))
        return record

    def confirmed(self) -> list[Feedback]:
        """Accepted "governs" records: the pairs question memory learns from."""
        query = (select(feedback_table)
                 .where(feedback_table.c.status == "accepted",
                        feedback_table.c.verdict == "governs")
                 .order_by(feedback_table.c.id))
        with self._read() as connection:
            return [Feedback(**row._asdict()) for row in connection.execute(query)]

    def has(self, question: str, clause_id: str, verdict: str, status: str) -> bool:
        query = select(func.count()).select_from(feedback_table).where(
            feedback_table.c.question == question.strip(),
            feedback_table.c.clause_id == clause_id.strip(),
            feedback_table.c.verdict == verdict, feedback_table.c.status == status)
        with self._read() as connection:
            return bool(connection.execute(query).scalar_one())

    # ------------------------------------------------------------ question vectors

    def vectors(self, model: str, shas: Iterable[str]) -> dict[str, np.ndarray]:
        """Cached question vectors of ``model``, by question sha256."""
        wanted = list(dict.fromkeys(shas))
        found: dict[str, np.ndarray] = {}
        with self._read() as connection:
            for start in range(0, len(wanted), 500):
                query = select(vector_table).where(
                    vector_table.c.model == model,
                    vector_table.c.question_sha.in_(wanted[start:start + 500]))
                for row in connection.execute(query):
                    vector = np.frombuffer(row.vector, dtype="<f4")
                    if vector.size == row.dim:
                        found[row.question_sha] = vector.astype(np.float32)
        return found

    def keep_vectors(self, model: str, vectors: Mapping[str, np.ndarray]) -> None:
        """Cache question vectors (ones already cached by another writer are kept)."""
        if not vectors:
            return
        with self._write() as connection:
            have = set(connection.execute(select(vector_table.c.question_sha).where(
                vector_table.c.model == model,
                vector_table.c.question_sha.in_(list(vectors)))).scalars())
            rows = [{"model": model, "question_sha": sha, "dim": int(v.size),
                     "vector": np.asarray(v, dtype="<f4").tobytes()}
                    for sha, v in vectors.items() if sha not in have]
            if rows:
                connection.execute(vector_table.insert(), rows)

    # ------------------------------------------------------------ plumbing

    def _read(self) -> _Guarded:
        return _Guarded(self, write=False)

    def _write(self) -> _Guarded:
        return _Guarded(self, write=True)



class _Guarded:
    """A transaction whose database errors become one :class:`FeedbackStoreError` line."""

    def __init__(self, store: FeedbackStore, *, write: bool) -> None:
        self.store = store
        self.write = write
        self._context: Any = None

    def __enter__(self) -> Connection:
        try:
            self._context = self.store.engine.begin()
            connection: Connection = self._context.__enter__()
        except SQLAlchemyError as error:
            raise FeedbackStoreError(f"feedback database {self.store.shown}: "
                                     f"{_reason(error)}") from None
        return connection

    def __exit__(self, kind: Any, error: Any, trace: Any) -> None:
        try:
            self._context.__exit__(kind, error, trace)
        except SQLAlchemyError as failed:
            raise FeedbackStoreError(f"feedback database {self.store.shown}: "
                                     f"{_reason(failed)}") from None
        if isinstance(error, SQLAlchemyError):
            raise FeedbackStoreError(f"feedback database {self.store.shown}: "
                                     f"{_reason(error)}") from None
        if self.write and error is None:
            self.store.changed.set()


def _reason(error: SQLAlchemyError) -> str:
    """The driver's own message, first line, without SQLAlchemy's SQL and links."""
    original = error.orig if isinstance(error, DBAPIError) else None
    text = str(original or error).strip().splitlines()[0] if str(original or error).strip() \
        else type(error).__name__
    if "file is not a database" in text or "not a database" in text:
        text += " (not a SQLite feedback database: move it away or name another with "\
                f"--feedback-db / ${DB_ENV})"
    return text


__all__ = ["DB_ENV", "MAX_QUESTION_CHARS", "SCHEMA_VERSION", "Feedback", "FeedbackStore",
           "FeedbackStoreError", "NoSuchFeedback", "check_record", "default_url",
           "question_sha"]
