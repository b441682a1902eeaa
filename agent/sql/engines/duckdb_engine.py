"""DuckDB over the lake: every catalog table is a view by its catalog name, and user SQL is sandboxed.

Setup (extensions, S3 secret, views, memory and thread limits) runs first with full access; then external
access is switched off except for the lake's own directories, and the configuration is locked, so a query
can read table data through the views and nothing else: no other file, no URL, no INSTALL/LOAD, no SET.
DuckDB has no read-only form of ``allowed_directories``, so writes into the lake's directories, and reads
of its files around the views (``read_parquet``), are kept out by the gate (the engine only runs SQL
regenerated from a checked single SELECT whose functions are all allow-listed), not by DuckDB.

PII by construction: unless ``sql.allow_pii`` is set, a table's view is the only name it has, and the view
itself replaces each PII-tagged column (or struct field) with ``***`` (``SELECT * REPLACE (...)`` over the
scan). Whole rows, ``COLUMNS(...)``, struct access, pivots and error messages all start from that view, so
none of them can see a clear value.
"""

from __future__ import annotations

import importlib
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import duckdb
from sqlglot import exp

from agent.sql.deadline import Deadline
from agent.sql.engines.base import MASK, QueryResult, SqlEngine, SqlExecutionError, SqlTimeout
from agent.sql.guard import DIALECT, check_read_only
from catalog_ingest.records import TableRecord
from catalog_ingest.settings import SqlSettings

HIVE_READERS = {
    "parquet": ("read_parquet", "*.parquet"),
    "csv": ("read_csv", "*.csv"),
    "json": ("read_json_auto", "*.json"),
}
"""Glue/Hive tables by data format: the reader and the file pattern under the table location."""


class ExtensionUnavailable(RuntimeError):
    """A DuckDB extension is not shipped as a Python package here; installing it at run time is not allowed."""


def load_packaged_extension(connection: duckdb.DuckDBPyConnection, name: str) -> None:
    """LOAD the extension file shipped in the ``duckdb-extension-NAME`` wheel.

    Loading the file directly (rather than ``duckdb_extensions.import_extension``, which INSTALLs into
    ``~/.duckdb``) writes nothing and never touches the network.
    """
    try:
        package = importlib.import_module(f"duckdb_extension_{name}")
    except ImportError as exc:
        raise ExtensionUnavailable(f"DuckDB extension {name!r} needs the duckdb-extension-{name} package") from exc
    path = Path(package.__file__).parent / "extensions" / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if not path.is_file():
        raise ExtensionUnavailable(f"{path} is missing: duckdb-extension-{name} must match duckdb {duckdb.__version__}")
    connection.execute(f"LOAD '{path}'")


def sql_string(value: str) -> str:
    """A string literal as DuckDB reads it, quoted by sqlglot."""
    return exp.Literal.string(value).sql(dialect=DIALECT)


def sql_identifier(value: str) -> str:
    """An identifier, always quoted (names from the catalog may be reserved words or hold any character)."""
    return exp.to_identifier(value, quoted=True).sql(dialect=DIALECT)


def table_directories(record: TableRecord) -> list[str]:
    """Prefixes the engine may read for this table, in the forms DuckDB may be handed (URI and plain path)."""
    locations = [record.location]
    if record.metadata_location:
        locations.append(record.metadata_location.rsplit("/", 1)[0])
    directories = []
    for location in filter(None, locations):
        directory = location.rstrip("/") + "/"
        directories.append(directory)
        if directory.startswith("file://"):
            directories.append(urlparse(directory).path)
    return directories


def view_source(record: TableRecord) -> str | None:
    """The SELECT a table's view stands for; None when this engine cannot read the table."""
    if record.kind == "iceberg" and record.metadata_location:
        return f"SELECT * FROM iceberg_scan({sql_string(record.metadata_location)})"
    if record.kind == "hive" and record.location and (record.format or "parquet") in HIVE_READERS:
        reader, pattern = HIVE_READERS[record.format or "parquet"]
        files = record.location.rstrip("/") + "/**/" + pattern
        return f"SELECT * FROM {reader}({sql_string(files)}, hive_partitioning = true)"
    if record.kind == "view" and record.view_sql:
        return check_read_only(record.view_sql).sql
    return None


def masked_value(reference: str, kind: duckdb.DuckDBPyType, pii_paths: set[str]) -> str:
    """``reference`` with the PII paths under it masked: the whole value when it is PII itself or is a list or
    map holding PII, else a struct rebuilt field by field (NULL stays NULL)."""
    if "" in pii_paths or kind.id != "struct":
        return f"CASE WHEN {reference} IS NULL THEN NULL ELSE {sql_string(MASK)} END"
    fields = []
    for name, child in kind.children:
        below = {p.partition(".")[2] for p in pii_paths if p.partition(".")[0] == name.lower()}
        value = f"struct_extract({reference}, {sql_string(name)})"
        fields.append(f"{sql_identifier(name)} := {masked_value(value, child, below) if below else value}")
    return f"CASE WHEN {reference} IS NULL THEN NULL ELSE struct_pack({', '.join(fields)}) END"


def masked_source(source: str, record: TableRecord, connection: duckdb.DuckDBPyConnection) -> str:
    """``source`` with every PII-tagged column of ``record`` masked, by the scan's own column names and types."""
    pii = [c.path.lower() for c in record.columns if c.pii]
    if not pii:
        return source
    relation = connection.sql(source)
    replacements = []
    for name, kind in zip(relation.columns, relation.types):
        below = {p.partition(".")[2] if "." in p else "" for p in pii if p.partition(".")[0] == name.lower()}
        if below:
            replacements.append(f"{masked_value(sql_identifier(name), kind, below)} AS {sql_identifier(name)}")
    if not replacements:
        return source
    return f"SELECT * REPLACE ({', '.join(replacements)}) FROM ({source})"


@dataclass
class ScanProfile:
    """What a query actually read, from DuckDB's own profiler."""

    files_read: int
    """Data files opened, summed over scans (DuckDB lists only the first few names, so names are not kept)."""
    bytes_read: int
    """DuckDB's ``total_bytes_read``: 0 for files already in its external file cache."""


class DuckDBEngine(SqlEngine):
    """An in-memory DuckDB with one view per catalog table. Thread-safe: each run gets its own cursor."""

    def __init__(
        self, records: Iterable[TableRecord], sql_settings: SqlSettings, s3: dict[str, str] | None = None
    ) -> None:
        super().__init__(records, sql_settings)
        self.skipped: dict[str, str] = {}
        """Tables without a view, with the reason (unreadable metadata, a view SQL that does not parse, ...)."""
        self._lock = threading.Lock()
        self._connection = duckdb.connect(":memory:", config={"autoinstall_known_extensions": False})
        self._connection.execute("SET autoload_known_extensions = false")
        self._connection.execute("SET memory_limit = ?", [sql_settings.memory_limit])
        self._connection.execute(f"SET threads = {int(sql_settings.threads)}")
        self._connection.execute("SET temp_directory = ?", [sql_settings.temp_directory or ""])
        load_packaged_extension(self._connection, "avro")  # before iceberg, which would try to fetch it
        load_packaged_extension(self._connection, "iceberg")
        if any(is_s3(r) for r in self.records):
            self._configure_s3(s3 or {})
        self._create_views()
        self._sandbox()

    def _configure_s3(self, s3: dict[str, str]) -> None:
        load_packaged_extension(self._connection, "httpfs")
        options = {"TYPE": "s3", "REGION": s3.get("region", "us-east-1")}
        if s3.get("access_key_id"):
            options |= {"KEY_ID": s3["access_key_id"], "SECRET": s3.get("secret_access_key", "")}
        if s3.get("session_token"):
            options["SESSION_TOKEN"] = s3["session_token"]
        if s3.get("endpoint_url"):
            endpoint = urlparse(s3["endpoint_url"])
            options |= {"ENDPOINT": endpoint.netloc, "USE_SSL": str(endpoint.scheme == "https").lower(), "URL_STYLE": "path"}
        body = ", ".join(f"{k} {v if k == 'USE_SSL' else sql_string(v)}" for k, v in options.items())
        self._connection.execute(f"CREATE SECRET lake_s3 ({body})")

    def _create_views(self) -> None:
        # Tables before views: a catalog view's SQL may read the tables (through their masked views).
        for record in sorted(self.records, key=lambda r: r.kind == "view"):
            try:
                source = view_source(record)
                if source is None:
                    self.skipped[record.full_name] = f"{record.kind} table without a readable location"
                    continue
                if not self.settings.allow_pii:
                    source = masked_source(source, record, self._connection)
                schema = sql_identifier(record.namespace)
                self._connection.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                self._connection.execute(f"CREATE VIEW {schema}.{sql_identifier(record.name)} AS {source}")
            except Exception as exc:  # one unreadable table must not take the others down; it gets no view at all
                self.skipped[record.full_name] = f"{type(exc).__name__}: {exc}"

    def _sandbox(self) -> None:
        directories = sorted({d for r in self.records if r.full_name not in self.skipped for d in table_directories(r)})
        self._connection.execute("SET allowed_directories = ?", [directories])
        self._connection.execute("SET enable_external_access = false")
        self._connection.execute("SET lock_configuration = true")

    def run(self, sql: str, limit: int, deadline: Deadline | None = None) -> QueryResult:
        deadline = self.deadline(deadline)
        gated = self.check(sql, deadline)
        limit = max(1, min(limit, self.settings.row_limit))
        capped = f"SELECT * FROM ({gated.sql}) AS lakescout_result LIMIT {limit + 1}"
        started = time.perf_counter()
        cursor = self._execute(capped, deadline)
        try:
            columns = [d[0] for d in cursor.description]
            rows, truncated_by = self.capped_rows(iter(lambda: cursor.fetchmany(100), []), limit, deadline)
        finally:
            cursor.close()
        elapsed_ms = (time.perf_counter() - started) * 1000
        masked = [columns[p] for p in self.pii_positions(gated, columns, deadline)]
        return QueryResult(columns=columns, rows=rows, truncated=truncated_by is not None, elapsed_ms=elapsed_ms,
                           masked_columns=masked, truncated_by=truncated_by)  # fmt: skip

    def profile(self, sql: str, deadline: Deadline | None = None) -> ScanProfile:
        """Run the query under EXPLAIN ANALYZE and report the data files it opened and the bytes it read."""
        deadline = self.deadline(deadline)
        gated = self.check(sql, deadline)
        cursor = self._execute(f"EXPLAIN (ANALYZE, FORMAT json) {gated.sql}", deadline)
        try:
            plan = json.loads(cursor.fetchall()[0][1])
        finally:
            cursor.close()
        files_read = sum(int((op.get("extra_info") or {}).get("Total Files Read", 0)) for op in walk_plan(plan))
        return ScanProfile(files_read=files_read, bytes_read=int(plan.get("total_bytes_read", 0)))

    def sandboxed_cursor(self) -> duckdb.DuckDBPyConnection:
        """A raw cursor on the locked-down database, without the gate: for tests of the sandbox itself."""
        with self._lock:
            return self._connection.cursor()

    def _execute(self, sql: str, deadline: Deadline) -> duckdb.DuckDBPyConnection:
        """Execute on a fresh cursor, interrupted by a watcher thread when the deadline passes or is cancelled."""
        deadline.check("planning the query")
        cursor = self.sandboxed_cursor()
        finished = threading.Event()

        def watch() -> None:
            while not finished.is_set():
                if deadline.wait(0.05):
                    if not finished.is_set():
                        cursor.interrupt()
                    return

        watcher = threading.Thread(target=watch, name="lakescout-sql-deadline", daemon=True)
        watcher.start()
        try:
            cursor.execute(sql)
            return cursor
        except duckdb.Error as exc:
            cursor.close()
            if deadline.over or isinstance(exc, duckdb.InterruptException):
                deadline.check("running the query")
                raise SqlTimeout("the query was interrupted; filter on partition columns or aggregate") from None
            raise SqlExecutionError(model_message(exc)) from None
        finally:
            finished.set()

    def close(self) -> None:
        with self._lock:
            self._connection.close()


def is_s3(record: TableRecord) -> bool:
    return any((location or "").startswith(("s3://", "s3a://")) for location in (record.location, record.metadata_location))


def walk_plan(node: dict) -> Iterable[dict]:
    yield node
    for child in node.get("children", []):
        yield from walk_plan(child)


def model_message(exc: duckdb.Error) -> str:
    """DuckDB's message without the echo of our wrapper query; DuckDB's own 'Did you mean' hints stay."""
    text = str(exc).replace("lakescout_result.", "")
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith(("LINE ", "^"))]
    return " ".join(lines)[:1000]
