"""Intent rules for the offline model: what kind of question a text asks, what it is about, which tables it names.

Requests lakescout must decline (reading or writing files, changing data) are recognised first, whatever
else the question says; then the question types in priority order. Instructions to the assistant ("return
only the SQL") are not what the question is about, but one that asks for SQL makes it a SQL question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from agent.models.language import content_words, correct_typos, period_of, split_instructions
from agent.models.request import (
    LISTING,
    MEASURE_SAID,
    MODE,
    MODE_ASKED,
    RANGE,
    RANKING_VERBS,
    ROWS_ASKED,
    ROWS_MADE,
    VALUES_ASKED,
    WHEN_EXTREME,
    parse_comparisons,
    topic_words,
    without_possessives,
)
from agent.models.vocabulary import HOLD_VERBS, NOBODY_WORDS, TABLE_RANK_WORDS
from catalog_ingest.text import stem

UNSAFE: list[tuple[str, re.Pattern[str]]] = [
    ("files", re.compile(
        r"\bread_(?:csv|csv_auto|parquet|json|json_auto|ndjson|text|blob)\b|\bglob\s*\(|['\"](?:/|~/|[a-z]:\\)"
        r"|\bhttps?://|(?:^|\s)(?:/etc|/home|/root|/tmp|/var|~)/|\b(?:local|host|server|my) (?:files?|disk|filesystem)\b"
        r"|\b(?:write|save|export|dump|copy|store)\b[^.?]*\b(?:to|into|as) (?:a |the )?(?:local )?"
        r"(?:files?|disk|csv|parquet|json|s3|bucket|path|folder|directory)\b")),
    ("writes", re.compile(
        r"\b(?:drop|truncate|alter|create(?: or replace)?)\s+(?:table|view|schema|database|index|materialized)\b"
        r"|\bdelete\s+from\b|\binsert\s+(?:into|overwrite)\b|\bupdate\s+[\w.\"`]+\s+set\b|\bmerge\s+into\b"
        r"|\b(?:grant|revoke)\s+\w+.*\b(?:on|to|from)\b|\b(?:attach|detach)\s+(?:database\s+)?['\"\w]"
        r"|\b(?:install|load)\s+(?:extension\s+)?[a-z_]+\s*;?\s*$|\bpragma\b|\bexport\s+database\b"
        r"|^(?:(?:please|can you|could you|would you|i want to|i need to|let'?s|go ahead and|kindly)\s+)*"
        r"(?:drop|delete|remove|truncate|insert|update|alter|rename|modify|overwrite|purge|wipe|erase|grant|revoke"
        r"|add (?:a )?column)\b")),
    ("actions", re.compile(
        r"^(?:(?:please|can you|could you|would you|i want you to|i need you to|go ahead and|kindly)\s+)*"
        r"(?:send|e-?mail|notify|message|ping|post|tweet|schedule|remind|invite|forward|book|buy|pay|deploy"
        r"|restart)\b(?!\s+[a-z]+s\s+(?:per|by|each|across|over)\b)")),
]  # fmt: skip
FUTURE = re.compile(r"\b(?:next|upcoming|coming)\s+(?:\d+\s+)?(?:days?|weeks?|months?|quarters?|years?)\b|\btomorrow\b"
                    r"|\b(?:likely|expected|going) to\b|\b(?:predict|forecast|project(?:ed|ion)?)\w*\b")
"""A question about what has not happened yet: the lake holds what did."""
ADVICE = re.compile(r"\bshould\s+(?:we|i|you|they|our)\b|\bis it worth\b|\b(?:do you|would you) recommend\b")
"""A decision to make ("should we cut the channel?"), not a fact of the lake; unless it asks which table or
query to use."""
WHY = re.compile(r"^\s*(?:but\s+|and\s+|so\s+)?why\b")
"""A question about causes ("why did refunds go up?"): the lake records what happened, not why."""
LAKE_OBJECTS = re.compile(r"\b(?:tables?|datasets?|quer(?:y|ies)|sql|columns?|fields?|partitions?|index)\b")
"""Requests lakescout must decline whatever the catalog holds: reading or writing files, changing data, acting
outside the catalog (sending messages, scheduling, buying); a verb that starts a noun phrase grouped by
something ("email sends per campaign") is a question, not a request to act."""
TABLE_SUPERLATIVES = "|".join(sorted(w for words in TABLE_RANK_WORDS.values() for w in words.split() if w.endswith("est")))
COLUMN_NAMED = re.compile(r"\b(?:columns?|fields?)\s+(?:called|named)\s+[`'\"]?([a-z_][\w.]*)"
                          r"|\b(?:an?|the|any)\s+[`'\"]?([a-z_][\w.]*)[`'\"]?\s+(?:column|field)\b"
                          r"|\b(?:with|have|has|contain|contains|include|includes|hold|holds)\s+[`'\"]?([a-z_][\w.]*)[`'\"]?"
                          r"\s+(?:columns?|fields?)\b")
"""A column's name the listing filters on: "tables with a customer_id column", "a column called channel"."""
NOT_COLUMN = frozenset("pii personal most more fewest least many any all no nested new same other".split())


def column_named(question: str) -> str | None:
    """The name of the column a question filters tables on, if it says one (not "PII columns", "most columns")."""
    said = (next(g for g in m.groups() if g) for m in COLUMN_NAMED.finditer(question.lower()))
    return next((name for name in said if name not in NOT_COLUMN), None)


CATALOG_QUESTION = re.compile(
    r"\b(?:tables?|datasets?)\b.*\b(?:most|fewest|least|biggest|largest|smallest|highest|lowest|newest|oldest"
    r"|stalest|freshest|most recently|least recently)\b"
    rf"|\b(?:most|fewest|least|biggest|largest|smallest|newest|oldest|stalest|freshest|{TABLE_SUPERLATIVES}|top\s*\d*)"
    r"\s+(?:\w+\s+)?(?:tables|datasets)\b"
    rf"|\b(?:biggest|largest|smallest|{TABLE_SUPERLATIVES})\s+(?:\w+\s+)?(?:table|dataset)\b"
    r"|^\s*(?:please\s+)?(?:list|show|name)(?:\s+me)?\s+(?:all\s+)?(?:the\s+)?(?:\w+\s+)?(?:tables|datasets)\b"
    r"|\bhow many tables\b|\b(?:all|every)\s+(?:the\s+)?tables\b|\bnamespaces\b"
    r"|\btables?\b[^.?]*\b(?:not|never|been|" + "|".join(sorted(NOBODY_WORDS))
    + r")\s+(?:has\s+|have\s+)?(?:been\s+)?(?:written|updated|modified|refreshed|loaded)\b"
    r"|\b(?:tables|datasets|everything|all)\b[^.?]*\b(?:in|of|under|within|inside)\s+(?:the\s+)?[a-z_][\w-]*\s+"
    r"(?:namespace|schema|database|db|layer)\b|^\s*what(?: is|'s)?\s+(?:in|inside|under)\s+(?:the\s+)?[a-z_][\w-]*\s+"
    r"(?:namespace|schema|database|db|layer)\b|\b(?:what|which)\b[^.?]*\bin\s+(?:the\s+)?[a-z_][\w-]*\s+namespace\b"
    r"|\b(?:tables|datasets)\b[^.?]*\b(?:under|within|inside|belong(?:s|ing)? to)\s+(?:the\s+)?[a-z_][\w-]*\s*\??$"
    r"|\b(?:tables|datasets)\b[^.?]*\b(?:does|do)\s+(?!(?:we|you|i|they|the|it)\b)[a-z_][\w-]*\s+(?:contain|hold|include)\b"
    r"|\btables?\b[^.?]*\bwithout\s+(?:a\s+|any\s+)?(?:writes?|updates?|loads?|refresh(?:es)?|commits?)\b"
    r"|\btables?\b[^.?]*\b(?:does|do)\s+\S+\s+own\b"
    r"|\b(?:tables?|datasets?)\b[^.?]*\bin\s+(?:the\s+)?[a-z_][\w-]*\s+(?:namespace|schema|database|db|layer)\b"
    r"|\btables?\b[^.?]*\b(?:pii|personal data|personally identifiable)\b"
    r"|\btables?\s+(?:(?:are|is)\s+)?(?:owned by|tagged|with (?:the )?tag|(?:have|has|carry|carries) (?:the |a )?tag"
    r"|in (?:the )?[a-z_][\w-]*(?: namespace| schema)?\s*\??$)"
    r"|\bdatasets?\s+(?:(?:are|is)\s+)?(?:live|lives|sit|sits)?\s*in (?:the )?[a-z_][\w-]*\s*\??$"
)
"""Questions about the whole catalog, not one table or topic."""
HOLDS = "|".join(sorted(HOLD_VERBS))
STEWARD = (r"^\s*(?:who|whom|which (?:team|person|group)|what team)\b[^?]*\b(?:maintains?|maintained|responsible"
           r"|contact|looks? after|in charge|stewards?)\b")
"""Who answers for a table ("who maintains a.b?", "which team looks after a.b?"): its owner, a fact of the table."""
INTENTS: list[tuple[str, re.Pattern[str]]] = [
    ("find", re.compile(r"\b(?:which|what|where)\b.*\b(?:tables?|datasets?)\b|\b(?:find|look(?:ing)? for)\b"
                        r"|^\s*(?:please\s+)?search\b|\bsearch(?:ing)?\s+(?:for|the|a|an|all|through)\b"  # not "paid search"
                        r"|\bwhere(?:'s| (?:can|do|is|are|would))\b|^\s*(?:is|are) there\b|\bany (?:tables?|datasets?)\b"
                        r"|\b(?:do|does) (?:we|you|the lake|the catalog) (?:have|hold|keep|store|track)\b")),
    ("sql", re.compile(r"\b(?:sql|query|queries|select)\b")),
    ("sql", re.compile(r"^\s*what\s+(?:did|do|does|have|has)\s+(?:we|they|you|i)\s+[a-z]+\s+(?:on|for|in|to)\b")),
    ("column", re.compile(r"\b(?:what|which)(?:'s| is)? (?:the )?(?:data ?)?type\b|\bdata ?types?\b|\btype (?:of|is) "
                          r"(?:the )?(?:column|field)\b|\bprimary keys?\b|\buniquely\b|\bidentif(?:y|ies) (?:a|each|one)"
                          r" (?:row|record)|\bidentifier (?:fields?|columns?)\b|\b(?:row|unique|natural|business) keys?\b"
                          r"|\bwhat(?:'s| is| are)? (?:the )?keys?\b"
                          r"|\bhow is\b.*\bsorted\b|\bsort(?:ed)? order\b|\bsorted (?:on|by)\s*(?:what|which)?\s*\?*$"
                          r"|\b(?:how many|number of) (?:columns|fields)\b|\bcolumn count\b"
                          r"|\bwhat does\b.*\b(?:mean|contain|hold|represent)\b|\bmeaning of\b"
                          r"|^\s*(?:does|do|has)\b.*\b(?:" + HOLDS + r")\b.*\b(?:column|field)s?\b"
                          r"|^\s*(?:does|do)\s+\S+\.\S+\s+(?:" + HOLDS + r")\s+"
                          r"(?:an?\s+|any\s+|the\s+)?[a-z][a-z0-9]*_[a-z0-9_]+\b"
                          r"|\bis there an? (?:\w+ )?(?:column|field)\b"
                          r"|^\s*(?:does|do)\s+\S+\.\S+\s+(?:" + HOLDS + r")\s+"
                          r"(?:an?\s+|any\s+|the\s+)?(?!(?:partitions?|snapshots?|rows?|records?|data|files?|history"
                          r"|owners?|pii|comments?|schemas?|columns?|fields?|tags?|sort)\b)[a-z]+\s*\?*\s*$")),
    ("history", re.compile(r"\b(?:history|snapshots?|schema (?:changes?|evolution)|changed|commits?|operations?)\b"
                           r"|\b(?:deleted|rewritten|overwritten|overwrites?|compacted|compaction|repartitioned)\b"
                           r"|\bpartition(?:ing)? (?:specs?|spec history|evolution|changes?)\b|\bspecs?\b")),
    ("partitions", re.compile(r"\bpartition|\bsplit into\b")),
    ("stats", re.compile(r"\bhow (?:big|large)\b|\bsize\b|\brow ?counts?\b|\b(?:how many|number of) (?:rows|records|entries)\b"
                         r"|\b(?:how many|number of) (?:data )?files\b|\bfile count\b|\b(?:disk|storage|bytes|footprint)\b"
                         r"|\bhow much space\b|\blast (?:written|updated|modified|write|refresh(?:ed)?|loaded)\b|\bfresh"
                         r"|\bwhen was\b|\bup to date\b|\bstale\b")),
    ("describe", re.compile(r"\b(?:describe|columns?|schema|fields?|structure|owner|owns|owned|pii|details)\b"
                            r"|\bwhat(?: is|'s) in\b|\btell me about\b|" + STEWARD)),
    ("sql", re.compile(r"^\s*(?:which|what)\s+(?:[a-z_]+\s+){1,2}" + RANKING_VERBS +
                       r"\s+the\s+(?:most|highest|largest|biggest|greatest|least|lowest|fewest|smallest)\b"
                       r"|\b(?:percentage|percent|proportion|fraction|share) of\b"
                       r"|^\s*what(?:'s| is| was| were| are)\s+the\s+(?:largest|biggest|highest|smallest|lowest)\s+[a-z_]+"
                       r"|\b(?:count|how many|how much|number of|sum|total|average|avg|mean|median|top|per|by|hourly|daily|weekly"
                       r"|monthly|yearly|minimum|maximum|min|max|overall|each|across|breakdown)\b"
                       r"|\b(?:most|least) (?:common|frequent|popular)\b|\b\d+\s+[a-z_]+\b.*\b(?:most|highest|lowest|least"
                       r"|fewest|largest|biggest|smallest)\b")),
]  # fmt: skip
YES_NO_DATA = re.compile(r"^\s*(?:(?:are|is|were|was)\s+there|(?:did|do|does|have|has|were|was|are|is)\s+(?:any|some))\b")
"""A yes/no question about rows ("are there any orders over 100 USD in a.b?", "did any runs fail?"): a count
answers it."""
WHAT_VALUE = re.compile(r"^\s*what(?:'s| is| was| were| are)\s+(?:the\s+|our\s+|its\s+)?(?!(?:type|meaning|owner|schema"
                        r"|name|partition|comment|key|size|format|structure|sort|snapshot|history)\b)[a-z]+")
"""A value of the data asked of a named table (not a fact of the table itself)."""
HAVE_IN_PERIOD = re.compile(r"^\s*(?:does|do|did|has|have)\s+\S+\s+(?:have|has|had|get|got|receive|hold)\b")
"""A yes/no question about a table's rows in a period ("does a.b have a rate for yesterday?")."""
SQL_WORD = re.compile(r"\b(?:sql|query|queries|select|statement)\b")
"""An instruction naming one of these asks for a query ("return only the SQL")."""
SQL_SHAPE = re.compile(r"\b(?:by|per|each|where|grouped|top|whose)\b|\bwith (?:status|state|type)\b"
                       r"|\b(?:no|without|missing)\s+(?:an?\s+|any\s+)?[a-z_]+")
"""A grouping or a filter ("with no user_id"): turns a row-count question into a query."""
OPEN_QUESTION = re.compile(r"^\s*(?:which|where|is there|are there|do we|does the lake|any)\b")
"""Questions about what the lake holds that name no question type: searched for rather than declined."""
INTENT_WORDS = frozenset(
    "describe columns column schema fields field structure owner owns owned pii details partition partitions "
    "partitioned history snapshots snapshot changes changed commits big large size row rows count counts "
    "written updated modified write refresh refreshed loaded fresh freshness stale latest newest recent most "
    "spec specs scheme key keys how many number last week weeks day days month months year years exist range "
    "tell between since yesterday today current type types data primary sorted sort order identifies uniquely "
    "identify identifier operation operations deleted rewritten overwritten records record files file disk "
    "space storage bytes take takes much kinds kind ever committed mean means".split()
)
THRESHOLD = re.compile(r"^\s*(?:which|what)\s+[a-z_]+\s+(?:[a-z]+\s+)?(?:more|fewer|less|over|under|above|below|at least"
                       r"|at most)\s+(?:than\s+)?\d+\s+[a-z_]+")
"""'which regions had more than 100 refunds?': groups over a threshold, a query."""
FRESHNESS = re.compile(r"\b(?:written|write|writes|updated|modified|refreshed|loaded|changed|ingested|snapshot|partition)")
"""When a table was written or changed: its freshness, not the time of an event its rows record."""
TABLE_NAME = re.compile(r"`?(?<![@\w.-])\b([A-Za-z_][\w-]*\.[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)?)\b(?![@\w-])`?")
"""A table written out; not the domain of an e-mail address (``data@shop.example`` names an owner)."""


@dataclass
class Intent:
    kind: str
    topic: list[str]
    tables: list[str]
    """Tables the question names outright (``sales.orders``), in order."""

    @property
    def table(self) -> str | None:
        return self.tables[0] if self.tables else None


def detect_intent(question: str) -> Intent:
    """What kind of question this is, what it is about, and which tables it names. Instructions to the
    assistant ("validate it", "return only the SQL") are not what the question is about; one that asks for SQL
    makes it a SQL question."""
    unsafe = next((kind for kind, pattern in UNSAFE if pattern.search(correct_typos(question).lower())), None)
    question, instructions = split_instructions(without_possessives(question))  # "what's", "the shop's orders"
    question = correct_typos(question)
    text = question.lower()
    tables = [t for t in TABLE_NAME.findall(question) if not re.fullmatch(r"\d+(\.\d+)*", t)]
    kind = "refuse-" + unsafe if unsafe else next((k for k, pattern in INTENTS if pattern.search(text)), "unknown")
    if kind in ("unknown", "stats", "find", "describe") and THRESHOLD.search(text):
        kind = "sql"
    if kind in ("unknown", "stats") and (LISTING.search(text) or WHEN_EXTREME.search(text) and not FRESHNESS.search(text)):
        kind = "sql"  # "show the 5 most recent orders": rows of a table; "when was the last ticket created?": its time
    if kind in ("unknown", "find", "stats") and not LAKE_OBJECTS.search(text) \
            and any(p.search(text) for p in (MODE, MODE_ASKED, RANGE)):
        kind = "sql"  # "the most common refund reason", "which pipeline failed most often?", "the range of rates"
    if not unsafe and not tables and CATALOG_QUESTION.search(text):
        kind = "catalog"
    if not unsafe and not tables and column_named(text) and re.search(r"\b(?:tables?|datasets?|where)\b", text):
        kind = "catalog"  # "which tables have a customer_id column?", "where can I find a column called channel?"
    if kind == "stats" and re.search(r"\b(?:rows|records|files)\b", text) and period_of(text, date.today()):
        kind = "partitions"  # rows in a period: the partitions of that period hold the count
    values = VALUES_ASKED.search(text)
    if kind in ("unknown", "find") and tables and values and not LAKE_OBJECTS.search(values.group(1)) \
            and not any(stem(t.rpartition(".")[2]) == stem(values.group(1)) for t in tables):  # fmt: skip
        kind = "sql"  # "which pipelines are there in ops.runs?": the values of its pipeline column
    if kind == "find" and tables:  # "is there a partition for yesterday in a.b?" asks about a.b, not for a table
        kind = next((k for k, pattern in INTENTS if k != "find" and pattern.search(text)),
                    "sql" if YES_NO_DATA.search(text) else "describe")
    rows = ROWS_ASKED.search(text)
    if kind == "unknown" and rows and not MEASURE_SAID.search(text) and not LAKE_OBJECTS.search(rows.group(2)):
        kind = "sql"  # "list the names of the campaigns whose channel is email": rows of a table
    if kind == "unknown" and (YES_NO_DATA.search(text) or tables and HAVE_IN_PERIOD.search(text)
                              and period_of(text, date.today())):  # fmt: skip
        kind = "sql"  # "does a.b have a rate for yesterday?": a count of that day's rows answers it
    if kind in ("unknown", "find") and SQL_WORD.search(" ".join(instructions).lower()):
        kind = "sql"
    if kind == "stats" and (SQL_SHAPE.search(text) or parse_comparisons(text)[0] or ROWS_MADE.search(TABLE_NAME.sub("", text))) \
            and not re.search(r"\bhow (?:big|large)|\bsize\b|\bdisk\b", text):  # fmt: skip
        kind = "sql"  # "how many rows have more than 50 orders?": a filter, not the table's row count
    if kind == "unknown" and OPEN_QUESTION.search(text):
        kind = "find"
    if kind == "unknown" and tables and WHAT_VALUE.search(text):
        kind = "sql"  # "what was our net revenue last month in a.b?": a value its rows hold
    if kind == "unknown" and tables and period_of(text, date.today()) \
            and content_words(TABLE_NAME.sub(" ", question), INTENT_WORDS):  # fmt: skip
        kind = "sql"  # "gross revenue yesterday, from a.b": what its rows hold for the period
    if kind == "unknown" and tables and not content_words(TABLE_NAME.sub(" ", question), INTENT_WORDS) \
            and not period_of(text, date.today()):  # fmt: skip
        kind = "describe"  # "show me a.b": the table itself (or that there is no such table)
    if not unsafe and kind != "unknown" and FUTURE.search(text):
        kind = "refuse-future"  # a lake question about the future; anything else is not a lake question at all
    if not unsafe and ADVICE.search(text) and not LAKE_OBJECTS.search(text) and not re.search(STEWARD, text):
        kind = "refuse-advice"
    if not unsafe and WHY.search(text) and not LAKE_OBJECTS.search(text):
        kind = "why"  # a cause the lake's rows do not record: declined, naming the tables found
    rest = TABLE_NAME.sub(" ", question) if tables else question
    topic = topic_words(rest) if kind == "sql" else content_words(rest, INTENT_WORDS if kind != "find" else frozenset())
    return Intent(kind, topic, list(dict.fromkeys(tables)))
