"""The errors of SQL: the guard refused a query (here, not in ``guard``, so that handling them loads no SQL parser:
the server registers their handlers as it starts), the engine failed it, or its request ran out of time."""

from __future__ import annotations


class SqlExecutionError(RuntimeError):
    """The engine rejected or failed the query; the message is written for the model to fix its SQL."""


class SqlTimeout(SqlExecutionError):
    """The request ran past its deadline (``sql.timeout_seconds``), or was cancelled, and was stopped."""


class UnsafeSQL(ValueError):
    """The query was refused; the message names what was refused and why.

    ``code`` is ``parse_error`` when the text is not DuckDB SQL and ``unsafe_sql`` otherwise; ``identifier``
    names the refused function or table when there is one, and ``line``/``column`` (1-based) point into the
    submitted text where the parser said.
    """

    def __init__(
        self,
        reason: str,
        *,
        code: str = "unsafe_sql",
        identifier: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code
        self.identifier = identifier
        self.line = line
        self.column = column


class SqlTooComplex(UnsafeSQL):
    """The query is over one of the ``sql.max_*`` limits; the message names the limit and what to do."""

    def __init__(self, what: str, setting: str, limit: int) -> None:
        super().__init__(
            f"refused: the query {what}; the limit is sql.{setting} = {limit:,}. "
            "Split it into smaller queries, or aggregate instead of listing values",
            code="too_complex",
        )
        self.setting = setting
