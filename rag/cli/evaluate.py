"""``rag explain`` (hit testing for one question) and ``rag eval`` (a labelled file scored)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rag.cli.errors import EXIT_OK, EXIT_PARTIAL, UsageError, print_skipped
from rag.cli.options import add_question_options


def _opened(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from rag.cli.commands import open_for_questions

    index, filters = open_for_questions(args)
    if args.no_memory:
        index.memory = None
    return index, index.encoder, filters


def cmd_explain(args: argparse.Namespace) -> int:
    from rag.evaluate.explain import explain, format_explanation

    question = " ".join(args.question).strip()
    if not question:
        raise UsageError("the question is empty; e.g. rag explain \"内幕交易会被罚多少钱？\"")
    index, encoder, filters = _opened(args)
    result = explain(question, index=index, encoder=encoder, k=args.top, filters=filters)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        sys.stdout.write(format_explanation(result))
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from rag.evaluate.report import write_report
    from rag.evaluate.run import evaluate
    from rag.feedback.labelled import read_labelled

    out = Path(args.out) if args.out else None
    if out is not None and out.suffix.lower() not in (".md", ".html", ".htm"):
        raise UsageError(f"--out {out}: the report is .md or .html")
    index, encoder, filters = _opened(args)
    labelled = read_labelled(Path(args.file), index)
    result = evaluate(labelled.items, index=index, encoder=encoder, filters=filters)
    result.problems[:0] = labelled.problems
    if not result.outcomes:
        raise UsageError(f"{args.file}: no labelled question could be scored"
                         + (f" ({labelled.problems[0]})" if labelled.problems else ""))
    text = write_report(result, out, title=f"rag eval {Path(args.file).name}")
    if out is None:
        sys.stdout.write(text)
    else:
        overall = result.overall()
        print(f"{len(result.outcomes)} questions: " + ", ".join(
            f"{k} {v:.3f}" for k, v in overall.items()) + f"; report in {out}",
            file=sys.stderr)
    print_skipped(labelled.problems)
    return EXIT_PARTIAL if labelled.problems else EXIT_OK


def add_evaluate(commands: argparse._SubParsersAction) -> None:
    explain = commands.add_parser(
        "explain", help="hit testing: why a question gets the clauses it gets",
        description="For one question (and the filters), every ranked clause with each "
        "channel's rank and score (look-up, memory, dense, BM25, definition, reference, "
        "reranker), the restatements folded under it, the memory's voters and the refusal "
        "decision — to understand a miss before confirming the right clause.",
        epilog="Example: rag explain \"内幕交易会被罚多少钱？\" --top 10",
    )
    explain.add_argument("question", nargs="+", help="the question (quote it in the shell)")
    explain.add_argument("--json", action="store_true", help="print one JSON object")
    explain.add_argument("--no-memory", action="store_true",
                         help="without question memory (what search alone gives)")
    add_question_options(explain)
    explain.set_defaults(run=cmd_explain)

    evaluation = commands.add_parser(
        "eval", help="score retrieval on a file of labelled questions",
        description="Rank every question of FILE as answering does and report Recall@1/5/"
        "10/100 and MRR@10 (article-level), each channel alone, the misses with where "
        "their gold ranked, and a chart of the ranks. FILE: JSON lines as `rag learn` "
        "reads them (rag batch records, {question, clause_id}, STARD {question, gold}).",
        epilog="Example: rag eval dev.jsonl --out report.html",
    )
    evaluation.add_argument("file", metavar="FILE.jsonl")
    evaluation.add_argument("--out", metavar="REPORT",
                            help="report.md (chart as report.png beside it) or report.html "
                            "(chart embedded); default: Markdown on stdout, no chart")
    evaluation.add_argument("--no-memory", action="store_true",
                            help="without question memory (the search alone)")
    add_question_options(evaluation)
    evaluation.set_defaults(run=cmd_eval)
