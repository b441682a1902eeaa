"""Hostile catalog text renders as text on every surface: API answers (JSON and SSE), the CLI, the eval report.

A real sample lake whose comments and owner were rewritten with pyiceberg to carry script, HTML, link and
command payloads, then ingested; the tests ask about it the way users do.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markdown_it import MarkdownIt
from typer.testing import CliRunner

from api.app import create_app
from catalog_ingest.settings import Settings, load_settings
from evals.report import write_reports
from evals.results import CaseResult, EvalResults, summarize
from lakescout.cli import app as cli
from api_support import USER, with_api

TABLE = "finance.refunds"
PAYLOADS = {
    "comment": "Refunds <img src=x onerror=alert(1)> </script><script>alert(2)</script> [open](javascript:alert(1))",
    "owner": "[bold red]owned[/bold red] <b>team</b>",
    "column": "Amount `in` USD ![x](command:workbench.action.terminal.new) javascript:alert(1)",
}
MARKUP = ("<img", "</script>", "<script>", "<b>")


@pytest.fixture(scope="module")
def hostile_lake(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A fresh sample lake with payloads in a table comment, its owner and a column doc, ingested."""
    from catalog_ingest.ingest import ingest
    from sample.build import build_sample_lake, open_sample_catalog

    data_dir = tmp_path_factory.mktemp("hostile")
    build_sample_lake(data_dir / "lake")
    table = open_sample_catalog(data_dir / "lake").load_table(TABLE)
    column = next(f.name for f in table.schema().fields if "amount" in f.name)
    with table.transaction() as change:
        change.set_properties(comment=PAYLOADS["comment"], owner=PAYLOADS["owner"])
        with change.update_schema() as schema:
            schema.update_column(column, doc=PAYLOADS["column"])
    settings = load_settings(data_dir=data_dir)
    assert not ingest(settings).skipped
    return settings


def rendered_html(markdown: str) -> str:
    """What a Markdown renderer that passes HTML through (as many chat UIs do) makes of an answer."""
    return MarkdownIt("commonmark", {"html": True}).render(markdown)


def assert_inert(answer: str) -> None:
    """Every payload shows as text: rendered, it yields no tag, link or image of its own."""
    html = rendered_html(answer)
    for tag in MARKUP:
        assert tag not in html, (tag, answer)
    assert "<a " not in html and "javascript:" not in re.sub(r"<code>.*?</code>", "", html)
    assert "command:" not in re.sub(r"<code>.*?</code>", "", html)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # the text itself is shown, escaped


@pytest.fixture(scope="module")
def client(hostile_lake: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(with_api(hostile_lake))) as test_client:
        yield test_client


def test_api_answers_quote_catalog_text_inertly(client: TestClient) -> None:
    for question in (f"describe {TABLE}", "which table has refunds by region?"):
        body = client.post("/v1/chat", json={"message": question}, headers=USER).json()
        assert "onerror" in body["answer"], body["answer"]
        assert_inert(body["answer"])


def test_streamed_answers_quote_catalog_text_inertly(client: TestClient) -> None:
    with client.stream("POST", "/v1/chat/stream", json={"message": f"describe {TABLE}"}, headers=USER) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data:")]
    events = [json.loads(line[5:]) for line in lines]
    tokens = "".join(e["text"] for e in events if set(e) == {"text"})
    answer = next(e["answer"] for e in events if "answer" in e and "tool_calls" in e)
    assert tokens == answer
    assert_inert(answer)


def test_cli_ask_prints_catalog_text_as_text(hostile_lake: Settings) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(hostile_lake.data_dir), "ask", f"describe {TABLE}"])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "<img src=x onerror=alert(1)>" in flat  # shown literally, not interpreted or dropped
    assert "[bold red]owned[/bold red]" in flat  # rich markup in metadata is not applied


def test_eval_report_escapes_catalog_text(client: TestClient, tmp_path: Path) -> None:
    question = f"describe {TABLE}"
    body = client.post("/v1/chat", json={"message": question}, headers=USER).json()
    case = CaseResult(id="hostile", category="schema", difficulty="easy", questions=[question, question],
                      answers=[body["answer"], body["answer"]], answer=body["answer"], sql=PAYLOADS["comment"],
                      tables_cited=body["tables_cited"], tool_calls=body["tool_calls"], score=0.0, passed=False,
                      failures=[PAYLOADS["comment"]], expected={"fact": PAYLOADS["owner"]})  # fmt: skip
    now = datetime.now(timezone.utc)
    results = EvalResults(started_at=now, finished_at=now, api_url="in-process", cases_glob="*", model="offline",
                          summary=summarize([case]), cases=[case])  # fmt: skip
    html = write_reports(results, tmp_path)["html"].read_text()
    assert "onerror" in html  # the failure is in the report ...
    assert "<img" not in html and "<b>team" not in html  # ... as text
    assert html.count("</script>") == html.count("<script")  # only the page's own scripts, if any
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and html.count("<svg") == 2  # our own charts still render
