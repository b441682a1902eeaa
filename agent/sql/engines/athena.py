"""Athena through boto3: start, poll until a final state (stopping it at the timeout), page the results.

The guard runs here too; Athena then enforces the rest with the workgroup's own permissions.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from agent.sql.engines.base import QueryResult, SqlEngine, SqlExecutionError, SqlTimeout
from catalog_ingest.records import TableRecord
from catalog_ingest.settings import SqlSettings

FINAL_STATES = {"SUCCEEDED", "FAILED", "CANCELLED"}
POLL_SECONDS = (0.1, 0.25, 0.5, 1.0)
"""Poll quickly at first (most lake queries are short), then back off to one call a second."""


class AthenaEngine(SqlEngine):
    def __init__(
        self,
        sql_settings: SqlSettings,
        endpoint_url: str | None = None,
        region: str | None = None,
        records: Iterable[TableRecord] = (),
        database: str | None = None,
    ) -> None:
        """``records`` let results be PII-masked; ``database`` is the default for unqualified table names."""
        super().__init__(records, sql_settings)
        self.database = database
        self._client = boto3.client(
            "athena",
            endpoint_url=endpoint_url or sql_settings.athena_endpoint_url,
            region_name=region or sql_settings.athena_region,
        )

    def run(self, sql: str, limit: int) -> QueryResult:
        parsed = self.check(sql)
        limit = max(1, min(limit, self.settings.row_limit))
        started = time.perf_counter()
        query_id = self._start(parsed.tree.sql(dialect="athena", comments=False))
        self._wait(query_id)
        columns, rows, truncated = self._results(query_id, limit)
        elapsed_ms = (time.perf_counter() - started) * 1000
        rows, masked = self.masked(parsed, columns, rows)
        return QueryResult(columns=columns, rows=rows, truncated=truncated, elapsed_ms=elapsed_ms, masked_columns=masked)

    def _start(self, sql: str) -> str:
        request: dict = {"QueryString": sql, "WorkGroup": self.settings.athena_workgroup}
        if self.database:
            request["QueryExecutionContext"] = {"Database": self.database}
        if self.settings.athena_output_location:
            request["ResultConfiguration"] = {"OutputLocation": self.settings.athena_output_location}
        try:
            return self._client.start_query_execution(**request)["QueryExecutionId"]
        except (ClientError, BotoCoreError) as exc:
            raise SqlExecutionError(f"Athena refused the query: {exc}") from None

    def _wait(self, query_id: str) -> None:
        deadline = time.monotonic() + self.settings.timeout_seconds
        for attempt in range(10**9):
            status = self._client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                return
            if state in FINAL_STATES:
                reason = status.get("StateChangeReason") or "no reason given"
                raise SqlExecutionError(f"Athena query {state.lower()}: {reason}")
            if time.monotonic() >= deadline:
                self._client.stop_query_execution(QueryExecutionId=query_id)
                raise SqlTimeout(f"Athena query stopped after {self.settings.timeout_seconds:g}s")
            time.sleep(POLL_SECONDS[min(attempt, len(POLL_SECONDS) - 1)])

    def _results(self, query_id: str, limit: int) -> tuple[list[str], list[tuple], bool]:
        """Pages of results until ``limit + 1`` rows are seen; the first row of the first page is the header."""
        columns: list[str] = []
        rows: list[tuple] = []
        pages = self._client.get_paginator("get_query_results").paginate(QueryExecutionId=query_id)
        for page_number, page in enumerate(pages):
            result_set = page["ResultSet"]
            if not columns:
                columns = [c["Name"] for c in result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])]
            page_rows = result_set.get("Rows", [])
            if page_number == 0 and page_rows:
                page_rows = page_rows[1:]  # the header: column names repeated as a row
            rows.extend(tuple(cell.get("VarCharValue") for cell in row["Data"]) for row in page_rows)
            if len(rows) > limit:
                return columns, rows[:limit], True
        return columns, rows, False
