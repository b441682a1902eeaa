"""Bearer API keys: configured as ``name = "scope:sha256-hex"``, so the config file never holds a key.

A presented key is hashed and compared with every configured hash in constant time (``hmac.compare_digest``,
no early exit), so neither timing nor the order of keys tells an attacker anything. ``admin`` includes
``user``. Turning auth off is only possible through ``api.auth_enabled = false``, meant for local use.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import ApiError
from catalog_ingest.settings import ApiSettings, ConfigError

Scope = Literal["user", "admin"]
SCOPES: tuple[Scope, ...] = ("user", "admin")
_HASH = re.compile(r"^(user|admin):([0-9a-f]{64})$")


def hash_api_key(key: str) -> str:
    """What goes into the config for a key: ``lakescout api-key`` prints ``scope:`` + this."""
    return hashlib.sha256(key.encode()).hexdigest()


def generate_api_key() -> str:
    return "lsk_" + secrets.token_urlsafe(32)


def missing_keys_message() -> str:
    """Ready to paste: a fresh key and its config line. No square brackets: the CLI prints through rich."""
    key = generate_api_key()
    return (
        "api.auth_enabled is true but no api.api_keys are configured, so nobody could call the API.\n"
        f"Here is a new key for the client: {key}\n"
        "Put its hash in lakescout.toml, in the api.api_keys table (scope user or admin):\n"
        f'  me = "admin:{hash_api_key(key)}"\n'
        "or set LAKESCOUT_API__API_KEYS='{\"me\": \"admin:<sha256 hex of the key>\"}'. "
        "For local use only, LAKESCOUT_API__AUTH_ENABLED=false turns auth off."
    )


@dataclass(frozen=True)
class Principal:
    name: str
    scope: Scope
    keyed: bool = True
    """Authenticated by a key; False only for ``LOCAL``."""

    def allows(self, scope: Scope) -> bool:
        return SCOPES.index(self.scope) >= SCOPES.index(scope)

    @property
    def thread_owner(self) -> str | None:
        """Whose thread space this caller's threads live in: its key's name; None (one space) with auth off."""
        return self.name if self.keyed else None


LOCAL = Principal("local", "admin", keyed=False)
"""Who every caller is when auth is off."""


class KeyRing:
    """The configured keys, checked once at startup: a bad entry or an empty ring fails loudly then."""

    def __init__(self, api: ApiSettings) -> None:
        self.enabled = api.auth_enabled
        self._keys: list[tuple[str, Scope, bytes]] = []
        for name, value in api.api_keys.items():
            match = _HASH.match(value.strip().lower())
            if not match:
                raise ConfigError(
                    f"api.api_keys.{name}: expected 'user:<sha256 hex>' or 'admin:<sha256 hex>' of the key"
                )
            self._keys.append((name, match.group(1), bytes.fromhex(match.group(2))))  # type: ignore[arg-type]
        if self.enabled and not self._keys:
            raise ConfigError(missing_keys_message())

    def authenticate(self, key: str) -> Principal | None:
        digest = hashlib.sha256(key.encode()).digest()
        found: Principal | None = None
        for name, scope, expected in self._keys:
            if hmac.compare_digest(digest, expected):
                found = Principal(name, scope)
        return found


CHALLENGE = {"WWW-Authenticate": "Bearer"}
_bearer = HTTPBearer(auto_error=False, description="An API key from `lakescout api-key`.")


def requires(scope: Scope) -> Callable[..., Awaitable[Principal]]:
    """A dependency: authenticate, check the scope, then spend one token of the caller's rate limit."""

    async def dependency(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
    ) -> Principal:
        keys: KeyRing = request.app.state.keys
        if not keys.enabled:
            principal = LOCAL
            bucket = f"ip:{request.client.host if request.client else '-'}"
        else:
            if credentials is None:
                raise ApiError(401, "unauthorized", "missing API key: send 'Authorization: Bearer <key>'", CHALLENGE)
            found = keys.authenticate(credentials.credentials)
            if found is None:
                raise ApiError(401, "unauthorized", "invalid API key", CHALLENGE)
            principal, bucket = found, f"key:{found.name}"
        request.scope["lakescout.principal"] = principal.name
        if not principal.allows(scope):
            raise ApiError(403, "forbidden", f"this endpoint needs an {scope} key")
        wait = request.app.state.limiter.acquire(bucket)
        if wait:
            retry_after = {"Retry-After": str(math.ceil(wait))}
            raise ApiError(429, "rate_limited", "rate limit reached; retry later", retry_after)
        return principal

    return dependency
