"""Stateless chat replicas for ``load_chat.py --backend``: N ``rag serve --backend``
processes on their own ports over one Milvus index, loaded with the same burst."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
Fire = Callable[..., tuple[list[tuple[bool, float, str]], float]]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))]


def copy_into(source: Path, uri: str) -> str:
    """Build ``uri`` from the embedded index ``source`` with its vectors (no model runs);
    returns the model name."""
    from rag.encoders import load_encoder
    from rag.index import EmbeddedBackend, copy_index

    manifest = EmbeddedBackend(source).manifest() or {}
    name = str(manifest["model"]["name"])
    report = copy_index(source, to=uri, encoder=load_encoder(name))
    print(f"filled {uri} from {source}: {report.summary()}", file=sys.stderr)
    return name


@contextmanager
def replica(uri: str, port: int, *, model: str | None, concurrency: int,
            log: Path) -> Iterator[str]:
    """One ``rag serve --backend`` process; yields its URL once it answers."""
    import httpx
    from gradio_client import Client

    command = [sys.executable, "-m", "rag", "serve", "--backend", uri, "--port", str(port),
               "--concurrency", str(concurrency)]
    if model:
        command += ["--model", model]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 300
        while True:
            if process.poll() is not None:
                raise SystemExit(f"replica on port {port} exited; see {log}")
            try:
                Client(url, verbose=False)
                break
            except (OSError, ValueError, RuntimeError, httpx.HTTPError):  # not up yet
                if time.monotonic() > deadline:
                    raise SystemExit(f"replica on port {port} not up after 300 s") from None
                time.sleep(1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def run_replicas(args: argparse.Namespace, *, fire: Fire, questions: Sequence[str]) -> int:
    sys.path.insert(0, str(REPO))
    from gradio_client import Client

    from tests.servers import free_port, milvus_server

    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        uri, model = args.backend, args.model
        if uri == "lite":
            server = stack.enter_context(milvus_server(tmp / "milvus"))
            uri = f"{server.uri}/chat"
            model = copy_into(Path(args.index), uri)
        urls = [stack.enter_context(replica(uri, free_port(), model=model,
                                            concurrency=args.concurrency,
                                            log=tmp / f"replica{n}.log"))
                for n in range(max(args.replicas))]
        # the same answer from every replica (and a warm-up: jieba, the model)
        texts = {url: [Client(url, verbose=False).predict(
            question=q, doc_ids=[], kinds=[], as_of="", top=5, date_from="", date_to="",
            api_name="/ask")[2] for q in questions] for url in urls}
        differ = sum(1 for i in range(len(questions))
                     if len({texts[u][i] for u in urls}) > 1)
        print(f"{len(urls)} replicas over {uri}: {len(questions) - differ}/{len(questions)} "
              f"questions answered identically by all")
        print(f"requests {args.requests} per run, concurrency {args.concurrency} per replica, "
              f"{os.cpu_count()} CPUs, model {model}")
        print("| replicas | answered | errors | wall s | answers/s | p50 s | p95 s |")
        print("|---|---|---|---|---|---|---|")
        failed = 0
        for count in args.replicas:
            results, wall = fire(urls[:count], requests=args.requests, deadline=args.deadline)
            answered = [latency for ok, latency, _ in results if ok]
            errors = [error for ok, _, error in results if not ok]
            failed += len(errors)
            print(f"| {count} | {len(answered)}/{args.requests} | {len(errors)} | {wall:.1f} | "
                  f"{len(answered) / wall:.2f} | "
                  f"{statistics.median(answered) if answered else float('nan'):.2f} | "
                  f"{_percentile(answered, 0.95) if answered else float('nan'):.2f} |")
            for error in sorted(set(errors)):
                print(f"failed: {error} (x{errors.count(error)})")
    return 1 if failed or differ else 0
