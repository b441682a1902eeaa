"""Charts in the terminal: the rows of ``catalog_ingest.charts`` as rich tables of horizontal bars.

Each measure gets a column of bars scaled to that measure's largest value, next to the value in words; the
table's caption says what a full bar stands for (the scale). Catalog text is printed as plain text, never as rich markup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from rich.bar import Bar
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from catalog_ingest.charts import Chart, Measure

MIN_BAR_WIDTH = 8


def scale(chart: Chart, largest: dict[str, float]) -> Text:
    """``full bar: rows 100,220 · bytes 3.0 MiB``: what a full bar of each measure stands for."""
    return Text("full bar: " + " · ".join(f"{m.title} {m.text(largest[m.field])}" for m in chart.measures))


def widest(chart: Chart, field: str, text: Callable[[Any], str]) -> int:
    return max((len(text(row.get(field))) for row in chart.rows), default=1)


def label_text(value: Any) -> str:
    return "" if value is None else str(value)


def needed_width(chart: Chart) -> int:
    """The columns a chart takes with every label and value whole and each bar at its minimum."""
    labels = sum(max(widest(chart, label, label_text), len(label)) + 3 for label in chart.labels)
    return labels + sum(widest(chart, m.field, m.text) + MIN_BAR_WIDTH + 6 for m in chart.measures)


def chart_table(chart: Chart) -> Table:
    """The chart as a table: its label fields as text, then each measure's value and a bar that takes the
    width the labels leave (rich lays the columns out); the caption gives the scale."""
    largest = {m.field: max((row.get(m.field) or 0 for row in chart.rows), default=0) for m in chart.measures}
    table = Table(title=Text(chart.title), caption=scale(chart, largest), title_justify="left",
                  caption_justify="left", show_edge=False, pad_edge=False, expand=True)
    for label in chart.labels:
        table.add_column(Text(label), no_wrap=True, overflow="ellipsis")
    for measure in chart.measures:
        table.add_column(Text(measure.title), justify="right", no_wrap=True,
                         min_width=widest(chart, measure.field, measure.text))
        table.add_column(Text(""), ratio=1, min_width=MIN_BAR_WIDTH, no_wrap=True)
    for row in chart.rows:
        cells: list[RenderableType] = [Text(label_text(row.get(label))) for label in chart.labels]
        for measure in chart.measures:
            value = row.get(measure.field)
            cells.append(Text(measure.text(value)))
            cells.append(Bar(size=largest[measure.field] or 1, begin=0, end=value or 0))
        table.add_row(*cells)
    return table


def chart_tables(chart: Chart, width: int) -> list[Table]:
    """One table for the chart, or one per measure when its measures side by side would not fit ``width``."""
    if len(chart.measures) == 1 or needed_width(chart) <= width:
        return [chart_table(chart)]
    return [chart_table(replace(chart, title=f"{chart.title} ({m.title})", measures=(m,))) for m in chart.measures]


def render_charts(charts: list[Chart], width: int) -> RenderableType:
    """Every chart, one after the other, laid out for a terminal ``width`` columns wide; a line saying so
    when there is nothing to draw."""
    if not charts:
        return Text("nothing to chart: no snapshots or partitions recorded")
    return Group(*(table for chart in charts for table in chart_tables(chart, width)))
