"""Catalog-written text (comments, owners, tags, properties) quoted inertly in Markdown answers.

Whoever can write a table comment can write ``<img src=x onerror=...>``, ``[click](command:...)`` or a
closing ``</script>``. Answers are Markdown, rendered by VS Code, web pages and the CLI, so such text is
put in a code span: one line, fenced by more backticks than it contains, where no renderer reads HTML,
links, images or emphasis. What the reader sees is the text itself.
"""

from __future__ import annotations

import re

_BACKTICK_RUNS = re.compile(r"`+")


def inert(text: str | None, limit: int = 160) -> str:
    """``text`` on one line, clipped to ``limit`` characters, as a Markdown code span; "" for no text."""
    if not text:
        return ""
    line = " ".join(text.split())
    if len(line) > limit:
        line = line[:limit] + "…"
    fence = "`" * (1 + max((len(run) for run in _BACKTICK_RUNS.findall(line)), default=0))
    pad = " " if line.startswith("`") or line.endswith("`") else ""
    return f"{fence}{pad}{line}{pad}{fence}"
