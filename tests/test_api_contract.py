"""The API's contract at its edges: the OpenAPI document lists every status a route can answer, booleans are
strict, and OPTIONS and 405 name every method a path has."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from api.app import ROUTERS, create_app
from api.auth import requires
from api.lake import current_lake
from catalog_ingest.settings import Settings
from api_support import ADMIN, USER, with_api

RAISERS = {
    r"\bunknown_thread\(": {404},
    r"\.answer\b": {500, 502, 504},  # AgentRun.answer: internal, agent error, timeout
    r"engine\(\)\.run\(": {422, 504},  # SqlExecutionError, SqlTimeout
    r"jobs\.submit\(": {409},  # IngestBusy
}
"""Calls whose failures a route answers, by the statuses ``api.errors`` maps them to."""


@pytest.fixture(scope="module")
def client(sample_settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(with_api(sample_settings, cors_origins=["http://ide.example"]))) as test_client:
        yield test_client


def source_with_helpers(endpoint) -> str:
    """The endpoint's source and that of the functions of its module it calls."""
    module = inspect.getmodule(endpoint)
    source = inspect.getsource(endpoint)
    helpers = [f for name, f in vars(module).items()
               if inspect.isfunction(f) and f is not endpoint and f.__module__ == module.__name__
               and re.search(rf"\b{name}\(", source)]  # fmt: skip
    return source + "".join(inspect.getsource(f) for f in helpers)


def statuses_raised(route: APIRoute) -> set[int]:
    """What a route can answer besides success, read from its code and its dependencies."""
    statuses = {400, 413, 414, 431, 500}  # any request: a malformed one, one too large, the unexpected
    source = source_with_helpers(route.endpoint)
    statuses |= {int(n) for n in re.findall(r"ApiError\((\d{3})", source)}
    for pattern, raised in RAISERS.items():
        if re.search(pattern, source):
            statuses |= raised
    calls = {getattr(d.call, "__qualname__", "") for d in route.dependant.dependencies}
    if any(c.startswith(requires.__qualname__) for c in calls):
        statuses |= {401, 403, 429}
    if current_lake.__qualname__ in calls:
        statuses |= {503}
    if route.dependant.body_params or route.dependant.query_params or route.dependant.path_params:
        statuses |= {422}
    return statuses


def test_openapi_lists_every_status_each_route_can_answer(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    routes = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute) and r.include_in_schema]
    assert len(routes) >= 16
    for route in routes:
        for method in route.methods:
            documented = spec["paths"][route.path_format][method.lower()]["responses"]
            missing = statuses_raised(route) - {int(s) for s in documented}
            assert not missing, f"{method} {route.path_format} does not document {sorted(missing)}"
            for status, entry in documented.items():
                if int(status) >= 400 and route.path_format != "/readyz":
                    assert entry["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorBody"}


@pytest.mark.parametrize("body", [{"run": 0}, {"run": "true"}, {"run": 1}, {"run": None}])
def test_booleans_are_strict(client: TestClient, body: dict) -> None:
    response = client.post("/v1/chat", json={"message": "how big is marts.orders?", **body}, headers=USER)
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"
    assert "run" in response.json()["error"]["message"]


def test_strict_booleans_in_every_body(client: TestClient) -> None:
    completion = {"model": "lakescout", "messages": [{"role": "user", "content": "hi"}], "stream": "false"}
    assert client.post("/v1/chat/completions", json=completion, headers=USER).status_code == 422
    assert client.post("/v1/ingest", json={"full": 1}, headers=ADMIN).status_code == 422


def test_options_and_405_name_every_method_of_a_path(client: TestClient) -> None:
    plain = client.options("/v1/threads/some-thread")
    assert plain.status_code == 204
    assert set(plain.headers["allow"].split(", ")) == {"GET", "DELETE", "OPTIONS"}
    wrong = client.post("/v1/threads/some-thread", headers=USER)
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    assert "DELETE" in wrong.headers["allow"]
    preflight = client.options("/v1/threads/some-thread", headers={
        "Origin": "http://ide.example", "Access-Control-Request-Method": "DELETE",
        "Access-Control-Request-Headers": "authorization"})  # fmt: skip
    assert preflight.status_code == 200 and "DELETE" in preflight.headers["access-control-allow-methods"]
    assert client.options("/no/such/path").status_code == 404
