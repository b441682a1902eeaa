"""Who reads which generation of the record store: pinned readers register, so a publish keeps what they read.

On SQLite a reader is a process on this machine (like the file itself): its row names its process id, and
a row whose process no longer runs (a server that was killed) is dropped the next time the writer looks.
On Postgres readers run on several hosts, where a process id tells nothing: a reader holds a lease that a
thread of its process renews, and a lease that ran out (a host that died, a process killed) no longer holds
rows. Times are the server's clock, so hosts need not agree on theirs.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class Readers(ABC):
    """How readers register and are known to be alive; moving a reader and ending it are the same for all."""

    schema: str
    """The ``readers`` table."""

    @abstractmethod
    def register(self, conn: Any) -> tuple[str, int]:
        """Pin the published generation for a new reader: (its token, the generation)."""

    @abstractmethod
    def live_generations(self, conn: Any) -> list[int]:
        """Generations pinned by readers that are alive."""

    def keep_alive(self, token: str, generation: Callable[[], int | None]) -> Callable[[], None]:
        """Keep the reader registered while its process lives; returns what stops that (at close)."""
        return lambda: None

    def move(self, conn: Any, token: str | None, generation: int) -> None:
        """The reader now reads ``generation`` (a pinned writer that published)."""
        conn.execute("UPDATE readers SET generation = ? WHERE token = ?", (generation, token))

    def end(self, conn: Any, token: str) -> None:
        conn.execute("DELETE FROM readers WHERE token = ?", (token,))


class ProcessReaders(Readers):
    """SQLite: readers are processes on this machine, alive while their process id runs."""

    schema = """
CREATE TABLE IF NOT EXISTS readers (
    token TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    generation INTEGER NOT NULL
);
"""

    def register(self, conn: Any) -> tuple[str, int]:
        """Read and registered under the write lock, so no publish collects in between."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            generation = conn.execute("SELECT published FROM generation").fetchone()[0]
            token = uuid.uuid4().hex
            conn.execute("INSERT INTO readers VALUES (?, ?, ?)", (token, os.getpid(), generation))
        except BaseException:
            if conn.in_transaction:  # an error SQLite rolled back itself must surface, not this
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return token, generation

    def live_generations(self, conn: Any) -> list[int]:
        """Those of dead processes are dropped."""
        live, dead = [], []
        for token, pid, generation in conn.execute("SELECT token, pid, generation FROM readers").fetchall():
            (live if process_alive(pid) else dead).append((token, generation))
        conn.executemany("DELETE FROM readers WHERE token = ?", [(token,) for token, _ in dead])
        return [generation for _, generation in live]


class LeaseReaders(Readers):
    """Postgres: a reader is alive while its lease (``lease_seconds``, renewed every third of that) lasts."""

    schema = """
CREATE TABLE IF NOT EXISTS readers (
    token TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    generation INTEGER NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
"""
    LEASE = "now() + make_interval(secs => ?)"

    def __init__(self, lease_seconds: float, connect: Callable[[], Any]) -> None:
        self.lease_seconds = float(lease_seconds)
        self._connect = connect

    def register(self, conn: Any) -> tuple[str, int]:
        """The published row is read ``FOR SHARE``: a publish waits until this reader is registered, so the
        next one sees it. Leases that ran out are dropped here."""
        conn.execute("BEGIN")
        try:
            conn.execute("DELETE FROM readers WHERE expires_at < now()")
            generation = conn.execute("SELECT published FROM generation FOR SHARE").fetchone()[0]
            token = uuid.uuid4().hex
            self._insert(conn, token, generation)
        except BaseException:
            if conn.in_transaction:  # an error SQLite rolled back itself must surface, not this
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return token, generation

    def _insert(self, conn: Any, token: str, generation: int) -> None:
        conn.execute(
            f"INSERT INTO readers VALUES (?, ?, ?, ?, {self.LEASE})",
            (token, socket.gethostname(), os.getpid(), generation, self.lease_seconds),
        )

    def live_generations(self, conn: Any) -> list[int]:
        """Those whose lease ran out are left out (and dropped by the next reader that registers)."""
        return [row[0] for row in conn.execute("SELECT generation FROM readers WHERE expires_at >= now()")]

    def renew(self, conn: Any, token: str, generation: int) -> bool:
        """Extend the lease; False when it had run out and was dropped, and the reader registered again (the
        rows of its generation may have been collected meanwhile, which the log says)."""
        renewed = conn.execute(
            f"UPDATE readers SET expires_at = {self.LEASE} WHERE token = ? AND expires_at >= now()",
            (self.lease_seconds, token),
        ).rowcount
        if renewed:
            return True
        log.warning("record-store reader lease %s ran out; registered again on generation %s", token, generation)
        conn.execute("DELETE FROM readers WHERE token = ?", (token,))
        self._insert(conn, token, generation)
        return False

    def keep_alive(self, token: str, generation: Callable[[], int | None]) -> Callable[[], None]:
        """A daemon thread with its own connection renews the lease until the returned stop is called."""
        stopped = threading.Event()

        def renew_until_stopped() -> None:
            conn = None
            while not stopped.wait(self.lease_seconds / 3):
                pinned = generation()
                if pinned is None:
                    continue
                try:
                    conn = conn or self._connect()
                    self.renew(conn, token, pinned)
                except Exception as exc:  # Postgres unreachable for now: try again on the next beat
                    log.warning("could not renew record-store reader lease %s: %s", token, exc)
                    if conn is not None:
                        conn.close()
                    conn = None
            if conn is not None:
                conn.close()

        thread = threading.Thread(target=renew_until_stopped, name=f"store-lease-{token[:8]}", daemon=True)
        thread.start()

        def stop() -> None:
            stopped.set()
            thread.join(timeout=10)

        return stop


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (signal 0 checks without signalling)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
