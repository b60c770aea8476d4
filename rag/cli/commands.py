"""The commands that read, index and ask: ``rag chunk``, ``rag index``, ``rag ask``."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from rag.cli.errors import EXIT_OK, EXIT_PARTIAL, UsageError, print_skipped
from rag.cli.options import filters_from, index_location
from rag.core.filters import Filters
from rag.encoders import DEFAULT_MODEL, Encoder, load_encoder
from rag.export.text import format_answer, use_color
from rag.index import Sources, StoreError, built_with, model_change, remembered_sources
from rag.paths import FEEDBACK_DB_ENV, default_feedback_db
from rag.search import Index, open_index


def cmd_chunk(args: argparse.Namespace) -> int:
    from rag.chunking import chunk_document, clause_to_dict
    from rag.readers import load_documents

    documents, errors = load_documents(args.paths, follow_links=args.follow_links)
    out = sys.stdout
    for doc in documents:
        for clause in chunk_document(doc, max_chars=args.max_chars):
            out.write(json.dumps(clause_to_dict(clause, doc), ensure_ascii=False) + "\n")
    print_skipped(errors)
    return EXIT_PARTIAL if errors else EXIT_OK


def sources_for(location: Path | str) -> Sources:
    """What to index when no path is given: the sources the index remembers (all of them,
    read the same way, so nothing is dropped by accident), else the shipped corpus."""
    from rag.paths import shipped_corpus

    try:
        remembered = remembered_sources(location)
    except StoreError:
        remembered = Sources(())  # an unreadable index is rebuilt from the shipped corpus
    return remembered if remembered.paths else Sources((shipped_corpus(),))


def cmd_index(args: argparse.Namespace) -> int:
    from rag.links.build import index_paths
    from rag.links.stored import LINKS

    location = index_location(args)
    sources = Sources(tuple(args.paths), args.follow_links) if args.paths else \
        sources_for(location)
    model = str(args.model or own_model(location) or DEFAULT_MODEL)
    if getattr(args, "ray", None):
        from rag.index.ray_build import index_paths_on_ray

        report = index_paths_on_ray(sources.paths, index=location, model=model,
                                    address=args.ray, search=args.search,
                                    follow_links=sources.follow_links, derived=(LINKS,))
    else:
        encoder = load_encoder(model, engine=args.encoder_engine)
        notice = model_change(location, encoder)
        if notice:
            print(notice, file=sys.stderr, flush=True)
        report = index_paths(sources.paths, index=location, encoder=encoder,
                             search=args.search, follow_links=sources.follow_links,
                             progress=not args.quiet)
    print_skipped(report.skipped_files)
    print(report.summary(), file=sys.stderr)
    if report.changed:
        from rag.cli.changes import index_epilogue

        epilogue = index_epilogue(location)
        if epilogue:
            print(epilogue, file=sys.stderr)
    return EXIT_PARTIAL if report.skipped_files else EXIT_OK


def own_model(location: Path | str) -> str | None:
    """The model that built the index at ``location``; None when there is none there yet, or
    it cannot be read (the build then rebuilds it, with the default model)."""
    try:
        return built_with(location)
    except (StoreError, OSError, ValueError):
        return None


def model_for(location: Path | str, model: str | None, *, engine: str | None = None) -> Encoder:
    """``model`` when given, else the model that built the index at ``location`` (the
    default model when there is no index there yet), run by ``engine`` (see
    :func:`rag.encoders.load_encoder`)."""
    return load_encoder(str(model or built_with(location) or DEFAULT_MODEL), engine=engine)


def open_with_model(args: argparse.Namespace) -> Index:
    """The index the options name, with the --model / --encoder-engine they give, else
    with the model that built it (the index loads it)."""
    location = index_location(args)
    engine = getattr(args, "encoder_engine", None)
    encoder = model_for(location, args.model, engine=engine) if args.model or engine else None
    return open_index(location, encoder=encoder)


def open_for_questions(args: argparse.Namespace) -> tuple[Index, Filters]:
    """The index (it loads the model that built it; ``--model`` must be that model), with
    the question memory of the feedback store, and the filters the options name, checked
    against the index (bad filters are a usage error)."""
    try:
        filters = filters_from(args)
    except ValueError as error:
        raise UsageError(str(error)) from None
    index = open_with_model(args)
    url = getattr(args, "feedback_db", None)
    if url or os.environ.get(FEEDBACK_DB_ENV, "").strip() or default_feedback_db().exists():
        from rag.feedback.recall import attach_memory  # (SQLAlchemy: ~0.3 s to import)

        attach_memory(index, url=url)
    try:
        index.check(filters)
    except ValueError as error:
        raise UsageError(str(error)) from None
    return index, filters


def cmd_ask(args: argparse.Namespace) -> int:
    from rag.answer import answer

    question = " ".join(args.question).strip()
    if not question:
        raise UsageError("the question is empty; e.g. rag ask \"操纵证券市场构成犯罪吗？\"")
    if args.debug and not args.json:
        raise UsageError("--debug fills the JSON record's debug block: use it with --json")
    index, filters = open_for_questions(args)
    result = answer(question, index=index, k=args.top, filters=filters)
    if args.json:
        from rag.answer.records import answer_record

        print(json.dumps(answer_record(result, debug=args.debug), ensure_ascii=False,
                         indent=2))
    else:
        sys.stdout.write(format_answer(result, color=use_color(args.color, sys.stdout)))
    return EXIT_OK
