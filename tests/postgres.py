"""A throwaway PostgreSQL server for the tests: initdb into a temporary folder, pg_ctl on
a free port, stopped and removed afterwards. Debian's postgresql package provides the
binaries (``make postgres`` installs it); without them the fixture fails saying so."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

INSTALL = ("PostgreSQL server binaries not found: install Debian's postgresql package "
           "(`make postgres`, or `sudo apt-get install postgresql`), or point $PG_BIN at "
           "the folder holding initdb and pg_ctl")


def pg_bin() -> Path:
    """The folder of initdb and pg_ctl: $PG_BIN, else the newest /usr/lib/postgresql/*/bin."""
    env = os.environ.get("PG_BIN", "").strip()
    candidates = [Path(env)] if env else sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    raise RuntimeError(INSTALL)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the ``postgres`` user then."""
    if os.geteuid() != 0:
        return command
    if shutil.which("runuser") is None:
        raise RuntimeError("running as root without runuser: cannot start PostgreSQL")
    return ["runuser", "-u", "postgres", "--", *command]


@contextmanager
def postgres_server() -> Iterator[str]:
    """A running server; yields its URL (database ``postgres``, user ``postgres``)."""
    binaries = pg_bin()
    root = Path(tempfile.mkdtemp(prefix="rag-pg-"))
    data = root / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(data, "postgres")
    port = free_port()
    run = {"check": True, "capture_output": True, "text": True, "timeout": 120}
    try:
        subprocess.run(_as_server_user([str(binaries / "initdb"), "-D", str(data), "-A",
                                        "trust", "-U", "postgres", "--no-sync",
                                        "-E", "UTF8"]), **run)  # type: ignore[call-overload]
        options = f"-p {port} -k {root} -h 127.0.0.1 -F"
        subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-o",
                                        options, "-l", str(root / "log"), "-w", "start"]),
                       **run)  # type: ignore[call-overload]
    except subprocess.CalledProcessError as error:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {error.stderr.strip()[-500:]}") from None
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_server_user([str(binaries / "pg_ctl"), "-D", str(data), "-m",
                                        "immediate", "-w", "stop"]),
                       capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(url: str, name: str) -> str:
    """A new empty database on the server at ``url``; its URL."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.rsplit("/", 1)[0] + f"/{name}"
