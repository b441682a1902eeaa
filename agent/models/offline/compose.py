"""Answer templates for the offline model: the text of each answer, written from tool results only.

Catalog-written text (comments, owners) is quoted, never acted on; counts and sizes the catalog lacks are
left out rather than guessed.
"""

from __future__ import annotations

import re
from collections import Counter
from difflib import get_close_matches
from typing import Any

from agent.inert import inert as quoted  # catalog-written text, quoted and never rendered
from agent.models.language import related, similar, verb_forms
from agent.models.offline.conversation import Conversation, current_sql
from agent.models.offline.intents import INTENT_WORDS, LAKE_OBJECTS, TABLE_NAME
from agent.models.sql_writer import OTHER_THING, Draft
from agent.models.vocabulary import HOLD_VERBS
from agent.state import ToolResult
from catalog_ingest.text import QUESTION_STOPWORDS, stem, words

CANNOT_ANSWER = (
    "I cannot answer that. I am lakescout's offline rule-based model: I handle finding tables for a topic, "
    "describing a table, its partitions, size and freshness, its snapshot and schema history, and simple SQL "
    "drafts (filters, counts, sums and averages by group, top N, joins on key columns).\n\n"
    "For other questions configure a real model: set `LAKESCOUT_MODEL__NAME` to a provider model such as "
    "`openai:gpt-4o-mini` (with `LAKESCOUT_MODEL__API_KEY`), or to a model name together with "
    "`LAKESCOUT_MODEL__BASE_URL` for an OpenAI-compatible server (Ollama, vLLM, LM Studio)."
)
READ_ONLY = (
    "lakescout is read-only: it answers questions about the lake and drafts and runs SELECT queries, nothing "
    "else. The SQL guard enforces this whatever any model drafts: one SELECT or WITH statement over the lake's "
    "tables, with no DDL or DML (DROP, DELETE, ALTER, INSERT, UPDATE, TRUNCATE, GRANT), no ATTACH, COPY, INSTALL "
    "or PRAGMA, and no file or network table functions."
)
REFUSALS = {
    "refuse-actions": "I can't do that: lakescout answers questions about the lake's tables and drafts and runs "
    "read-only queries; it does not send messages, schedule work or act outside the catalog. " + READ_ONLY,
    "refuse-writes": "I can't do that: it would change data, a schema or permissions, and " + READ_ONLY
    + " Ask the table's owner to make changes with your lake's own tools.",
    "refuse-future": "I can't predict that: the lake holds what has happened, and I answer from its tables and "
    "their data only; I do not forecast or guess what will happen. I can count or sum what the tables hold so "
    "far, by period, as a basis for your own estimate.",
    "refuse-advice": "I can't decide that for you: it is a judgement, not a fact the lake holds, and I answer from "
    "its tables and their data only. I can show the facts to base it on, for example spend, counts or revenue by "
    "group and period, if you ask for them.",
    "refuse-files": "I can't do that: it reads or writes files outside the lake's tables, which is not allowed. "
    + READ_ONLY + " Ask about a table in the catalog instead.",
}


def number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def counted(value: int | None, noun: str) -> str | None:
    """``1 file``, ``1,234 files``; None when the catalog has no count."""
    return None if value is None else f"{value:,} {noun}{'' if value == 1 else 's'}"


def size_sentence(d: dict[str, Any]) -> str:
    parts = [counted(d.get("rows"), "row"), counted(d.get("files"), "file"), d.get("size")]
    parts.append(counted(d.get("partitions") or None, "partition"))
    return ", ".join(p for p in parts if p) or "no size statistics"


def failure(observed: ToolResult) -> str:
    error = observed.data.get("error", "the tool failed")
    suggestions = observed.data.get("did_you_mean")
    return f"{error}." + (f" Did you mean {', '.join(f'`{s}`' for s in suggestions)}?" if suggestions else "")


def compose_no_table(named: str, failed: ToolResult) -> str:
    """A named table the catalog does not hold: said plainly, with the closest real names and no facts of theirs."""
    closest = failed.data.get("did_you_mean") or []
    text = f"There is no table `{named}` in the catalog, so I cannot answer about it."
    if closest:
        text += " The closest names are " + ", ".join(f"`{c}`" for c in closest) + "; ask again with one of them."
    return text


def compose_no_column(absent: list[str], table: Any) -> str:
    """Columns the question names that the table does not have: said plainly, with the closest real names."""
    names = [c["name"] for c in table.columns]
    lines = []
    for name in absent:
        close = get_close_matches(name, names, n=3, cutoff=0.5) or [n for n in names if set(n.split("_")) & set(name.split("_"))][:3]
        lines.append(f"`{table.name}` has no column `{name}`, so I cannot draft SQL over it."
                     + (" The closest names are " + ", ".join(f"`{c}`" for c in close) + "." if close else ""))  # fmt: skip
    return "\n".join(lines)


KEPT_Q = re.compile(r"^\s*(?:do|does)\s+(?:we|you|they|the lake|the catalog)\s+(?:know|have|keep|store|track|record|hold)\b")
"""'do we know when agents were hired?': a yes or no about something the lake keeps, not a request for tables."""


def column_for(topic: list[str], hit: dict[str, Any]) -> tuple[str, str] | None:
    """A matched column of the hit named for a topic word its table's name does not give ("hired", ``hired_at``)."""
    named = {stem(p) for p in re.split(r"[._]", hit["table"].lower())}
    for word in (w for w in topic if stem(w) not in named and w not in INTENT_WORDS | {"know"}):
        forms = verb_forms(word) | related(word)
        for col in hit.get("matched_columns") or []:
            if forms & {f for part in col.lower().split("_") for f in verb_forms(part) | {stem(part)}}:
                return col, word
    return None


def compose_find(data: dict[str, Any], topic: list[str], question: str = "") -> str:
    hits = data.get("tables", [])
    if not hits:
        return f"I found no table about '{' '.join(topic)}'. Try other words, or list tables by namespace."
    lines = [f"The best match for '{' '.join(topic)}' is `{hits[0]['table']}`.", ""]
    kept = column_for(topic, hits[0]) if KEPT_Q.search(question.lower()) and not LAKE_OBJECTS.search(question.lower()) else None
    if kept:  # the yes first, from the column that holds it
        lines.insert(0, f"Yes: `{hits[0]['table']}` has a column `{kept[0]}`, named for '{kept[1]}'.")
    for i, hit in enumerate(hits, 1):
        comment = quoted(hit.get("metadata_untrusted", {}).get("comment"))
        matched = ", ".join(hit.get("matched_columns") or [])
        line = f"{i}. `{hit['table']}`" + (f": {comment}" if comment else "")
        line += (f"; matching columns: {matched}" if matched else "") + f"; {hit.get('partitioning')}"
        line += f"; {size_sentence(hit)}" + (f", last written {hit['last_updated']}" if hit.get("last_updated") else "")
        lines.append(line)
    return "\n".join(lines)


OWNER_ASKED = re.compile(r"^\s*(?:who|whom|which (?:team|person|group)|what team)\b|\bown(?:s|ed|er|ers)?\b")
"""A describe that asks who answers for the table: its owner comes first."""


def compose_describe(d: dict[str, Any], question: str = "") -> str:
    meta = d.get("metadata_untrusted", {})
    lines = [f"`{d['table']}` ({d.get('kind')}, {d.get('format') or 'unknown format'})"
             + (f": {quoted(meta.get('comment'))}" if meta.get("comment") else "")]  # fmt: skip
    if OWNER_ASKED.search(question.lower()):
        lines.insert(0, f"The owner of `{d['table']}` is {quoted(meta['owner'])}, from the catalog's owner property.\n"
                     if meta.get("owner") else f"The catalog names no owner for `{d['table']}`.\n")
    lines.append(f"- Partitioning: {d.get('partitioning')}" + (f"; sorted by {d['sort_order']}" if d.get("sort_order") else ""))
    lines.append(f"- Size: {size_sentence(d)}; last written {d.get('last_updated') or 'unknown'}")
    lines.append(f"- Current snapshot: {d.get('snapshot_id') or 'none'} (as of {d.get('as_of') or 'unknown'})")
    if meta.get("owner") or meta.get("tags"):
        lines.append(f"- Owner: {quoted(meta.get('owner')) or 'unknown'}; tags: {', '.join(map(quoted, meta.get('tags', []))) or 'none'}")
    if d.get("pii_columns"):
        lines.append(f"- PII columns (masked in results): {', '.join(d['pii_columns'])}")
    comments = meta.get("column_comments", {})
    shown = f" (showing {d['columns_shown']})" if d.get("columns_shown") else ""
    lines.append(f"\nColumns{shown}:")
    for col in d.get("columns", []):
        flags = [f for f in ("pii", "partition_key") if col.get(f)]
        note = f" {quoted(comments[col['name']], 80)}" if col["name"] in comments else ""
        lines.append(f"- `{col['name']}` {col['type']}" + (f" [{', '.join(flags)}]" if flags else "") + note)
    return "\n".join(lines)


def compose_stats(d: dict[str, Any], question: str = "") -> str:
    size = f" ({d['bytes']:,} bytes)" if d.get("bytes") is not None else ""
    return (
        f"`{d['table']}` holds {size_sentence(d)}{size}. It was last written {d.get('last_updated') or 'at an unknown time'}"
        f" (current snapshot {d.get('snapshot_id') or 'none'}, as of {d.get('as_of') or 'unknown'}); "
        f"{d.get('partitioning')}."
    )


DELETING = frozenset({"delete", "overwrite", "replace"})
"""Snapshot operations that remove or rewrite rows (``replace`` rewrites files, e.g. compaction)."""


def compose_history(d: dict[str, Any], question: str = "") -> str:
    snapshots = d.get("snapshots", [])
    current = next((s for s in snapshots if s["snapshot_id"] == d.get("current_snapshot_id")), None)
    lines = [f"`{d['table']}` has {d.get('snapshot_count', len(snapshots))} snapshots; the current one is "
             f"{d.get('current_snapshot_id')}"
             + (f" (operation: {current.get('operation') or 'unknown'}, at {current['time']})." if current else ".")]  # fmt: skip
    operations = d.get("operations") or dict(Counter(s.get("operation") or "unknown" for s in snapshots))
    if operations:
        kinds = ", ".join(f"{op} ({n})" for op, n in operations.items())
        rewrites = [op for op in operations if op in DELETING]
        lines.append(f"Operations over its history: {kinds}. "
                     + (f"Rows were deleted or rewritten ({', '.join(rewrites)})." if rewrites
                        else "No rows were deleted or rewritten: only appends."))  # fmt: skip
    specs = d.get("partition_specs", [])
    if specs:
        lines.append(f"It has had {counted(len(specs), 'partition spec')}: "
                     + "; ".join(f"spec {p['spec_id']}: {p['spec']}" for p in specs) + ".")  # fmt: skip
    if snapshots:
        lines.append("\nRecent snapshots, newest first:")
    for s in snapshots[:10]:
        counts = [f"+{number(int(s['added-records']))} rows" if "added-records" in s else None,
                  f"-{number(int(s['deleted-records']))} rows" if "deleted-records" in s else None,
                  f"{number(int(s['total-records']))} rows in total" if "total-records" in s else None]  # fmt: skip
        detail = ", ".join(c for c in counts if c)
        lines.append(f"- {s['time']}: {s.get('operation') or 'change'} (snapshot {s['snapshot_id']})"
                     + (f": {detail}" if detail else ""))  # fmt: skip
    changes = d.get("schema_changes", [])
    lines.append("\nSchema changes:" if changes else "\nNo schema changes are recorded.")
    lines += [f"- schema {c['schema_id']}: {'; '.join(c['changes'])}" for c in changes]
    return "\n".join(lines)


SORT_Q = re.compile(r"\bsort")
KEY_Q = re.compile(r"\bkeys?\b|\buniquely\b|\bidentif")
COUNT_Q = re.compile(r"\b(?:how many|number of|count)\b")
HAS_Q = re.compile(r"^\s*(?:does|do|has)\b.*\b(?:" + "|".join(sorted(HOLD_VERBS)) + r")\b|\bis there an? (?:\w+ )?(?:column|field)\b")
IDENTIFIER = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
"""A word written as a column name (``error_message``)."""
ASKED_COLUMN = re.compile(r"\b(?:column|field)s?\s+(?:called|named)\s+[`'\"]?([\w.]+)"
                          r"|\b(?:a|an|the|any)\s+[`'\"]?([\w.]+)[`'\"]?\s+(?:column|field)\b"
                          r"|\b(?:column|field)\s+[`'\"]?([\w.]+)")


def compose_column(d: dict[str, Any], question: str) -> str:
    """Column-level answers from describe_table: sort order, key columns, column count, a column's type."""
    text, table = question.lower(), f"`{d['table']}`"
    columns = d.get("columns", [])
    if HAS_Q.search(text):
        return compose_has_column(d, question)
    if SORT_Q.search(text):
        order = d.get("sort_order")
        return f"{table} is sorted by {order}." if order else f"{table} has no sort order defined: it is unsorted."
    if KEY_Q.search(text):
        keys = d.get("identifier_fields") or []
        if keys:
            return (f"A row of {table} is uniquely identified by {', '.join(f'`{k}`' for k in keys)} "
                    f"(its identifier fields, the table's primary key).")  # fmt: skip
        return f"{table} declares no identifier fields, so the catalog records no primary key for it."
    mentioned = mentioned_columns(TABLE_NAME.sub(" ", question), columns, fuzzy=not COUNT_Q.search(text))
    if COUNT_Q.search(text) and not mentioned:
        shown = re.match(r"\d+ of (\d+)", d.get("columns_shown") or "")
        total = int(shown.group(1)) if shown else len(columns)
        return f"{table} has {total} columns: " + ", ".join(f"`{c['name']}`" for c in columns) + "."
    if not mentioned:
        return compose_describe(d)
    comments = d.get("metadata_untrusted", {}).get("column_comments", {})
    lines = []
    for col in mentioned:
        flags = [f for f in ("pii", "partition_key") if col.get(f)]
        note = f", described as {quoted(comments[col['name']])}" if col["name"] in comments else ""
        lines.append(f"`{col['name']}` in {table} is of type `{col['type']}`"
                     + (f" ({', '.join(flags)})" if flags else "") + f"{note}.")  # fmt: skip
    return "\n".join(lines)


def asked_column(question: str) -> str | None:
    """The column a yes/no question asks about: "a column called X", "a X column", "the column X"."""
    text = TABLE_NAME.sub(" ", question.lower())
    match = ASKED_COLUMN.search(text)
    return next((g for g in match.groups() if g), None) if match else None


def compose_has_column(d: dict[str, Any], question: str) -> str:
    """Yes or no: does the table have the column asked about; with no, the columns named most like it."""
    table, columns = f"`{d['table']}`", d.get("columns", [])
    asked = asked_column(question)
    if asked is None or asked in QUESTION_STOPWORDS:  # "a column for the customer's city": the words named
        asked_words = set(words(TABLE_NAME.sub(" ", question))) - INTENT_WORDS - QUESTION_STOPWORDS
        named = [c for c in columns if c["name"].lower().rpartition(".")[2] in asked_words]
        written = IDENTIFIER.findall(TABLE_NAME.sub(" ", question.lower()))
        if not named and written:  # "does a.b store a refund_code?": a column name written out that it lacks
            return compose_has_column(d, f"a column called {written[0]}")
        if not named:
            return compose_describe(d)
        return "Yes: " + "; ".join(f"{table} has a column `{c['name']}` of type `{c['type']}`" for c in named) + "."
    exact = next((c for c in columns if c["name"].lower() == asked), None)
    if exact:
        return f"Yes: {table} has a column `{exact['name']}` of type `{exact['type']}`."
    names = [c["name"] for c in columns]
    close = list(dict.fromkeys([n for n in names if asked in n.split("_")] + get_close_matches(asked, names, n=3, cutoff=0.6)))[:3]
    text = f"No: {table} has no column `{asked}`."
    return text + (" The closest names are " + ", ".join(f"`{n}`" for n in close) + "." if close else "")


def mentioned_columns(question: str, columns: list[dict[str, Any]], fuzzy: bool = True) -> list[dict[str, Any]]:
    """Columns the question names: exactly, with spaces for underscores, or (``fuzzy``) up to a typo."""
    text = " " + " ".join(words(question.replace(".", " "))) + " "
    exact = [c for c in columns if f" {c['name'].lower()} " in text or f" {c['name'].lower().replace('_', ' ')} " in text]
    if exact or not fuzzy:
        return exact
    asked = [w for w in words(question) if w not in INTENT_WORDS and len(w) >= 5]
    return [c for c in columns if any(similar(w, c["name"].lower()) for w in asked)][:1]


def compose_not_found(hits: list[dict[str, Any]], topic: list[str]) -> str:
    """The lake does not seem to hold this; the nearest tables, for the user to judge."""
    about = " ".join(topic)
    text = (f"I found no table about '{about}' in the catalog: no table name, column or description matches "
            "those words, so the lake does not seem to have that data.")  # fmt: skip
    if hits:
        text += " The nearest tables, possibly related: " + ", ".join(f"`{h['table']}`" for h in hits[:3]) + "."
    return text


def partition_line(p: dict[str, Any]) -> str:
    facts = [counted(p.get("rows"), "row"), counted(p.get("files"), "file")]
    facts.append(f"updated {p['last_updated']}" if p.get("last_updated") else None)
    return f"- `{p['partition']}`: " + ", ".join(f for f in facts if f)


GRAIN_ASKED = re.compile(r"^\s*is\b.*\bpartitioned\s+by\s+(?:the\s+)?(hour|day|week|month|year|date|time)\b")
"""'is a.b partitioned by month?': a yes or no about its time grain."""


def compose_partitions(d: dict[str, Any], question: str, period: str | None = None) -> str:
    """The partitioning and the newest partitions; for a table partitioned by values that are not periods
    (buckets, truncations), those values, and that none is newest or holds ``period``."""
    if d.get("partitioning") == "not partitioned":
        return f"`{d['table']}` is not partitioned."
    if d.get("partitioned_by_time") is False:
        said = f"so no partition holds {period}" if period else "so none of them is newer than another"
        lines = [f"`{d['table']}` is {d['partitioning']}, not by time: its {number(d['total_partitions'])} partition "
                 f"values are not dates or periods, {said}."]  # fmt: skip
        shown = d.get("partitions", [])
        lines.append("Its partitions:" if len(shown) >= d["total_partitions"] else f"{len(shown)} of them:")
        return "\n".join(lines + [partition_line(p) for p in shown])
    lines = [f"`{d['table']}` is {d['partitioning']}, with {number(d['total_partitions'])} partitions"
             + (f" from {d['first'][:10]} to {d['latest'][:10]}" if d.get("first") else "") + "."]  # fmt: skip
    if asked := GRAIN_ASKED.search(question.lower()):  # "is a.b partitioned by month?": yes or no first
        grain = asked.group(1)
        said = grain in ("date", "time") or re.search(rf"\b{grain}\b", str(d.get("partitioning")))
        lines[0] = ("Yes: " if said else "No: ") + lines[0] + ("" if said else f" It is not partitioned by {grain}.")
    newest = d.get("partitions", [])
    if newest and re.search(r"\b(?:latest|newest|most recent|last)\b", question.lower()):
        lines.append(f"The latest partition is `{newest[0]['partition']}`:")
        lines.append(partition_line(newest[0]))
    elif newest:
        lines.append("The newest partitions:" if d.get("latest") else "Some of them:")
        lines += [partition_line(p) for p in newest]
    return "\n".join(lines)


def compose_range(d: dict[str, Any], label: str, overview: dict[str, Any]) -> str:
    """Partitions in a period, the dates it was taken to mean in ``label``; with none, which one is the newest."""
    newest = (overview.get("partitions") or [{}])[0].get("partition")
    latest = f" The newest partition is `{newest}`" + (f" ({overview['latest'][:10]})." if overview.get("latest") else ".")
    if not d.get("matched"):
        return f"`{d['table']}` has no partition for {label}." + (latest if newest else "")
    total = [counted(d.get("matched_rows"), "row"), counted(d.get("matched_files"), "file"), d.get("matched_size")]
    lines = [f"`{d['table']}` has {counted(d['matched'], 'partition')} for {label} ({', '.join(t for t in total if t)})."]
    lines += [partition_line(p) for p in d.get("partitions", [])]
    if d.get("note"):
        lines.append(f"({d['note']})")
    return "\n".join(lines)


def run_line(sql: str, convo: Conversation) -> str:
    """What became of running the draft: its result, the failure, or how to run it ("" while it is to run)."""
    ran = convo.result("run_sql", sql=sql)
    if ran is not None:
        return compose_result(ran.data) if ran.ok else f"Running it failed: {ran.data.get('error')}"
    return "" if convo.run else "Ask me to run it (or pass --run) to see the result."


def compose_result(d: dict[str, Any]) -> str:
    columns, rows = d.get("columns", []), d.get("rows", [])
    if not rows:
        return "The query returned no rows."
    table = ["| " + " | ".join(map(str, columns)) + " |", "|" + "---|" * len(columns)]
    table += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in rows[:10]]
    more = f"\n\nShowing 10 of {d.get('row_count', len(rows))} rows." if len(rows) > 10 else ""
    cut = " More rows exist than the row limit." if d.get("truncated") else ""
    masked = f" Masked PII columns: {', '.join(d['masked_columns'])}." if d.get("masked_columns") else ""
    return "Result:\n\n" + "\n".join(table) + more + cut + masked


def compose_other_thing(draft: Draft, stored: dict[str, Any]) -> str:
    """Declined, naming what was found: a count of a whole table whose rows are not the thing asked about."""
    unplaced = "; ".join(m.partition(" (")[0].removeprefix(OTHER_THING).strip() for m in draft.missing)
    rows = f" ({stored['rows']:,} rows)" if stored.get("rows") is not None else ""
    return (f"I cannot answer that: I found no table or column for {unplaced}. The closest table I found is "
            f"`{draft.table}`{rows}, whose rows are not that, so counting them would not answer the question. "
            "Name the table or column that records it, if the lake has one.")


def compose_sql(draft: Draft, convo: Conversation, stored: dict[str, Any], probes: tuple[str, ...]) -> str:
    if draft.whole_table_count and draft.missing and all(m.startswith(OTHER_THING) for m in draft.missing):
        return compose_other_thing(draft, stored)
    sql = current_sql(convo, draft.sql, probes, ("validate_sql", "run_sql"))
    validation = convo.result("validate_sql", sql=sql)
    lines = [f"Partial answer: I could not match {'; '.join(draft.missing)}, so the SQL below is a draft that "
             f"does not cover {'it' if len(draft.missing) == 1 else 'them'} and does not answer the question as asked."
             ] if draft.missing else []  # fmt: skip
    if draft.whole_table_count and stored.get("rows") is not None:
        lines.append(f"`{draft.table}` has {stored['rows']:,} rows in its current snapshot {stored.get('snapshot_id')}"
                     f" (as of {stored.get('as_of') or 'unknown'}), from the catalog's statistics. To count them:")  # fmt: skip
    lines.append(f"{draft.explanation}." if sql == draft.sql else "I fixed the draft after the validator's errors.")
    lines.append(f"```sql\n{sql}\n```")
    if validation is not None and not validation.ok:
        lines.append("The query still fails validation: " + "; ".join(validation.data.get("errors", [])))
    return "\n\n".join(line for line in [*lines, run_line(sql, convo)] if line)
