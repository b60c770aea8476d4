"""An MCP client (the SDK's ClientSession) on its own stdin/stdout, which a test wires to a
``rag mcp`` server's pipes: it starts many slow questions at once and says ``answered``
on stderr when the first comes back, so the test can kill it with the rest in flight."""

from __future__ import annotations

import sys

import anyio
from mcp import ClientSession
from mcp.server.stdio import stdio_server

QUESTION = ("内幕交易 操纵证券市场 虚假陈述 罚款 " * 100)[:2000]


async def main(calls: int) -> None:
    async with stdio_server() as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        first = anyio.Event()

        async def ask() -> None:
            await session.call_tool("ask", {"question": QUESTION, "top": 100})
            if not first.is_set():
                first.set()
                print("answered", file=sys.stderr, flush=True)

        async with anyio.create_task_group() as group:
            for _ in range(calls):
                group.start_soon(ask)


if __name__ == "__main__":
    anyio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 12)
