"""A scripted OpenAI-compatible chat-completions server for tests: real HTTP, replies replayed in order.

A test posts a script (``POST /script``), points lakescout at ``http://127.0.0.1:PORT/v1`` and reads back what
the client sent (``GET /requests``). Each step is one reply, served ``repeat`` times:

- ``content``: the assistant's text (streamed word by word when the request streams);
- ``tool_calls``: ``[{"name", "arguments"}]`` with ``arguments`` the raw string sent, malformed JSON included;
- ``usage``: ``{"prompt_tokens", "completion_tokens"}`` (sent in a last chunk when the client streams with
  ``stream_options.include_usage``);
- ``status`` and ``headers``: an error reply instead (429 with ``Retry-After``, 500, ...);
- ``delay``: seconds to wait before replying (a slow model).

Run it with ``python tests/scripted_openai.py PORT``; ``ScriptedModel`` starts and drives it from a test.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from api.loopback import free_port, wait_http

DEFAULT_USAGE = {"prompt_tokens": 11, "completion_tokens": 7}


def create_app() -> FastAPI:
    app = FastAPI()
    app.state.steps = []
    app.state.requests = []

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/script")
    async def script(request: Request) -> dict[str, int]:
        steps = (await request.json())["steps"]
        app.state.steps = [step for step in steps for _ in range(step.get("repeat", 1))]
        app.state.requests = []
        return {"steps": len(app.state.steps)}

    @app.get("/requests")
    async def requests() -> list[dict[str, Any]]:
        return app.state.requests

    @app.post("/v1/chat/completions")
    async def completions(request: Request) -> Any:
        body = await request.json()
        app.state.requests.append({"body": body, "at": time.monotonic()})
        if not app.state.steps:
            return JSONResponse({"error": {"message": "the script is exhausted", "type": "server_error"}}, 500)
        step = app.state.steps.pop(0)
        await asyncio.sleep(step.get("delay", 0))
        if step.get("status", 200) != 200:
            error = {"error": {"message": f"scripted {step['status']}", "type": "scripted"}}
            return JSONResponse(error, step["status"], headers=step.get("headers"))
        if body.get("stream"):
            usage = (body.get("stream_options") or {}).get("include_usage", False)
            return StreamingResponse(stream(body, step, usage), media_type="text/event-stream")
        return reply(body, step)

    return app


def tool_calls(step: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"id": f"call_{i}_{uuid.uuid4().hex[:8]}", "type": "function",
         "function": {"name": call["name"], "arguments": call["arguments"]}}
        for i, call in enumerate(step.get("tool_calls", []))
    ]  # fmt: skip


def usage_of(step: dict[str, Any]) -> dict[str, int]:
    usage = step.get("usage", DEFAULT_USAGE)
    return {**usage, "total_tokens": usage["prompt_tokens"] + usage["completion_tokens"]}


def envelope(body: dict[str, Any], kind: str, choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"id": "chatcmpl-scripted", "object": kind, "created": int(time.time()),
            "model": body.get("model", "scripted"), "choices": choices, **extra}  # fmt: skip


def reply(body: dict[str, Any], step: dict[str, Any]) -> dict[str, Any]:
    calls = tool_calls(step)
    message = {"role": "assistant", "content": step.get("content"), **({"tool_calls": calls} if calls else {})}
    choice = {"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}
    return envelope(body, "chat.completion", [choice], usage=usage_of(step))


async def stream(body: dict[str, Any], step: dict[str, Any], include_usage: bool) -> AsyncIterator[str]:
    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
        return f"data: {json.dumps(envelope(body, 'chat.completion.chunk', [choice]))}\n\n"

    yield chunk({"role": "assistant", "content": ""})
    text = step.get("content") or ""
    words = text.split(" ")
    for i, word in enumerate(words):
        yield chunk({"content": word + (" " if i < len(words) - 1 else "")})
    calls = tool_calls(step)
    for index, call in enumerate(calls):
        arguments = call["function"]["arguments"]
        half = len(arguments) // 2
        head = {"index": index, "id": call["id"], "type": "function",
                "function": {"name": call["function"]["name"], "arguments": arguments[:half]}}  # fmt: skip
        yield chunk({"tool_calls": [head]})
        yield chunk({"tool_calls": [{"index": index, "function": {"arguments": arguments[half:]}}]})
    yield chunk({}, "tool_calls" if calls else "stop")
    if include_usage:
        yield f"data: {json.dumps(envelope(body, 'chat.completion.chunk', [], usage=usage_of(step)))}\n\n"
    yield "data: [DONE]\n\n"


class ScriptedModel:
    """The scripted server as a subprocess on a free port: ``script`` a conversation, read ``requests``."""

    def __init__(self, log: Path) -> None:
        port = free_port()
        with open(log, "w") as sink:
            self.proc = subprocess.Popen([sys.executable, __file__, str(port)], stdout=subprocess.DEVNULL, stderr=sink)
        self.root = f"http://127.0.0.1:{port}"
        self.url = self.root + "/v1"
        wait_http(self.root + "/health", self.proc.pid, timeout=60)

    def script(self, *steps: dict[str, Any]) -> None:
        httpx.post(self.root + "/script", json={"steps": list(steps)}).raise_for_status()

    def requests(self) -> list[dict[str, Any]]:
        return httpx.get(self.root + "/requests").json()

    def stop(self) -> None:
        os.kill(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=10)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(create_app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
