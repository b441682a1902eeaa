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

from catalog_ingest.settings import ConfigError, Settings

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


def outage_of(exc: Exception, ctx: typer.Context | None) -> Exception | None:
    """The model endpoint, a Chroma server or Postgres down or slow (``agent.outages``): its URL and setting."""
    from agent.outages import outage

    settings = ctx.find_root().obj if ctx is not None else None  # loaded there by ``settings_of``
    return outage(exc, settings) if isinstance(settings, Settings) else None


def reports_errors(func: F) -> F:
    """Turn known failures into one message and exit code 1 (2 for configuration); JSON when the command
    was asked for ``--json``. An outage of a service the agent needs is one line too."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except typer.Exit:
            raise
        except Exception as exc:
            as_json = bool(kwargs.get("as_json"))
            if (down := outage_of(exc, kwargs.get("ctx"))) is not None:
                fail(str(down), 1, as_json=as_json, error_code="service_unavailable")
            known = classify(exc)
            if known is None:
                raise
            error_code, exit_code = known
            fail(str(exc), exit_code, as_json=as_json, error_code=error_code)

    return wrapper  # type: ignore[return-value]
