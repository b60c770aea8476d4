"""The feedback store on SQLite and on a real PostgreSQL server: records, decisions,
restarts, concurrent writers, export/import, and databases it must refuse."""

from __future__ import annotations

import io
import multiprocessing
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import text

from rag.feedback import FeedbackStore, FeedbackStoreError, NoSuchFeedback
from rag.feedback.schema import SCHEMA_VERSION
from rag.feedback.transfer import export_lines, import_lines


def test_records_decisions_and_restart(feedback_url: str) -> None:
    with FeedbackStore(feedback_url) as store:
        first = store.add("内幕交易罚多少？", "证券法-2019-12-28#art191", "governs",
                          client="10.0.0.1", source="api")
        second = store.add("内幕交易罚多少？", "刑法#art180", "not_relevant",
                           client="10.0.0.2", source="chat")
        assert (first.status, first.decided_at, second.id) == ("pending", None, first.id + 1)
        accepted = store.decide(first.id, "accepted", by="admin")
        assert (accepted.status, accepted.decided_by) == ("accepted", "admin")
        assert accepted.decided_at is not None
        store.decide(second.id, "rejected", by="admin")
        assert store.counts() == {"pending": 0, "accepted": 1, "rejected": 1}
        assert [r.id for r in store.confirmed()] == [first.id]
        store.keep_vectors("model-a", {"sha1": np.arange(4, dtype=np.float32)})
    with FeedbackStore(feedback_url) as again:  # a restart: nothing lost
        assert [r.id for r in again.records()] == [first.id, second.id]
        assert again.get(first.id).status == "accepted"
        assert again.records("rejected")[0].clause_id == "刑法#art180"
        assert again.vectors("model-a", ["sha1", "other"])["sha1"].tolist() == [0, 1, 2, 3]
        assert again.vectors("model-b", ["sha1"]) == {}
        removed = again.delete(second.id)
        assert removed.id == second.id
        with pytest.raises(NoSuchFeedback, match=f"no feedback {second.id}"):
            again.get(second.id)
        with pytest.raises(NoSuchFeedback):
            again.decide(999, "accepted", by="admin")


def test_bad_records_are_refused_and_store_nothing(feedback_url: str) -> None:
    with FeedbackStore(feedback_url) as store:
        with pytest.raises(ValueError, match="100,000 characters; at most 2,000"):
            store.add("问" * 100_000, "a#art1", "governs", client="x", source="api")
        with pytest.raises(ValueError, match="verdict must be one of governs, not_relevant"):
            store.add("q", "a#art1", "great", client="x", source="api")
        with pytest.raises(ValueError, match="the question is empty"):
            store.add("  ", "a#art1", "governs", client="x", source="api")
        with pytest.raises(ValueError, match="clause id is empty"):
            store.add("q", "", "governs", client="x", source="api")
        with pytest.raises(ValueError, match="accepted or rejected"):
            store.decide(1, "pending", by="x")
        assert store.records() == []


def test_export_import_round_trip_loses_nothing(feedback_url: str, tmp_path: Path) -> None:
    with FeedbackStore(feedback_url) as store:
        store.add("问题一", "a#art1", "governs", client="c1", source="api")
        decided = store.add("问题二", "b#art2", "governs", client="c2", source="learn",
                            status="accepted", decided_by="lead")
        buffer = io.StringIO()
        assert export_lines(store, buffer) == 2
    lines = buffer.getvalue().splitlines()
    other = FeedbackStore(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    report = import_lines([*lines, "not json", '{"question": "q", "clause_id": "x", '
                           '"verdict": "maybe"}'], store=other, name="dump.jsonl")
    assert (report.added, report.duplicates) == (2, 0)
    assert report.problems[0].startswith("dump.jsonl:3: ")
    assert report.problems[1].startswith("dump.jsonl:4: verdict must be one of")
    again = import_lines(lines, store=other, name="dump.jsonl")  # nothing twice
    assert (again.added, again.duplicates) == (0, 2)
    copied = other.records()
    assert [(r.question, r.clause_id, r.status, r.created, r.client) for r in copied] == [
        ("问题一", "a#art1", "pending", copied[0].created, "c1"),
        ("问题二", "b#art2", "accepted", decided.created, "c2")]
    assert copied[1].decided_by == "lead"
    other.close()


def _write_many(url: str, worker: int, count: int) -> None:
    store = FeedbackStore(url)
    for i in range(count):
        store.add(f"question {worker}-{i}", f"doc#art{i}", "governs", client=f"w{worker}",
                  source="api")
    store.close()


def test_concurrent_writers_in_processes_lose_nothing_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"  # opened (and created) by all at once
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_many, args=(url, w, 40)) for w in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    with FeedbackStore(url) as store:
        records = store.records()
        assert len(records) == 160
        assert len({r.id for r in records}) == 160
        assert {r.question for r in records} == {f"question {w}-{i}" for w in range(4)
                                                 for i in range(40)}
    assert sqlite3.connect(tmp_path / "shared.sqlite3").execute(
        "PRAGMA journal_mode").fetchone()[0] == "wal"


def test_concurrent_writers_in_threads_lose_nothing(feedback_url: str) -> None:
    FeedbackStore(feedback_url).close()
    threads = [threading.Thread(target=_write_many, args=(feedback_url, w, 25))
               for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    with FeedbackStore(feedback_url) as store:
        assert len(store.records()) == 100


def test_a_garbage_file_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    path.write_bytes(b"this is not a database at all\n" * 200)
    with pytest.raises(FeedbackStoreError) as caught:
        FeedbackStore(f"sqlite:///{path}")
    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message and "file is not a database" in message
    assert path.read_bytes().startswith(b"this is not a database")  # left as it was


def test_a_newer_or_foreign_schema_is_refused(feedback_url: str) -> None:
    FeedbackStore(feedback_url).close()
    store = FeedbackStore(feedback_url)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE rag_schema SET version = 99"))
    store.close()
    with pytest.raises(FeedbackStoreError, match=rf"schema version 99 was written by a newer "
                       rf"rag \(this one reads up to {SCHEMA_VERSION}\); upgrade rag"):
        FeedbackStore(feedback_url)
    from rag.feedback.store import _engine  # the database as it is, without opening it

    engine = _engine(feedback_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE rag_schema"))
    engine.dispose()
    with pytest.raises(FeedbackStoreError, match="no rag_schema version table"):
        FeedbackStore(feedback_url)


def test_bad_urls_are_one_line() -> None:
    with pytest.raises(FeedbackStoreError, match="is not a database URL"):
        FeedbackStore("not a url")
    with pytest.raises(FeedbackStoreError, match="'mysql' databases are not supported"):
        FeedbackStore("mysql://u@localhost/db")
    with pytest.raises(FeedbackStoreError, match="feedback database postgresql://"):
        FeedbackStore("postgresql://nobody@127.0.0.1:1/none")
