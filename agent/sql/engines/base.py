"""What every SQL engine promises: a guarded, capped, timed, PII-masked read, or an error the model can act on."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field

from agent.sql.guard import ParsedQuery, check_read_only
from agent.sql.validate import pii_output_columns
from catalog_ingest.records import TableRecord
from catalog_ingest.settings import SqlSettings

MASK = "***"


class SqlExecutionError(RuntimeError):
    """The engine rejected or failed the query; the message is written for the model to fix its SQL."""


class SqlTimeout(SqlExecutionError):
    """The query ran past ``sql.timeout_seconds`` and was stopped."""


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    truncated: bool
    """More rows existed than the limit; only the first ``limit`` are here."""
    elapsed_ms: float
    masked_columns: list[str] = field(default_factory=list)


class SqlEngine(ABC):
    def __init__(self, records: Iterable[TableRecord], sql_settings: SqlSettings) -> None:
        self.records = list(records)
        self.settings = sql_settings

    @abstractmethod
    def run(self, sql: str, limit: int) -> QueryResult:
        """Run one read-only query. Raises UnsafeSQL, SqlTimeout or SqlExecutionError."""

    def close(self) -> None:  # noqa: B027 - engines without resources need nothing
        """Release connections."""

    def check(self, sql: str) -> ParsedQuery:
        """The guard again: an engine never trusts that its caller validated the query."""
        return check_read_only(sql)

    def masked(self, parsed: ParsedQuery, columns: list[str], rows: list[tuple]) -> tuple[list[tuple], list[str]]:
        """Rows with PII-derived columns replaced by ``***``, unless ``allow_pii`` is set."""
        if self.settings.allow_pii:
            return rows, []
        positions = [p for p in pii_output_columns(parsed, self.records) if p < len(columns)]
        if not positions:
            return rows, []
        hidden = set(positions)
        masked_rows = [tuple(MASK if i in hidden and v is not None else v for i, v in enumerate(row)) for row in rows]
        return masked_rows, [columns[p] for p in positions]
