"""Readiness: a served /readyz 200 means a question can be answered; the catalog half of the check asks each
catalog one small question whose cost does not grow with its tables."""

from __future__ import annotations

import json
import logging
from contextlib import AbstractContextManager
from pathlib import Path

import anyio
import httpx
import pytest

from api_support import running_server
from api.readiness import CatalogProbe
from catalog_ingest.settings import Settings
from lake_changes import change_lake, copy_lake

QUESTION = "which table has refunds by region?"


def served(settings: Settings, log: Path, **env: str) -> AbstractContextManager[str]:
    """``lakescout serve`` (auth off) as a user starts it; yields its URL once its port answers at all."""
    arguments = ["--data-dir", str(settings.data_dir), "serve"]
    return running_server(arguments, log, env={"LAKESCOUT_API__AUTH_ENABLED": "false", **env})


def test_the_first_ready_answer_means_a_question_can_be_answered(sample_settings, tmp_path):
    with served(sample_settings, tmp_path / "server.log") as url:
        ready = httpx.get(url + "/readyz", timeout=30)  # the first request the port answers after /healthz
        assert ready.status_code == 200, ready.text
        checks = ready.json()["checks"]
        assert checks.pop("search").startswith("exact: ")  # dense search in memory, not Chroma's approximate index
        assert checks == {"index": "ok", "catalog": "ok"}
        chat = httpx.post(url + "/v1/chat", json={"message": QUESTION}, timeout=60)
        assert chat.status_code == 200, chat.text
        assert any(table.endswith("finance.refunds") for table in chat.json()["tables_cited"])


def test_an_unreachable_catalog_makes_the_server_not_ready(sample_settings, tmp_path):
    gone = tmp_path / "no such folder" / "catalog.db"
    catalogs = [{"name": "demo", "type": "iceberg", "properties": {"type": "sql", "uri": f"sqlite:///{gone}"}}]
    with served(sample_settings, tmp_path / "server.log", LAKESCOUT_CATALOGS=json.dumps(catalogs)) as url:
        ready = httpx.get(url + "/readyz", timeout=30)
        assert ready.status_code == 503
        assert ready.json()["checks"]["index"] == "ok"
        assert ready.json()["checks"]["catalog"].startswith("unreachable")
        assert str(gone) not in ready.text  # readyz is public: the log has the details
        assert httpx.get(url + "/healthz").status_code == 200


def catalog_statements(settings: Settings, caplog: pytest.LogCaptureFixture) -> list[str]:
    """The SQL one catalog probe sends to the lake's SQL catalog (SQLAlchemy's echo log)."""
    config = settings.effective_catalogs()[0]
    echoing = config.model_copy(update={"properties": {**config.properties, "echo": "true"}})
    probe = CatalogProbe(settings.model_copy(update={"catalogs": [echoing]}))
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="sqlalchemy.engine.Engine"):
        assert anyio.run(probe.check) == "ok"
    return [record.getMessage() for record in caplog.records if record.name == "sqlalchemy.engine.Engine"
            and record.getMessage().lstrip().upper().startswith("SELECT")]  # fmt: skip


def test_the_catalog_probe_costs_the_same_whatever_the_number_of_tables(sample_settings, tmp_path, caplog):
    lake = copy_lake(sample_settings, tmp_path / "data")
    before = catalog_statements(lake, caplog)
    assert before and not any("table_name =" in statement for statement in before)  # no table is loaded
    change_lake(lake, new_tables=5)
    assert catalog_statements(lake, caplog) == before
