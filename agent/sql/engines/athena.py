"""Athena through boto3: start, poll until a final state (stopping it at the deadline), page the results.

The gate runs here too; Athena then enforces the rest with the workgroup's own permissions. lakescout
builds no relations in Athena, so PII masking here is only the result-side mask of the columns that
lineage traces to PII columns: it does not hold for whole-row references, COLUMNS(...), pivots or error
messages. For masking by construction, give Athena's role Lake Formation column permissions (or data
filters) that exclude the PII columns, or catalog masking views and grant only those.

Athena has no wildcard tables (BigQuery's ``events_*``) and lakescout builds none there: a table family's name
is refused with a sentence that says so and names a member (``agent.sql.family_tables``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from agent.sql.deadline import Deadline
from agent.sql.engines.base import MASK, QueryResult, SqlEngine, SqlExecutionError, SqlTimeout
from agent.sql.family_tables import no_wildcard_message
from agent.sql.gate import Catalog, GatedQuery
from agent.sql.guard import UnsafeSQL
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
        if database:  # unqualified names resolve in the default database, as Athena resolves them
            tables = self.catalog
            self.catalog = Catalog(lambda name: tables.get(name) or (tables.get(f"{database}.{name}") if "." not in name else None),
                                   self.records)  # fmt: skip
        self._client = boto3.client(
            "athena",
            endpoint_url=endpoint_url or sql_settings.athena_endpoint_url,
            region_name=region or sql_settings.athena_region,
        )

    def run(self, sql: str, limit: int, deadline: Deadline | None = None) -> QueryResult:
        deadline = self.deadline(deadline)
        gated = self.check(sql, deadline)
        limit = max(1, min(limit, self.settings.row_limit))
        started = time.perf_counter()
        query_id = self._start(gated.parsed.tree.sql(dialect="athena", comments=False))
        self._wait(query_id, deadline)
        columns, pages = self._results(query_id)
        rows, truncated_by = self.capped_rows(pages, limit, deadline)
        elapsed_ms = (time.perf_counter() - started) * 1000
        hidden = self.pii_positions(gated, columns, deadline)
        rows = [tuple(MASK if i in hidden and v is not None else v for i, v in enumerate(row)) for row in rows]
        return QueryResult(columns=columns, rows=rows, truncated=truncated_by is not None, elapsed_ms=elapsed_ms,
                           masked_columns=[columns[p] for p in hidden], truncated_by=truncated_by)  # fmt: skip

    def check(self, sql: str, deadline: Deadline) -> GatedQuery:
        """The gate, then no family names: Athena has no wildcard table to read one as."""
        gated = super().check(sql, deadline)
        if gated.parsed.families:
            scan = gated.parsed.families[0]
            raise UnsafeSQL(no_wildcard_message(scan), code="unknown_table", identifier=scan.table.written)
        return gated

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

    def _wait(self, query_id: str, deadline: Deadline) -> None:
        for attempt in range(10**9):
            status = self._client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
            state = status["State"]
            if state == "SUCCEEDED":
                return
            if state in FINAL_STATES:
                reason = status.get("StateChangeReason") or "no reason given"
                raise SqlExecutionError(f"Athena query {state.lower()}: {reason}")
            if deadline.wait(POLL_SECONDS[min(attempt, len(POLL_SECONDS) - 1)]):
                self._client.stop_query_execution(QueryExecutionId=query_id)
                deadline.check("running the query in Athena")

    def _results(self, query_id: str) -> tuple[list[str], Iterator[list[tuple]]]:
        """The column names and the pages of rows; the first row of the first page (the header) is dropped."""
        pages = iter(self._client.get_paginator("get_query_results").paginate(QueryExecutionId=query_id))
        first = next(pages, None)
        result_set = (first or {}).get("ResultSet", {})
        columns = [c["Name"] for c in result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])]

        def rows() -> Iterator[list[tuple]]:
            if first is not None:
                yield [page_row(row) for row in result_set.get("Rows", [])[1:]]
            for page in pages:
                yield [page_row(row) for row in page["ResultSet"].get("Rows", [])]

        return columns, rows()


def page_row(row: dict) -> tuple:
    return tuple(cell.get("VarCharValue") for cell in row["Data"])
