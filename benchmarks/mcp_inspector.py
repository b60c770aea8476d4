"""Check ``rag mcp`` with the MCP inspector's CLI (npx @modelcontextprotocol/inspector --cli).

Each call starts the stdio server afresh, as a desktop client would, and the script checks
what comes back: the five tools with input and output schemas, the two resource templates,
a clause by citation, the same clause as a resource, and an oversized argument refused as
a tool error. Prints one line per call with its wall time; exits 1 when a check fails.

    python benchmarks/mcp_inspector.py [--index DIR]   (default: the index under $RAG_HOME)
    make mcp-inspect
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path.cwd()
INSPECTOR = "@modelcontextprotocol/inspector@0.15.0"
TOOLS = {"ask", "search_clauses", "get_clause", "compare_versions", "list_documents"}
ART191 = "证券法-2019-12-28#art191"


def inspect(index: Path, *method: str) -> tuple[dict[str, Any], float]:
    command = ["npx", "-y", INSPECTOR, "--cli", "-e", f"PYTHONPATH={REPO}",
               "-e", f"RAG_HOME={os.environ.get('RAG_HOME', '')}",
               sys.executable, "-m", "rag", "mcp", "--index", str(index), "--method", *method]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"inspector {' '.join(method)} failed ({done.returncode}): "
                         f"{done.stderr.strip()[-500:]}")
    return json.loads(done.stdout), took


def tools_listed(out: dict[str, Any]) -> bool:
    tools = out["tools"]
    return {t["name"] for t in tools} == TOOLS and all(
        t["inputSchema"]["type"] == "object" and t["outputSchema"]["type"] == "object"
        and "verbatim" in t["description"] for t in tools)


def clause_found(out: dict[str, Any]) -> bool:
    return not out.get("isError") and out["structuredContent"]["clause"]["clause_id"] == ART191


def resource_read(out: dict[str, Any]) -> bool:
    return json.loads(out["contents"][0]["text"])["clause"]["clause_id"] == ART191


CHECKS: list[tuple[list[str], Callable[[dict[str, Any]], bool]]] = [
    (["tools/list"], tools_listed),
    (["resources/templates/list"], lambda out: {t["uriTemplate"] for t in out[
        "resourceTemplates"]} == {"clause://{+clause_id}", "document://{+doc_id}"}),
    (["tools/call", "--tool-name", "get_clause", "--tool-arg", "clause=《证券法》第一百九十一条"],
     clause_found),
    (["resources/read", "--uri", "clause://" + ART191.replace("#", "%23")], resource_read),
    (["tools/call", "--tool-name", "ask", "--tool-arg", "question=内幕交易",
      "--tool-arg", "top=500"],
     lambda out: out.get("isError") is True and "less than or equal to 100" in json.dumps(
         out, ensure_ascii=False)),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=None,
                        help="index folder (default: the one under $RAG_HOME)")
    args = parser.parse_args()
    if shutil.which("npx") is None:
        print("npx not found: install Node.js 18+ and npm to run the MCP inspector",
              file=sys.stderr)
        return 1
    from rag.paths import default_index_dir

    index = args.index or default_index_dir()
    failed = 0
    for method, check in CHECKS:
        out, took = inspect(index, *method)
        ok = check(out)
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {took:5.1f} s  {' '.join(method)}")
    print(f"{len(CHECKS) - failed}/{len(CHECKS)} inspector checks passed ({INSPECTOR})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
