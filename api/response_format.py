"""OpenAI's ``response_format`` over lakescout's answers: the answer and its facts as one JSON object, or that
object shaped to the caller's JSON schema when the answer's fields can fill it; anything else is a 400.

``json_object`` gives every field below. ``json_schema`` gives the schema's properties that are answer fields
(others are left out); a schema that requires a property lakescout does not have is refused before the
agent runs, and an answer whose fields do not fit the schema (a ``null`` where it wants a string) after.
jsonschema is imported by the first request that asks for a schema.
"""

from __future__ import annotations

import json
from typing import Any

from agent.answers import AgentAnswer
from api.errors import ApiError
from api.schemas import ResponseFormat

ANSWER_FIELDS = tuple(name for name in AgentAnswer.model_fields if name not in ("usage", "thread_id"))
"""What a JSON answer can carry: usage is the completion's own field and the thread id a header."""
CODE = "unsupported_response_format"


def refuse(message: str) -> ApiError:
    return ApiError(400, CODE, f"response_format: {message}")


class AnswerFormat:
    """A request's ``response_format``, checked up front; ``render`` turns an answer into the content."""

    def __init__(self, requested: ResponseFormat | None) -> None:
        kind = requested.type if requested else "text"
        if kind not in ("text", "json_object", "json_schema"):
            raise refuse(f"type '{kind}' is not supported; use text, json_object or json_schema")
        self.json = kind != "text"
        self.schema: dict[str, Any] | None = None
        if kind == "json_schema":
            self.schema = checked_schema((requested.json_schema or {}) if requested else {})

    def render(self, answer: AgentAnswer) -> str:
        if not self.json:
            return answer.answer
        facts = answer.model_dump(mode="json", include=set(ANSWER_FIELDS))
        if self.schema is None:
            return json.dumps(facts, ensure_ascii=False)
        shaped = {name: facts[name] for name in self.schema["properties"] if name in facts}
        from jsonschema import Draft202012Validator

        problem = next(iter(Draft202012Validator(self.schema).iter_errors(shaped)), None)
        if problem is not None:
            where = "/".join(str(p) for p in problem.absolute_path) or "the object"
            raise refuse(f"this answer does not fit the schema at {where}: {problem.message}")
        return json.dumps(shaped, ensure_ascii=False)


def checked_schema(spec: dict[str, Any]) -> dict[str, Any]:
    """The schema inside OpenAI's ``{name, schema, strict}``, if an answer can fill it."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    schema = spec.get("schema")
    if not isinstance(schema, dict):
        raise refuse("json_schema needs a 'schema' object")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise refuse(f"json_schema.schema is not a valid JSON schema: {exc.message}") from None
    properties = schema.get("properties")
    if schema.get("type", "object") != "object" or not isinstance(properties, dict) or not properties:
        raise refuse("json_schema.schema must be an object with properties; lakescout fills them from "
                     f"the answer's fields: {', '.join(ANSWER_FIELDS)}")  # fmt: skip
    unknown = [name for name in schema.get("required", []) if name not in ANSWER_FIELDS]
    if unknown:
        raise refuse(f"the schema requires {', '.join(unknown)}, which lakescout's answers do not have; "
                     f"it can fill: {', '.join(ANSWER_FIELDS)}")  # fmt: skip
    if not any(name in ANSWER_FIELDS for name in properties):
        raise refuse(f"none of the schema's properties is an answer field ({', '.join(ANSWER_FIELDS)})")
    return schema
