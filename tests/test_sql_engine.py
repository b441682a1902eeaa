"""DuckDB and Athena engines against a real pyiceberg lake built here (and moto for Athena)."""

from __future__ import annotations

import threading
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import boto3
import duckdb
import httpx
import pyarrow as pa
import pytest
from botocore.stub import Stubber
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import DayTransform
from pyiceberg.types import LongType, NestedField, StringType, StructType, TimestampType

from agent.sql.engines import engine_for
from agent.sql.engines.athena import AthenaEngine
from agent.sql.engines.base import SqlExecutionError, SqlTimeout
from agent.sql.engines.duckdb_engine import DuckDBEngine
from catalog_ingest.crawlers.iceberg_record import iceberg_record
from catalog_ingest.records import TableRecord
from catalog_ingest.settings import Settings, SqlSettings

DAYS = [datetime(2024, 3, d) for d in (1, 2, 3, 4)]
FILES_PER_DAY = 3
ROWS_PER_FILE = 250


@dataclass
class SmallLake:
    catalog: SqlCatalog
    records: dict[str, TableRecord]
    warehouse: Path

    def load(self, record: TableRecord):
        return self.catalog.load_table(record.full_name)


def events_batch(day: datetime, file_number: int) -> pa.Table:
    start = (day.day * FILES_PER_DAY + file_number) * ROWS_PER_FILE
    ids = list(range(start, start + ROWS_PER_FILE))
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "ts": pa.array([day + timedelta(minutes=5 * i) for i in range(ROWS_PER_FILE)], pa.timestamp("us")),
            "email": [f"user{i}@example.com" for i in ids],
            "address": pa.array(
                [{"city": f"city{i % 7}", "zip": f"{i:05d}"} for i in ids],
                pa.struct([("city", pa.string()), ("zip", pa.string())]),
            ),
        }
    )


def small_lake(root: Path) -> SmallLake:
    """A day-partitioned events table (4 days x 3 files, email PII) and a people table with a delete
    snapshot and a renamed column, crawled into records with the project's Iceberg crawler."""
    warehouse = root / "warehouse"
    warehouse.mkdir(parents=True)
    catalog = SqlCatalog("demo", uri=f"sqlite:///{root / 'catalog.db'}", warehouse=f"file://{warehouse}")
    catalog.create_namespace("sales")
    events_schema = Schema(
        NestedField(1, "id", LongType(), required=False),
        NestedField(2, "ts", TimestampType(), required=False),
        NestedField(3, "email", StringType(), required=False),
        NestedField(
            4,
            "address",
            StructType(NestedField(5, "city", StringType(), required=False), NestedField(6, "zip", StringType(), required=False)),
            required=False,
        ),
    )
    events = catalog.create_table(
        "sales.events",
        events_schema,
        partition_spec=PartitionSpec(PartitionField(source_id=2, field_id=1000, transform=DayTransform(), name="ts_day")),
        properties={"lakescout.pii": "email"},
    )
    for day in DAYS:
        for file_number in range(FILES_PER_DAY):
            events.append(events_batch(day, file_number))
    people = catalog.create_table(
        "sales.people",
        Schema(NestedField(1, "id", LongType(), required=False), NestedField(2, "nm", StringType(), required=False)),
        properties={"lakescout.pii": "name"},
    )
    people.append(pa.table({"id": pa.array(range(10), pa.int64()), "nm": [f"person{i}" for i in range(10)]}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyiceberg 0.12 notes it falls back from merge-on-read to copy-on-write
        people.delete("id >= 7")
    with people.update_schema() as update:
        update.rename_column("nm", "name")
    people.append(pa.table({"id": pa.array([20], pa.int64()), "name": ["late joiner"]}))
    records = {}
    for name in ("events", "people"):
        record = iceberg_record("demo", "sales", name, catalog.load_table(f"sales.{name}"), max_partitions=1000)
        records[record.full_name] = record
    return SmallLake(catalog=catalog, records=records, warehouse=warehouse)


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> SmallLake:
    return small_lake(tmp_path_factory.mktemp("lake"))


@pytest.fixture(scope="module")
def engine(lake):
    engine = DuckDBEngine(lake.records.values(), SqlSettings(row_limit=100_000, allow_pii=True))
    yield engine
    engine.close()


def sorted_rows(rows):
    return sorted(rows, key=repr)


def test_every_table_has_a_view(engine):
    assert engine.skipped == {}


@pytest.mark.parametrize("table", ["sales.events", "sales.people"])
def test_duckdb_rows_equal_pyiceberg_scan(lake, engine, table):
    expected = lake.load(lake.records[table]).scan().to_arrow()
    result = engine.run(f"SELECT * FROM {table}", limit=100_000)
    assert result.columns == expected.column_names
    assert sorted_rows(result.rows) == sorted_rows(tuple(r.values()) for r in expected.to_pylist())


def test_delete_snapshot_and_renamed_column(engine):
    result = engine.run("SELECT id, name FROM sales.people ORDER BY id", limit=100)
    assert [r[0] for r in result.rows] == [0, 1, 2, 3, 4, 5, 6, 20]
    assert result.rows[0] == (0, "person0") and result.rows[-1] == (20, "late joiner")


def test_filtered_results_equal_pyiceberg(lake, engine):
    table = lake.load(lake.records["sales.events"])
    expected = table.scan(row_filter="ts >= '2024-03-02T00:00:00' and ts < '2024-03-03T00:00:00'").to_arrow()
    result = engine.run("SELECT count(*), sum(id) FROM sales.events WHERE ts >= '2024-03-02' AND ts < '2024-03-03'", 10)
    assert result.rows == [(expected.num_rows, sum(expected["id"].to_pylist()))]


def test_partition_pruning_reads_fewer_files(engine):
    everything = engine.profile("SELECT sum(id) FROM sales.events")
    one_day = engine.profile("SELECT sum(id) FROM sales.events WHERE ts >= '2024-03-02' AND ts < '2024-03-03'")
    assert everything.files_read == len(DAYS) * FILES_PER_DAY
    assert one_day.files_read == FILES_PER_DAY


def test_row_cap_sets_truncated(engine):
    capped = engine.run("SELECT id FROM sales.events ORDER BY id", limit=10)
    assert len(capped.rows) == 10 and capped.truncated
    assert [r[0] for r in capped.rows] == sorted(r[0] for r in capped.rows)
    exact = engine.run("SELECT id FROM sales.people", limit=8)
    assert len(exact.rows) == 8 and not exact.truncated


def test_settings_row_limit_caps_any_requested_limit(lake):
    engine = DuckDBEngine(lake.records.values(), SqlSettings(row_limit=5))
    try:
        result = engine.run("SELECT id FROM sales.events", limit=1000)
        assert len(result.rows) == 5 and result.truncated
    finally:
        engine.close()


def test_timeout_interrupts_a_slow_query(lake):
    engine = DuckDBEngine(lake.records.values(), SqlSettings(timeout_seconds=0.5))
    try:
        started = time.monotonic()
        with pytest.raises(SqlTimeout, match="stopped after 0.5s"):
            engine.run("SELECT count(*) FROM range(1000000000) a, range(1000000000) b WHERE a.range + b.range = 7", 10)
        assert time.monotonic() - started < 10
        assert engine.run("SELECT count(*) FROM sales.people", 10).rows == [(8,)]  # still usable afterwards
    finally:
        engine.close()


@pytest.mark.parametrize(
    "sql, masked",
    [
        ("SELECT id, email FROM sales.events ORDER BY id LIMIT 3", ["email"]),
        ("SELECT upper(email) AS shout, address.city FROM sales.events LIMIT 3", ["shout"]),
        ("WITH p AS (SELECT name AS who FROM sales.people) SELECT who FROM p", ["who"]),
        ("SELECT * FROM sales.people", ["name"]),
        ("SELECT count(*) AS n FROM sales.events", []),
    ],
)
def test_pii_masked_unless_allowed(lake, sql, masked):
    hidden = DuckDBEngine(lake.records.values(), SqlSettings(allow_pii=False))
    shown = DuckDBEngine(lake.records.values(), SqlSettings(allow_pii=True))
    try:
        masked_result, clear_result = hidden.run(sql, 100), shown.run(sql, 100)
    finally:
        hidden.close()
        shown.close()
    assert masked_result.masked_columns == masked and clear_result.masked_columns == []
    for name in masked:
        position = masked_result.columns.index(name)
        assert {row[position] for row in masked_result.rows} == {"***"}
        assert "***" not in {row[position] for row in clear_result.rows}


def test_execution_error_is_a_message_for_the_model(engine):
    with pytest.raises(SqlExecutionError, match='"nope"'):
        engine.run("SELECT nope FROM sales.events", 10)


def test_concurrent_runs_use_their_own_cursors(engine):
    results, errors = [], []

    def worker(day: int) -> None:
        try:
            sql = f"SELECT count(*) FROM sales.events WHERE ts >= '2024-03-0{day}' AND ts < '2024-03-0{day + 1}'"
            results.append(engine.run(sql, 10).rows[0][0])
        except Exception as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(d,)) for d in (1, 2, 3, 4) * 3]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and results == [FILES_PER_DAY * ROWS_PER_FILE] * 12


def test_engine_for_picks_the_configured_engine(lake, aws_env):
    duck = engine_for(lake.records.values(), Settings())
    assert isinstance(duck, DuckDBEngine)
    duck.close()
    athena = engine_for(lake.records.values(), SqlSettings(engine="athena", athena_endpoint_url=aws_env))
    assert isinstance(athena, AthenaEngine)


# Athena: moto runs no SQL; it hands out results queued through its moto-api endpoint.


def queue_athena_result(endpoint: str, columns: list[str], rows: list[list[str]]) -> None:
    header = {"Data": [{"VarCharValue": c} for c in columns]}
    body = {
        "results": [
            {
                "rows": [header] + [{"Data": [{"VarCharValue": v} for v in row]} for row in rows],
                "column_info": [{"Name": c, "Type": "varchar"} for c in columns],
            }
        ]
    }
    assert httpx.post(f"{endpoint}/moto-api/static/athena/query-results", json=body).status_code == 201


def athena_engine(endpoint: str, lake: SmallLake | None = None, **settings) -> AthenaEngine:
    sql_settings = SqlSettings(engine="athena", athena_output_location="s3://results/", **settings)
    return AthenaEngine(sql_settings, endpoint_url=endpoint, records=lake.records.values() if lake else (), database="sales")


def test_athena_start_poll_and_results(aws_env, lake):
    queue_athena_result(aws_env, ["id", "email"], [[str(i), f"u{i}@x"] for i in range(1500)])
    engine = athena_engine(aws_env, lake, allow_pii=False, row_limit=1200)
    result = engine.run("SELECT id, email FROM sales.events", limit=5000)
    assert result.columns == ["id", "email"]
    assert len(result.rows) == 1200 and result.truncated  # the header row was skipped, not counted
    assert result.rows[0] == ("0", "***") and result.masked_columns == ["email"]
    executions = engine._client.list_query_executions()["QueryExecutionIds"]
    details = engine._client.get_query_execution(QueryExecutionId=executions[-1])["QueryExecution"]
    assert details["Query"] == "SELECT id, email FROM sales.events"
    assert details["QueryExecutionContext"] == {"Database": "sales"}


def test_athena_timeout_stops_the_query(aws_env):
    manual = {"model_name": "athena::execution", "transition": {"progression": "manual", "times": 10_000}}
    httpx.post(f"{aws_env}/moto-api/state-manager/set-transition", json=manual).raise_for_status()
    try:
        engine = athena_engine(aws_env, timeout_seconds=0.3)
        with pytest.raises(SqlTimeout):
            engine.run("SELECT 1", 10)
        executions = engine._client.list_query_executions()["QueryExecutionIds"]
        state = engine._client.get_query_execution(QueryExecutionId=executions[-1])["QueryExecution"]["Status"]["State"]
        assert state == "CANCELLED"
    finally:
        immediate = {"model_name": "athena::execution", "transition": {"progression": "immediate"}}
        httpx.post(f"{aws_env}/moto-api/state-manager/set-transition", json=immediate).raise_for_status()


def test_athena_refuses_unsafe_sql_before_calling_aws(aws_env):
    from agent.sql.guard import UnsafeSQL

    engine = athena_engine(aws_env)
    with Stubber(engine._client):  # any AWS call would fail: none is expected
        with pytest.raises(UnsafeSQL):
            engine.run("DROP TABLE sales.events", 10)


def stubbed_athena(aws_env, lake: SmallLake | None = None, **settings) -> tuple[AthenaEngine, Stubber]:
    engine = athena_engine(aws_env, lake, **settings)
    engine._client = boto3.client("athena", region_name="us-east-1")
    return engine, Stubber(engine._client)


def test_athena_failure_reports_state_change_reason(aws_env, lake):
    engine, stub = stubbed_athena(aws_env, lake)
    stub.add_response("start_query_execution", {"QueryExecutionId": "q1"})
    reason = "COLUMN_NOT_FOUND: line 1:8: Column 'nope' cannot be resolved"
    stub.add_response(
        "get_query_execution",
        {"QueryExecution": {"QueryExecutionId": "q1", "Status": {"State": "FAILED", "StateChangeReason": reason}}},
    )
    with stub, pytest.raises(SqlExecutionError, match="Column 'nope' cannot be resolved"):
        engine.run("SELECT nope FROM sales.events", 10)


def test_athena_pages_through_results_and_skips_only_the_first_header(aws_env, lake):
    engine, stub = stubbed_athena(aws_env, lake, row_limit=5000)
    stub.add_response("start_query_execution", {"QueryExecutionId": "q2"})
    stub.add_response("get_query_execution", {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}})

    def page(values: list[str], token: str | None) -> dict:
        response = {
            "ResultSet": {
                "Rows": [{"Data": [{"VarCharValue": v}]} for v in values],
                "ResultSetMetadata": {"ColumnInfo": [{"Name": "n", "Type": "varchar"}]},
            }
        }
        return response | ({"NextToken": token} if token else {})

    stub.add_response("get_query_results", page(["n"] + [str(i) for i in range(999)], "t1"))
    stub.add_response("get_query_results", page([str(i) for i in range(999, 1500)], None))
    with stub:
        result = engine.run("SELECT id AS n FROM events", 2000)  # the gate resolves it in the default database
    assert [r[0] for r in result.rows] == [str(i) for i in range(1500)] and not result.truncated


def test_iceberg_table_on_s3_through_httpfs(aws_env, tmp_path):
    """moto's S3 read by DuckDB's httpfs (shipped as duckdb-extension-httpfs); the sandbox still holds."""
    credentials = {"access_key_id": "testing", "secret_access_key": "testing", "region": "us-east-1"}
    boto3.client("s3", endpoint_url=aws_env).create_bucket(Bucket="sql-engine-lake")
    catalog = SqlCatalog(
        "s3demo",
        uri=f"sqlite:///{tmp_path / 'catalog.db'}",
        warehouse="s3://sql-engine-lake/warehouse",
        **{"s3.endpoint": aws_env, "s3.access-key-id": "testing", "s3.secret-access-key": "testing", "s3.region": "us-east-1"},
    )
    catalog.create_namespace("remote")
    table = catalog.create_table("remote.numbers", Schema(NestedField(1, "n", LongType(), required=False)))
    table.append(pa.table({"n": pa.array(range(100), pa.int64())}))
    record = iceberg_record("s3demo", "remote", "numbers", catalog.load_table("remote.numbers"), max_partitions=10)
    engine = DuckDBEngine([record], SqlSettings(), s3={"endpoint_url": aws_env, **credentials})
    try:
        assert engine.run("SELECT sum(n) FROM remote.numbers", 10).rows == [(4950,)]
        cursor = engine.sandboxed_cursor()
        with pytest.raises(duckdb.PermissionException):
            cursor.execute(f"SELECT * FROM read_text('{aws_env}/moto-api/')")
        cursor.close()
    finally:
        engine.close()
