"""The errors of running a checked query: the engine failed it, or its request ran out of time."""

from __future__ import annotations


class SqlExecutionError(RuntimeError):
    """The engine rejected or failed the query; the message is written for the model to fix its SQL."""


class SqlTimeout(SqlExecutionError):
    """The request ran past its deadline (``sql.timeout_seconds``), or was cancelled, and was stopped."""
