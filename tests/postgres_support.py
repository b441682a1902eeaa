"""A real PostgreSQL server for tests: the machine's PostgreSQL 15, started per test module as the
``postgres`` user on a free port and stopped by PID; each ``fresh_database`` is an empty database on it."""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from api.loopback import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
_databases = itertools.count(1)


def as_postgres(*command: str) -> list[str]:
    """PostgreSQL refuses to run as root; the tests run as root on CI machines."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    root = Path(tempfile.mkdtemp(prefix="lakescout-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    subprocess.run(as_postgres(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"),
                   check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen(
        as_postgres(str(PG_BIN / "postgres"), "-D", str(data), "-p", str(port), "-k", str(root), "-h", "127.0.0.1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while subprocess.run([str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                             capture_output=True).returncode != 0:
            assert time.monotonic() < deadline and server.poll() is None, "postgres did not start"
            time.sleep(0.2)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        os.kill(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """A new empty database on the server at ``server_url``: its URL."""
    import psycopg

    name = f"lake_{os.getpid()}_{next(_databases)}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server_url.rsplit("/", 1)[0] + f"/{name}"
