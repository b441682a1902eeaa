"""Catalog-wide questions for the offline model: rankings and listings of tables ("which table has the most
rows", "the five biggest tables", "tables in finance", "tables not written in 30 days"), through ``list_tables``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from agent.models.offline.compose import counted, failure
from agent.models.offline.intents import column_named
from agent.models.vocabulary import NOBODY_WORDS, TABLE_FEW_WORDS, TABLE_RANK_WORDS


def said_words(words: object) -> str:
    """An alternation of whole words."""
    return r"\b(?:" + "|".join(sorted(words)) + r")\b"


MEASURE_WORDS = [(name, pattern + ("|" + said_words(TABLE_RANK_WORDS[name].split()) if name in TABLE_RANK_WORDS else ""))
                 for name, pattern in [
    ("rows", r"\brows?\b|\brecords?\b"),
    ("files", r"\bfiles?\b"),
    ("partitions", r"\bpartitions?\b"),
    ("snapshots", r"\bsnapshots?\b|\bcommits?\b"),
    ("columns", r"\bcolumns?\b|\bfields?\b"),
    ("last_write", r"\b(?:written|updated|modified|refreshed|newest|oldest|stalest|freshest|recently)\b"),
    ("bytes", r"\b(?:big|bigger|biggest|large|larger|largest|small|smaller|smallest|size|bytes|space|storage|disk)\b"),
]]
ASCENDING = re.compile(r"\b(?:fewest|least|smallest|lowest|oldest|stalest|least recently)\b|" + said_words(TABLE_FEW_WORDS))
TOP_N = re.compile(r"\b(?:top|the|first|biggest|largest|smallest|list)\s+(\d+)\b|\b(\d+)\s+(?:\w+\s+)?tables\b")
"""How many tables: the question's numbers are digits ("the five biggest" is read as "the 5 biggest")."""
SCOPE_NOUNS = r"(?:namespace|schema|database|db|layer)"
NAMESPACE = re.compile(rf"\b(?:in|from|under|within|inside|belong(?:s|ing)? to)\s+(?:the\s+)?([a-z_][\w-]*)(?:\s+{SCOPE_NOUNS})?\b"
                       rf"|\bof\s+(?:the\s+)?([a-z_][\w-]*)\s+{SCOPE_NOUNS}\b"
                       r"|\b(?:does|do)\s+([a-z_][\w-]*)\s+(?:contain|hold|have|include)\b")
"""A namespace the question scopes the listing to: "in finance", "under raw", "of the ops database", "does support
contain"."""
NOT_NAMESPACE = frozenset({"the", "last", "past", "catalog", "lake", "total", "all", "each", "it", "terms", "size",
                           "bytes", "rows", "order", "a", "this", "my", "our", "we", "you", "they", "i", "tables"})  # fmt: skip
NAMESPACES = re.compile(r"\bnamespaces?\b")
"""A question about the catalog's namespaces ("what namespaces does the lake have?", "which namespace has the most
tables?")."""
PII = re.compile(r"\b(?:pii|personal data|personally identifiable)\b")
PRONOUNS = frozenset("who which what that it they them we you i he she".split())
RANKED = re.compile(r"\b(?:most|fewest|least|biggest|largest|smallest)\b")
OWNER = re.compile(r"\bowned by\s+([\w@.\-]+)|\b(?:does|do)\s+([\w@.\-]+)\s+own\b|\b([\w@.\-]+)\s+owns\b")
TAG = re.compile(r"\btagged\s+(?:as\s+)?['\"]?([\w-]+)|\b(?:with|have|has|carry|carries) (?:the |a )?tag\s+['\"]?([\w-]+)")
DAYS = re.compile(r"\b(\d+|an?|one)\s+(day|week|month)s?\b")
"""A span of days: "30 days", "a week" (7), "2 months" (60)."""
SPAN_DAYS = {"day": 1, "week": 7, "month": 30}
WRITE_WORDS = r"(?:written|updated|modified|refreshed|loaded)"
NOT_WRITTEN = re.compile(rf"(?:\b(?:not|never)\b|n't\b|{said_words(NOBODY_WORDS)})[^.?]*\b{WRITE_WORDS}\b"
                         r"|\bwithout\s+(?:a\s+|any\s+)?(?:writes?|updates?|loads?|refresh(?:es)?|commits?)\b")
MEASURE_LABELS = {"rows": "rows", "bytes": "size", "files": "files", "last_write": "last write",
                  "partitions": "partitions", "snapshots": "snapshots", "columns": "columns", "name": "name"}  # fmt: skip


def list_args(question: str) -> dict[str, Any]:
    """``list_tables`` arguments from the question's words: measure, direction, how many, filters."""
    text = question.lower()
    column = column_named(question)
    rank_by = next((name for name, pattern in MEASURE_WORDS if re.search(pattern, text)
                    and not (name == "columns" and column)), "name")  # "tables with an email column": by name
    args: dict[str, Any] = {"rank_by": rank_by, "descending": not ASCENDING.search(text)}
    if top := TOP_N.search(text):
        args["limit"] = int(top.group(1) or top.group(2))
    elif rank_by != "name" and re.search(r"\b(?:which|what) (?:table|dataset)\b|\bthe (?:\w+\s+)?(?:table|dataset)\b", text):
        args["limit"] = 5
    else:
        args["limit"] = 50
    said = (next(g for g in m.groups() if g) for m in NAMESPACE.finditer(text))
    namespace = next((name for name in said if name not in NOT_NAMESPACE), None)
    if namespace:
        args["namespace"] = namespace
    if (owner := OWNER.search(text)) and (who := next(g for g in owner.groups() if g)) not in PRONOUNS:
        args["owner"] = who  # "who owns them?" asks for the owners, it names none
    if tag := TAG.search(text):
        args["tag"] = tag.group(1) or tag.group(2)
    if column:
        args["column"] = column
    if PII.search(text):
        args["pii"] = not re.search(r"\b(?:no|without|free of)\b[^.?]*" + PII.pattern, text)
    if (days := DAYS.search(text)) and (re.search(rf"\b{WRITE_WORDS}\b", text) or NOT_WRITTEN.search(text)):
        count = int(days.group(1)) if days.group(1).isdigit() else 1
        args["not_written_days" if NOT_WRITTEN.search(text) else "written_days"] = count * SPAN_DAYS[days.group(2)]
    return args


def namespace_said(question: str, listed: dict[str, Any]) -> str | None:
    """The one namespace of the catalog (as an unscoped listing returned them) whose name the question says as a word
    ("list the ops tables", "which marketing tables are biggest?"): the catalog's own names, not a guess."""
    if listed.get("filters", {}).get("namespace"):
        return None
    said = {w for w in re.findall(r"[a-z_][\w-]*", question.lower())} & set(listed.get("namespaces") or {})
    return said.pop() if len(said) == 1 else None


def next_listing(question: str, result: Callable[..., Any]) -> tuple[dict[str, Any] | None, Any]:
    """The ``list_tables`` arguments to call next, or None and the listing to answer from (``result`` looks up a
    call's result): a call with the question's measure and filters, then one scoped to the namespace whose name
    the question says, if the first listing shows one."""
    args = list_args(question)
    observed = result("list_tables")
    if observed is None:
        return args, None
    if observed.ok and (namespace := namespace_said(question, observed.data)):
        scoped = result("list_tables", namespace=namespace)
        return ({**args, "namespace": namespace}, None) if scoped is None else (None, scoped)
    return None, observed


def measure_text(row: dict[str, Any], rank_by: str) -> str:
    if rank_by == "bytes":
        return f"{row.get('size') or 'unknown size'}" + (f" ({row['bytes']:,} bytes)" if row.get("bytes") is not None else "")
    if rank_by == "last_write":
        return f"last written {row.get('last_updated') or 'never'}"
    if rank_by == "name":
        return ", ".join(p for p in (counted(row.get("rows"), "row"), row.get("size")) if p)
    noun = {"rows": "row", "files": "file", "partitions": "partition", "snapshots": "snapshot", "columns": "column"}
    return counted(row.get(rank_by), noun[rank_by]) or f"unknown {MEASURE_LABELS[rank_by]}"


def filters_text(filters: dict[str, Any]) -> str:
    parts = [f"in namespace `{filters['namespace']}`" if "namespace" in filters else None,
             f"owned by {filters['owner']}" if "owner" in filters else None,
             f"tagged {filters['tag']}" if "tag" in filters else None,
             f"not written in the last {filters['not_written_days']} days" if "not_written_days" in filters else None,
             f"written in the last {filters['written_days']} days" if "written_days" in filters else None,
             ("with" if filters["pii"] else "without") + " PII columns" if "pii" in filters else None,
             f"with a column `{filters['column']}`" if "column" in filters else None]  # fmt: skip
    return " ".join(p for p in parts if p)


def compose_listing(observed: Any, question: str) -> str:
    if not observed.ok:
        error = failure(observed)
        names = observed.data.get("namespaces")
        return error + (f" The namespaces are: {', '.join(f'`{n}`' for n in names)}." if names else "")
    d = observed.data
    rows, rank_by = d.get("tables", []), d.get("rank_by", "name")
    scope = filters_text(d.get("filters", {}))
    if not rows:
        return f"No table {scope or 'is in the catalog'} (of {d.get('total_tables', 0)} tables, as of {d.get('as_of')})."
    if NAMESPACES.search(question.lower()) and "namespace" not in d.get("filters", {}):
        return namespace_listing(d, question)
    lines = []
    if rank_by != "name":
        headline = {"bytes": ("largest", "smallest"), "last_write": ("most recently written", "least recently written")}
        most, fewest = headline.get(rank_by, (f"most {MEASURE_LABELS[rank_by]}", f"fewest {MEASURE_LABELS[rank_by]}"))
        is_table = "is the largest" if rank_by == "bytes" else None
        lines.append(f"Of the {counted(d['matched'], 'table')}{' ' + scope if scope else ''}, the one with the "
                     f"{most if d.get('descending') else fewest} is `{rows[0]['table']}` ({measure_text(rows[0], rank_by)}),"
                     " from the catalog's statistics." if not is_table else
                     f"Of the {counted(d['matched'], 'table')}{' ' + scope if scope else ''}, the "
                     f"{most if d.get('descending') else fewest} is `{rows[0]['table']}` ({measure_text(rows[0], rank_by)}),"
                     " from the catalog's statistics.")  # fmt: skip
        first = measure_text(rows[0], rank_by)
        if tied := [f"`{row['table']}`" for row in rows[1:] if measure_text(row, rank_by) == first]:
            lines[-1] += f" It is tied with {', '.join(tied)} ({first} each), so no single table is first."
    elif re.search(r"\bhow many\b", question.lower()):
        lines.append(f"There are {counted(d['matched'], 'table')}{' ' + scope if scope else ' in the catalog'}.")
    shown = f"{len(rows)} of {d['matched']}" if d["matched"] > len(rows) else str(d["matched"])
    lines.append(f"{shown} {'table' if d['matched'] == 1 else 'tables'}{' ' + scope if scope else ''}"
                 + (f", ranked by {MEASURE_LABELS[rank_by]}" if rank_by != "name" else "") + f" (as of {d.get('as_of')}):")  # fmt: skip
    lines += [f"{i}. `{row['table']}`: {measure_text(row, rank_by)}" for i, row in enumerate(rows, 1)]
    return "\n".join(lines)


def namespace_listing(data: dict[str, Any], question: str = "") -> str:
    """The catalog's namespaces, with how many tables each holds; for "which namespace has the most (fewest)
    tables?", the one (or those tied) with the most (fewest) first."""
    counts = data.get("namespaces") or {}
    listed = ", ".join(f"`{name}` ({counted(n, 'table')})" for name, n in sorted(counts.items()))
    text = f"The catalog has {counted(len(counts), 'namespace')}: {listed} (as of {data.get('as_of')})."
    if not counts or not RANKED.search(question.lower()):
        return text
    fewest = bool(ASCENDING.search(question.lower()))
    extreme = min(counts.values()) if fewest else max(counts.values())
    first = [f"`{name}`" for name, n in sorted(counts.items()) if n == extreme]
    said = "fewest" if fewest else "most"
    head = (f"The namespace with the {said} tables is {first[0]} ({counted(extreme, 'table')})" if len(first) == 1
            else f"The namespaces with the {said} tables are {', '.join(first)}, tied ({counted(extreme, 'table')} each)")
    return f"{head}, from the catalog's listing. {text}"
