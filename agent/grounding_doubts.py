"""SQL shapes that do not answer what a question asks, though every word of it is in the evidence: one total
over things ("across all regions") grouped by them, or filtered to one of them; names asked for with no name
column read; each thing's attributes answered with an aggregate; "how much" answered with a row count; things
grouped by their key ("orders per campaign" by ``campaign_id``), not by a name (or beside it); a grouped query not
grouped by what the question asks one answer each of; a column held equal to two values at once. Each returns
the question's words it doubts (the last, the filter no row passes), which the grounding check then lists as not
accounted for; each reads the one tree ``parsed`` gives, parsed once per answer. Words and SQL only: nothing here
knows a lake.
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

from agent.grounding_words import Evidence, accounted_for, name_words
from agent.models.language import grain_of, split_instructions
from agent.models.request import ACROSS_ALL, NAME_OF
from agent.models.vocabulary import AGGREGATE_WORDS, NAME_PARTS
from catalog_ingest.text import QUESTION_STOPWORDS, identifier_parts, stem, words

ATTRIBUTES_OF_EACH = re.compile(r"^\s*(?:please\s+)?(?:list|show|give|display|return|what (?:is|are))\b(?:\s+me)?.*?"
                                r"\bof\s+(?:each|every|all(?:\s+the)?)\s+[a-z_]+")
""""list the name and capacity of each stadium": rows listed, one per thing, not an aggregate over them."""
MEASURE_ASKED = frozenset(w for kind in ("count", "sum", "avg", "median", "share", "min", "max", "distinct", "order")
                          for w in AGGREGATE_WORDS[kind].split()) | {"much"}  # fmt: skip
"""Words that ask for an aggregate (or a ranking), which a listing of attributes does not say."""
HOW_MUCH = re.compile(r"\bhow much\b", re.IGNORECASE)
""""how much did we refund?": an amount, which a count of rows is not."""


def over_all(question: str) -> set[str]:
    """The words of the things a question totals over ("across all regions and channels": regions, channels)."""
    said = " ".join(m.group(0) for m in ACROSS_ALL.finditer(split_instructions(question)[0].lower()))
    return {w for w in words(said) if w not in QUESTION_STOPWORDS}


def parsed(sql: str) -> exp.Expression | None:
    """The query's tree, parsed once for every doubt; None when sqlglot cannot read it (nothing is doubted)."""
    try:
        return sqlglot.parse_one(sql, read="duckdb")
    except sqlglot.errors.ParseError:
        return None


def grouped_columns(tree: exp.Expression | None) -> set[str]:
    """The words of the columns a query groups by (its GROUP BY, ordinals read as the selected expressions)."""
    if tree is None:
        return set()
    found = set()
    for group in tree.find_all(exp.Group):
        select = group.parent.expressions if isinstance(group.parent, exp.Select) else []
        for key in group.expressions:
            if isinstance(key, exp.Literal) and key.is_int and 0 < int(key.this) <= len(select):
                key = select[int(key.this) - 1]
            found |= {w for col in key.find_all(exp.Column) for w in name_words(col.name)}
            found |= name_words(key.name) if isinstance(key, exp.Column) else set()
    return found


EACH_THING = re.compile(r"\b(?:each|per|every)\s+(?:single\s+)?([a-z_]+)\b(?!\.)")
""""the top country in each region", "orders per customer": what the answer is given for, one group each."""


def groups_unsaid(question: str, tree: exp.Expression | None) -> list[str]:
    """The things a question asks for one answer each of ("in each region") that a grouped query neither groups
    nor partitions by: "the country with the most orders in each region" answered with one country overall. A
    time grain ("per day") is left to the period checks; a query with no groups to the ungrouped-aggregate check."""
    if tree is None or (tree.find(exp.Group) is None and tree.find(exp.Window) is None):
        return []
    grouped = grouped_columns(tree) | {w for window in tree.find_all(exp.Window) for part in window.args.get("partition_by") or []
                                       for col in part.find_all(exp.Column) for w in name_words(col.name)}  # fmt: skip
    asked = split_instructions(question)[0].lower()
    said = {stem(w) for w in words(asked)}
    things = [m.group(1) for m in EACH_THING.finditer(asked)]
    grouped_stems = {stem(w) for w in grouped}
    others = Evidence({w for w in grouped if stem(w) not in said})  # a grouped column the question names is not "each X" too
    return [thing for thing in dict.fromkeys(things) if thing not in QUESTION_STOPWORDS and not grain_of(f"per {thing}")
            and stem(thing) not in grouped_stems and not accounted_for(thing, others)]  # fmt: skip


def filtered_over_all(question: str, tree: exp.Expression | None) -> list[str]:
    """["all"] when the question asks for one total over all of something ("across all channels") that the SQL
    filters to one value of (``channel = 'social'``): a part, not the whole."""
    if tree is None or not (things := over_all(question)):
        return []
    filtered = {stem(w) for where in tree.find_all(exp.Where) for test in where.find_all(exp.EQ, exp.In)
                for col in test.this.find_all(exp.Column) for w in name_words(col.name)}  # fmt: skip
    return ["all"] if any(stem(w) in filtered for w in things) else []


def one_total_grouped(question: str, tree: exp.Expression | None) -> list[str]:
    """["all"] when the question asks for one total over things ("across all regions") that the SQL groups by."""
    grouped = grouped_columns(tree)
    return ["all"] if grouped and any(accounted_for(w, Evidence(grouped)) for w in over_all(question)) else []


def names_unshown(question: str, tree: exp.Expression | None) -> list[str]:
    """["name"] when the question asks for the names of things ("the names of the 3 campaigns", "its campaign
    name") and the SQL reads no column that holds a name (``NAME_PARTS``): a key is not the name asked for."""
    asked = [m for m in NAME_OF.finditer(split_instructions(question)[0].lower())
             if (m.group(1) or m.group(2)) not in QUESTION_STOPWORDS]  # fmt: skip
    if not asked or tree is None:
        return []
    columns = [c.name for c in tree.find_all(exp.Column)]
    return [] if any(NAME_PARTS & set(identifier_parts(c.lower())) for c in columns) else ["name"]


def listing_aggregated(question: str, tree: exp.Expression | None) -> list[str]:
    """["list"] when the question lists attributes of each thing ("show the name and age of each singer") and
    says no aggregate, while the SQL aggregates: groups with a count are not the rows asked for."""
    asked = split_instructions(question)[0].lower()
    if not ATTRIBUTES_OF_EACH.search(asked) or set(words(asked)) & MEASURE_ASKED or tree is None:
        return []
    return ["list"] if tree.find(exp.AggFunc) is not None else []


def amount_counted(question: str, tree: exp.Expression | None) -> list[str]:
    """["much"] when "how much" is answered by counting rows: the SQL counts and sums, averages or bounds nothing."""
    if not HOW_MUCH.search(split_instructions(question)[0]) or tree is None:
        return []
    amounts = (exp.Sum, exp.Avg, exp.Min, exp.Max, exp.Median)
    return ["much"] if tree.find(exp.Count) and not any(tree.find(kind) for kind in amounts) else []


VALUES_LISTED = re.compile(r"^\s*(?:please\s+)?(?:(?:what|which)\s+(?:are|were)|list|show|give)(?:\s+me)?\s+(?:all\s+)?"
                           r"(?:the\s+|our\s+)?(different|distinct|unique)\b")
""""what are the different templates?": the values listed, which a count of them is not."""
COUNT_ASKED = re.compile(r"\b(?:how many|number of|count)\b")


def values_counted(question: str, tree: exp.Expression | None) -> list[str]:
    """["different"] when the question lists the different values of something and the SQL only counts them
    (one ``COUNT(DISTINCT ...)``, no groups)."""
    asked = split_instructions(question)[0].lower()
    if not (listed := VALUES_LISTED.search(asked)) or COUNT_ASKED.search(asked) or tree is None:
        return []
    counted = any(isinstance(count.this, exp.Distinct) for count in tree.find_all(exp.Count))
    return [listed.group(1)] if counted and tree.find(exp.Group) is None else []


def contradictory_filters(tree: exp.Expression | None) -> list[str]:
    """A column held equal to two different values in one conjunction ("country = 'DE' AND country = 'FR'"):
    no row can pass it, so its empty result answers nothing. Each such column, as the values it is asked to hold."""
    if tree is None:
        return []
    doubts = []
    for condition in (node.this for node in tree.find_all(exp.Where, exp.Having)):
        held: dict[str, set[str]] = {}
        for part in condition.flatten() if isinstance(condition, exp.And) else [condition]:
            if isinstance(part, exp.EQ) and isinstance(part.this, exp.Column) and isinstance(part.expression, exp.Literal):
                held.setdefault(part.this.name.lower(), set()).add(part.expression.sql())
        doubts += [f"{column} = {' and '.join(sorted(values))} at once" for column, values in held.items() if len(values) > 1]
    return doubts


def keys_grouped(question: str, tree: exp.Expression | None) -> dict[str, str]:
    """The words of things the SQL groups by the key of ("per order" by ``order_id``), each with its key, when the
    question does not say "id": the groups are keys, not the things' names."""
    said = words(split_instructions(question)[0])
    if {"id", "ids"} & set(said) or tree is None:
        return {}
    keys = []
    for group in tree.find_all(exp.Group):
        if group.parent is not tree:  # counted per order inside, then averaged: no key is shown
            continue
        select = group.parent.expressions if isinstance(group.parent, exp.Select) else []
        grouped = [select[int(key.this) - 1] if isinstance(key, exp.Literal) and key.is_int and 0 < int(key.this) <= len(select)
                   else key for key in group.expressions]  # fmt: skip
        names = [col.name.lower() for key in grouped for col in key.find_all(exp.Column)]
        if any(NAME_PARTS & set(identifier_parts(name)) for name in names):
            continue  # by the name and the key beside it ("product_name, product_id"): the names are shown
        keys += [name for name in names if name.endswith("_id")]
    found: dict[str, str] = {}
    for key in dict.fromkeys(keys):
        if key in said or stem(key) in {stem(w) for w in said}:
            continue  # "per campaign_id": the key asked for
        entity = stem(key.removesuffix("_id"))
        found |= {w: key for w in said if w not in QUESTION_STOPWORDS and stem(w) == entity and w not in found}
    return found
