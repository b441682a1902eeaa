"""Shared fixtures: real services started per session and stopped by PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from api.loopback import free_port, wait_http


@pytest.fixture(scope="session")
def moto_endpoint():
    """A moto server (Glue, S3, Athena) on a free loopback port; its state lives as long as the session."""
    port = free_port()
    moto = Path(sys.executable).with_name("moto_server")
    proc = subprocess.Popen(
        [str(moto), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/moto-api/", proc.pid)
        yield url
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


AWS_TEST_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}
"""Dummy credentials and a region, so boto3 and pyiceberg never look further than the moto server."""


@pytest.fixture(scope="module")
def aws_env(moto_endpoint):
    """The moto endpoint, with ``AWS_TEST_ENVIRONMENT`` set for the requesting module only (its module-scoped
    Glue fixtures need it too) and the previous environment restored when the module ends."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in AWS_TEST_ENVIRONMENT.items():
            patch.setenv(name, value)
        yield moto_endpoint


@pytest.fixture(scope="session")
def sample_lake_dir(tmp_path_factory) -> Path:
    """The default sample lake, built once per test session (real Iceberg tables, a few MB)."""
    from sample.build import build_sample_lake

    data_dir = tmp_path_factory.mktemp("sample")
    build_sample_lake(data_dir / "lake")
    return data_dir


@pytest.fixture(scope="session")
def sample_settings(sample_lake_dir):
    """Settings for the sample lake after one ingest: the record store and index exist.

    Shared read-only between tests; a test that changes the lake or index copies the data directory first.
    """
    from catalog_ingest.ingest import ingest
    from catalog_ingest.settings import load_settings

    settings = load_settings(data_dir=sample_lake_dir)
    report = ingest(settings)
    assert not report.skipped, report.skipped
    return settings
