"""Catalog validation (tables, columns, partition-filter warnings) and scan estimates against real files."""

from __future__ import annotations

import pytest
from test_sql_engine import DAYS, FILES_PER_DAY, small_lake

from agent.sql.engines.duckdb_engine import DuckDBEngine
from agent.sql.estimate import estimate_scan
from agent.sql.validate import validate_sql
from catalog_ingest.settings import SqlSettings

SMALL_TABLES_COUNT = SqlSettings(large_table_bytes=0)
"""Every table counts as large, so the partition-filter warning is exercised on the small test lake."""


@pytest.fixture(scope="module")
def lake(tmp_path_factory):
    return small_lake(tmp_path_factory.mktemp("lake"))


def validate(sql, lake, settings=SMALL_TABLES_COUNT):
    return validate_sql(sql, lake.records, settings)


def test_valid_query_lists_tables_and_columns(lake):
    result = validate("SELECT e.id, p.name FROM sales.events e JOIN sales.people p ON e.id = p.id WHERE e.ts > '2024-03-02'", lake)
    assert result.ok and result.errors == []
    assert sorted(result.tables) == ["sales.events", "sales.people"]
    assert {"sales.events.id", "sales.people.name", "sales.events.ts"} <= set(result.columns)


def test_unknown_table_suggests_closest(lake):
    result = validate("SELECT * FROM sales.evnts", lake)
    assert not result.ok
    assert result.errors == ["unknown table sales.evnts; did you mean sales.events?"]


def test_table_without_namespace_suggests_the_qualified_name(lake):
    result = validate("SELECT * FROM people", lake)
    assert not result.ok and "sales.people" in result.errors[0]


@pytest.mark.parametrize(
    "sql, bad, suggestion",
    [
        ("SELECT emial FROM sales.events", "emial", "email"),
        ("SELECT e.emial FROM sales.events AS e", "emial", "email"),
        ("SELECT address.cty FROM sales.events", "address.cty", "address.city"),
        ("SELECT nm FROM sales.people", "nm", "name"),  # renamed: the old name is gone
        ("SELECT id FROM sales.people WHERE nmae = 'x'", "nmae", "name"),
        ("WITH p AS (SELECT id, name FROM sales.people) SELECT p.nam FROM p", "nam", "name"),
    ],
)
def test_unknown_column_is_named_with_suggestions(lake, sql, bad, suggestion):
    result = validate(sql, lake)
    assert not result.ok
    assert any(f"unknown column {bad}" in e and suggestion in e for e in result.errors), result.errors


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT e.address.city, count(*) AS n FROM sales.events AS e GROUP BY 1 ORDER BY n DESC",
        "WITH x AS (SELECT id AS key, email FROM sales.events) SELECT key, email FROM x WHERE key > 3",
        "SELECT * FROM sales.people",
        "SELECT id AS k FROM sales.people ORDER BY k",
        "SELECT p.id FROM sales.people p WHERE EXISTS (SELECT 1 FROM sales.events e WHERE e.id = p.id)",
        "SELECT i FROM range(3) AS r(i)",
    ],
)
def test_aliases_ctes_and_struct_paths_resolve(lake, sql):
    result = validate(sql, lake)
    assert result.ok, result.errors


def test_guard_refusal_is_a_validation_error(lake):
    result = validate("DROP TABLE sales.events", lake)
    assert not result.ok and "DROP" in result.errors[0] and result.sql is None


def test_lookup_callable_is_accepted(lake):
    result = validate_sql("SELECT name FROM sales.people", lake.records.get, SqlSettings())
    assert result.ok and result.tables == ["sales.people"]


def test_partition_filter_warning(lake):
    unfiltered = validate("SELECT count(*) FROM sales.events", lake)
    assert unfiltered.ok and len(unfiltered.warnings) == 1
    assert "sales.events" in unfiltered.warnings[0] and "ts" in unfiltered.warnings[0]
    filtered = validate("SELECT count(*) FROM sales.events WHERE ts >= '2024-03-02'", lake)
    assert filtered.warnings == []
    small = validate("SELECT count(*) FROM sales.events", lake, SqlSettings())
    assert small.warnings == []  # below the default 64 MiB: scanning it whole is fine
    unpartitioned = validate("SELECT count(*) FROM sales.people", lake)
    assert unpartitioned.warnings == []


def files_in_days(lake, days) -> tuple[int, int]:
    """Ground truth: the data files of the given day partitions, from the table's own files metadata."""
    files = lake.load(lake.records["sales.events"]).inspect.files().to_pylist()
    chosen = [f for f in files if f["partition"]["ts_day"] in {d.date() for d in days}]
    return len(chosen), sum(f["file_size_in_bytes"] for f in chosen)


FILTERS = [
    ("ts >= '2024-03-02' AND ts < '2024-03-03'", DAYS[1:2]),
    ("ts BETWEEN '2024-03-02' AND '2024-03-03 23:59:59'", DAYS[1:3]),
    ("CAST(ts AS DATE) = DATE '2024-03-04'", DAYS[3:4]),
    ("ts > TIMESTAMP '2024-03-03 12:00:00'", DAYS[2:4]),
    ("ts < '2024-03-02' OR id = 5", DAYS),  # OR is not pruned by the stats: everything
]


@pytest.mark.parametrize("predicate, days", FILTERS)
def test_estimate_from_partition_stats_matches_files_in_those_partitions(lake, predicate, days):
    expected_files, expected_bytes = files_in_days(lake, days)
    estimate = estimate_scan(f"SELECT sum(id) FROM sales.events WHERE {predicate}", lake.records)
    table = estimate.tables["sales.events"]
    assert table.files == expected_files
    assert abs(table.bytes - expected_bytes) <= 0.1 * expected_bytes
    assert table.pruned == (len(days) < len(DAYS))
    assert table.total_files == len(DAYS) * FILES_PER_DAY


@pytest.mark.parametrize("predicate, days", FILTERS[:4])
def test_estimate_agrees_with_files_duckdb_reads(lake, predicate, days):
    engine = DuckDBEngine(lake.records.values(), SqlSettings())
    try:
        profile = engine.profile(f"SELECT sum(id) FROM sales.events WHERE {predicate}")
    finally:
        engine.close()
    estimate = estimate_scan(f"SELECT sum(id) FROM sales.events WHERE {predicate}", lake.records)
    assert profile.files_read == estimate.tables["sales.events"].files == len(days) * FILES_PER_DAY


def test_estimate_without_filter_is_the_whole_table(lake):
    record = lake.records["sales.events"]
    estimate = estimate_scan("SELECT count(*) FROM sales.events e JOIN sales.people p ON e.id = p.id", lake.records)
    events = estimate.tables["sales.events"]
    assert (events.files, events.bytes, events.pruned) == (record.totals.file_count, record.totals.total_bytes, False)
    assert set(estimate.tables) == {"sales.events", "sales.people"}


# Structured issues: codes, identifiers, suggestions and positions in the submitted text.


def test_unknown_column_issue_points_at_the_column_with_suggestions(lake):
    result = validate("SELECT id,\n       e.emial\nFROM sales.events AS e\nWHERE ts > '2024-03-02'", lake)
    [issue] = result.error_issues
    assert (issue.code, issue.identifier, issue.suggestions) == ("unknown_column", "emial", ["email"])
    assert (issue.line, issue.column) == (2, 10)
    assert result.errors == [issue.message] and "did you mean email?" in issue.message


def test_each_occurrence_of_a_bad_column_is_its_own_issue(lake):
    result = validate("SELECT id FROM sales.people WHERE nmae = 'x' OR nmae = 'y'", lake)
    assert [(i.identifier, i.line, i.column) for i in result.error_issues] == [("nmae", 1, 35), ("nmae", 1, 49)]
    assert all(i.suggestions[0] == "name" for i in result.error_issues)


def test_columns_keep_their_spelling_and_struct_paths(lake):
    result = validate("SELECT ID, Emial, address.cty FROM sales.events", lake)
    assert [(i.identifier, i.suggestions[0], i.column) for i in result.error_issues] == [
        ("Emial", "email", 12), ("address.cty", "address.city", 19)]  # fmt: skip


def test_unknown_table_issue_points_at_the_table(lake):
    result = validate("SELECT *\n  FROM   sales.evnts", lake)
    [issue] = result.issues
    assert (issue.code, issue.identifier, issue.suggestions, issue.line, issue.column) == (
        "unknown_table", "sales.evnts", ["sales.events"], 2, 10)  # fmt: skip
    bare = validate("SELECT * FROM people", lake).issues[0]
    assert (bare.identifier, bare.suggestions, bare.column) == ("people", ["sales.people"], 15)


def test_cte_column_issue_suggests_the_ctes_columns(lake):
    result = validate("WITH p AS (SELECT id, name FROM sales.people)\nSELECT p.nam FROM p", lake)
    [issue] = result.issues
    assert (issue.code, issue.identifier, issue.suggestions, issue.line, issue.column) == (
        "unknown_column", "nam", ["name"], 2, 10)  # fmt: skip


def test_partition_filter_warning_is_an_issue_on_the_table(lake):
    result = validate("SELECT count(*)\nFROM sales.events", lake)
    [issue] = result.warning_issues
    assert result.ok and result.error_issues == [] and result.warnings == [issue.message]
    assert (issue.code, issue.severity, issue.identifier, issue.line, issue.column) == (
        "missing_partition_filter", "warning", "sales.events", 2, 6)  # fmt: skip
    assert issue.suggestions == []  # the partition column is not a replacement for the table name


def test_parse_errors_and_refusals_have_codes_and_positions(lake):
    parse = validate("SELECT * FROM\n WHERE (", lake).issues[0]
    assert (parse.code, parse.line, parse.column) == ("parse_error", 2, 2)
    refused = validate("DROP TABLE sales.events", lake).issues[0]
    assert refused.code == "unsafe_sql" and "DROP" in refused.message
    function = validate("SELECT *\nFROM read_csv('/etc/passwd')", lake).issues[0]
    assert (function.code, function.identifier, function.line, function.column) == ("unsafe_sql", "read_csv", 2, 6)


def test_summary_is_what_the_agent_sees(lake):
    result = validate("SELECT emial FROM sales.events", lake)
    summary = result.summary()
    assert summary["ok"] is False and summary["errors"] == result.errors and "issues" not in summary
    assert set(summary) == {"ok", "errors", "warnings", "tables", "columns", "sql"}
