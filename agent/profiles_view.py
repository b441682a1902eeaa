"""Column profiles as the describe tool shows them: nulls, bounds and top values, clipped, within a budget.

Values and string bounds come from the data itself, so they are cleaned and cut like catalog text: data to
quote, never instructions. Profiles are extra: a column list that fits the tool's budget without them keeps
fitting, since each profile is added only while there is room (columns whose values are listed first).
"""

from __future__ import annotations

import json
from typing import Any

from catalog_ingest.documents import clean_text
from catalog_ingest.records import Column, ProfileValue

TOP_VALUES_SHOWN = 8
VALUE_CHARS = 40


def shown_value(value: ProfileValue | None) -> ProfileValue | None:
    return clean_text(value, VALUE_CHARS) if isinstance(value, str) else value


def profile_view(column: Column) -> dict[str, Any] | None:
    """A column's profile in few characters; None for a column without one."""
    profile = column.profile
    if profile is None:
        return None
    view: dict[str, Any] = {
        "nulls": profile.null_count,
        "min": shown_value(profile.min),
        "max": shown_value(profile.max),
        "bounds_truncated": profile.bounds_truncated or None,
        "many_values": profile.many_values or None,
    }
    if profile.values is not None:
        view["top_values"] = {str(shown_value(v.value)): v.count for v in profile.values[:TOP_VALUES_SHOWN]}
        view["distinct"] = len(profile.values)
        view["sampled"] = profile.values_sampled or None
    return {key: value for key, value in view.items() if value is not None}


def with_profiles(entries: list[dict[str, Any]], columns: list[Column], room: int) -> list[dict[str, Any]]:
    """``entries`` (describe's column entries, one per column of ``columns``) with a ``profile`` each while
    their JSON stays within ``room`` more characters."""
    views = [(index, profile_view(column)) for index, column in enumerate(columns)]
    ranked = sorted((v for v in views if v[1]), key=lambda v: "top_values" not in v[1])
    shown = [dict(entry) for entry in entries]
    for index, view in ranked:
        cost = len(json.dumps({"profile": view}, ensure_ascii=False, separators=(",", ":"), default=str))
        if cost <= room:
            shown[index]["profile"] = view
            room -= cost
    return shown
