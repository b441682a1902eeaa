"""States a column records, said in words: null and set columns, a timestamp's event, a comment's null state and
yes/no flags become filters of the offline model's SQL, and the grounding check accounts for their words."""

from __future__ import annotations

from datetime import date

import pytest

from agent.grounding import ground
from agent.models.request import parse_request
from agent.models.sql_writer import draft_sql
from agent.models.tables import Table
from agent.state import ToolResult, TurnFacts

TODAY = date(2026, 11, 27)
COLUMNS = [("issue_id", "long", "Issue key"), ("reporter_id", "long", "Who reported it"),
           ("team_id", "long", "Team it is assigned to, if any"), ("opened_at", "timestamp", "When it was reported"),
           ("closed_at", "timestamp", "Null while pending"), ("escalated", "boolean", "Sent to the second line"),
           ("severity", "string", "minor, major or blocker"), ("effort_hours", "double", "Work logged")]  # fmt: skip


@pytest.fixture
def issues() -> Table:
    columns = [{"name": n, "type": t} for n, t, _ in COLUMNS]
    return Table("helpdesk.issues", columns, ["opened_at"], {n: c for n, _, c in COLUMNS}, values={"severity": ["minor", "major", "blocker"]})


def where(question: str, table: Table) -> str:
    sql = draft_sql(parse_request(question, TODAY), [table], table).sql
    return sql.partition("WHERE ")[2]


@pytest.mark.parametrize(
    ("question", "condition"),
    [
        ("how many issues have no team?", "t.team_id IS NULL"),
        ("count issues without a team in helpdesk.issues", "t.team_id IS NULL"),
        ("how many issues with a team are there?", "NOT t.team_id IS NULL"),
        ("how many issues were closed?", "NOT t.closed_at IS NULL"),
        ("how many issues are unclosed?", "t.closed_at IS NULL"),
        ("how many issues were never closed?", "t.closed_at IS NULL"),
        ("how many issues are still pending?", "t.closed_at IS NULL"),
        ("how many issues were escalated?", "t.escalated"),
        ("how many issues were not escalated?", "NOT t.escalated"),
        ("count issues where team_id is null", "t.team_id IS NULL"),
        ("count issues where team_id is not null", "NOT t.team_id IS NULL"),
        ("how many issues are missing a team_id?", "t.team_id IS NULL"),
    ],
)
def test_a_state_said_in_words_is_a_filter_on_the_column_that_records_it(issues, question, condition):
    assert where(question, issues) == condition


def test_a_period_on_an_event_dates_it_by_that_events_column(issues):
    condition = where("how many issues were closed in October?", issues)
    assert condition == "t.closed_at >= DATE '2026-10-01' AND t.closed_at < DATE '2026-11-01'"
    assert "opened_at" in where("how many issues in October?", issues)


def test_a_year_is_a_period():
    request = parse_request("how many issues were closed in 2025?", TODAY)
    assert (request.period.start, request.period.end) == (date(2025, 1, 1), date(2025, 12, 31))
    assert parse_request("how many issues since 2024?", TODAY).period.end == TODAY
    assert parse_request("top 2025 issues", TODAY).period is None


def test_a_negating_prefix_negates_a_flag():
    flags = Table("shop.items", [{"name": "is_listed", "type": "boolean"}], [], {})
    assert where("how many items are unlisted?", flags) == "NOT t.is_listed"
    assert where("how many items are listed?", flags) == "t.is_listed"


def test_a_measure_is_taken_for_null_or_zero_as_its_profile_shows(issues):
    assert where("how many issues have no effort_hours?", issues) == ""  # zero, or null? not said
    assert where("count issues where effort_hours is null", issues) == "t.effort_hours IS NULL"
    effort = next(c for c in issues.columns if c["name"] == "effort_hours")
    effort["profile"] = {"nulls": 12}
    assert where("how many issues have no effort_hours?", issues) == "t.effort_hours IS NULL"
    effort["profile"] = {"nulls": 0}  # a measure without nulls: "no effort" is none of it, "with effort" some
    assert where("how many issues have no effort_hours?", issues) == "t.effort_hours = 0"
    assert where("how many issues with effort_hours are there?", issues) == "t.effort_hours <> 0"


def test_a_state_word_is_not_also_the_measure(issues):
    sql = draft_sql(parse_request("how many issues have no team?", TODAY), [issues], issues).sql
    assert sql.startswith("SELECT COUNT(*)") and "DISTINCT" not in sql


def test_words_that_name_no_state_add_no_filter(issues):
    assert where("how many major issues are there?", issues) == "t.severity = 'major'"
    assert where("how many issues are there?", issues) == ""


def test_grounding_accounts_for_the_words_of_a_null_test_and_its_columns_comment(issues):
    described = ToolResult("describe_table", {"table": issues.name}, True,
                           {"table": issues.name, "columns": issues.columns,
                            "metadata_untrusted": {"column_comments": issues.comments}})  # fmt: skip
    facts = TurnFacts(results=[described], sql="SELECT count(*) FROM helpdesk.issues AS t WHERE t.closed_at IS NULL")
    assert ground("how many issues are still pending?", facts, {issues.name}).unaccounted == []
    assert ground("how many issues have no closed_at?", facts, {issues.name}).unaccounted == []
    counted = TurnFacts(results=[described], sql="SELECT count(*) FROM helpdesk.issues AS t")
    assert ground("how many issues are still pending?", counted, {issues.name}).unaccounted == ["pending"]
