"""Prompt texts live as Markdown in the top-level ``prompts/`` folder, so they can be read and reviewed as text.

``prompts`` ships as package data, so the same lookup works from a checkout, an editable install and a wheel.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files


@cache
def load_prompt(name: str) -> str:
    resource = files("prompts") / f"{name}.md"
    if not resource.is_file():
        raise FileNotFoundError(f"prompt '{name}' not found in the prompts package ({resource})")
    return resource.read_text(encoding="utf-8").strip()
