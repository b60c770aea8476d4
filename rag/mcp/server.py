"""The MCP server: the read tools and the clause/document resources, described for a model."""

from __future__ import annotations

import logging
import os
import sys

from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

from rag import __version__
from rag.api.service import Service
from rag.mcp.tools import Tools

NAME = "rag-compliance"
VERBATIM = ("Every quote is verbatim source text (document text [start:end]) with its "
            "formal citation: quote it and cite it exactly as given, never paraphrased "
            "inside quotation marks, and say so when nothing in the corpus answers.")
INSTRUCTIONS = (
    "Compliance Q&A over Chinese and English laws, regulations and policy documents. "
    "It never writes prose of its own: it returns the clauses that govern a question. "
    f"{VERBATIM} Use ask for a question, search_clauses for a lighter list, get_clause "
    "for one clause named by id or citation, compare_versions for an article across "
    "versions of its law, list_documents for what the corpus holds.")

DESCRIPTIONS = {
    "ask": "Answer a compliance question with the clauses that govern it: a verdict, "
    "ranked citations (document, article, version, status, pages, source), highlights as "
    "offsets into each quote, cross-referenced clauses and the same article in other "
    "versions. answered=false means nothing answers well enough (the citations are then "
    "only near candidates, low_confidence).",
    "search_clauses": "Find the clauses that govern a question, lightest form: clause id, "
    "citation, verbatim quote and score for each. get_clause gives a clause whole.",
    "get_clause": "One clause by id (证券法-2019-12-28#art191) or by a citation naming it "
    "(《证券法》第一百九十一条): its verbatim text, its document, every version of that "
    "document with the same-numbered clause in each, and the clauses it refers to.",
    "compare_versions": "One article beside the same article in another version of its law "
    "(paired by text, so a renumbered article is found), with the words deleted from the "
    "older and inserted in the newer marked as offsets into each verbatim text.",
    "list_documents": "The documents in the corpus (laws, regulations, policy documents, "
    "news), statutes first, filtered by words in the title, kind and date.",
}


def build_server(service: Service) -> MCPServer:
    """An MCP server whose tools and resources read ``service``'s live index; none writes."""
    tools = Tools(service)
    # The SDK configures the whole process's logging (a root handler that then prints every
    # library's debug lines, e.g. bm25s's, on rag serve's console): put it back as it was.
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    server: MCPServer = MCPServer(NAME, version=__version__, instructions=INSTRUCTIONS,
                                  log_level="WARNING")
    root.handlers[:], root.level = handlers, level
    read_only = ToolAnnotations(read_only_hint=True, destructive_hint=False,
                                idempotent_hint=True, open_world_hint=False)
    for fn in (tools.ask, tools.search_clauses, tools.get_clause, tools.compare_versions,
               tools.list_documents):
        name = fn.__name__
        server.add_tool(fn, name=name, description=f"{DESCRIPTIONS[name]} {VERBATIM}",
                        annotations=read_only, structured_output=True)
    server.resource(
        "clause://{+clause_id}", name="clause", mime_type="application/json",
        description="A clause by id (as tools return it; # written %23), with its document, "
        f"versions and references, as JSON. {VERBATIM}")(tools.clause_resource)
    server.resource(
        "document://{+doc_id}", name="document", mime_type="application/json",
        description="A document's whole text with its headings and clauses (offsets into "
        f"the text), as JSON. {VERBATIM}")(tools.document_resource)
    return server


def run_stdio(service: Service) -> None:
    """Serve ``service`` over stdin/stdout until the client closes stdin; a client gone
    mid-call (a broken pipe) ends the server as quietly."""
    import anyio

    try:
        anyio.run(build_server(service).run_stdio_async)
    except* BrokenPipeError:
        # nothing more can reach the client; keep the interpreter's final flush quiet too
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
