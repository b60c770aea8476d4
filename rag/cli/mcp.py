"""``rag mcp``: the library as an MCP server on stdin/stdout, for a desktop assistant."""

from __future__ import annotations

import argparse

from rag.cli.commands import open_with_model
from rag.cli.errors import EXIT_OK
from rag.cli.options import add_index_option, add_query_model_option


def add_mcp(commands: argparse._SubParsersAction) -> None:
    mcp = commands.add_parser(
        "mcp", help="serve the library to an AI assistant over MCP (stdio)",
        description="Serve the index to an MCP client (Claude Desktop, Cursor, …) over "
        "stdin/stdout: tools ask, search_clauses, get_clause, compare_versions and "
        "list_documents, resources clause://ID and document://ID. Read-only. Over HTTP, "
        "`rag serve` offers the same at /mcp.",
        epilog="Client configuration: see \"Use it from your assistant\" in the README.",
    )
    add_index_option(mcp)
    add_query_model_option(mcp)
    mcp.set_defaults(run=cmd_mcp)


def cmd_mcp(args: argparse.Namespace) -> int:
    from rag.api.service import Service
    from rag.mcp.server import run_stdio

    index = open_with_model(args)
    encoder = index.encoder  # the model that built the index, loaded before serving
    run_stdio(Service.fixed(index, encoder))
    return EXIT_OK
