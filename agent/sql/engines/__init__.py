"""SQL engines: DuckDB over the lake's files (default) or Athena."""

from __future__ import annotations

from collections.abc import Iterable

from agent.sql.engines.base import QueryResult, SqlEngine, SqlExecutionError, SqlTimeout
from catalog_ingest.records import TableRecord
from catalog_ingest.settings import Settings, SqlSettings


def engine_for(records: Iterable[TableRecord], settings: Settings | SqlSettings, s3: dict[str, str] | None = None) -> SqlEngine:
    """The engine ``settings.sql.engine`` names, over these table records."""
    sql_settings = settings.sql if isinstance(settings, Settings) else settings
    if sql_settings.engine == "athena":
        from agent.sql.engines.athena import AthenaEngine

        return AthenaEngine(sql_settings, records=records)
    from agent.sql.engines.duckdb_engine import DuckDBEngine

    return DuckDBEngine(records, sql_settings, s3=s3)


__all__ = ["QueryResult", "SqlEngine", "SqlExecutionError", "SqlTimeout", "engine_for"]
