"""What MCP costs per call: each tool's median latency through ``rag mcp`` (stdio, the SDK's
client) beside the same library call in this process, same index, same run.

    python benchmarks/mcp_latency.py [--index DIR] [--repeat 20]

The library side builds the same record (``AnswerRecord.of(answer(...))`` and the views);
the MCP side adds validation, JSON and the pipe (the SDK's client also checks each result
against the tool's output schema). Both sides run torch on one thread, so neither process's
idle OpenMP threads spin against the other's work.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client

REPO = Path.cwd()
QUESTION = "内幕交易会被罚多少钱？"


def median_ms(samples: list[float]) -> float:
    return 1000 * statistics.median(samples)


def library_calls(index_dir: Path) -> dict[str, Callable[[], object]]:
    from rag.answer import answer
    from rag.answer.records import AnswerRecord
    from rag.api.views import clause_detail
    from rag.mcp.tools import named_clause
    from rag.search import open_index

    index = open_index(index_dir)
    encoder = index.encoder

    def ask() -> object:
        return AnswerRecord.of(answer(QUESTION, index=index, encoder=encoder, k=5))

    def get_clause() -> object:
        clause = named_clause(index, "《证券法》第一百九十一条")
        assert clause is not None
        return clause_detail(clause.id, index, owned=lambda d: False)

    return {"ask": ask, "get_clause": get_clause}


CALLS: dict[str, dict[str, Any]] = {
    "ask": {"question": QUESTION, "top": 5},
    "get_clause": {"clause": "《证券法》第一百九十一条"},
}


PASSED_ON = ("RAG_HOME", "RAG_MODEL_CACHE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE",
             "OMP_NUM_THREADS")


async def samples(index_dir: Path, repeat: int
                  ) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Per tool, the library call's and the MCP call's latencies, taken in turns (so a
    busy machine slows both alike)."""
    library = library_calls(index_dir)
    env = {k: os.environ[k] for k in PASSED_ON if k in os.environ}
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "rag", "mcp", "--index", str(index_dir)],
                                   env={**env, "PYTHONPATH": str(REPO)}, cwd=str(REPO))
    direct: dict[str, list[float]] = {name: [] for name in CALLS}
    over_mcp: dict[str, list[float]] = {name: [] for name in CALLS}
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        await session.list_tools()
        for name, arguments in CALLS.items():
            library[name](), await session.call_tool(name, arguments)  # warm
            for _ in range(repeat):
                started = time.perf_counter()
                library[name]()
                direct[name].append(time.perf_counter() - started)
                started = time.perf_counter()
                result = await session.call_tool(name, arguments)
                over_mcp[name].append(time.perf_counter() - started)
                assert not result.is_error, result.content
    return direct, over_mcp


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=None,
                        help="index folder (default: the one under $RAG_HOME)")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"  # before torch loads, here and in the server
    from rag.paths import default_index_dir

    index_dir = args.index or default_index_dir()
    direct, over_mcp = anyio.run(samples, index_dir, args.repeat)
    print(f"median of {args.repeat} calls, index {index_dir}")
    for name in CALLS:
        lib, mcp = median_ms(direct[name]), median_ms(over_mcp[name])
        print(f"{name:11} library {lib:7.1f} ms   MCP stdio {mcp:7.1f} ms   "
              f"x{mcp / lib:.2f} (+{mcp - lib:.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
