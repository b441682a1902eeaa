"""Planners for the offline model: from the intent and this turn's tool results, the next tool calls or the answer.

Each question type has a planner; it is called again after every round of tool results, asks only for what
it has not seen yet, and hands the results to an answer template once it has all it needs.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from agent.models.language import layer_rank, period_of, related, similar, what_is_asked
from agent.models.offline.compose import (
    CANNOT_ANSWER,
    IDENTIFIER,
    REFUSALS,
    compose_column,
    compose_describe,
    compose_find,
    compose_history,
    compose_no_column,
    compose_no_table,
    compose_not_found,
    compose_partitions,
    compose_range,
    compose_sql,
    compose_stats,
    failure,
)
from agent.models.offline.catalog import compose_listing, next_listing
from agent.models.offline.conversation import Conversation, current_sql
from agent.models.offline.intents import LAKE_OBJECTS, TABLE_NAME, Intent
from agent.models.offline.verified import answer_from_verified
from agent.models.request import Request, parse_request
from agent.models.semantic_terms import fitting_metric, layer_dims, layer_use
from agent.models.sql_antijoins import missing_things
from agent.models.sql_writer import choose_main, draft_sql, probe_sql, repair
from agent.models.groups import EXACT, group_owners, keyed_entities, owner_entities, phrase_groups
from agent.models.tables import Table, names_entity, points_to
from agent.models.values import read_probe, value_filters, value_words
from agent.state import ToolResult
from catalog_ingest.text import stem, words


@dataclass
class Call:
    name: str
    args: dict[str, Any]


@dataclass
class Answer:
    text: str


Step = list[Call] | Answer
"""Tool calls to make next, or the answer."""
TYPO_RATIO = 0.9
"""How alike a named table and a real one must be for the name to count as a misspelling of it."""


def misspelled(named: str, convo: Conversation) -> tuple[ToolResult | None, str | None]:
    """The failed lookup of a named table, and the real name it misspells (one typo away, same namespace)."""
    failed = next((r for r in convo.results if not r.ok and r.args.get("table") == named), None)
    suggestions = (failed.data.get("did_you_mean") or []) if failed else []
    close = [s for s in suggestions[:1] if s.lower().rpartition(".")[0].endswith(named.lower().rpartition(".")[0])
             and SequenceMatcher(None, named.lower(), s.lower()).ratio() >= TYPO_RATIO]  # fmt: skip
    return failed, close[0] if close else None


def resolve_named(named: str, convo: Conversation) -> str | Answer:
    """A table the question names: itself, the real name it misspells, or "there is no table X"."""
    failed, real = misspelled(named, convo)
    if failed is None or real:
        return real or named
    return Answer(compose_no_table(named, failed))


def pick_table(intent: Intent, convo: Conversation) -> str | Step:
    """The one table a question is about: named outright (a misspelling corrected, a table that does not exist
    declined), the previous answer's table for a question that only refers back ("how big is it?"), or searched."""
    if intent.table:
        return resolve_named(intent.table, convo)
    if convo.previous_table and (not intent.topic or (convo.refers_back and intent.kind == "column")):
        return convo.previous_table  # "what was the last operation?" has nothing of its own to be about
    if not intent.topic:
        return Answer("Which table do you mean? Name it (for example `namespace.table`) or say what it holds.")
    search = convo.result("search_tables")
    if search is None:
        return [Call("search_tables", {"query": " ".join(intent.topic), "k": 5})]
    hits = search.data.get("tables", [])
    if not hits or (intent.kind != "column" and not covered_words(intent.topic, hits)):
        return Answer(compose_not_found(hits, intent.topic))
    named = [h for h in hits if any(stem(h["table"].rpartition(".")[2]) == stem(w) for w in intent.topic)]
    return (named or hits)[0]["table"]


def single_table(tool: str, compose: Callable[[dict[str, Any], str], str]) -> Callable[[Intent, Conversation], Step]:
    """Plan for questions one tool call on one table answers: find the table, call the tool, compose."""

    def plan(intent: Intent, convo: Conversation) -> Step:
        table = pick_table(intent, convo)
        if not isinstance(table, str):
            return table
        observed = convo.result(tool, table=table)
        if observed is None:
            return [Call(tool, {"table": table})]
        return Answer(compose(observed.data, convo.question) if observed.ok else failure(observed))

    return plan


def plan_find(intent: Intent, convo: Conversation) -> Step:
    if not intent.topic:
        return Answer("What should the tables be about? For example: 'which table has refunds by region?'")
    search = convo.result("search_tables")
    if search is None:
        return [Call("search_tables", {"query": " ".join(intent.topic), "k": 5})]
    hits = search.data.get("tables", [])
    if not covered_words(intent.topic, hits):
        return Answer(compose_not_found(hits, intent.topic))
    unfound = [w for w in intent.topic if w not in covered_words(intent.topic, hits) and not RANKED_DATA.search(f"which {w}")]
    asked = convo.question.lower()
    if RANKED_DATA.search(asked) and not LAKE_OBJECTS.search(asked) and not WHERE_TO_LOOK.search(asked) and unfound:
        return Answer(compose_unranked(hits, unfound))  # a ranking of rows a table listing does not answer
    grain = ROW_GRAIN.search(convo.question.lower())
    ranked = best_first(intent.topic, hits, grain and grain.group(1))
    return Answer(compose_find({**search.data, "tables": ranked}, intent.topic, convo.question))


RANKED_DATA = re.compile(r"^\s*(?:which|what)\b.*\b(?:most|best|worst|highest|lowest|largest|biggest|smallest|fewest"
                         r"|least|top|fastest|slowest|cheapest|longest|shortest)\b")
"""'which warehouse ships the most orders?': a ranking of the lake's rows, not a question about its tables."""
WHERE_TO_LOOK = re.compile(r"\b(?:sources?|place|info(?:rmation)?|look|find)\b")
"""'which source is best for revenue?': where to look, a question about the tables after all."""


def compose_unranked(hits: list[dict[str, Any]], unfound: list[str]) -> str:
    """A ranking asked of things no table found holds: declined, naming what was found."""
    said = ", ".join(f"'{w}'" for w in unfound)
    return (f"I cannot answer this ranking: no table, column or value I found holds {said}, so I cannot rank by "
            "it. The nearest tables: " + ", ".join(f"`{h['table']}`" for h in hits[:3]) + ".")  # fmt: skip


OF_THOSE = re.compile(r"\b(?:of|among|from|in)\s+(?:those|these|them|it)\b", re.IGNORECASE)
"""'how many of those were purchases?': the rows of the previous answer's table, whatever the words would find."""
HEADLINE_CANDIDATES = 3
ROW_GRAIN = re.compile(r"\brows?\s+(?:per|for each|for every|for|each)\s+(?:[a-z]+\s+)?([a-z]+)")
""""one row per web session": a table of sessions, whatever else mentions them."""


def best_first(topic: list[str], hits: list[dict[str, Any]], grain: str | None = None) -> list[dict[str, Any]]:
    """The hits with the one among the first few that covers the most of the topic's words first (the headline
    names it), the rest in the search's order; a table named for the ``grain`` of its rows goes first."""
    leading = hits[:HEADLINE_CANDIDATES]
    if not leading:
        return hits
    named = lambda h: bool(grain) and stem(h["table"].rpartition(".")[2]) == stem(grain)  # noqa: E731
    best = max(leading, key=lambda h: (named(h), len(covered_words(topic, [h])), -hits.index(h)))
    return [best, *(h for h in hits if h is not best)]


def hit_words(hit: dict[str, Any]) -> set[str]:
    """Stemmed words of a search hit: its name, matched columns and values, and description."""
    values = [v for found in (hit.get("matched_values") or {}).values() for v in found]
    names = " ".join([hit["table"], *(hit.get("matched_columns") or []), *values]).replace(".", " ").replace("_", " ")
    comment = (hit.get("metadata_untrusted") or {}).get("comment") or ""
    return {stem(w) for w in words(f"{names} {comment}")}


def covered_words(topic: list[str], hits: list[dict[str, Any]]) -> list[str]:
    """The topic words some hit's name, matched columns or description shares (up to a typo or synonym)."""
    seen = set().union(*(hit_words(h) for h in hits)) if hits else set()
    return [w for w in topic if related(w) & seen or any(similar(stem(w), s) for s in seen)]


def plan_partitions(intent: Intent, convo: Conversation) -> Step:
    table = pick_table(intent, convo)
    if not isinstance(table, str):
        return table
    overview = convo.result("list_partitions", table=table, filter=None)
    if overview is None:
        return [Call("list_partitions", {"table": table, "filter": None, "limit": 5})]
    if not overview.ok:
        return Answer(failure(overview))
    period = period_of(convo.question, convo.today)
    if period is None or overview.data.get("partitioning") == "not partitioned":
        return Answer(compose_partitions(overview.data, convo.question))
    if overview.data.get("partitioned_by_time") is False:
        return Answer(compose_partitions(overview.data, convo.question, period.label))
    ranged = convo.result("list_partitions", table=table, filter=period.filter())
    if ranged is None:
        return [Call("list_partitions", {"table": table, "filter": period.filter(), "limit": 50})]
    return Answer(compose_range(ranged.data, period.label, overview.data) if ranged.ok else failure(ranged))


def plan_sql(intent: Intent, convo: Conversation) -> Step:
    """Search, describe the likely tables, look up column values the question may name, draft, check."""
    query = " ".join(intent.topic) or convo.question
    search = convo.result("search_tables", query=query)
    if search is None:
        return [Call("search_tables", {"query": query, "k": 5})]
    if (taught := answer_from_verified(search.data, convo, check_sql)) is not None:
        return Answer(taught) if isinstance(taught, str) else taught
    found = search.data.get("tables", [])
    resolved = [resolve_named(t, convo) for t in intent.tables]
    if declined := next((r for r in resolved if isinstance(r, Answer)), None):
        return declined
    previous = [convo.previous_table] if convo.previous_table and (not intent.topic or OF_THOSE.search(convo.question)) else []
    layer = layer_use(search.data)  # the lake owner's terms and metrics name the tables first
    request = parse_request(convo.question, convo.today)
    grouped = {stem(w) for w in [*request.dims, *request.qualifiers]}
    named = [str(r) for r in resolved] or previous or (layer.counted_tables(grouped) if layer else [])
    if not named and lacks_topic(intent.topic, found):
        return Answer(compose_not_found(found, intent.topic))
    hits = list(dict.fromkeys([*named, *(h["table"] for h in found)]))[: max(3, len(named))]
    if not hits:
        return Answer(f"I found no table for '{' '.join(intent.topic)}', so I cannot draft SQL for it.")
    request.layer = fitting_metric(layer, request.agg, request.implicit)
    request.dims, request.qualifiers, request.owners = layer_dims(request.dims, request.qualifiers, request.owners, request.layer)
    main, tables = None, []
    while True:  # described tables, then the tables along the main one's keys a group needs
        described = [convo.result("describe_table", table=t) for t in hits]
        if any(d is None for d in described):
            return [Call("describe_table", {"table": t}) for t, d in zip(hits, described, strict=True) if d is None]
        tables = [Table.from_description(d.data) for d in described if d is not None and d.ok]
        main = choose_main(request, tables, named)
        if main is None:
            return Answer("I could not read any of the matching tables, so I cannot draft SQL.")
        if referenced := referenced_tables(request, main, tables, hits):
            hits += referenced
            continue
        absent = [w for w in missing_things(request, main) if not any(t.is_about(w) for t in tables)]
        wanted = list(dict.fromkeys([*key_entities(request, main, tables), *absent]))  # "never had a refund"
        if not wanted:
            break
        searched = [convo.result("search_tables", query=entity) for entity in wanted]
        if any(found is None for found in searched):
            return [Call("search_tables", {"query": e, "k": 5}) for e, f in zip(wanted, searched, strict=True) if f is None]
        extra = entity_tables(wanted, [f.data.get("tables", []) if f.ok else [] for f in searched], hits)
        if not extra:
            break
        hits += extra
    probes: tuple[str, ...] = ()
    probed_tables = [main, *dimension_tables(request, main, tables)]  # the main table's values first
    for probed_table in probed_tables:
        probe = probe_sql(request, probed_table)
        if probe and (probed := convo.result("run_sql", sql=probe)) is None:
            return [Call("run_sql", {"sql": probe, "limit": 500})]
        probed_table.values = read_probe(probed.data) if probe and probed.ok else {}
        probes += (probe,) if probe else ()
    held = {v.lower() for t in probed_tables for values in t.values.values() for v in values}
    if absent := [w for w in absent_columns(convo.question, tables) if w not in held]:  # "just paid_social": a value
        return Answer(compose_no_column(absent, main))
    draft = draft_sql(request, tables, main)
    stored = next((d.data for d in described if d and d.ok and d.data.get("table") == draft.table), {})
    return check_sql(draft.sql, convo, probes) or Answer(compose_sql(draft, convo, stored, probes))


def dimension_tables(request: Request, main: Table, tables: list[Table]) -> list[Table]:
    """Described tables that join the main one and are about the noun after a word the main table's values do
    not hold ("enterprise customers", "footwear products"), or have a column the noun names that the main table
    lacks ("the billing team"): the word may be a value of theirs."""
    held = {word for _, _, word in value_filters(request, main)}
    tokens, found = request.words, []
    for word in value_words(request, main):
        after = tokens[tokens.index(word) + 1] if word in tokens[:-1] else ""
        fits = lambda t: (t.is_about(after) and word not in held) or (  # noqa: E731
            t.match(after)[1] >= EXACT > main.match(after)[1])
        found += [t for t in tables if t is not main and after and fits(t) and points_to(main, t) and t not in found][:1]
    return found


def absent_columns(question: str, tables: list[Table]) -> list[str]:
    """Column names the question writes out that none of the described tables has (nor names a table)."""
    text = TABLE_NAME.sub(" ", question.lower())
    known = {p for t in tables for c in t.columns for p in (c["name"].lower(), c["name"].lower().rpartition(".")[2])}
    known |= {t.short.lower() for t in tables}
    return [w for w in dict.fromkeys(IDENTIFIER.findall(text)) if w not in known]


def unplaced_groups(request: Request, main: Table, tables: list[Table]) -> tuple[list[str], dict[str, str]]:
    """The groups in none of the described tables that join the main one, and whose attribute each group is
    (``group_owners``) when no described table is about that owner yet."""
    dims, qualifiers = phrase_groups(request.dims, request.qualifiers, main)
    owners = group_owners(request.owners, qualifiers, main)
    joinable = [t for t in tables if t is not main and points_to(main, t)]
    unplaced = [d for d in dims if d not in qualifiers and not main.column(d) and not any(t.column(d) for t in joinable)]
    pending = set(owner_entities(owners, main, tables))
    return unplaced, {head: owner for head, owner in owners.items() if owner in pending}


def referenced_tables(request: Request, main: Table, tables: list[Table], described: list[str]) -> list[str]:
    """Tables the semantic layer's relationships lead to from the main table, not described yet, when a group
    is in none of the described tables or is the attribute of something the layer's key points at."""
    unplaced, owners = unplaced_groups(request, main, tables)
    if not unplaced and not owners:
        return []
    targets = [t for _, t in main.references()]
    if unplaced:  # one step further, from the tables the main one points at (payments -> orders -> customers)
        targets += [t for middle in tables if middle is not main and points_to(main, middle) for _, t in middle.references()]
    wanted = [t for t in targets if t not in described and (unplaced or any(names_entity(t, o) for o in owners.values()))]
    return list(dict.fromkeys(wanted))


def key_entities(request: Request, main: Table, tables: list[Table]) -> list[str]:
    """What the main table's key columns point at (``product_id`` -> product) with no table described for it,
    when a group the request asks for is in none of the tables that join, or is qualified by that entity
    ("campaign channel"): a dimension's attribute ("revenue by product category") lives in the table of the key."""
    unplaced, owners = unplaced_groups(request, main, tables)
    keyed = keyed_entities(request.dims, main, tables)  # "orders per campaign": the campaigns' names
    if not unplaced:
        return list(dict.fromkeys([*owners.values(), *keyed]))
    keys = [c["name"][: -len("_id")] for c in main.columns if c["name"].endswith("_id") and c["name"] != "_id"]
    return list(dict.fromkeys([*(k for k in keys if not any(t is not main and t.is_about(k) for t in tables)), *keyed]))


def entity_tables(entities: list[str], searched: list[list[dict[str, Any]]], described: list[str]) -> list[str]:
    """For each entity, the table its search found that is named after it (``products`` for product), the
    most curated first; none that is already described."""
    found = []
    for entity, hits in zip(entities, searched, strict=True):
        named = [hit["table"] for hit in hits if hit["table"] not in described
                 and stem(hit["table"].rpartition(".")[2]) == stem(entity)]  # fmt: skip
        found += sorted(named, key=layer_rank, reverse=True)[:1]
    return found


def lacks_topic(topic: list[str], hits: list[dict[str, Any]]) -> bool:
    """Most of what the question is about (two words or more) appears in no table the search found; words that
    frame, negate or compare ("did not fail", "fewer than 500") say how, not what, and numbers say how much."""
    topic = what_is_asked(topic)
    missing = len(topic) - len(covered_words(topic, hits))
    return missing >= 2 and 2 * missing >= len(topic)


def check_sql(sql: str, convo: Conversation, probes: tuple[str, ...] = ()) -> list[Call] | None:
    """Validate, repair from the validator's hints, estimate, run when asked; None when all is done."""
    current = current_sql(convo, sql, probes)
    validation = convo.result("validate_sql", sql=current)
    if validation is None:
        return [Call("validate_sql", {"sql": current})]
    if not validation.ok:
        fixed = repair(current, validation.data.get("errors", []))
        if fixed is None or convo.result("validate_sql", sql=fixed):
            return None
        return [Call("validate_sql", {"sql": fixed})]
    if convo.result("estimate_scan", sql=current) is None:
        return [Call("estimate_scan", {"sql": current})]
    if convo.run and convo.result("run_sql", sql=current) is None:
        return [Call("run_sql", {"sql": current})]
    return None


def plan_catalog(intent: Intent, convo: Conversation) -> Step:
    """Rankings and listings of the whole catalog through ``list_tables`` (``catalog.next_listing``)."""
    args, observed = next_listing(convo.question, convo.result)
    return [Call("list_tables", args)] if args is not None else Answer(compose_listing(observed, convo.question))


def plan_why(intent: Intent, convo: Conversation) -> Step:
    """A question about causes: declined, naming the tables the search found for its topic."""
    search = convo.result("search_tables")
    if search is None and intent.topic:
        return [Call("search_tables", {"query": " ".join(intent.topic), "k": 3})]
    hits = [h["table"] for h in (search.data.get("tables", []) if search and search.ok else [])]
    topic = " ".join(w for w in intent.topic if w != "why")
    found = f" The tables I found for '{topic}': {', '.join(f'`{t}`' for t in hits)}." if hits else ""
    return Answer("I cannot tell you why: the lake records what happened, not its causes, and I answer from its "
                  f"tables only.{found} I can count or sum what they hold by period or group, as facts to reason from.")


PLANS: dict[str, Callable[[Intent, Conversation], Step]] = dict(
    catalog=plan_catalog,
    find=plan_find,
    column=single_table("describe_table", compose_column),
    describe=single_table("describe_table", compose_describe),
    stats=single_table("describe_table", compose_stats),
    history=single_table("table_history", compose_history),
    partitions=plan_partitions,
    sql=plan_sql,
    why=plan_why,
)


def plan(intent: Intent, convo: Conversation) -> Step:
    if intent.kind in REFUSALS:
        return Answer(REFUSALS[intent.kind])
    if intent.kind not in PLANS:
        return Answer(CANNOT_ANSWER)
    step = PLANS[intent.kind](intent, convo)
    corrected = [(t, real) for t in intent.tables if (real := misspelled(t, convo)[1])]
    if isinstance(step, Answer) and corrected:
        said = "; ".join(f"there is no table `{t}`, so this is about the closest name, `{real}`" for t, real in corrected)
        return Answer(f"{said[0].upper()}{said[1:]}.\n\n{step.text}")
    return step
