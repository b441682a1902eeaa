"""The API's OpenAPI document as JSON, built from the app itself: `python -m api.openapi_document`.

The VS Code extension's types are generated from the committed copy (`vscode/openapi.json`); a test keeps
that copy equal to what the app serves.
"""

from __future__ import annotations

import json
import sys
import tempfile
from typing import Any


def openapi_document() -> dict[str, Any]:
    """The document ``/openapi.json`` serves; independent of keys and data (auth off, an empty data dir)."""
    from api.app import create_app
    from catalog_ingest.settings import load_settings

    with tempfile.TemporaryDirectory() as data_dir:
        settings = load_settings(data_dir=data_dir).with_section("api", auth_enabled=False)
        return create_app(settings).openapi()


def main() -> None:
    json.dump(openapi_document(), sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
