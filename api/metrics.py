"""Prometheus metrics in a registry of the app's own, so several apps (tests, workers) never collide.

Routes are labelled by their template (``/v1/tables/{name}``), never the raw path, to keep cardinality
bounded; unmatched paths share one label.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from agent.answers import AgentAnswer

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "lakescout_http_requests", "HTTP requests by route template and status.",
            ["method", "route", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "lakescout_http_request_duration_seconds", "Time to the end of the response, by route template.",
            ["method", "route"], registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.chat_runs = Counter(
            "lakescout_chat_runs", "Agent runs by outcome (answered, error, timeout, cancelled).",
            ["outcome"], registry=self.registry,
        )
        self.tool_calls = Counter(
            "lakescout_tool_calls", "Agent tool calls by tool.", ["tool"], registry=self.registry
        )
        self.model_tokens = Counter(
            "lakescout_model_tokens", "Model tokens by direction (input, output).", ["kind"], registry=self.registry
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def observe_answer(self, answer: AgentAnswer) -> None:
        for call in answer.tool_calls:
            self.tool_calls.labels(call.name).inc()
        self.model_tokens.labels("input").inc(answer.usage.input_tokens)
        self.model_tokens.labels("output").inc(answer.usage.output_tokens)

    def render(self) -> bytes:
        return generate_latest(self.registry)
