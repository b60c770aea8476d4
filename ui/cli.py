"""``rag serve``: the web chat and the API, added to ``rag`` through an entry point.

The server starts at once on the index as it is; checking the sources (and building the
index the first time) runs in the background, and the new generation is swapped in when
it is ready. Until a first index exists the chat says so and the API answers 503.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rag.api.auth import TOKEN_FILE_ENV, AdminToken, TokenFileError, token_from
from rag.api.live import LiveIndex
from rag.cli.errors import EXIT_OK, UsageError
from rag.cli.options import (
    add_feedback_db_option,
    add_index_option,
    add_query_model_option,
    index_location,
    positive,
)
from rag.core.locations import is_remote
from rag.encoders import DEFAULT_MODEL, Encoder, load_encoder
from rag.feedback.desk import FeedbackDesk
from rag.feedback.store import DB_ENV
from rag.index import Sources, StoreError, built_with, remembered_sources
from rag.paths import shipped_corpus
from rag.search import open_index


def update_sources(location: Path | str, *, extra: list[Path]) -> Sources:
    """What starting the chat re-reads: the sources the index was built from plus any
    ``--corpus`` given (a new index starts from the shipped corpus). Starting the chat never
    removes documents: when a remembered source is missing, nothing is updated."""
    remembered = remembered_sources(location)
    missing = [str(p) for p in remembered.paths if not p.exists()]
    if missing:
        print(f"rag serve: {', '.join(missing)} (indexed before) is missing; the index is "
              "served as it is — run `rag index` with the sources you want to change them",
              file=sys.stderr)
        return Sources(())
    paths = list(remembered.paths) or ([] if extra else [shipped_corpus()])
    paths += [p for p in extra if p.resolve() not in {s.resolve() for s in paths}]
    return Sources(tuple(paths), remembered.follow_links)


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        admin = token_from(getattr(args, "admin_token_file", None))
    except TokenFileError as error:
        raise UsageError(f"--admin-token-file: {error}") from None
    location = index_location(args)
    name = args.model
    if name is None:
        try:
            name = built_with(location)
        except StoreError:
            if is_remote(location):
                raise  # a server index is not rebuilt behind the user's back
            # an unreadable folder index is rebuilt below
    name = str(name or DEFAULT_MODEL)
    print(f"rag serve: loading model {name} …", file=sys.stderr)
    encoder = load_encoder(name, engine=args.encoder_engine)
    shared = is_remote(location) and not args.update and not args.corpus
    if shared and admin is not None:
        raise UsageError("--admin-token-file: a server index is shared and served as it is; "
                         "pass --update to let this server change it from its library")
    sources = Sources(()) if args.no_update or shared else \
        update_sources(location, extra=args.corpus or [])
    live = serving_index(location, encoder=encoder, sources=sources, shared=shared)
    if not sources.paths:
        why = " (--no-update)" if args.no_update else (
            " (a server index is shared and built with `rag index ... --backend`; pass "
            "--update or --corpus to update it from here)" if shared else "")
        print(f"rag serve: using {location} as it is{why}", file=sys.stderr)
    else:
        print(f"rag serve: checking {location} against "
              f"{', '.join(map(str, sources.paths))} in the background (only new or "
              "changed clauses are embedded; answers come from the index as it is until "
              "then) …", file=sys.stderr)
        live.rebuild(add=sources.paths)

    from rag.api.library import Library
    from rag.api.service import Service
    from rag.paths import data_home
    from ui.app import build_app
    from ui.memos import MemoStore
    from ui.server import make_app, serve_app

    memos = MemoStore(data_home() / "memos")
    library = None if shared else Library(data_home() / "library")
    desk = None
    if not shared or getattr(args, "feedback_db", None) or os.environ.get(DB_ENV, "").strip():
        desk = feedback_desk(args, encoder)
    else:  # replicas of a shared index share one store, never a local file each
        print("rag serve: no feedback on this replica: a server index is shared, so its "
              "replicas need one shared store (--feedback-db postgresql://…)", file=sys.stderr)
    service = Service(live=live, library=library, admin=admin, concurrency=args.concurrency,
                      feedback=desk)
    if service.feedback is not None:
        service.feedback.follow(lambda: live.index if live.ready else None, live.listeners)
    demo = build_app(service=service, memos=memos, concurrency=args.concurrency)
    app = make_app(demo, memos=memos, service=service)
    size = (f"{len(live.index.documents)} documents, {len(live.index.clauses)} clauses"
            if live.ready else "building the index first")
    writes = "library writes with the admin token" if service.writes else "read-only"
    print(f"rag serve: {size}; {writes}; open http://{args.host}:{args.port} "
          f"(API: /api/v1, docs: /docs; Ctrl+C to stop)", file=sys.stderr)
    serve_app(app, host=args.host, port=args.port)
    return EXIT_OK


def feedback_desk(args: argparse.Namespace, encoder: Encoder) -> FeedbackDesk:
    """The feedback store ``--feedback-db`` names (default: SQLite under $RAG_HOME), with
    the trusted token ``--feedback-trusted-token-file`` holds, if any."""
    from rag.feedback import FeedbackStore, FeedbackStoreError

    trusted = None
    if getattr(args, "feedback_trusted_token_file", None) is not None:
        try:
            trusted = AdminToken.from_file(args.feedback_trusted_token_file)
        except TokenFileError as error:
            raise UsageError(f"--feedback-trusted-token-file: {error}") from None
    try:
        store = FeedbackStore(getattr(args, "feedback_db", None))
    except FeedbackStoreError as error:
        raise UsageError(f"--feedback-db: {error}") from None
    return FeedbackDesk(store, encoder=encoder, trusted=trusted.check if trusted else None)


def serving_index(location: Path | str, *, encoder: Encoder, sources: Sources,
                  shared: bool) -> LiveIndex:
    """The live index ``rag serve`` answers from: a shared server index as it is, else the
    index at ``location`` (rebuilt from the library when it changes)."""
    if shared:
        return LiveIndex.fixed(open_index(location, encoder=encoder), encoder)
    live = LiveIndex(location=location, encoder=encoder, sources=sources, echo=True)
    if not live.open() and not sources.paths:
        open_index(location, encoder=encoder)  # raises, saying how to build one
    return live


def add_serve(commands: argparse._SubParsersAction) -> None:
    """Add ``rag serve`` to the ``rag`` command (entry point ``rag.commands``)."""
    serve = commands.add_parser(
        "serve", help="start the web chat (builds or updates the index first)",
        description="Start the web chat. If the index folder is missing or the corpus "
        "changed, the index is built or updated first (only changed clauses are embedded). "
        "An index on a Milvus server (--backend) is served as it is unless --update is "
        "given: replicas on several machines then share it and keep nothing on disk.",
    )
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    serve.add_argument("--corpus", type=Path, nargs="+", default=None, metavar="PATH",
                       help="files or folders to add to the index (it always re-reads the "
                       "ones it was built from; a new index starts from the shipped corpus)")
    serve.add_argument("--no-update", action="store_true",
                       help="serve the index as it is, without checking the corpus")
    serve.add_argument("--update", action="store_true",
                       help="with --backend milvus://…: check the corpus and update the "
                       "index first (by default a server index is served as it is, and "
                       "nothing is written to local disk)")
    serve.add_argument("--concurrency", type=positive, default=4,
                       help="questions answered at the same time (default 4)")
    serve.add_argument("--admin-token-file", type=Path, default=None, metavar="FILE",
                       help="enable library writes (add and remove files, re-index) for "
                       "requests carrying the token in FILE; without it (or "
                       f"${TOKEN_FILE_ENV}) the server is read-only")
    serve.add_argument("--feedback-trusted-token-file", type=Path, default=None,
                       metavar="FILE", help="feedback sent with the token in FILE (Bearer) "
                       "is accepted at once (a team's labelling tool); other feedback waits "
                       "for review")
    add_feedback_db_option(serve)
    add_index_option(serve)
    add_query_model_option(serve)
    serve.set_defaults(run=cmd_serve)
