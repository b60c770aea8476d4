"""The index that answers, swapped whole after each successful re-index.

The chat, the API and the library page all read :attr:`LiveIndex.index`; a request takes
it once and keeps that object, so an answer in flight (and every answer while a re-index
runs) comes from the previous generation until the new one is opened and swapped in. One
re-index runs at a time, in a background thread under the backend's build lock; asking
for another meanwhile queues one more run.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rag.encoders import Encoder
from rag.index import IndexBackend, Sources, StoreError, remembered_sources
from rag.links.build import index_paths
from rag.search import Index, open_index


class IndexNotReady(RuntimeError):
    """No index can answer yet; the message says what is happening."""


@dataclass(frozen=True)
class BuildStatus:
    """Where re-indexing stands. ``state``: ready, building, failed or not_ready."""

    state: str
    stage: str = ""
    done: int = 0
    total: int = 0
    message: str = ""
    started: str | None = None
    finished: str | None = None
    pending: bool = False
    builds: int = 0  # re-indexes finished (a page polls until this grows)

    def progress(self) -> str:
        """``embedding 120 / 1,861``; empty when idle."""
        if self.state != "building":
            return ""
        return f"{self.stage} {self.done:,} / {self.total:,}" if self.total else self.stage


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


class LiveIndex:
    """An index location, its encoder, and the opened :class:`Index` answering now."""

    def __init__(self, *, location: IndexBackend | Path | str | None, encoder: Encoder,
                 index: Index | None = None, sources: Sources | None = None,
                 echo: bool = False) -> None:
        self.location = location
        self.encoder = encoder
        # what a first build reads (later builds read what the index remembers)
        self.sources = sources or Sources(())
        self.echo = echo  # progress bars and results on stderr (rag serve)
        self._index = index
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._pending: tuple[Path, ...] | None = None
        self._thread: threading.Thread | None = None
        self._status = BuildStatus("ready" if index is not None else "not_ready",
                                   message="" if index is not None else "no index yet")
        self.listeners: list[Callable[[Index], None]] = []  # told of each swap

    @classmethod
    def fixed(cls, index: Index, encoder: Encoder) -> LiveIndex:
        """An opened index that is never rebuilt from here."""
        return cls(location=None, encoder=encoder, index=index)

    @property
    def index(self) -> Index:
        """The index answering now; :class:`IndexNotReady` when there is none yet."""
        found = self._index
        if found is None:
            status = self.status()
            what = status.progress() or status.message or "not built yet"
            raise IndexNotReady(f"the index is not ready ({what}); "
                                "ask again when it is built")
        return found

    @property
    def ready(self) -> bool:
        return self._index is not None

    @property
    def rebuildable(self) -> bool:
        return self.location is not None

    def status(self) -> BuildStatus:
        with self._lock:
            return self._status

    def open(self) -> bool:
        """Open what ``location`` holds now, if anything; whether there was an index."""
        if self.location is None:
            return self._index is not None
        try:
            found = open_index(self.location, encoder=self.encoder)
        except StoreError as error:
            with self._lock:
                self._status = replace(self._status, message=str(error))
            return False
        self._swap(found)
        with self._lock:
            if self._status.state == "not_ready":
                self._status = replace(self._status, state="ready", message="")
        return True

    # ------------------------------------------------------------ re-indexing

    def sources_for(self, add: Sequence[Path] = ()) -> Sources:
        """What a re-index reads: what the index remembers (else the first sources), plus
        ``add``. ValueError when a remembered source is missing: re-indexing then would
        drop its documents."""
        if self.location is None:
            raise ValueError("this index is served as it is; it cannot be re-indexed here")
        try:
            remembered = remembered_sources(self.location)
        except StoreError:  # an unreadable index is rebuilt from the first sources
            remembered = Sources(())
        missing = [str(p) for p in remembered.paths if not p.exists()]
        if missing:
            raise ValueError(f"{', '.join(missing)} (indexed before) is missing; restore it "
                             "or run `rag index` with the sources you want, then re-index")
        base = remembered if remembered.paths else self.sources
        paths = list(base.paths)
        have = {p.resolve() for p in paths}
        paths += [p for p in add if p.resolve() not in have]
        return Sources(tuple(paths), base.follow_links)

    def rebuild(self, *, add: Sequence[Path] = ()) -> BuildStatus:
        """Re-index in the background (from :meth:`sources_for`); when one is running,
        queue one more run after it. Returns the status now."""
        paths = self.sources_for(add).paths
        if not paths:
            raise ValueError("nothing to index: no sources are known for this index")
        with self._lock:
            self._pending = tuple(dict.fromkeys([*(self._pending or ()), *add]))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="rag-reindex",
                                                daemon=True)
                self._status = replace(self._status, state="building", stage="starting",
                                       done=0, total=0, started=_now(), finished=None,
                                       pending=False, message="re-indexing")
                self._thread.start()
            else:
                self._status = replace(self._status, pending=True)
            return self._status

    def wait(self, timeout: float | None = None) -> BuildStatus:
        """Block until no re-index is running or queued (tests, shutdown)."""
        with self._changed:
            self._changed.wait_for(lambda: self._thread is None, timeout=timeout)
            return self._status

    def follow(self, *, every: float = 0.5) -> Iterator[BuildStatus]:
        """Statuses while a re-index runs (at each change, at least every ``every``
        seconds), then the final one. No lock is held while the caller has a status."""
        while True:
            with self._changed:
                status, running = self._status, self._thread is not None
            yield status
            if not running:
                return
            with self._changed:
                if self._status is status and self._thread is not None:
                    self._changed.wait(timeout=every)

    def _progress(self, stage: str, done: int, total: int) -> None:
        with self._changed:
            self._status = replace(self._status, stage=stage, done=done, total=total)
            self._changed.notify_all()

    def _run(self) -> None:
        outcome, failed = "", True
        try:
            while True:
                with self._lock:
                    if self._pending is None:
                        self._finish(outcome, failed=failed)
                        return
                    add, self._pending = self._pending, None
                    self._status = replace(self._status, pending=False)
                try:
                    outcome, failed = self._build_once(add), False
                except (StoreError, OSError, ValueError) as error:
                    outcome, failed = str(error), True
                    if self.echo:
                        print(f"rag serve: re-index failed: {error}", file=sys.stderr)
                except Exception as error:  # a crashed encoder: say what, keep serving
                    outcome = (f"the re-index stopped unexpectedly ({type(error).__name__}: "
                               f"{error}); the previous index is still served")
                    failed = True
                    if self.echo:
                        print(f"rag serve: {outcome}", file=sys.stderr)
        finally:
            with self._lock:
                if self._thread is threading.current_thread():  # KeyboardInterrupt and kin
                    self._finish("the re-index stopped unexpectedly; the server log says why",
                                 failed=True)

    def _finish(self, outcome: str, *, failed: bool) -> None:
        """The end of a run (called holding the lock)."""
        state = "ready" if not failed else "failed" if self._index is not None else "not_ready"
        self._thread = None
        self._status = replace(self._status, state=state, stage="", finished=_now(),
                               message=outcome, builds=self._status.builds + 1,
                               pending=False)
        self._changed.notify_all()

    def _build_once(self, add: Sequence[Path]) -> str:
        assert self.location is not None  # rebuild() refuses a fixed index
        sources = self.sources_for(add)
        search = "exact"
        if self._index is not None:
            search = str(self._index.manifest.get("search", "exact"))
        report = index_paths(sources.paths, index=self.location, encoder=self.encoder,
                             follow_links=sources.follow_links, search=search,
                             progress=self.echo, on_progress=self._progress)
        if report.changed or self._index is None:
            self._progress("swapping", 0, 1)
            self._swap(open_index(self.location, encoder=self.encoder))
        summary = report.summary()
        if report.skipped_files:
            summary += ": " + "; ".join(report.skipped_files[:5])
        if self.echo:
            print(f"rag serve: {summary}", file=sys.stderr)
        return summary

    def _swap(self, index: Index) -> None:
        self._index = index  # one reference assignment: readers see the old or the new
        for listener in self.listeners:
            listener(index)
