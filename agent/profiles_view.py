"""A column's profile as the agent's tools show it: counts, bounds and its most frequent values, clipped.

Values and string bounds come from the data itself, so they are cleaned and cut like catalog text: data to
quote, never instructions.
"""

from __future__ import annotations

from typing import Any

from catalog_ingest.documents import clean_text
from catalog_ingest.records import Column, ProfileValue

TOP_VALUES_SHOWN = 10
VALUE_CHARS = 60


def shown_value(value: ProfileValue | None) -> ProfileValue | None:
    return clean_text(value, VALUE_CHARS) if isinstance(value, str) else value


def profile_view(column: Column) -> dict[str, Any]:
    """``{"profile": {...}}`` for a profiled column (merged into its describe entry), ``{}`` otherwise."""
    profile = column.profile
    if profile is None:
        return {}
    view: dict[str, Any] = {
        "values": profile.value_count,
        "nulls": profile.null_count,
        "min": shown_value(profile.min),
        "max": shown_value(profile.max),
        "bounds_truncated": profile.bounds_truncated or None,
        "many_values": profile.many_values or None,
    }
    if profile.values is not None:
        view["distinct"] = len(profile.values)
        view["top_values"] = [{"value": shown_value(v.value), "count": v.count} for v in profile.values[:TOP_VALUES_SHOWN]]
        view["values_sampled"] = profile.values_sampled
    return {"profile": {key: value for key, value in view.items() if value is not None}}
