"""Moving feedback in and out: labelled files learned as accepted, JSON lines export/import."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from rag.feedback.labelled import read_labelled
from rag.feedback.schema import SOURCES, STATUSES
from rag.feedback.store import FeedbackStore, check_record
from rag.search import Index


@dataclass
class Report:
    """What an import did: records added, already there, and lines not used (why)."""

    added: int = 0
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self, what: str) -> str:
        text = f"{what}: {self.added} added, {self.duplicates} already there"
        if self.problems:
            text += f", {len(self.problems)} not used"
        return text


def learn(path: Path, *, index: Index, store: FeedbackStore, by: str = "rag learn") -> Report:
    """Store every labelled (question, clause) pair of ``path`` as accepted "governs"
    feedback (pairs already accepted are not stored twice)."""
    labelled = read_labelled(path, index)
    report = Report(problems=list(labelled.problems))
    for item in labelled.items:
        for clause_id in item.clause_ids:
            if store.has(item.question, clause_id, "governs", "accepted"):
                report.duplicates += 1
                continue
            store.add(item.question, clause_id, "governs", client=by, source="learn",
                      status="accepted", decided_by=by)
            report.added += 1
    return report


def export_lines(store: FeedbackStore, out: IO[str]) -> int:
    """Every record as one JSON line (oldest first); how many."""
    count = 0
    for record in store.records():
        out.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
        count += 1
    return count


def import_lines(lines: Iterable[str], *, store: FeedbackStore, name: str) -> Report:
    """Records exported by :func:`export_lines` (ids are new here); a line identical to
    a stored record (question, clause, verdict, status, created) is not stored again."""
    report = Report()
    existing: set[tuple[str, str, str, str, str | None]] = {
        (r.question, r.clause_id, r.verdict, r.status, r.created) for r in store.records()}
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
            question, clause_id = check_record(record.get("question", ""),
                                               record.get("clause_id", ""),
                                               record.get("verdict", ""))
            status = record.get("status", "pending")
            if status not in STATUSES:
                raise ValueError(f"status must be one of {', '.join(STATUSES)}")
            source = record.get("source", "import")
            source = source if source in SOURCES else "import"
            created = str(record.get("created") or "") or None
        except ValueError as error:  # (json.JSONDecodeError is one)
            report.problems.append(f"{name}:{number}: {error}")
            continue
        key = (question, clause_id, record["verdict"], status, created)
        if key in existing:
            report.duplicates += 1
            continue
        store.add(question, clause_id, record["verdict"], client=str(record.get("client")
                  or "import"), source=source, status=status, created=created,
                  decided_by=record.get("decided_by") or None)
        existing.add(key)
        report.added += 1
    return report
