"""Hostile SQL is refused by the guard, by the engine's own guard call, and by DuckDB's sandbox beneath it."""

from __future__ import annotations

import duckdb
import pytest
from test_sql_engine import small_lake

from agent.sql.engines.duckdb_engine import DuckDBEngine
from agent.sql.guard import UnsafeSQL, check_read_only
from catalog_ingest.settings import SqlSettings

# {target} is a folder the test watches; {sentinel} a file in it that must never appear.
HOSTILE = [
    # DDL
    "DROP TABLE sales.events",
    "CREATE TABLE t AS SELECT 1",
    "CREATE OR REPLACE VIEW sales.events AS SELECT 1 AS id",
    "ALTER TABLE sales.events RENAME TO x",
    "dRoP TaBlE sales.events",
    # DML, also inside a CTE
    "INSERT INTO sales.events SELECT * FROM sales.events",
    "UPDATE sales.people SET name = 'x'",
    "DELETE FROM sales.people",
    "MERGE INTO sales.people p USING sales.people q ON p.id = q.id WHEN MATCHED THEN DELETE",
    "WITH gone AS (DELETE FROM sales.people RETURNING *) SELECT * FROM gone",
    "WITH x AS (INSERT INTO sales.people VALUES (1, 'a') RETURNING *) SELECT 1",
    # attach, copy, extensions, settings
    "ATTACH '{sentinel}' AS evil",
    "DETACH memory",
    "COPY (SELECT 1) TO '{sentinel}'",
    "COPY sales.people TO '{sentinel}' (FORMAT parquet)",
    "INSTALL httpfs",
    "LOAD httpfs",
    "FORCE INSTALL httpfs FROM 'http://example.com'",
    "PRAGMA enable_profiling",
    "SET enable_external_access = true",
    "RESET lock_configuration",
    "EXPORT DATABASE '{target}/export'",
    "IMPORT DATABASE '{target}'",
    "CALL pragma_version()",
    "CREATE SECRET evil (TYPE s3, KEY_ID 'a', SECRET 'b')",
    "USE sales",
    "SELECT 1 INTO evil",
    "CHECKPOINT",
    "SUMMARIZE sales.events",
    # file, network and environment functions anywhere in the tree
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_csv_auto('/etc/passwd')",
    "SELECT * FROM read_parquet('{target}/*.parquet')",
    "SELECT * FROM read_json('/etc/hostname')",
    "SELECT * FROM read_json_auto('http://169.254.169.254/latest/meta-data')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM iceberg_scan('{target}/metadata.json')",
    "SELECT * FROM parquet_scan('/x.parquet')",
    "SELECT * FROM delta_scan('s3://bucket/t')",
    "SELECT * FROM sniff_csv('/etc/passwd')",
    "SELECT * FROM query('DROP TABLE sales.events')",
    "SELECT * FROM query_table('sales.events')",
    "SELECT getenv('HOME')",
    "SELECT current_setting('s3_secret_access_key')",
    "SELECT id FROM sales.people WHERE id IN (SELECT length(content) FROM read_text('/etc/passwd'))",
    "SELECT (SELECT count(*) FROM read_csv('/etc/passwd')) AS n",
    "SELECT 1 UNION ALL SELECT count(*) FROM read_csv('/etc/passwd')",
    # quoted file paths and URLs as table names
    "SELECT * FROM '/etc/passwd'",
    "SELECT * FROM 'http://example.com/data.csv'",
    'SELECT * FROM "/etc/passwd"',
    'SELECT * FROM "{target}/x.csv"',
    "SELECT * FROM 's3://bucket/key.parquet'",
    "SELECT * FROM '~/.aws/credentials'",
    # stacked statements, comment and quoting tricks, unicode
    "SELECT 1; DROP TABLE sales.events",
    "SELECT 1; -- harmless?\n DROP TABLE sales.events",
    "SELECT 1 /* ; */; COPY (SELECT 1) TO '{sentinel}'",
    "/* comment */ DROP /* more */ TABLE sales.events",
    "SELECT 1;\nCOPY (SELECT 1) TO '{sentinel}';",
    "SeLeCt * FrOm ReAd_CsV('/etc/passwd')",
    "SELECT * FROM \"read_csv\"('/etc/passwd')",
    "SELECT * FROM \"READ_TEXT\"('/etc/passwd')",
    "SELECT \"getenv\"('HOME')",
    "SELECT * FROM ｒｅａｄ_csv('/etc/passwd')",
    "SELECT 1;\u200bDROP TABLE sales.events",
    "SELECT 1\x00; DROP TABLE sales.events",
    "SELECT * FROM sales.events WHERE",  # unparseable
    "",
]

SAFE = [
    "SELECT id, name FROM sales.people",
    "SELECT 'DROP TABLE sales.events; COPY x TO ''/tmp/y''' AS text",
    "WITH recent AS (SELECT * FROM sales.events WHERE ts >= '2024-03-03') SELECT count(*) FROM recent",
    "SELECT id, row_number() OVER (PARTITION BY address.city ORDER BY ts) AS rn FROM sales.events",
    "SELECT id FROM sales.people UNION SELECT id FROM sales.events WHERE id < 5",
    "SELECT * FROM sales.people WHERE id IN (SELECT id FROM sales.events)",
    "SELECT count(*) FROM range(10) AS r(i), unnest([1, 2, 3]) AS u(x)",
    "SELECT 1; -- trailing comment",
    "FROM sales.people",
    "SELECT \"id\" FROM \"sales\".\"people\"",
    "SELECT list_transform([1, 2], x -> x + 1) AS l",
]


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    return small_lake(tmp_path_factory.mktemp("lake"))


@pytest.fixture(scope="module")
def engine(lake):
    engine = DuckDBEngine(lake.records.values(), SqlSettings())
    yield engine
    engine.close()


@pytest.fixture
def watched(tmp_path):
    (tmp_path / "existing.txt").write_text("unchanged")
    return tmp_path


def snapshot(folder):
    return sorted((p.relative_to(folder).as_posix(), p.read_bytes()) for p in folder.rglob("*") if p.is_file())


def fill(sql: str, folder) -> str:
    return sql.replace("{target}", str(folder)).replace("{sentinel}", str(folder / "sentinel.csv"))


def test_enough_hostile_cases():
    assert len(HOSTILE) >= 30


@pytest.mark.parametrize("template", HOSTILE)
def test_hostile_sql_is_refused_and_leaves_no_trace(template, engine, watched, lake):
    sql = fill(template, watched)
    before, lake_before = snapshot(watched), snapshot(lake.warehouse)
    with pytest.raises(UnsafeSQL) as refused:
        check_read_only(sql)
    assert str(refused.value)  # a reason, not an empty error
    with pytest.raises(UnsafeSQL):
        engine.run(sql, 10)
    assert snapshot(watched) == before and snapshot(lake.warehouse) == lake_before
    assert not (watched / "sentinel.csv").exists()
    assert engine.run("SELECT count(*) FROM sales.people", 10).rows == [(8,)]


@pytest.mark.parametrize(
    "sql, named",
    [
        ("DROP TABLE x", "DROP"),
        ("SELECT 1; SELECT 2", "2 statements"),
        ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
        ("SELECT * FROM '/etc/passwd'", "/etc/passwd"),
        ("WITH a AS (DELETE FROM t RETURNING *) SELECT * FROM a", "DELETE"),
        ("SELECT FROM WHERE", "could not parse"),
    ],
)
def test_refusal_names_what_was_refused(sql, named):
    with pytest.raises(UnsafeSQL, match=named):
        check_read_only(sql)


@pytest.mark.parametrize("sql", SAFE)
def test_safe_queries_are_accepted_and_run(sql, engine):
    parsed = check_read_only(sql)
    assert parsed.sql
    engine.run(sql, 10)


def test_referenced_tables_exclude_ctes_and_functions():
    parsed = check_read_only(
        "WITH e AS (SELECT * FROM sales.events) SELECT * FROM e JOIN sales.people p ON e.id = p.id, range(3) r"
    )
    assert sorted(parsed.tables) == ["sales.events", "sales.people"]


def test_engine_runs_the_regenerated_query_not_the_callers_text():
    parsed = check_read_only("SELECT 1 AS one -- */ ; DROP TABLE sales.events")
    assert parsed.sql == "SELECT 1 AS one"


# The sandbox beneath the guard: a raw cursor after setup, as if the guard had been bypassed.


@pytest.mark.parametrize(
    "template, error",
    [
        ("SELECT * FROM read_csv('/etc/passwd')", duckdb.PermissionException),
        ("SELECT * FROM read_text('{target}/existing.txt')", duckdb.PermissionException),
        ("SELECT * FROM glob('/etc/*')", duckdb.PermissionException),
        ("COPY (SELECT 1) TO '{sentinel}'", duckdb.PermissionException),
        ("ATTACH '{sentinel}' AS evil", duckdb.PermissionException),
        ("EXPORT DATABASE '{target}/export'", duckdb.PermissionException),
        ("SET enable_external_access = true", duckdb.InvalidInputException),
        ("SET allowed_directories = ['/']", duckdb.InvalidInputException),
        ("RESET lock_configuration", duckdb.InvalidInputException),
        ("INSTALL httpfs", duckdb.Error),
        ("LOAD httpfs", duckdb.Error),
    ],
)
def test_sandbox_holds_without_the_guard(template, error, engine, watched):
    before = snapshot(watched)
    cursor = engine.sandboxed_cursor()
    try:
        with pytest.raises(error):
            cursor.execute(fill(template, watched)).fetchall()
    finally:
        cursor.close()
    assert snapshot(watched) == before and not (watched / "sentinel.csv").exists()


def test_sandbox_still_reads_the_lake(engine):
    cursor = engine.sandboxed_cursor()
    try:
        assert cursor.execute("SELECT count(*) FROM sales.events").fetchone()[0] > 0
    finally:
        cursor.close()
