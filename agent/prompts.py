"""Prompt texts live as Markdown in the top-level ``prompts/`` folder, so they can be read and reviewed as text.

``prompts`` ships as package data, so the same lookup works from a checkout, an editable install and a wheel.
A ``{name}`` in a prompt's text is filled from ``PROMPT_VALUES`` (limits the graph enforces, so the prompt
states the same figure); a literal brace is written ``{{`` or ``}}``.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from humanize import apnumber

from agent.state import MAX_FAILED_DRAFTS

PROMPT_VALUES = {"max_failed_drafts": apnumber(MAX_FAILED_DRAFTS)}


@cache
def load_prompt(name: str) -> str:
    resource = files("prompts") / f"{name}.md"
    if not resource.is_file():
        raise FileNotFoundError(f"prompt '{name}' not found in the prompts package ({resource})")
    return resource.read_text(encoding="utf-8").strip().format_map(PROMPT_VALUES)
