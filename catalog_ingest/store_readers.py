"""Who reads which generation of the record store: pinned readers register, so a publish keeps what they read.

A reader is a process on this machine (like the SQLite file itself): its row names its process id, and a
row whose process no longer runs (a server that was killed) is dropped the next time the writer looks.
"""

from __future__ import annotations

import os
import sqlite3
import uuid


def register_reader(conn: sqlite3.Connection) -> tuple[str, int]:
    """Pin the published generation for a new reader: (its token, the generation). Read and registered under
    the write lock, so no publish collects in between."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        generation = conn.execute("SELECT published FROM generation").fetchone()[0]
        token = uuid.uuid4().hex
        conn.execute("INSERT INTO readers VALUES (?, ?, ?)", (token, os.getpid(), generation))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return token, generation


def move_reader(conn: sqlite3.Connection, token: str | None, generation: int) -> None:
    """The reader now reads ``generation`` (a pinned writer that published)."""
    conn.execute("UPDATE readers SET generation = ? WHERE token = ?", (generation, token))


def end_reader(conn: sqlite3.Connection, token: str) -> None:
    conn.execute("DELETE FROM readers WHERE token = ?", (token,))


def live_reader_generations(conn: sqlite3.Connection) -> list[int]:
    """Generations pinned by readers whose process still runs; those of dead processes are dropped."""
    live, dead = [], []
    for token, pid, generation in conn.execute("SELECT token, pid, generation FROM readers").fetchall():
        (live if process_alive(pid) else dead).append((token, generation))
    conn.executemany("DELETE FROM readers WHERE token = ?", [(token,) for token, _ in dead])
    return [generation for _, generation in live]


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (signal 0 checks without signalling)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
