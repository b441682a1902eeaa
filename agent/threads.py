"""Where chat threads are kept (SQLite or Postgres checkpointers) and how each key's threads are named apart."""

from __future__ import annotations

import uuid
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from catalog_ingest.settings import ConfigError

POSTGRES_PACKAGE = "langgraph-checkpoint-postgres"


def is_postgres(target: object) -> bool:
    return isinstance(target, str) and target.startswith(("postgres://", "postgresql://"))


def _postgres_module() -> Any:
    try:
        return __import__("langgraph.checkpoint.postgres", fromlist=["_"])
    except ImportError:
        raise ConfigError(
            f"threads in Postgres need the {POSTGRES_PACKAGE} package: pip install {POSTGRES_PACKAGE}"
        ) from None


def open_saver(target: Path | str) -> AbstractContextManager[BaseCheckpointSaver]:
    if is_postgres(target):
        return _postgres_module().PostgresSaver.from_conn_string(str(target))
    from langgraph.checkpoint.sqlite import SqliteSaver

    Path(target).parent.mkdir(parents=True, exist_ok=True)
    return SqliteSaver.from_conn_string(str(target))


# Thread spaces -----------------------------------------------------------------------------------------


def thread_key(thread_id: str, owner: str | None) -> str:
    """The checkpointer's id for ``owner``'s thread ``thread_id``."""
    return thread_id if owner is None else f"{owner}/{thread_id}"


def split_thread_key(key: str) -> tuple[str | None, str]:
    """``(owner, thread_id)`` of a checkpointer id; the last ``/`` separates them (thread ids hold none)."""
    owner, slash, thread_id = key.rpartition("/")
    return (owner if slash else None), thread_id


def new_thread_id() -> str:
    """A fresh thread id: 32 hex digits (never a ``/``, so it cannot reach into another owner's space)."""
    return uuid.uuid4().hex
