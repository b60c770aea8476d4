"""``rag feedback`` (review, export, import) and ``rag learn`` (labelled pairs as accepted)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag.cli.errors import EXIT_OK, EXIT_PARTIAL, CommandError, print_skipped
from rag.cli.options import (
    add_feedback_db_option,
    add_index_option,
    add_query_model_option,
    index_location,
)


def _store(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from rag.feedback import FeedbackStore

    return FeedbackStore(args.feedback_db)


def cmd_feedback(args: argparse.Namespace) -> int:
    action = args.action or "list"
    with _store(args) as store:
        if action == "list":
            return _list(args, store)
        if action == "export":
            from rag.feedback.transfer import export_lines

            if args.file in (None, "-"):
                count = export_lines(store, sys.stdout)
            else:
                with Path(args.file).open("w", encoding="utf-8") as out:
                    count = export_lines(store, out)
            print(f"exported {count} records", file=sys.stderr)
            return EXIT_OK
        if action == "import":
            from rag.feedback.transfer import import_lines

            if not args.file or args.file == "-":
                report = import_lines(sys.stdin, store=store, name="<stdin>")
            else:
                try:
                    with Path(args.file).open(encoding="utf-8") as handle:
                        report = import_lines(handle, store=store, name=args.file)
                except UnicodeDecodeError:
                    raise CommandError(f"{args.file}: not UTF-8 JSON lines") from None
            print_skipped(report.problems)
            print(report.summary(f"imported {args.file}"), file=sys.stderr)
            return EXIT_PARTIAL if report.problems else EXIT_OK
        return _decide(args, store, action)


def _list(args: argparse.Namespace, store) -> int:  # type: ignore[no-untyped-def]
    import json

    for record in store.records(args.status):
        print(json.dumps(record.to_dict(), ensure_ascii=False))
    counts = store.counts()
    print(", ".join(f"{n} {status}" for status, n in counts.items()), file=sys.stderr)
    location = index_location(args)
    from rag.index import StoreError
    from rag.search import open_index

    try:
        index = open_index(location, verify=False)
    except (OSError, ValueError, StoreError):
        return EXIT_OK  # no index to check confirmed clauses against
    from rag.feedback.recall import orphans

    lost = orphans(store, index)
    for record in lost:
        print(f"warning: feedback {record.id}: confirmed clause {record.clause_id} is not "
              f"in the index {location} (question: {record.question[:60]})", file=sys.stderr)
    return EXIT_PARTIAL if lost else EXIT_OK


def _decide(args: argparse.Namespace, store, action: str) -> int:  # type: ignore[no-untyped-def]
    from rag.feedback import NoSuchFeedback

    if not args.ids:
        raise CommandError(f"name the feedback ids to {action}, e.g. rag feedback {action} 3 4")
    missing = []
    for feedback_id in args.ids:
        try:
            if action == "delete":
                store.delete(feedback_id)
            else:
                store.decide(feedback_id, "accepted" if action == "accept" else "rejected",
                             by=args.by)
        except NoSuchFeedback as error:
            missing.append(str(error))
    print_skipped(missing)
    done = len(args.ids) - len(missing)
    print(f"{action}: {done} of {len(args.ids)} records", file=sys.stderr)
    return EXIT_PARTIAL if missing else EXIT_OK


def cmd_learn(args: argparse.Namespace) -> int:
    from rag.cli.commands import model_for
    from rag.feedback.recall import load_memory
    from rag.feedback.transfer import learn
    from rag.search import open_index

    location = index_location(args)
    encoder = model_for(location, args.model, engine=args.encoder_engine)
    index = open_index(location, encoder=encoder)
    with _store(args) as store:
        report = learn(Path(args.file), index=index, store=store)
        print_skipped(report.problems)
        memory = load_memory(store, encoder=encoder, model=index.model_identity)  # embeds now
    print(report.summary(f"learned {args.file}") + f"; the memory holds {len(memory)} "
          "confirmed pairs", file=sys.stderr)
    return EXIT_PARTIAL if report.problems else EXIT_OK


def feedback_id(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a feedback id (a number)") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"feedback ids start at 1, not {number}")
    return number


def add_feedback(commands: argparse._SubParsersAction) -> None:
    feedback = commands.add_parser(
        "feedback", help="review readers' feedback on clauses; export or import it",
        description="List feedback (pending, accepted, rejected) and the confirmed clauses "
        "the index no longer holds; accept, reject or delete records; export or import them "
        "as JSON lines. Only accepted \"governs\" records change ranking (question memory).",
        epilog="Examples: rag feedback --status pending; rag feedback accept 3 4; "
        "rag feedback export --file all.jsonl; rag feedback import --file all.jsonl",
    )
    feedback.add_argument("action", nargs="?", default="list",
                          choices=("list", "accept", "reject", "delete", "export", "import"))
    feedback.add_argument("ids", nargs="*", type=feedback_id, metavar="ID",
                          help="records to accept, reject or delete")
    feedback.add_argument("--file", default=None, metavar="FILE",
                          help="export to / import from FILE (default: stdout / stdin)")
    feedback.add_argument("--status", choices=("pending", "accepted", "rejected"),
                          help="list only these")
    feedback.add_argument("--by", default="cli", help="who decides (recorded)")
    add_feedback_db_option(feedback)
    add_index_option(feedback)
    feedback.set_defaults(run=cmd_feedback)

    learn = commands.add_parser(
        "learn", help="import labelled questions as accepted feedback (question memory)",
        description="Store each (question, clause) pair of FILE as accepted feedback, so the "
        "question, and paraphrases of it, find the clause first. FILE is JSON lines: rag "
        "batch records (question + citations[].clause_id), {question, clause_id}, or STARD "
        "(question + gold: [{law, article}], resolved to the index's clauses; unresolved "
        "ones are listed).",
    )
    learn.add_argument("file", metavar="FILE.jsonl")
    add_index_option(learn)
    add_query_model_option(learn)
    add_feedback_db_option(learn)
    learn.set_defaults(run=cmd_learn)
