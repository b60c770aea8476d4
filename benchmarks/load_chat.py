"""Load check for the web chat (not a test): many users asking at once.

Starts the chat on a free localhost port with a real index, then fires ``--requests``
chat questions at the same moment through the same endpoint the page uses (``/ask``),
each from its own client session, and waits for all of them within ``--deadline``
seconds. Prints how many were answered and the latency p50 / p95 / max.

    python benchmarks/load_chat.py                      # embeddings/index, built if needed
    python benchmarks/load_chat.py --index /path/to/index --requests 50 --concurrency 4

With ``--backend milvus://HOST:PORT/NAME`` (or ``--backend lite``: a Milvus Lite server
started here and filled from ``--index`` without re-embedding) it starts stateless
``rag serve --backend`` replicas as separate processes instead, fires the same load at one
replica and then at two (requests spread round-robin), checks that both replicas give
identical answers, and prints errors, p50/p95 and answers/s for each:

    python benchmarks/load_chat.py --backend lite --index embeddings/index --requests 50

Exit code 0 when every request got an answer in time, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's rag

QUESTIONS = (
    "利用内幕消息炒股会被罚多少钱？",
    "操纵证券市场构成犯罪吗？",
    "《证券法》第一百九十一条",
    "What is the penalty for market manipulation?",
    "上市公司信息披露虚假记载要承担什么责任？",
    "非法集资如何处置？",
    "私募基金管理人有哪些义务？",
    "Who is liable for false statements in a prospectus?",
    "证券公司挪用客户资金怎么处罚？",
    "期货内幕交易的罚款标准",
)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _inputs(question: str) -> dict[str, object]:
    """The /ask endpoint's inputs (the conversation state is kept per client session)."""
    return {"question": question, "doc_ids": [], "kinds": [], "as_of": "", "top": 5,
            "date_from": "", "date_to": ""}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[rank]


def _fire(urls: list[str], *, requests: int, deadline: float,
          ) -> tuple[list[tuple[bool, float, str]], float]:
    """``requests`` questions at the same moment, spread round-robin over ``urls``; each
    result is (answered, seconds, error), and the wall time of the whole burst."""
    from gradio_client import Client

    clients = [Client(urls[n % len(urls)], verbose=False) for n in range(requests)]
    barrier = threading.Barrier(requests)
    until = time.monotonic() + deadline

    def one(n: int) -> tuple[bool, float, str]:
        question = QUESTIONS[n % len(QUESTIONS)]
        barrier.wait()
        started = time.monotonic()
        try:
            job = clients[n].submit(**_inputs(question), api_name="/ask")
            html, _question, text = job.result(timeout=max(0.1, until - started))
        except Exception as error:  # reported, never raised: the count shows it
            return False, time.monotonic() - started, f"{type(error).__name__}: {error}"
        ok = 'class="turn"' in html and question in text
        return ok, time.monotonic() - started, "" if ok else "unexpected reply"

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=requests) as pool:
        results = list(pool.map(one, range(requests)))
    return results, time.monotonic() - began


def main(argv: list[str] | None = None) -> int:
    from rag.paths import default_index_dir, shipped_corpus

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=default_index_dir())
    parser.add_argument("--model", default=None, help="default: the index's model")
    parser.add_argument("--corpus", type=Path, default=shipped_corpus(),
                        help="built/updated into --index first (no-op when unchanged)")
    parser.add_argument("--no-update", action="store_true", help="use --index as it is")
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=4,
                        help="the server's queue concurrency (questions answered at once)")
    parser.add_argument("--deadline", type=float, default=600.0,
                        help="seconds for all requests to be answered")
    parser.add_argument("--backend", default=None,
                        help="milvus://HOST:PORT/NAME, or lite: run stateless replicas on it")
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2],
                        help="replica counts to compare (with --backend)")
    args = parser.parse_args(argv)

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    if args.backend:
        from load_replicas import run_replicas

        return run_replicas(args, fire=_fire, questions=QUESTIONS)
    from gradio_client import Client

    from rag.cli.commands import model_for
    from rag.index import index_paths
    from rag.search import open_index
    from ui.app import build_app
    from ui.memos import MemoStore
    from ui.server import make_app, serving

    encoder = model_for(args.index, args.model)
    if not args.no_update:
        print(index_paths([args.corpus], index=args.index, encoder=encoder).summary(),
              file=sys.stderr)
    index = open_index(args.index, encoder=encoder)
    memos = MemoStore(Path(tempfile.mkdtemp(prefix="rag-load-memos-")))
    app = make_app(build_app(index=index, encoder=encoder, memos=memos,
                             concurrency=args.concurrency), memos=memos)
    with serving(app) as url:
        # warm-up: first query loads jieba's dictionary and warms the model
        Client(url, verbose=False).predict(**_inputs(QUESTIONS[0]), api_name="/ask")
        results, wall = _fire([url], requests=args.requests, deadline=args.deadline)

    answered = [latency for ok, latency, _ in results if ok]
    errors = [error for ok, _, error in results if not ok]
    print(f"requests {args.requests}, server concurrency {args.concurrency}, "
          f"{os.cpu_count()} CPUs, model {encoder.name}")
    print(f"answered {len(answered)}/{args.requests} in {wall:.1f} s wall "
          f"({len(answered) / wall:.2f} answers/s)")
    if answered:
        print(f"latency p50 {statistics.median(answered):.2f} s · "
              f"p95 {_percentile(answered, 0.95):.2f} s · max {max(answered):.2f} s")
    for error in sorted(set(errors)):
        print(f"failed: {error} (x{errors.count(error)})")
    return 0 if len(answered) == args.requests else 1


if __name__ == "__main__":
    raise SystemExit(main())
