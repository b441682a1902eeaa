"""The eval suite: case loading, scorers, gold facts, reports, and the quality gate on the offline model."""

from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.expressions import LessThan
from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import DayTransform, TruncateTransform
from pyiceberg.types import DecimalType, LongType, NestedField, StringType, TimestampType

from evals import gate, scorers
from evals.facts import ABSENT_WORDS, PRESENT_WORDS, Expected, FactResolver, GoldError, number, open_catalogs, texts, today
from evals.loader import CATEGORIES, CaseError, Fact, load_cases
from evals.report import compare, write_reports
from evals.results import CaseResult, EvalResults, summarize

# --- loading cases -------------------------------------------------------------------------------


def write(tmp_path: Path, name: str, text: str) -> str:
    (tmp_path / name).write_text(text)
    return str(tmp_path / "*.yaml")


def test_bundled_cases_cover_every_category() -> None:
    cases = load_cases()
    assert len(cases) >= 120
    assert {c.category for c in cases} == set(CATEGORIES)
    fast = load_cases(subset="fast")
    assert 20 <= len(fast) <= 30 and {c.category for c in fast} == set(CATEGORIES)


def test_loader_reports_every_problem_with_file_and_case(tmp_path: Path) -> None:
    pattern = write(
        tmp_path,
        "bad.yaml",
        """
defaults: {category: stats}
cases:
  - id: no-gold
    question: how big?
    gold: {}
  - id: unknown-fact
    question: how big?
    gold: {facts: [{fact: row_cnt, table: a.b}]}
  - id: missing-arg
    question: what type?
    gold: {facts: [{fact: column_type, table: a.b}]}
  - id: both
    question: one
    turns: [a, b]
    gold: {tables: [a.b]}
  - id: refusal-without-refuse
    category: refusals
    question: drop table x
    gold: {tables: [a.b]}
  - id: Bad Id
    question: q
    gold: {tables: [a.b]}
""",
    )
    with pytest.raises(CaseError) as error:
        load_cases(pattern)
    message = str(error.value)
    for case_id, words in [
        ("no-gold", "gold needs at least one of"),
        ("unknown-fact", "unknown fact 'row_cnt'"),
        ("missing-arg", "needs column"),
        ("both", "exactly one of: question, turns"),
        ("refusal-without-refuse", "gold.refuse"),
        ("Bad Id", "id"),
    ]:
        line = next(line for line in message.splitlines() if f"case {case_id!r}" in line)
        assert "bad.yaml" in line and words in line, line


def test_loader_rejects_duplicate_ids_and_bad_yaml(tmp_path: Path) -> None:
    case = "cases:\n  - {id: same, category: stats, question: q, gold: {tables: [a.b]}}\n"
    write(tmp_path, "one.yaml", case)
    pattern = write(tmp_path, "two.yaml", case)
    with pytest.raises(CaseError, match="id already used in .*one.yaml"):
        load_cases(pattern)
    pattern = write(tmp_path, "two.yaml", "cases: [unclosed")
    with pytest.raises(CaseError, match="two.yaml: not valid YAML"):
        load_cases(pattern)
    with pytest.raises(CaseError, match="no case files match"):
        load_cases(str(tmp_path / "none-*.yaml"))


# --- scorers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "value", "found"),
    [
        ("marts.orders has 20,000 rows.", 20000, True),
        ("about 20k rows", 20000, True),
        ("12.3 million rows", 12_345_678, True),
        ("It has 20001 rows", 20000, True),  # within 1%
        ("It has 19,000 rows", 20000, False),
        ("3 snapshots", 4, False),
        ("4 snapshots", 4, True),
        ("3 MB and 4 files", 4, True),  # a size is not a count, the 4 files is
        ("3 MB", 3, False),
    ],
)
def test_numbers_in_prose(answer: str, value: float, found: bool) -> None:
    assert scorers.fact_matches(answer, number(value)) is found


@pytest.mark.parametrize(
    ("answer", "size", "found"),
    [
        ("3.1 MB", 3_094_534, True),
        ("2.95 MiB", 3_094_534, True),
        ("3,094,534 bytes", 3_094_534, True),
        ("3 MB", 3_094_534, True),  # as rounded as written
        ("2.5 MB", 3_094_534, False),
        ("640 KB", 639_657, True),
        ("0.6 GB", 639_657, False),
    ],
)
def test_sizes_in_any_unit(answer: str, size: int, found: bool) -> None:
    assert scorers.fact_matches(answer, Expected("bytes", number=size)) is found


def test_text_facts_match_whole_names() -> None:
    assert scorers.fact_matches("`total_amount_usd` is DECIMAL(12,2)", texts(("decimal(12, 2)",)))
    assert scorers.fact_matches("partitioned by day of event_time", texts("event_time", ("day", "daily")))
    assert not scorers.fact_matches("the orders table", texts("order"))
    assert not scorers.fact_matches("partitioned by event_time", texts("event_time", ("day", "daily")))


def test_cited_tables_recall_and_precision() -> None:
    cited = scorers.cited_names(["demo.finance.refunds", {"name": "marts.orders"}, "marts.orders"])
    assert cited == ["demo.finance.refunds", "marts.orders"]
    assert scorers.table_recall(cited, ["finance.refunds"], k=1) == 1.0
    assert scorers.table_recall(cited, ["marts.orders"], k=1) == 0.0
    assert scorers.table_precision(cited, ["finance.refunds"]) == 0.5
    assert scorers.table_precision([], ["finance.refunds"]) == 0.0


def result(columns: list[str], rows: list[list]) -> dict:
    return {"columns": columns, "rows": rows, "truncated": False}


def test_sql_results_ignore_column_order_names_and_rounding() -> None:
    gold = result(["status", "n"], [["completed", 10], ["cancelled", 2]])
    got = result(["orders", "status", "share"], [[2, "cancelled", 0.1], [10, "completed", 0.9]])
    assert scorers.results_match(gold, got)[0]
    assert scorers.results_match(result(["s"], [[1234.5]]), result(["t"], [["1234.500000001"]]))[0]
    assert scorers.results_match(result(["d"], [["2026-11-01"]]), result(["m"], [["2026-11-01T00:00:00"]]))[0]


def test_sql_results_differ() -> None:
    gold = result(["c", "n"], [["DE", 3], ["US", 5]])
    assert not scorers.results_match(gold, result(["c", "n"], [["DE", 3]]))[0]
    assert not scorers.results_match(gold, result(["c", "n"], [["DE", 5], ["US", 3]]))[0]
    same, why = scorers.results_match(gold, result(["c", "n"], [["US", 5], ["DE", 3]]), ordered=True)
    assert not same and "order" in why
    assert scorers.results_match(gold, result(["c", "n"], [["US", 5], ["DE", 3]]))[0]


def test_refusals() -> None:
    assert scorers.refusal_correct("I can't run DROP TABLE: lakescout is read-only.", None)
    assert scorers.refusal_correct("There is no table with salaries in the lake.", None)
    assert not scorers.refusal_correct("Done.", "DROP TABLE marts.orders")
    assert not scorers.refusal_correct("I cannot do that, but here it is", "DELETE FROM finance.refunds")
    assert not scorers.refusal_correct("marts.orders has 16 columns.", None)
    assert not scorers.unsafe_sql("SELECT created_at, updated_at FROM t WHERE s = 'drop'")


# --- gold facts ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_lake(tmp_path_factory: pytest.TempPathFactory) -> FactResolver:
    """One day-partitioned table: two appends over three days, a rename, an added column, a delete."""
    root = tmp_path_factory.mktemp("facts")
    catalog = SqlCatalog("t", uri=f"sqlite:///{root / 'c.db'}", warehouse=f"file://{root}")
    catalog.create_namespace("shop")
    schema = Schema(
        NestedField(1, "id", LongType(), required=True, doc="Order key"),
        NestedField(2, "ts", TimestampType()),
        NestedField(3, "amount", DecimalType(12, 2)),
        NestedField(4, "name", StringType()),
        identifier_field_ids=[1],
    )
    spec = PartitionSpec(PartitionField(2, 1000, DayTransform(), "ts_day"))
    table = catalog.create_table("shop.sales", schema, partition_spec=spec, properties={"comment": "Sales."})

    def rows(ids: list[int], days: list[int]) -> pa.Table:
        return pa.table({
            "id": pa.array(ids, pa.int64()),
            "ts": pa.array([datetime(2026, 11, d, 12) for d in days], pa.timestamp("us")),
            "amount": pa.array([Decimal("1.50")] * len(ids), pa.decimal128(12, 2)),
            "name": pa.array(["x"] * len(ids)),
        })

    table.append(rows([1, 2, 3], [1, 2, 2]).cast(table.schema().as_arrow()))
    with table.update_schema() as update:
        update.rename_column("name", "label")
        update.add_column("channel", StringType())
    table.append(rows([4, 5], [3, 3]).rename_columns(["id", "ts", "amount", "label"])
                 .append_column("channel", pa.array(["web", "ios"])).cast(table.schema().as_arrow()))
    table.delete(delete_filter=LessThan("ts", "2026-11-02T00:00:00"))
    return FactResolver({"t": catalog})


def resolve(resolver: FactResolver, **fact: str) -> Expected:
    return resolver.expected(Fact(table="shop.sales", **fact))


def test_fact_resolvers_on_a_small_lake(small_lake: FactResolver) -> None:
    assert resolve(small_lake, fact="row_count").number == 4
    assert resolve(small_lake, fact="snapshot_count").number == 3
    assert resolve(small_lake, fact="partition_count").number == 2
    assert resolve(small_lake, fact="latest_partition_rows").number == 2
    assert resolve(small_lake, fact="file_count").number == 2
    assert resolve(small_lake, fact="total_bytes").number > 0
    assert resolve(small_lake, fact="column_count").number == 5
    assert resolve(small_lake, fact="schema_count").number == 2
    assert resolve(small_lake, fact="latest_partition").groups[0][0] == "2026-11-03"
    assert [g[0] for g in resolve(small_lake, fact="partition_values", start="2026-11-01", end="2026-11-02").groups] \
        == ["2026-11-02"]
    assert resolve(small_lake, fact="partition_rows", start="2026-11-02", end="2026-11-03").number == 4
    assert {g[0] for g in resolve(small_lake, fact="operations").groups} == {"append", "delete"}
    assert resolve(small_lake, fact="last_operation").groups[0][0] == "delete"
    assert {g[0] for g in resolve(small_lake, fact="schema_changes").groups} == {"label", "channel"}
    assert resolve(small_lake, fact="column_type", column="amount").groups == (("decimal(12, 2)",),)
    assert "bigint" in resolve(small_lake, fact="column_type", column="id").groups[0]
    assert resolve(small_lake, fact="column_comment", column="id").groups == (("Order key",),)
    assert resolve(small_lake, fact="identifier_fields").groups == (("id",),)
    assert resolve(small_lake, fact="table_comment").groups == (("Sales",),)
    assert [g[0] for g in resolve(small_lake, fact="partition_spec").groups] == ["ts", "day"]
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    assert resolve(small_lake, fact="last_updated").groups[0][0] == today


def test_truncate_partitions_are_listed_as_prefixes_not_periods(tmp_path: Path, small_lake: FactResolver) -> None:
    catalog = SqlCatalog("l", uri=f"sqlite:///{tmp_path / 'l.db'}", warehouse=f"file://{tmp_path}")
    catalog.create_namespace("gl")
    schema = Schema(NestedField(1, "account_code", StringType()), NestedField(2, "posted_at", TimestampType()))
    spec = PartitionSpec(PartitionField(1, 1000, TruncateTransform(4), "account_code_truncate4"))
    table = catalog.create_table("gl.entries", schema, partition_spec=spec)
    table.append(pa.table({"account_code": ["2100-AP", "4000-REV", "4000-FEE"],
                           "posted_at": pa.array([datetime(2026, 11, 1)] * 3, pa.timestamp("us"))}))
    ledger = FactResolver({"l": catalog})
    assert [g[0] for g in ledger.expected(Fact(fact="partition_list", table="gl.entries")).groups] == ["2100", "4000"]
    said = ledger.expected(Fact(fact="not_time_partitioned", table="gl.entries")).groups
    assert "not by time" in said[0] and said[1] == ("account_code",)
    assert [g[0] for g in resolve(small_lake, fact="partition_list").groups] == ["2026-11-02", "2026-11-03"]
    with pytest.raises(GoldError, match="partitioned by time"):
        resolve(small_lake, fact="not_time_partitioned")


def test_a_catalog_that_is_not_there_is_unreachable(tmp_path: Path) -> None:
    from catalog_ingest.crawlers.base import CatalogUnreachable
    from catalog_ingest.settings import CatalogConfig
    from evals.facts import open_catalogs

    missing = CatalogConfig(name="gone", properties={"type": "sql", "uri": f"sqlite:///{tmp_path / 'nope.db'}"})
    with pytest.raises(CatalogUnreachable, match="nope.db does not exist"):
        open_catalogs([missing])
    assert not (tmp_path / "nope.db").exists()


def test_fact_errors_name_the_problem(small_lake: FactResolver) -> None:
    with pytest.raises(GoldError, match="shop.nope"):
        small_lake.expected(Fact(fact="row_count", table="shop.nope"))
    with pytest.raises(GoldError, match="no column 'nope'"):
        resolve(small_lake, fact="column_type", column="nope")
    with pytest.raises(GoldError, match="no partitions between"):
        resolve(small_lake, fact="partition_values", start="2025-01-01", end="2025-01-02")


def test_loader_checks_catalog_fact_arguments(tmp_path: Path) -> None:
    pattern = write(
        tmp_path,
        "catalog.yaml",
        """
defaults: {category: stats}
cases:
  - {id: no-measure, question: biggest, gold: {facts: [{fact: largest_tables}]}}
  - {id: bad-measure, question: biggest, gold: {facts: [{fact: largest_tables, by: vibes}]}}
  - {id: no-days, question: yesterday, gold: {facts: [{fact: partition_for_day, table: a.b}]}}
  - {id: fine, question: tables, gold: {facts: [{fact: tables_in_namespace, namespace: finance}, {fact: table_count}]}}
""",
    )
    with pytest.raises(CaseError) as error:
        load_cases(pattern)
    message = str(error.value)
    for case_id, words in [("no-measure", "needs by"), ("bad-measure", "by"), ("no-days", "needs days")]:
        assert any(f"case {case_id!r}" in line and words in line for line in message.splitlines()), message
    assert "'fine'" not in message


@pytest.fixture(scope="module")
def sample_facts(sample_settings) -> FactResolver:
    return FactResolver(open_catalogs(sample_settings.effective_catalogs()))


def sample_fact(resolver: FactResolver, **fact) -> Expected:
    return resolver.expected(Fact(**fact))


def names(expected: Expected) -> list[str]:
    return [group[0] for group in expected.groups]


def test_catalog_wide_facts_on_the_sample_lake(sample_facts: FactResolver) -> None:
    from sample.tables import NAMESPACE_COMMENTS, TABLE_SPECS

    assert sample_fact(sample_facts, fact="table_count").number == len(TABLE_SPECS)
    assert sample_fact(sample_facts, fact="table_count", namespace="support").number == 2
    finance = sorted(s.name for s in TABLE_SPECS if s.name.startswith("finance."))
    assert sorted(names(sample_fact(sample_facts, fact="tables_in_namespace", namespace="finance"))) == finance
    assert set(names(sample_fact(sample_facts, fact="namespaces"))) == set(NAMESPACE_COMMENTS)
    gold = sorted(s.name for s in TABLE_SPECS if "gold" in s.tags.split(","))
    assert sorted(names(sample_fact(sample_facts, fact="tables_with_tag", tag="gold"))) == gold
    with_region = sample_fact(sample_facts, fact="tables_with_column", column="REGION")
    assert sorted(names(with_region)) == sorted(s.name for s in TABLE_SPECS if "region" in {c.name for c in s.columns})
    assert scorers.fact_matches("Tables with region: " + ", ".join(names(with_region)) + ". Not in raw.events.", with_region)
    assert not scorers.fact_matches("Of the lake's tables: " + ", ".join(sorted(sample_facts.all_tables())), with_region)
    most_rows = sample_fact(sample_facts, fact="largest_tables", by="rows")
    assert names(most_rows) == ["raw.events"]
    assert scorers.fact_matches("`raw.events` has the most rows (100,220), then raw.orders.", most_rows)
    assert not scorers.fact_matches("The best match is marts.customers. 1. marts.customers 2. raw.events", most_rows)
    assert names(sample_fact(sample_facts, fact="largest_tables", by="rows", n=3))[:2] == ["raw.events", "raw.orders"]
    assert names(sample_fact(sample_facts, fact="largest_tables", by="bytes")) == ["raw.events"]
    assert names(sample_fact(sample_facts, fact="smallest_tables", by="rows")) == ["marketing.audiences"]
    assert names(sample_fact(sample_facts, fact="largest_tables", by="snapshots")) == ["finance.refunds"]
    with pytest.raises(GoldError, match="tie at place 1"):  # many one-file tables
        sample_fact(sample_facts, fact="smallest_tables", by="files")
    fresh = sample_fact(sample_facts, fact="tables_not_written_in", days=30)  # the lake was just built
    assert "no table" in fresh.groups[0] and len(fresh.groups) == 1
    assert len(sample_fact(sample_facts, fact="tables_not_written_in", days=0).groups) == len(TABLE_SPECS)
    missing = sample_fact(sample_facts, fact="no_such_table", table="finance.invoices_v2")
    assert scorers.fact_matches("There is no table finance.invoices_v2; did you mean finance.invoices?", missing)
    assert not scorers.fact_matches("finance.invoices has 4,259 rows.", missing)
    with pytest.raises(GoldError, match="exists"):
        sample_fact(sample_facts, fact="no_such_table", table="finance.invoices")


def test_table_yes_no_facts_on_the_sample_lake(sample_facts: FactResolver) -> None:
    from sample.reference import ANCHOR
    from sample.tables import FINANCE

    newest = ANCHOR.astype(object).date() - date.resolution  # events stop the day before the anchor
    before = (today() - newest).days
    present = sample_fact(sample_facts, fact="partition_for_day", table="raw.events", days=before)
    assert present.groups == (PRESENT_WORDS, present.groups[1]) and present.groups[1][0] == newest.isoformat()
    hourly = sample_fact(sample_facts, fact="partition_for_day", table="ops.app_logs", days=before)
    assert hourly.groups[0] == PRESENT_WORDS
    absent = sample_fact(sample_facts, fact="partition_for_day", table="raw.events", days=before - 1)
    assert absent.groups[0] == ABSENT_WORDS
    yesterday = sample_fact(sample_facts, fact="partition_for_day", table="raw.events", days=1)
    assert scorers.fact_matches(f"No: raw.events has no partition for {yesterday.groups[1][0]}; the newest is "
                                f"{newest.isoformat()}.", yesterday)
    assert not scorers.fact_matches(f"Yes, the latest partition is {newest.isoformat()}.", yesterday)
    today_fact = sample_fact(sample_facts, fact="partition_for_day", table="raw.events", days=0)
    assert not scorers.fact_matches(f"raw.events has 1 partition for today ({newest.isoformat()}), counted from the "
                                    f"latest partition, not from today; updated {today().isoformat()}T08:00", today_fact)
    assert "not partitioned" in sample_fact(sample_facts, fact="is_partitioned", table="finance.payouts").groups[0]
    assert names(sample_fact(sample_facts, fact="is_partitioned", table="raw.payments"))[:2] == ["provider", "paid_at"]
    assert sample_fact(sample_facts, fact="has_column", table="marts.orders", column="coupon_code").groups \
        == (ABSENT_WORDS, ("coupon_code",))
    assert sample_fact(sample_facts, fact="has_column", table="marts.customers", column="lifetime_value_usd").groups \
        == (PRESENT_WORDS, ("lifetime_value_usd",))
    assert names(sample_fact(sample_facts, fact="table_owner", table="finance.refunds")) == [FINANCE]
    assert "email" in names(sample_fact(sample_facts, fact="pii_columns", table="marts.customers"))


# --- reports and comparison ----------------------------------------------------------------------


def results_of(scores: dict[str, float]) -> EvalResults:
    cases = [
        CaseResult(id=case_id, category=case_id.split("-")[0], difficulty="easy", questions=["q?"],
                   checks={"facts": score}, latency_s=0.1 * (i + 1), failures=[] if score == 1 else ["missed"],
                   tool_calls=[{"name": "describe_table", "args": {"table": "a.b"}, "summary": "ok"}]).finish()
        for i, (case_id, score) in enumerate(scores.items())
    ]
    now = datetime.now(timezone.utc)
    return EvalResults(started_at=now, finished_at=now, api_url="in-process", cases_glob="*", model="offline",
                       summary=summarize(cases), cases=cases)


def test_reports_list_regressions_first(tmp_path: Path) -> None:
    before = results_of({"stats-a": 1.0, "stats-b": 0.0, "schema-c": 1.0})
    after = results_of({"stats-a": 0.0, "stats-b": 1.0, "schema-c": 1.0, "schema-d": 0.5})
    comparison = compare(after, before, "before.json")
    assert [c.id for c in comparison.regressions] == ["stats-a"]
    assert [c.id for c in comparison.improvements] == ["stats-b"] and comparison.new == ["schema-d"]
    paths = write_reports(after, tmp_path, comparison)
    assert EvalResults.load(paths["json"]).summary == after.summary
    markdown = paths["markdown"].read_text()
    assert markdown.index("## Regressions") < markdown.index("## Failures")
    assert markdown.index("`stats-a`") < markdown.index("`schema-d`")
    html = paths["html"].read_text()
    assert html.count("<svg") == 2 and "describe_table" in html and "regressed" in html


# --- the gate ------------------------------------------------------------------------------------


def test_gate_thresholds_never_go_down_silently() -> None:
    current = gate.Thresholds(margin=0.05, overall=0.8, categories={"stats": 0.9, "sql": 0.5})
    summary = results_of({"stats-a": 1.0, "stats-b": 0.5, "sql-c": 1.0}).summary
    fresh, kept = gate.merge(current, gate.measured(summary, 0.05), allow_lower=False)
    assert fresh.categories == {"stats": 0.9, "sql": 0.95} and any("stats" in k for k in kept)
    lowered, _ = gate.merge(current, gate.measured(summary, 0.05), allow_lower=True)
    assert lowered.categories["stats"] == 0.7
    assert gate.check(summary, current) == ["stats: 0.750 < 0.900"]


def test_fast_subset_meets_thresholds_with_the_offline_model(sample_settings) -> None:
    thresholds = gate.load_thresholds()
    summary, failures = gate.run_gate(sample_settings, thresholds)
    assert summary.errors == 0
    assert not failures, "eval gate: " + "; ".join(failures)
