"""A service the agent needs is down or slow: one line naming its URL and the setting that points at it.

The model endpoint (``model.base_url``), a Chroma server (``index.chroma_host``) and Postgres threads
(``threads_url``) fail with their own libraries' exceptions, often wrapped a few layers deep. ``outage``
finds the cause and says it the way a user can act on: the CLI prints it as its one error line, the API
answers 503 (504 for a model timeout) with ``Retry-After`` when the model endpoint sent one.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx

from catalog_ingest.settings import Settings
from catalog_ingest.store_backends import without_password

DEFAULT_RETRY_AFTER = 10
"""Seconds a client is asked to wait when the model endpoint was unavailable and said nothing about when."""


class ServiceUnavailable(Exception):
    """A dependency did not answer (or answered an error) after its retries; ``str`` is the user's line."""

    def __init__(self, message: str, *, retry_after: int | None = None, timeout: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.timeout = timeout

    def event_data(self) -> dict[str, object]:
        """The error event the API turns into its 503 (or 504): code, message, seconds to wait."""
        code = "timeout" if self.timeout else "model_unavailable"
        return {"code": code, "message": str(self), "retry_after": self.retry_after}


def outage(exc: BaseException, settings: Settings) -> ServiceUnavailable | None:
    """The outage ``exc`` (or an exception it was raised from) stands for; None when it is something else."""
    for cause in causes(exc):
        found = model_outage(cause, settings) or chroma_outage(cause, settings) or postgres_outage(cause, settings)
        if found is not None:
            return found
    return None


def causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def model_outage(exc: BaseException, settings: Settings) -> ServiceUnavailable | None:
    import openai

    model = settings.model
    where = f"model '{model.name}' at {model.base_url}" if model.base_url else f"model '{model.name}'"
    if isinstance(exc, ServiceUnavailable):
        return exc
    if isinstance(exc, openai.APITimeoutError):
        return ServiceUnavailable(
            f"the {where} did not answer within {model.timeout_seconds:g}s "
            "(model.timeout_seconds, LAKESCOUT_MODEL__TIMEOUT_SECONDS)",
            timeout=True,
        )
    tries = f"after {model.max_retries + 1} tries (model.max_retries, LAKESCOUT_MODEL__MAX_RETRIES)"
    if isinstance(exc, openai.APIConnectionError):
        return ServiceUnavailable(
            f"cannot reach the {where} {tries}; check model.base_url (LAKESCOUT_MODEL__BASE_URL) and that the "
            "server is running",
            retry_after=DEFAULT_RETRY_AFTER,
        )
    if isinstance(exc, openai.APIStatusError) and (exc.status_code == 429 or exc.status_code >= 500):
        busy = "is rate limiting (429)" if exc.status_code == 429 else f"answered {exc.status_code}"
        return ServiceUnavailable(
            f"the {where} {busy} {tries}", retry_after=retry_after(exc.response.headers) or DEFAULT_RETRY_AFTER
        )
    return None


def retry_after(headers: httpx.Headers) -> int | None:
    """Whole seconds from ``Retry-After`` (or ``retry-after-ms``), rounded up; None when absent or a date."""
    try:
        if "retry-after-ms" in headers:
            return max(1, math.ceil(float(headers["retry-after-ms"]) / 1000))
        if "retry-after" in headers:
            return max(1, math.ceil(float(headers["retry-after"])))
    except ValueError:
        return None
    return None


def chroma_outage(exc: BaseException, settings: Settings) -> ServiceUnavailable | None:
    host = settings.index.chroma_host
    if not host:
        return None
    refused = isinstance(exc, ValueError) and "Chroma server" in str(exc)
    if not (refused or isinstance(exc, httpx.TransportError)):
        return None
    return ServiceUnavailable(
        f"cannot reach the Chroma server at http://{host}:{settings.index.chroma_port} "
        f"(index.chroma_host / index.chroma_port, LAKESCOUT_INDEX__CHROMA_HOST): {type(exc).__name__}"
    )


def postgres_outage(exc: BaseException, settings: Settings) -> ServiceUnavailable | None:
    """The record store's Postgres (``store_url``) or the threads' (``threads_url``); when both are set, the
    one whose port the driver's message names."""
    configured = [(name, url) for name, url in (("store_url", settings.store_url), ("threads_url", settings.threads_url)) if url]
    if not configured or type(exc).__module__.split(".")[0] not in ("psycopg", "psycopg_pool"):
        return None
    if type(exc).__name__ not in ("OperationalError", "PoolTimeout", "ConnectionTimeout"):
        return None
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    named = [(n, u) for n, u in configured if f"port {urlsplit(u).port or 5432} " in first_line]
    name, url = (named or configured)[0]
    return ServiceUnavailable(
        f"cannot reach Postgres at {without_password(url)} ({name}, LAKESCOUT_{name.upper()}): {first_line}"
    )
