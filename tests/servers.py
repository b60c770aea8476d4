"""Test servers on 127.0.0.1: a Milvus Lite server and a local Ray cluster, started as
child processes on free ports and stopped by their own process ids."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BIN = Path(sys.executable).parent
RAY_PORTS = 40  # every port a local Ray cluster opens lies in [base, base + RAY_PORTS)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def free_range(size: int, *, low: int = 20000, high: int = 32000) -> int:
    """A base port with ``size`` free ports above it."""
    rng = random.Random()
    for _ in range(200):
        base = rng.randrange(low, high - size)
        if all(_is_free(p) for p in range(base, base + size)):
            return base
    raise RuntimeError(f"no {size} free ports between {low} and {high}")


def _wait_for_port(port: int, process: subprocess.Popen[bytes], *, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with code {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {seconds} s")


def _stop(process: subprocess.Popen[bytes], *, group: bool = False, grace: float = 10) -> None:
    if process.poll() is not None:
        return
    if group:
        os.killpg(process.pid, signal.SIGTERM)
    else:
        process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        if group:
            os.killpg(process.pid, signal.SIGKILL)
        else:
            process.kill()
        process.wait(timeout=10)


@dataclass
class MilvusServer:
    """A ``milvus-lite server`` child process; ``stop()`` and ``start()`` for fault tests."""

    data_dir: Path
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"milvus://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(BIN / "milvus-lite"), "server", "--data-dir", str(self.data_dir),
                 "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        _wait_for_port(self.port, self.process, seconds=60)

    def stop(self) -> None:
        if self.process is not None:
            _stop(self.process)
            self.process = None


@contextmanager
def milvus_server(folder: Path) -> Iterator[MilvusServer]:
    folder.mkdir(parents=True, exist_ok=True)
    server = MilvusServer(folder / "data", free_port(), folder / "server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def ray_start_command(base: int, *, cpus: int, temp_dir: Path) -> list[str]:
    """``ray start --head --block`` with every port it opens in [base, base + RAY_PORTS)."""
    return [
        str(BIN / "ray"), "start", "--head", "--block", f"--num-cpus={cpus}",
        "--node-ip-address=127.0.0.1", f"--port={base}",
        f"--node-manager-port={base + 1}", f"--object-manager-port={base + 2}",
        f"--runtime-env-agent-port={base + 3}", f"--dashboard-agent-grpc-port={base + 4}",
        f"--dashboard-agent-listen-port={base + 5}", f"--metrics-export-port={base + 6}",
        f"--ray-client-server-port={base + 7}", f"--min-worker-port={base + 10}",
        f"--max-worker-port={base + RAY_PORTS - 1}", "--include-dashboard=false",
        f"--temp-dir={temp_dir}", "--object-store-memory=200000000",
        "--disable-usage-stats",
    ]


@contextmanager
def ray_cluster(folder: Path, *, cpus: int = 2) -> Iterator[str]:
    """A local Ray cluster (its own process group, stopped with it); yields its address."""
    folder.mkdir(parents=True, exist_ok=True)
    base = free_range(RAY_PORTS)
    temp_dir = Path(f"/tmp/ray-{base}")  # socket paths must stay short
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    with (folder / "ray.log").open("ab") as log:
        process = subprocess.Popen(ray_start_command(base, cpus=cpus, temp_dir=temp_dir),
                                   stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    try:
        _wait_for_port(base, process, seconds=120)
        _wait_for_port(base + 1, process, seconds=120)  # the raylet
        yield f"127.0.0.1:{base}"
    finally:
        _stop(process, group=True, grace=3)
        shutil.rmtree(temp_dir, ignore_errors=True)
