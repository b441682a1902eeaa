"""Rival tables: other tables the turn's tools found that account for the question as well as the SQL's table.

A pooled lake holds many tables of the same thing. "How many players are there?" answered with ``COUNT(*)``
over ``league.players`` is a guess when the search (or a describe) in the same turn also found
``school.player``: the count of one table is stated as the answer while the lake holds several. A found table
of another namespace is a rival when its own name covers every term the SQL's table name covers and its name
or known columns (a search hit's matched columns, a describe's columns) cover every other term the SQL
accounts for; a column, value or namespace only the SQL's table has sets it apart. Raw and staging layers are
never rivals of the curated table they feed (``raw.orders`` and ``marts.orders``).

Within the SQL's own namespace, a term only that namespace's name covers ("singers", answered from
``music.songs``) is not accounted for when the turn found a table there named for it (``music.singers``)
that the SQL does not read.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from agent.grounding_words import Evidence, accounted_for, name_words
from agent.models.language import layer_rank
from agent.state import TurnFacts
from catalog_ingest.text import identifier_parts, stem


def table_name_words(full_name: str) -> set[str]:
    """The stemmed words of a table's own name, without its namespace: ``league.player_stats`` -> player, stat."""
    return {stem(p) for p in identifier_parts(full_name.rsplit(".", 1)[-1]) if p}


def namespace_of(full_name: str) -> str:
    return full_name.rsplit(".", 1)[0].lower() if "." in full_name else ""


def tables_read(tree: exp.Expression) -> set[str]:
    """The tables a parsed query reads, as ``namespace.table`` in lower case."""
    return {".".join(p for p in (t.db, t.name) if p).lower() for t in tree.find_all(exp.Table) if t.name}


def sql_tables(sql: str) -> set[str]:
    """``tables_read`` of a query's text; none when it does not parse."""
    try:
        return tables_read(sqlglot.parse_one(sql, read="duckdb"))
    except sqlglot.errors.ParseError:
        return set()


def found_tables(facts: TurnFacts) -> dict[str, set[str]]:
    """Every table the turn's search and describe results named, with the column names they gave for it."""
    seen: dict[str, set[str]] = {}
    for result in facts.results:
        if not result.ok:
            continue
        if result.name == "search_tables":
            for hit in result.data.get("tables", []):
                columns = {str(c).lower() for c in hit.get("matched_columns") or []}
                seen.setdefault(str(hit["table"]), set()).update(columns)
        elif result.name == "describe_table" and result.data.get("table"):
            columns = {str(c.get("name", "")).lower() for c in result.data.get("columns") or [] if isinstance(c, dict)}
            seen.setdefault(str(result.data["table"]), set()).update(columns)
    return seen


def covered(term: str, names: set[str] | None = None, tables: set[str] | None = None) -> bool:
    return accounted_for(term, Evidence(names or set(), tables=tables or set()), measures=False)


def ambiguous_terms(accounted: list[str], found: Evidence, facts: TurnFacts, sql: str) -> dict[str, list[str]]:
    """The accounted terms a rival table covers as well as the SQL's tables do, each with the rivals; none
    without a rival. Terms only a clause covers (an aggregate's, a period's) are left out of the comparison."""
    read = sql_tables(sql)
    named = [t for t in accounted if not accounted_for(t, Evidence(clauses=found.clauses), measures=False)]
    if not read or not named:
        return {}
    own_name = {w for table in read for w in table_name_words(table)}
    subjects = [t for t in accounted if covered(t, tables=own_name)]  # also those an alias names
    others = [t for t in named if t not in subjects]
    rank, namespaces = max(layer_rank(t) for t in read), {namespace_of(t) for t in read}
    kept = []
    for table, columns in found_tables(facts).items():
        if table.lower() in read or namespace_of(table) in namespaces or layer_rank(table) != rank:
            continue
        its_name, its_columns = table_name_words(table), {w for column in columns for w in name_words(column)}
        if all(covered(t, tables=its_name) for t in subjects) and all(covered(t, its_columns, its_name) for t in others):
            kept.append(table)
    return {t: sorted(kept) for t in named} if kept else {}


def unread_named_tables(accounted: list[str], found: Evidence, facts: TurnFacts, sql: str) -> list[str]:
    """Accounted terms only a read table's namespace covers, while the turn found a table of that namespace
    named for the term that the SQL does not read."""
    read = sql_tables(sql)
    own = Evidence(found.names, found.clauses, {w for table in read for w in table_name_words(table)})
    namespaces = {namespace_of(t) for t in read}
    unread = [table_name_words(t) for t in found_tables(facts) if t.lower() not in read and namespace_of(t) in namespaces]
    return [term for term in accounted if not accounted_for(term, own, measures=False)
            and any(covered(term, tables=words) for words in unread)]  # fmt: skip
