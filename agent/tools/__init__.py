"""The agent's tools: exact catalog facts and checked SQL, as compact JSON within a size budget.

Modules by job: ``common`` (errors, budgeted responses, sources), ``search`` (find and describe tables),
``partitions`` (partitions and snapshot history), ``sql`` (validate, estimate, run) and ``catalog`` (list and
rank the whole catalog). ``TOOLS`` is every tool, in the order models see them.
"""

from agent.tools.catalog import list_tables
from agent.tools.common import BUDGET, ToolError, closest_tables, human_bytes, tool_error_text
from agent.tools.partitions import list_partitions, table_history
from agent.tools.search import describe_table, search_tables
from agent.tools.sql import estimate_scan, run_sql, validate_sql

TOOLS = [search_tables, describe_table, list_partitions, table_history, validate_sql, estimate_scan, run_sql, list_tables]

__all__ = [
    "BUDGET",
    "TOOLS",
    "ToolError",
    "closest_tables",
    "describe_table",
    "estimate_scan",
    "human_bytes",
    "list_partitions",
    "list_tables",
    "run_sql",
    "search_tables",
    "table_history",
    "tool_error_text",
    "validate_sql",
]
