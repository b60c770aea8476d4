"""What a server does with feedback: take it (rate-limited), review it, keep memory current.

The API routes and the library page's review queue call these same methods, so feedback
taken or decided one way is taken or decided the same way the other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rag.encoders import Encoder
from rag.feedback.limits import RateLimit
from rag.feedback.recall import LiveMemory, orphans
from rag.feedback.store import Feedback, FeedbackStore

if TYPE_CHECKING:
    from rag.search import Index


class RateLimited(Exception):
    """A client sent more feedback than the limit allows; retry after ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"too much feedback from this client; retry in {seconds:.0f} s")
        self.seconds = seconds


class UnknownClause(KeyError):
    """A clause id the index does not hold."""

    def __str__(self) -> str:
        return str(self.args[0])


def resolve_clause(named: str, index: Index) -> str:
    """The clause id ``named`` is, or names: a clause id, or a citation such as
    《证券法》第一百九十七条 (the look-up; the version in force first).
    :class:`UnknownClause` when it is neither, or names several articles."""
    from rag.feedback.labelled import prefer_current
    from rag.search import find_named, resolve

    named = named.strip()
    if named in index.row_of:
        return named
    refs = find_named(named, index.documents.values())
    if len({r.matched for r in refs}) > 1:
        raise UnknownClause(f"{named[:120]!r} names several clauses; give one")
    found = prefer_current(index, resolve(refs, index.by_label))
    if not found:
        raise UnknownClause(f"no clause {named[:120]!r} in the index; give a clause_id an "
                            "answer cited (GET /api/v1/clauses/ID) or a citation such as "
                            "《证券法》第一百九十七条")
    return found[0].id


@dataclass
class FeedbackDesk:
    """A server's feedback store, its memory of confirmed questions and its rate limit.

    ``trusted`` checks a bearer token whose feedback is accepted at once (a team's own
    labelling tool); None: all feedback waits for review.
    """

    store: FeedbackStore
    encoder: Encoder
    limit: RateLimit = field(default_factory=RateLimit)
    trusted: Callable[[str], bool] | None = None
    every: float = 2.0  # seconds between checks for decisions made on other replicas
    memory: LiveMemory = field(init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False, repr=False)

    def __post_init__(self) -> None:
        self.memory = LiveMemory(self.store, encoder=self.encoder, every=self.every)

    def submit(self, question: str, clause_id: str, verdict: str, *, index: Index,
               client: str, token: str | None = None, source: str = "api") -> Feedback:
        """Store a reader's verdict: pending, or accepted when ``token`` is trusted.
        :class:`RateLimited` past the client's limit, :class:`UnknownClause` for a clause
        the index does not hold, ValueError for a bad record."""
        wait = self.limit.take(client)
        if wait > 0:
            raise RateLimited(wait)
        clause_id = resolve_clause(clause_id, index)
        trusted = bool(token) and self.trusted is not None and self.trusted(token or "")
        record = self.store.add(question, clause_id, verdict, client=client, source=source,
                                status="accepted" if trusted else "pending",
                                decided_by="trusted token" if trusted else None)
        if trusted:
            self.memory.attach(index)
        return record

    def decide(self, feedback_id: int, status: str, *, by: str,
               index: Index | None = None) -> Feedback:
        record = self.store.decide(feedback_id, status, by=by)
        if index is not None:
            self.memory.attach(index)
        return record

    def delete(self, feedback_id: int, *, index: Index | None = None) -> Feedback:
        record = self.store.delete(feedback_id)
        if index is not None:
            self.memory.attach(index)
        return record

    def missing(self, index: Index) -> list[Feedback]:
        """Confirmed records whose clause the index no longer holds."""
        return orphans(self.store, index)

    def follow(self, indexes: Callable[[], Index | None],
               listeners: list[Callable[[Index], None]] | None = None) -> None:
        """Keep the index ``indexes()`` returns supplied with the current memory: at once,
        on each swap (``listeners``: the live index's), and every ``every`` seconds for
        decisions taken on other replicas (a daemon thread)."""
        if listeners is not None:
            listeners.append(self._attach)
        first = indexes()
        if first is not None:
            self.memory.attach(first)

        def poll() -> None:
            while not self._stop.wait(self.every):
                index = indexes()
                if index is not None:
                    try:
                        self.memory.attach(index)
                    except ValueError:
                        continue  # a store briefly unreachable: try again next time

        threading.Thread(target=poll, name="feedback-memory", daemon=True).start()

    def _attach(self, index: Index) -> None:
        self.memory.attach(index)

    def close(self) -> None:
        self._stop.set()
        self.store.close()
