"""SQL engines: DuckDB over the lake's files (default) or Athena."""

from __future__ import annotations

from collections.abc import Iterable

from agent.sql.engines.base import QueryResult, SqlEngine, SqlExecutionError, SqlTimeout
from catalog_ingest.records import TableRecord
from catalog_ingest.settings import Settings, SqlSettings


def s3_options(settings: Settings) -> dict[str, str] | None:
    """S3 access for the engine, from the first catalog that configures it (Glue keys, or pyiceberg's ``s3.*``)."""
    for catalog in settings.effective_catalogs():
        p = catalog.properties
        if catalog.type == "glue":
            options = {
                "endpoint_url": p.get("s3_endpoint_url") or p.get("endpoint_url"),
                "access_key_id": p.get("access_key_id"),
                "secret_access_key": p.get("secret_access_key"),
                "session_token": p.get("session_token"),
                "region": p.get("region"),
            }
        else:
            options = {
                "endpoint_url": p.get("s3.endpoint"),
                "access_key_id": p.get("s3.access-key-id"),
                "secret_access_key": p.get("s3.secret-access-key"),
                "session_token": p.get("s3.session-token"),
                "region": p.get("s3.region"),
            }
        options = {k: v for k, v in options.items() if v}
        if options:
            return options
    return None


def engine_for(records: Iterable[TableRecord], settings: Settings | SqlSettings, s3: dict[str, str] | None = None) -> SqlEngine:
    """The engine ``settings.sql.engine`` names, over these table records."""
    if isinstance(settings, Settings) and s3 is None:
        s3 = s3_options(settings)
    sql_settings = settings.sql if isinstance(settings, Settings) else settings
    if sql_settings.engine == "athena":
        from agent.sql.engines.athena import AthenaEngine

        return AthenaEngine(sql_settings, records=records)
    from agent.sql.engines.duckdb_engine import DuckDBEngine

    return DuckDBEngine(records, sql_settings, s3=s3)


__all__ = ["QueryResult", "SqlEngine", "SqlExecutionError", "SqlTimeout", "engine_for"]
