"""``lakescout serve``: uvicorn over the app, one JSON log line per request.

With one worker the app is built here from the settings as given. Several workers are separate processes
that each build their own app, so they rebuild settings the way the CLI does: from the environment and the
config file, with the CLI's --config and --data-dir carried in LAKESCOUT_CONFIG_FILE and LAKESCOUT_DATA_DIR.
Each worker then has its own rate-limit buckets, metrics and ingest jobs.

The HTTP protocol is uvicorn's h11 one with the request head bounded and its parse errors answered in the
API's JSON error shape (``api.http_protocol``), so no plain-text uvicorn answer can be reached.
"""

from __future__ import annotations

import os

import uvicorn
from fastapi import FastAPI

from api.app import create_app
from api.auth import KeyRing
from api.http_protocol import MAX_REQUEST_HEAD_BYTES
from api.middleware import configure_logging
from catalog_ingest.embeddings import Embedder
from catalog_ingest.settings import Settings, load_settings


def run_server(settings: Settings, embedder: Embedder | None = None) -> None:
    """Serve until interrupted. Raises ConfigError (printed by the CLI) when auth has no keys to check.
    ``embedder`` (one worker only) may already be loading its model."""
    KeyRing(settings.api)  # fail before binding the port, with the message that says how to create a key
    configure_logging()
    options = {
        "host": settings.api.host,
        "port": settings.api.port,
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": 10,
        "http": "api.http_protocol:JsonErrorH11Protocol",
        "h11_max_incomplete_event_size": MAX_REQUEST_HEAD_BYTES,
    }
    if settings.api.workers == 1:
        uvicorn.run(create_app(settings, embedder=embedder), **options)
        return
    if settings.config_file is not None:
        os.environ["LAKESCOUT_CONFIG_FILE"] = str(settings.config_file.resolve())
    os.environ["LAKESCOUT_DATA_DIR"] = str(settings.data_dir.resolve())
    uvicorn.run("api.server:app_from_environment", factory=True, workers=settings.api.workers, **options)


def app_from_environment() -> FastAPI:
    """The app factory each worker process calls."""
    configure_logging()
    return create_app(load_settings())
