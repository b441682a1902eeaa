"""What every SQL engine promises: a gated, capped, timed, PII-masked read, or an error the model can act on."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from agent.sql.deadline import Deadline
from agent.sql.errors import SqlExecutionError, SqlTimeout
from agent.sql.gate import Catalog, GatedQuery, gate
from agent.sql.validate import pii_output_columns
from catalog_ingest.records import TableRecord
from catalog_ingest.settings import SqlSettings

MASK = "***"
"""What a PII value reads as, wherever it appears (NULL stays NULL)."""

__all__ = ["MASK", "QueryResult", "SqlEngine", "SqlExecutionError", "SqlTimeout", "row_bytes"]


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    truncated: bool
    """More rows existed than the caps allow; only the first ones are here (``truncated_by`` says which cap)."""
    elapsed_ms: float
    masked_columns: list[str] = field(default_factory=list)
    """Result columns computed from PII-tagged columns (by lineage, best effort). The masking itself happens at
    the source, so every value of a PII column reads ``***`` whether or not its result column is listed."""
    truncated_by: Literal["row_limit", "max_result_bytes"] | None = None
    """``row_limit``: more rows than the limit; ``max_result_bytes``: the rows shown fill ``sql.max_result_bytes``."""


def row_bytes(row: tuple) -> int:
    """A row's size about as the API sends it (UTF-8 JSON), without building the JSON of long strings."""
    return sum(len(v.encode()) + 3 if isinstance(v, str) else len(json.dumps(v, default=str)) + 1 for v in row) + 1


class SqlEngine(ABC):
    def __init__(self, records: Iterable[TableRecord], sql_settings: SqlSettings) -> None:
        self.records = list(records)
        self.settings = sql_settings
        self.catalog = Catalog(self.records)

    @abstractmethod
    def run(self, sql: str, limit: int, deadline: Deadline | None = None) -> QueryResult:
        """Run one read-only query within ``deadline`` (``sql.timeout_seconds`` from now when None).

        Raises UnsafeSQL, SqlTimeout or SqlExecutionError."""

    def close(self) -> None:  # noqa: B027 - engines without resources need nothing
        """Release connections."""

    def check(self, sql: str, deadline: Deadline) -> GatedQuery:
        """The gate again: an engine never trusts that its caller validated the query."""
        return gate(sql, self.catalog, self.settings, deadline)

    def deadline(self, deadline: Deadline | None) -> Deadline:
        return deadline or Deadline(self.settings.timeout_seconds)

    def pii_positions(self, gated: GatedQuery, columns: list[str], deadline: Deadline) -> list[int]:
        """Result columns to report as masked (none when ``allow_pii`` is set): those lineage traces to a PII
        column, and those named like a PII column (or a struct holding one) of the tables read, which covers
        expansions lineage cannot follow (``COLUMNS(...)``, ``* EXCLUDE``)."""
        if self.settings.allow_pii:
            return []
        traced = set(pii_output_columns(gated.parsed, self.catalog.get, deadline))
        paths = [c.path.lower().split(".") for t in gated.tables if (r := self.catalog.get(t)) for c in r.columns if c.pii]
        names = {path[0] for path in paths} | {path[-1] for path in paths}
        return [p for p, name in enumerate(columns) if p in traced or name.lower() in names]

    def capped_rows(self, batches: Iterable[list[tuple]], limit: int, deadline: Deadline) -> tuple[list[tuple], str | None]:
        """Rows up to ``limit`` and ``sql.max_result_bytes``, and the cap that cut them (None when all fit)."""
        rows: list[tuple] = []
        size = 0
        for batch in batches:
            deadline.check("reading the result")
            for row in batch:
                if len(rows) == limit:
                    return rows, "row_limit"
                size += row_bytes(row)
                if size > self.settings.max_result_bytes:
                    return rows, "max_result_bytes"
                rows.append(row)
        return rows, None
