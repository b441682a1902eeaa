"""The CLI's question mode, chat REPL and search, against the ingested sample lake; its one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

from typer.testing import CliRunner

from catalog_ingest.store import RecordStore
from lakescout.cli import app
from tests.conftest import free_port

runner = CliRunner()


def invoke(settings, *args: str, **kwargs):
    return runner.invoke(app, ["--data-dir", str(settings.data_dir), *args], **kwargs)


def test_ask_json_cites_tables_with_snapshots(sample_settings):
    result = invoke(sample_settings, "ask", "how big is marts.orders and when was it last written?", "--json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    record = RecordStore(sample_settings.store_path).get("marts.orders")
    assert "marts.orders" in answer["tables_cited"]
    assert answer["as_of"]["marts.orders"]["snapshot_id"] == record.current_snapshot_id
    assert f"{record.totals.record_count:,}" in answer["answer"]


def test_ask_run_prints_result_table(sample_settings):
    result = invoke(sample_settings, "ask", "count orders by status", "--run")
    assert result.exit_code == 0, result.output
    assert "```sql" not in result.output  # rendered as Markdown, not raw
    assert "result" in result.output and "status" in result.output


def test_search_json(sample_settings):
    result = invoke(sample_settings, "search", "refund amounts per sales region", "--json", "-k", "3")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert hits[0]["full_name"] == "finance.refunds"


def test_commands_without_index_say_what_to_do(tmp_path):
    result = runner.invoke(app, ["--data-dir", str(tmp_path), "ask", "anything"])
    assert result.exit_code == 1
    assert "lakescout ingest" in result.output


def test_chat_repl_keeps_the_thread(sample_settings):
    proc = subprocess.run(
        [sys.executable, "-m", "lakescout", "--data-dir", str(sample_settings.data_dir), "chat"],
        input="describe marts.orders\nhow many rows does it have?\n",
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    record = RecordStore(sample_settings.store_path).get("marts.orders")
    assert "describe_table" in proc.stderr
    turns = proc.stdout.split("you> ")
    assert len(turns) == 4, proc.stdout  # banner, two answers, the prompt left at end of input
    assert f"{record.totals.record_count:,}" in turns[2]


def test_eval_bad_input_is_one_error_line(tmp_path):
    nowhere = f"http://127.0.0.1:{free_port()}"
    no_cases = runner.invoke(app, ["--data-dir", str(tmp_path), "eval", "--api", nowhere, "--cases", str(tmp_path / "*.yaml")])
    assert no_cases.exit_code == 1
    assert no_cases.output == f"error: no case files match {tmp_path / '*.yaml'}\n"

    no_server = runner.invoke(app, ["--data-dir", str(tmp_path), "eval", "--api", nowhere])
    assert no_server.exit_code == 1
    [line] = no_server.output.splitlines()
    assert line.startswith(f"error: no lakescout API at {nowhere}") and "lakescout serve" in line
