"""How the CLI fails: one line on stderr (or one JSON object on stdout under ``--json``), a non-zero exit,
no traceback.

The exception types of the lower layers are imported only once something was raised, so a command that
succeeds never pays for importing the modules that define them (the ingest module pulls in Chroma).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from catalog_ingest.settings import ConfigError

errors = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


class UserError(Exception):
    """A failure the user can fix; printed without a traceback."""

    def __init__(self, message: str, code: str = "user_error") -> None:
        super().__init__(message)
        self.code = code


def fail(message: str, code: int = 1, *, as_json: bool = False, error_code: str = "error") -> NoReturn:
    """Print ``error: message`` to stderr as plain text (or ``{"error": {code, message}}`` to stdout under
    ``--json``) and exit with ``code``."""
    if as_json:
        print(json.dumps({"error": {"code": error_code, "message": message}}))
    else:
        errors.print(f"error: {message}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code) from None


def classify(exc: Exception) -> tuple[str, int] | None:
    """``(error code, exit code)`` for a failure the user can act on; None for a bug (a traceback is right)."""
    from catalog_ingest.crawlers.base import CatalogUnreachable
    from catalog_ingest.ingest import IngestBusy
    from catalog_ingest.store import AmbiguousTable

    if isinstance(exc, ConfigError):
        return "config", 2
    if isinstance(exc, UserError):
        return exc.code, 1
    kinds = {CatalogUnreachable: "catalog_unreachable", IngestBusy: "ingest_busy", AmbiguousTable: "ambiguous_table"}
    for kind, code in kinds.items():
        if isinstance(exc, kind):
            return code, 1
    return None


def reports_errors(func: F) -> F:
    """Turn known failures into one message and exit code 1 (2 for configuration); JSON when the command
    was asked for ``--json``."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except Exception as exc:
            known = classify(exc)
            if known is None:
                raise
            error_code, exit_code = known
            fail(str(exc), exit_code, as_json=bool(kwargs.get("as_json")), error_code=error_code)

    return wrapper  # type: ignore[return-value]
