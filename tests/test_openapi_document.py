"""The VS Code extension's committed OpenAPI document is the one the app serves (its types are generated from it)."""

from __future__ import annotations

import json
from pathlib import Path

from api.openapi_document import openapi_document

COMMITTED = Path(__file__).parent.parent / "vscode" / "openapi.json"


def test_the_extension_s_openapi_document_matches_the_app():
    committed = json.loads(COMMITTED.read_text(encoding="utf-8"))
    served = openapi_document()
    assert committed == served, (
        "vscode/openapi.json is stale: run `python -m api.openapi_document > vscode/openapi.json` "
        "and `cd vscode && npm run api-types`"
    )
    assert "/v1/chat" in served["paths"] and "/v1/lake/charts" in served["paths"]
