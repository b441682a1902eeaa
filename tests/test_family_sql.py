"""A table family read as one table, on a real pyiceberg SQL catalog through DuckDB: ``web.events_*`` (and the
family's own name, and a prefix wildcard) reads the members joined by UNION ALL BY NAME with ``_table_suffix``;
a filter on the suffix reads only the members it selects (DuckDB's profile and the estimate agree); a member
with an extra column; one-line errors for a wildcard or a filter that matches nothing; the guard's checks
still hold around a family; Athena says it has no wildcard tables."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog

from agent.sql.engines.athena import AthenaEngine
from agent.sql.engines.duckdb_engine import DuckDBEngine
from agent.sql.estimate import estimate_scan
from agent.sql.guard import UnsafeSQL
from agent.sql.validate import validate_sql
from catalog_ingest.crawlers.iceberg_record import iceberg_record
from catalog_ingest.records import TableRecord
from catalog_ingest.settings import SqlSettings

FIRST_DAY = date(2024, 1, 1)
DAYS = 6
ODD_DAY = 3
"""The member (events_20240104) with one more column, coupon_code."""
FILES_PER_MEMBER = 2


def suffix(i: int) -> str:
    return f"{FIRST_DAY + timedelta(days=i):%Y%m%d}"


def member_rows(i: int, file_number: int) -> dict[str, list]:
    ids = [i * 100 + file_number * 10 + k for k in range(3)]
    rows = {"event_id": ids, "country": ["DE", "US", "FR"], "email": [f"u{n}@example.com" for n in ids]}
    return rows | ({"coupon_code": [f"C{n}" for n in ids]} if i == ODD_DAY else {})


def build_lake(root: Path) -> dict[str, TableRecord]:
    catalog = SqlCatalog("lake", uri=f"sqlite:///{root / 'catalog.db'}", warehouse=f"file://{root / 'wh'}")
    catalog.create_namespace("web")
    base = [pa.field("event_id", pa.int64()), pa.field("country", pa.string()), pa.field("email", pa.string())]
    records = {}
    for i in range(DAYS):
        schema = pa.schema(base + ([pa.field("coupon_code", pa.string())] if i == ODD_DAY else []))
        table = catalog.create_table(f"web.events_{suffix(i)}", schema=schema, properties={"lakescout.pii": "email"})
        for file_number in range(FILES_PER_MEMBER):
            table.append(pa.table(member_rows(i, file_number), schema=schema))
    users = catalog.create_table("web.users", schema=pa.schema([pa.field("user_id", pa.int64()), pa.field("country", pa.string())]))
    users.append(pa.table({"user_id": [1, 2], "country": ["DE", "NL"]}))
    for name in [f"events_{suffix(i)}" for i in range(DAYS)] + ["users"]:
        record = iceberg_record("lake", "web", name, catalog.load_table(f"web.{name}"), max_partitions=100)
        records[record.full_name] = record
    return records


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> dict[str, TableRecord]:
    return build_lake(tmp_path_factory.mktemp("family_sql"))


@pytest.fixture(scope="module")
def engine(records):
    engine = DuckDBEngine(records.values(), SqlSettings(allow_pii=True))
    assert engine.skipped == {}
    yield engine
    engine.close()


def ids_of(days: list[int]) -> list[int]:
    return sorted(n for i in days for f in range(FILES_PER_MEMBER) for n in member_rows(i, f)["event_id"])


@pytest.mark.parametrize(
    "table, where, days",
    [
        ("web.events_*", "_table_suffix BETWEEN '20240102' AND '20240103'", [1, 2]),
        ('web."events_*"', "_table_suffix IN ('20240101', '20240106')", [0, 5]),
        ("web.events_YYYYMMDD", "_table_suffix >= '20240105'", [4, 5]),
        ("web.events_2024010*", "_table_suffix = '4'", [3]),
        ("web.events_*", "country = 'DE' OR _table_suffix = '20240101'", list(range(DAYS))),
    ],
)
def test_a_family_reads_the_selected_members_only(records, engine, table, where, days):
    sql = f"SELECT event_id, _table_suffix FROM {table} AS e WHERE {where} ORDER BY event_id"
    result = engine.run(sql, 1000)
    if "OR" not in where:
        assert [r[0] for r in result.rows] == ids_of(days)
    assert {r[1][-1] for r in result.rows} <= {suffix(i)[-1] for i in days}
    profile = engine.profile(sql)
    estimate = estimate_scan(sql, records)
    selected = [f"web.events_{suffix(i)}" for i in days]
    assert sorted(estimate.tables) == selected
    assert profile.files_read == estimate.files == FILES_PER_MEMBER * len(days)
    assert estimate.bytes == sum(records[name].totals.total_bytes for name in selected)


def test_the_suffix_column_and_a_member_with_an_extra_column(engine):
    result = engine.run("SELECT * FROM web.events_* WHERE _table_suffix IN ('20240104', '20240105') ORDER BY event_id", 100)
    assert set(result.columns) == {"event_id", "country", "email", "coupon_code", "_table_suffix"}
    rows = [dict(zip(result.columns, row)) for row in result.rows]
    assert {r["_table_suffix"] for r in rows} == {"20240104", "20240105"}
    assert all((r["coupon_code"] is None) == (r["_table_suffix"] == "20240105") for r in rows)
    # the family's columns hold whichever members are read: the odd member's column reads NULL without it
    lone = engine.run("SELECT coupon_code FROM web.events_YYYYMMDD WHERE _table_suffix = '20240101'", 100)
    assert lone.rows and all(r == (None,) for r in lone.rows)


def test_joins_prune_only_where_that_is_sound(records, engine):
    inner = "SELECT count(*) FROM web.users u JOIN web.events_* e ON e.country = u.country AND e._table_suffix = '20240102'"
    assert engine.run(inner, 10).rows == [(2,)] and engine.profile(inner).files_read == FILES_PER_MEMBER + 1
    # the family keeps its unmatched rows in a LEFT JOIN it leads: the ON filter must not drop members
    kept = "SELECT count(*) FROM web.events_* e LEFT JOIN web.users u ON e._table_suffix = '20240102' AND u.user_id = 1"
    assert engine.run(kept, 10).rows == [(DAYS * FILES_PER_MEMBER * 3,)]
    # unqualified with another source that might have the column: every member is planned (DuckDB's optimizer
    # still skips the ones whose suffix fails), so the estimate counts them all; the filter holds
    nested = "SELECT count(*) FROM web.events_*, (SELECT 1 AS one) o WHERE _table_suffix = '20240102'"
    assert engine.run(nested, 10).rows == [(FILES_PER_MEMBER * 3,)]
    assert engine.profile(nested).files_read <= estimate_scan(nested, records).files == DAYS * FILES_PER_MEMBER


def test_pii_stays_masked_through_the_family(records):
    engine = DuckDBEngine(records.values(), SqlSettings(allow_pii=False))
    try:
        result = engine.run("SELECT email, upper(email) AS e2 FROM web.events_* WHERE _table_suffix = '20240101'", 10)
        assert result.rows and all(v == "***" for row in result.rows for v in row)
        assert result.masked_columns == ["email", "e2"]
    finally:
        engine.close()


@pytest.mark.parametrize(
    "sql, message",
    [
        ("SELECT * FROM web.events_2023*", "web.events_2023* matches no member of web.events_YYYYMMDD: 6 tables events_20240101 .. events_20240106"),
        ("SELECT * FROM web.events_* WHERE _table_suffix < '2024'", "the filter on _table_suffix selects no member of web.events_* "
         "(web.events_YYYYMMDD: 6 tables events_20240101 .. events_20240106; _table_suffix '20240101' .. '20240106')"),
        ("SELECT * FROM web.clicks_*", "unknown table web.clicks_*: a wildcard reads the members of a family of tables in web, "
         "and its families: web.events_YYYYMMDD"),
    ],
)
def test_a_wildcard_or_filter_that_matches_nothing_is_a_one_line_error(records, engine, sql, message):
    with pytest.raises(UnsafeSQL) as caught:
        engine.run(sql, 10)
    assert str(caught.value) == message and "\n" not in message
    result = validate_sql(sql, records, SqlSettings())
    assert result.errors == [message] and result.error_issues[0].code == "unknown_table"


def test_validation_checks_columns_against_the_family_and_lists_the_members_read(records):
    result = validate_sql("SELECT coupon_code, _table_suffix FROM web.events_* WHERE _table_suffix > '20240104'", records, SqlSettings())
    assert result.ok and result.tables == ["web.events_20240105", "web.events_20240106"]
    assert result.columns == ["web.events_*.coupon_code", "web.events_*._table_suffix"]
    assert result.families[0]["members_read"] == 2 and result.sql.startswith('SELECT coupon_code, _table_suffix FROM web."events_*"')
    wrong = validate_sql("SELECT coupon FROM web.events_*", records, SqlSettings())
    assert wrong.errors == ["unknown column coupon in web.events_*; did you mean coupon_code, country?; which member a row "
                            "is from is _table_suffix ('20240101' .. '20240106')"]  # fmt: skip


@pytest.mark.parametrize(
    "sql, refusal",
    [
        ("SELECT * FROM web.\"events_*\" PIVOT (count(*) FOR country IN ('DE'))", "read it in a subquery to use PIVOT"),
        ("SELECT * FROM web.events_*, read_csv('/etc/passwd')", "read_csv() reads files"),
        ('SELECT * FROM "/etc/*"', "looks like a file path"),
        ('SELECT * FROM web."events_*.csv"', "looks like a file path"),
        ("SELECT * FROM web.events_* WHERE event_id IN (SELECT 1 FROM duckdb_settings())", "table function duckdb_settings()"),
    ],
)
def test_the_guard_still_refuses_around_a_family(engine, sql, refusal):
    with pytest.raises(UnsafeSQL, match=refusal.replace("(", r"\(").replace(")", r"\)").replace("*", r"\*")):
        engine.run(sql, 10)


def test_the_members_one_query_reads_are_bounded(records):
    engine = DuckDBEngine(records.values(), SqlSettings(max_family_members=3))
    try:
        assert len(engine.run("SELECT * FROM web.events_* WHERE _table_suffix <= '20240103'", 100).rows) == 18
        with pytest.raises(UnsafeSQL, match="reads 6 member tables of families; the limit is sql.max_family_members = 3"):
            engine.run("SELECT * FROM web.events_*", 100)
    finally:
        engine.close()


def test_athena_says_it_has_no_wildcard_tables(records):
    settings = SqlSettings(engine="athena")
    athena = AthenaEngine(settings, region="us-east-1", records=records.values())
    with pytest.raises(UnsafeSQL) as caught:
        athena.run("SELECT count(*) FROM web.events_* WHERE _table_suffix = '20240101'", 10)
    assert str(caught.value).startswith("Athena has no wildcard tables, so web.events_* (web.events_YYYYMMDD: 6 tables")
    assert "name a member (web.events_20240106)" in str(caught.value)
    result = validate_sql("SELECT count(*) FROM web.events_YYYYMMDD", records, settings)
    assert not result.ok and result.errors[0].startswith("Athena has no wildcard tables, so web.events_YYYYMMDD")
    assert validate_sql("SELECT count(*) FROM web.events_20240101", records, settings).ok
