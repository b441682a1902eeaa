"""The hostile corpus (tests/hostile_sql.py) through every path: the engine, the agent's run_sql tool, /v1/sql/run.

Every statement must end as its class says, the same way on each path, and no answer (rows or error
message) may hold a clear PII value of the sample lake.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hostile_sql import CLASSES, CORPUS, Hostile
from langchain.tools import ToolRuntime

from agent.context import AgentContext
from agent.sql.engines import engine_for
from agent.sql.engines.base import SqlExecutionError, SqlTimeout
from agent.sql.engines.duckdb_engine import DuckDBEngine
from agent.sql.guard import SqlTooComplex, UnsafeSQL
from agent.tools import ToolError, run_sql
from api.app import create_app
from api_support import USER, with_api
from catalog_ingest.settings import Settings
from catalog_ingest.store import RecordStore

HOSTILE_SQL = {"timeout_seconds": 3.0, "memory_limit": "512MB", "max_result_bytes": 256 * 1024}
"""Short deadline and small memory, so the bombs end quickly; the bounds are the defaults."""

SLOWEST_SECONDS = 20.0
"""No statement may take longer than this on any path (the deadline plus a loaded machine's slack)."""


@pytest.fixture(scope="module")
def settings(sample_settings: Settings) -> Settings:
    return sample_settings.model_copy(update={"sql": sample_settings.sql.model_copy(update=HOSTILE_SQL)})


@pytest.fixture(scope="module")
def records(settings):
    return list(RecordStore(settings.store_path).records())


@pytest.fixture(scope="module")
def engine(records, settings) -> Iterator[DuckDBEngine]:
    engine = DuckDBEngine(records, settings.sql)
    yield engine
    engine.close()


class ClearValues:
    """Finds any of many clear values inside a text in one pass: a window of the first few characters is
    looked up in a dict, and only then are the values starting there compared."""

    WINDOW = 6

    def __init__(self, values: set[str]) -> None:
        self.count = len(values)
        self.by_prefix: dict[str, list[str]] = {}
        for value in values:
            self.by_prefix.setdefault(value[: self.WINDOW], []).append(value)

    def search(self, text: str) -> str | None:
        for start in range(len(text) - self.WINDOW + 1):
            for value in self.by_prefix.get(text[start : start + self.WINDOW], ()):
                if text.startswith(value, start):
                    return value
        return None


@pytest.fixture(scope="module")
def clear_values(records, settings) -> ClearValues:
    """Every clear PII value of the sample lake (6 characters or more), read through an allow_pii engine."""
    engine = DuckDBEngine(records, settings.sql.model_copy(update={"allow_pii": True}))
    values: set[str] = set()
    try:
        for record in records:
            for path in record.pii_columns:
                result = engine.run(f"SELECT DISTINCT CAST({path} AS VARCHAR) FROM {record.full_name}", 100_000)
                values.update(v for (v,) in result.rows if v and len(v) >= ClearValues.WINDOW)
    finally:
        engine.close()
    found = ClearValues(values)
    assert found.count > 100  # the check below is only as good as this list
    assert found.search(f"a 'x' {sorted(values)[0]} b") == sorted(values)[0]
    return found


@pytest.fixture(scope="module")
def agent_context(settings) -> AgentContext:
    return AgentContext(settings, RecordStore(settings.store_path), retriever=None, engine_factory=engine_for)


@pytest.fixture(scope="module")
def client(settings) -> Iterator[TestClient]:
    with TestClient(create_app(with_api(settings))) as test_client:
        yield test_client


def fill(sql: str, settings: Settings) -> str:
    return sql.replace("{lake}", str(settings.lake_dir.resolve()))


def through_engine(engine: DuckDBEngine, sql: str) -> tuple[str, str]:
    """(outcome, everything the caller would see) for one statement run by the engine itself."""
    try:
        result = engine.run(sql, 1000)
    except SqlTooComplex as exc:
        return "too_complex", str(exc)
    except UnsafeSQL as exc:
        return "refused", str(exc)
    except SqlTimeout as exc:
        return "timeout", str(exc)
    except SqlExecutionError as exc:
        return "error", str(exc)
    text = json.dumps({"columns": result.columns, "rows": result.rows, "masked": result.masked_columns}, default=str)
    return ("truncated" if result.truncated else "rows"), text


def through_tool(context: AgentContext, sql: str) -> tuple[str, str]:
    runtime = ToolRuntime(state={}, context=context, config={}, stream_writer=None, tool_call_id="1", store=None)
    try:
        message = run_sql.invoke({"type": "tool_call", "id": "1", "name": "run_sql", "args": {"sql": sql, "runtime": runtime}})
    except ToolError as exc:
        return ("timeout" if exc.payload["error"].startswith("the query timed out") else "failed"), str(exc)
    text = message.content + json.dumps(message.artifact, default=str)
    return ("truncated" if message.artifact.get("truncated") else "rows"), text


def through_api(client: TestClient, sql: str) -> tuple[str, str]:
    response = client.post("/v1/sql/run", json={"sql": sql, "limit": 1000}, headers=USER)
    assert response.status_code in (200, 422, 504), response.text[:500]
    if response.status_code != 200:
        error = response.json()["error"]
        # invalid_request: the API's own bound on the request body (SqlRequest.sql) refused it before the gate
        code = {"unsafe_sql": "refused", "sql_error": "error", "timeout": "timeout", "invalid_request": "too_complex"}[error["code"]]
        if code == "refused" and "sql.max_" in error["message"]:
            code = "too_complex"
        return code, response.text
    return ("truncated" if response.json()["truncated"] else "rows"), response.text


EXPECTED = {
    "refused": {"refused"},
    "too_complex": {"too_complex"},
    "masked": {"rows", "truncated"},
    "no_leak": {"rows", "truncated", "error"},
    "bounded": {"timeout", "error", "truncated"},
}


def test_the_corpus_is_big_enough():
    assert len(CORPUS) >= 150 and len(CLASSES) >= 50
    assert {"masked", "no_leak", "refused", "too_complex", "bounded"} == {outcome for outcome, _ in CLASSES.values()}


def assert_outcome(case: Hostile, outcome: str, text: str, clear: ClearValues, path: str) -> None:
    assert outcome in EXPECTED[case.outcome], f"{path}: {outcome}: {text[:400]}"
    leak = clear.search(text)
    assert leak is None, f"{path} leaked {leak!r}"
    assert "RecursionError" not in text
    if case.outcome == "masked":
        assert "***" in text, f"{path}: no masked value in {text[:300]}"


@pytest.mark.parametrize("case", CORPUS, ids=[c.id for c in CORPUS])
def test_hostile_statement_on_every_path(case, engine, agent_context, client, clear_values, settings):
    sql = fill(case.sql, settings)
    for path, run in (
        ("engine", lambda: through_engine(engine, sql)),
        ("tool", lambda: through_tool(agent_context, sql)),
        ("api", lambda: through_api(client, sql)),
    ):
        started = time.monotonic()
        outcome, text = run()
        assert time.monotonic() - started < SLOWEST_SECONDS, f"{path} took too long"
        if path == "tool" and outcome == "failed":  # the tool reports every failure as a ToolError
            outcome = through_engine(engine, sql)[0]
            assert outcome not in ("rows", "truncated")
        assert_outcome(case, outcome, text, clear_values, path)


def test_refusals_say_what_to_do(engine):
    with pytest.raises(SqlTooComplex, match=r"sql\.max_set_operations = 100.*Split it"):
        engine.run(" UNION ALL ".join(["SELECT 1"] * 102), 10)
    with pytest.raises(UnsafeSQL, match="system catalog; use the search_tables"):
        engine.run("SELECT * FROM information_schema.tables", 10)
    with pytest.raises(UnsafeSQL, match=r"function getenv\(\)"):
        engine.run("SELECT getenv('HOME')", 10)


def test_byte_cap_says_it_truncated(engine):
    result = engine.run("SELECT repeat('ab', 1000) AS s FROM range(100000)", 1000)
    assert result.truncated and result.truncated_by == "max_result_bytes"
    assert 0 < len(result.rows) < 1000
    rows = engine.run("SELECT 1 AS one FROM range(5000)", 10)
    assert rows.truncated and rows.truncated_by == "row_limit" and len(rows.rows) == 10


def test_api_reports_which_cap_truncated(client):
    body = client.post("/v1/sql/run", json={"sql": "SELECT repeat('ab', 1000) AS s FROM range(100000)"}, headers=USER).json()
    assert body["truncated"] is True and body["truncated_by"] == "max_result_bytes"


def test_cancelling_the_deadline_interrupts_a_running_query(engine):
    import threading

    from agent.sql.deadline import Deadline

    deadline = Deadline(60)
    threading.Timer(0.5, deadline.cancel).start()
    started = time.monotonic()
    with pytest.raises(SqlTimeout, match="cancelled"):
        engine.run("SELECT count(*) FROM range(1000000000000)", 10, deadline)
    assert time.monotonic() - started < 10
