"""uvicorn's HTTP/1.1 protocol (h11) with a bounded request head and the API's JSON error for bad requests.

uvicorn answers a request it cannot parse (a request line or headers over the limit, a bad
``Content-Length``, garbage) itself, before any app code runs, in plain text. This protocol keeps
uvicorn's handling and says the same in the shape every other error has: ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

MAX_REQUEST_HEAD_BYTES = 32 * 1024
"""Request line plus headers. h11 refuses a head still incomplete past this size (uvicorn's
``h11_max_incomplete_event_size``, a 400 here); one that arrived whole is measured by the app's middleware
(431), which also refuses a target over ``MAX_TARGET_BYTES`` (414)."""
MAX_TARGET_BYTES = 8 * 1024
"""Path plus query string."""

BAD_REQUEST_BODY = json.dumps(
    {"error": {"code": "bad_request", "message": (
        f"invalid HTTP request: the request line and headers must be well-formed and under "
        f"{MAX_REQUEST_HEAD_BYTES // 1024} KiB, with a numeric Content-Length")}}
).encode()  # fmt: skip


class JsonErrorH11Protocol(H11Protocol):
    def send_400_response(self, msg: str) -> None:
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        for event in (h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
                      h11.Data(data=BAD_REQUEST_BODY), h11.EndOfMessage()):  # fmt: skip
            self.transport.write(self.conn.send(event))
        self.transport.close()
