"""The CLI's question mode, chat REPL and search, against the ingested sample lake; its one-line errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
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


def test_ask_run_prints_result_table_once(sample_settings):
    result = invoke(sample_settings, "ask", "count orders by status", "--run")
    assert result.exit_code == 0, result.output
    assert "```sql" not in result.output  # rendered as Markdown, not raw
    assert "status" in result.output
    assert result.output.count("completed") == 1, result.output


def test_search_json(sample_settings):
    result = invoke(sample_settings, "search", "refund amounts per sales region", "--json", "-k", "3")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.output)
    assert hits[0]["full_name"] == "finance.refunds"


@pytest.mark.parametrize("command", [["ask", "anything"], ["search", "orders"], ["chat"], ["catalog", "list"]])
def test_commands_without_index_say_what_to_do(tmp_path, command):
    result = runner.invoke(app, ["--data-dir", str(tmp_path / "fresh"), *command])
    assert result.exit_code == 1
    [line] = result.output.splitlines()
    assert line.startswith("error: no index in") and "lakescout demo-lake" in line and "lakescout ingest" in line
    assert not (tmp_path / "fresh").exists()


def test_ingest_of_a_missing_catalog_leaves_nothing_behind(tmp_path):
    fresh = tmp_path / "fresh"
    sample = runner.invoke(app, ["--data-dir", str(fresh), "ingest"])
    assert sample.exit_code == 1
    [line] = sample.output.splitlines()
    assert "catalog 'demo'" in line and "lakescout demo-lake" in line and "untouched" not in line
    assert not fresh.exists()

    fresh.mkdir()
    catalogs = json.dumps([{"name": "prod", "properties": {"type": "sql", "uri": f"sqlite:///{tmp_path}/none.db"}}])
    configured = runner.invoke(app, ["--data-dir", str(fresh), "ingest"], env={"LAKESCOUT_CATALOGS": catalogs})
    assert configured.exit_code == 1
    [line] = configured.output.splitlines()
    assert line.startswith("error: catalog 'prod'") and "does not exist" in line and "lakescout doctor" in line
    assert list(fresh.iterdir()) == []


def test_ask_json_errors_are_json(tmp_path):
    result = runner.invoke(app, ["--data-dir", str(tmp_path), "ask", "anything", "--json"])
    assert result.exit_code == 1
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "no_index" and "lakescout ingest" in error["message"]

    config = tmp_path / "bad.toml"
    config.write_text("[sql]\nrow_limt = 5\n")
    bad = runner.invoke(app, ["--config", str(config), "ask", "anything", "--json"])
    assert bad.exit_code == 2
    assert json.loads(bad.stdout) == {
        "error": {"code": "config", "message": "invalid configuration: unknown setting sql.row_limt (did you mean sql.row_limit?)"}
    }


def test_config_errors_are_one_line_exit_2_without_traceback(tmp_path):
    config = tmp_path / "lakescout.toml"
    config.write_text("[model]\nname = = 1\n")
    proc = subprocess.run([sys.executable, "-m", "lakescout", "--config", str(config), "search", "x"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [proc.stderr.strip()]
    assert proc.stderr.startswith(f"error: {config}: not valid TOML") and "line 2, column" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_shows_flags_as_flags():
    result = runner.invoke(app, ["ask", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert "<bool>" not in result.output
    [run_line] = [line for line in result.output.splitlines() if line.strip().startswith("--run")]
    assert run_line.split()[:2] == ["--run", "Execute"]


def test_catalog_show_is_readable_and_json_on_request(sample_settings):
    shown = invoke(sample_settings, "catalog", "show", "marts.orders", env={"COLUMNS": "160"})
    assert shown.exit_code == 0, shown.output
    for expected in ("partitioned by month of order_ts", "total_amount_usd", "decimal(12, 2)", "recent snapshots",
                     "largest partitions", "last written", "20,000"):
        assert expected in shown.output
    as_json = invoke(sample_settings, "catalog", "show", "marts.orders", "--json")
    assert json.loads(as_json.output)["name"] == "orders"


def test_catalog_text_prints_literally(sample_settings, tmp_path):
    store = RecordStore(sample_settings.store_path)
    record = store.get("finance.refunds")
    hostile = "[bold]x[/bold] <img src=x onerror=alert(1)> </script>"
    record.comment = hostile
    record.columns[0].comment = hostile
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    copy = RecordStore(data_dir / "records.sqlite")
    copy.put(record)
    copy.close()
    shown = runner.invoke(app, ["--data-dir", str(data_dir), "catalog", "show", "finance.refunds"],
                          env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    assert shown.output.count(hostile) == 2, shown.output


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


def test_doctor_passes_on_the_sample_setup(sample_settings):
    result = invoke(sample_settings, "doctor")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == ["ok", "ok", "ok", "ok", "ok", "skip"]
    assert "catalog demo: iceberg, 29 tables listed" in lines[1]
    assert "29 tables, each with vectors and lexical entries; dense search exact: " in lines[3]


def test_doctor_names_what_is_broken(sample_settings, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(sample_settings.data_dir, broken)
    (broken / "lake" / "catalog.db").unlink()
    shutil.rmtree(broken / "chroma")
    result = runner.invoke(app, ["--data-dir", str(broken), "doctor"])
    assert result.exit_code == 1
    failures = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert failures == [
        f"FAIL catalog demo: CatalogUnreachable: catalog 'demo': SQLite catalog file {broken.resolve()}/lake/catalog.db does not exist",
        f"FAIL index: no Chroma index at {broken}/chroma: run `lakescout ingest --full`",
    ]
    assert not (broken / "chroma").exists()


README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_and_make_demo_say_how_to_reach_the_command():
    demo = Path(__file__).resolve().parent.parent.joinpath("Makefile").read_text().split("\ndemo:", 1)[1]
    last_line = [line for line in demo.split("\n\n", 1)[0].splitlines() if line.startswith("\t")][-1]
    assert ". $(BIN)/activate" in last_line and "$(BIN)/lakescout" in last_line
    using_it = README.read_text().split("## Using it", 1)[1].split("```", 1)[0]
    assert ". .venv/bin/activate" in using_it and ".venv/bin/lakescout" in using_it


def test_readme_snippet_opens_the_sample_catalog(sample_settings, capsys):
    snippet = README.read_text().split("<!-- sample-lake-snippet -->\n```python\n", 1)[1].split("```", 1)[0]
    exec(compile(snippet.replace(".lakescout", str(sample_settings.data_dir)), "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "('marts', 'orders')" in printed and "'completed'" in printed
