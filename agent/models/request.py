"""A data request read from the words of a question: measure, groups, time grain, period, top N, filters.

Words alone: nothing here knows a table or a column. ``agent.models.sql_writer`` maps the request onto the
columns of the tables ``describe_table`` returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from agent.models.language import GRAIN_NOUNS, Period, content_words, grain_of, period_of, split_instructions, strip_grain
from agent.models.semantic_terms import LayerUse
from agent.models.vocabulary import BREAKDOWN_WORDS, ROW_VERBS, UNITS
from catalog_ingest.text import QUESTION_STOPWORDS, stem, words

END = r"(?=\s+(?:by|per|for|each|in|where|over|across|of|from|during|since|last|this|between|grouped|and)\b|\s*[^\w\s]|$)"
ROWS_MADE = re.compile(r"\bhow many\s+((?:rows|records)\s+(?:did|do|does|have|has|had)\s+(?!(?:it|this|that|the table)\b)"
                       r"(?:[a-z_]+\s+){1,3}?(?:" + "|".join(sorted(ROW_VERBS)) + r"))\b")
"""'how many rows did the failed runs write?': a total of rows some of the table's rows made (a column of theirs),
not the table's own row count."""
MEASURES = [
    ("total", ROWS_MADE),
    ("avg", re.compile(rf"\b(?:average|avg|mean)\s+(?:of\s+)?(?:the\s+)?([a-z_ ]+?){END}")),
    ("median", re.compile(rf"\bmedian\s+(?:of\s+)?(?:the\s+)?([a-z_ ]+?){END}")),
    ("min", re.compile(rf"\b(?:earliest|first|oldest)\s+([a-z_]+_(?:at|on|date|time|ts|timestamp)){END}")),
    ("max", re.compile(rf"\b(?:latest|last|newest|most recent)\s+([a-z_]+_(?:at|on|date|time|ts|timestamp)){END}")),
    ("min", re.compile(rf"\b(?:min|minimum|lowest|smallest)\s+(?:of\s+)?(?:the\s+)?([a-z_ ]+?){END}")),
    ("max", re.compile(rf"\b(?:max|maximum|highest|largest|biggest)\s+(?:of\s+)?(?:the\s+)?([a-z_ ]+?){END}")),
    ("total", re.compile(rf"\b(?:sum|total|overall)\s+(?:of\s+)?(?:the\s+)?([a-z_ ]+?){END}")),
    ("total", re.compile(rf"\bhow much\s+(?:(?:did|do|does|have|has|was|were|is)\s+)?(?:we\s+|they\s+|it\s+)?([a-z_ ]+?){END}")),
    ("total", re.compile(r"^\s*what\s+(?:did|do|does|have|has)\s+(?:we|they|you|i)\s+([a-z]+)(?=\s+(?:on|for|in|to)\b)")),
    ("distinct", re.compile(r"\b(?:unique|distinct|different)\s+([a-z_]+)")),
    ("distinct", re.compile(rf"\b(active\s+[a-z_]+){END}")),
    ("share", re.compile(r"\b(?:percentage|percent|share|proportion|fraction)\s+of\s+(?:the\s+|all\s+)*([a-z_]+)")),
    ("count", re.compile(rf"\b(?:count|number)\s+(?:of\s+)?(?:the\s+)?(?:all\s+)?([a-z_ ]+?){END}")),
    ("count", re.compile(rf"\bhow many\s+([a-z_ ]+?)(?=\s+(?:went|go|goes|did|do|does|were|was|are|is|got|came|happened|occurred|appear|appears|appeared|exist|exists|existed|didn|doesn|don"
                         rf"|isn|aren|wasn|weren|hasn|haven)\b|{END[3:]}")),
]
RANKED_BY = r"((?:(?:the\s+)?(?:number|count|sum|total|average|avg)\s+of\s+)?[a-z_ ]+?)"
TOPS = [
    (re.compile(r"\btop\s*(\d+)?\s+([a-z_]+(?:\s+[a-z_]+)?)(?:\s+by\s+" + RANKED_BY + ")?" + END), "most"),
    (re.compile(r"\b(\d+)\s+([a-z_]+)\b[^.?]*?\b(most|highest|largest|biggest|greatest|least|lowest|fewest|smallest)"
                r"\s+" + RANKED_BY + END), None),
]  # fmt: skip
RANKING_VERBS = (r"(?:(?:has|have|had|did|was|were|is|are)\s+)?(?:has|had|have|gets?|got|makes?|made|sees?|saw|brings?"
                 r"|brought|sold|sells?|drove|drives?|kept|keeps?|wrote|written|writes?|spent|spends?|paid|pays?|took"
                 r"|taken|takes?|gave|given|gives?|won|wins?|[a-z]{3,}ed)")  # fmt: skip
"""Verbs of "which X <verb> the most Y" ("has written", "logged", "was refunded"): any in the past tense."""
SUPERLATIVE = re.compile(r"\b(?:which|what)\s+([a-z_]+(?:\s+[a-z_]+)?)\s+" + RANKING_VERBS +
                         r"\s+the\s+(most|highest|largest|biggest|greatest|least|lowest|fewest|smallest)\s+" + RANKED_BY + END)
"""'which country has the most orders': the top one."""
ASCENDING = frozenset({"least", "lowest", "fewest", "smallest"})
MODE = re.compile(r"\b(?P<way>most|least)\s+(?:(?:commonly|frequently)\s+used|common|frequent|popular|used)\s+"
                  r"(?P<thing>[a-z_]+(?:\s+[a-z_]+)?)" + END)
MODE_ASKED = re.compile(r"^\s*(?:which|what)\s+(?P<thing>[a-z_]+(?:\s+[a-z_]+)??)\s+(?:(?:is|are|was|were|comes?|came|shows?"
                        r"|showed|appears?|occurs?|up)\s+|[a-z]{3,}ed\s+){0,3}?(?:the\s+)?(?P<way>most|least)"
                        r"(?:\s+(?:often|frequently|commonly))?(?:\s+(?:in|of|from|among)\s+[\w.]+)?\s*[?.!]*\s*$"
                        r"|^\s*(?:which|what)\s+(?P<other>[a-z_]+)\s+(?:do|does|did)\s+(?P<share>most|fewest)\s+[a-z_]+\b.*$")
"""'the most common refund reason', 'which pipeline failed most often?', 'which device do most sessions come
from?': the value of a column with the most (or fewest) rows, the top one of a count grouped by it."""
RANGE = re.compile(r"\b(?:earliest|first|oldest|min|minimum|lowest|smallest)\s+and\s+(?:the\s+)?(?:latest|last|newest"
                   r"|most recent|max|maximum|highest|largest|biggest)\s+(?:of\s+)?(?:the\s+)?([a-z_ ]+?)" + END +
                   r"|\brange\s+of\s+(?:the\s+)?([a-z_ ]+?)" + END +
                   r"|\bwhat\s+range\s+(?:do|does)\s+(?:the\s+)?([a-z_ ]+?)(?:\s+(?:in|of|from)\s+\S+)?\s+(?:span|cover)\b")
"""'the earliest and latest event_time', 'the range of rate': the smallest and the largest value of a column."""
LISTING = re.compile(r"\b(\d+)\s+(?:(most|least)\s+)?(largest|biggest|highest|greatest|smallest|lowest|expensive|cheapest"
                     r"|recent|latest|newest|oldest|earliest|slowest|fastest|longest|shortest)\s+([a-z_]+(?:\s+[a-z_]+)?)"
                     r"(?:\s+by\s+" + RANKED_BY + ")?" + END)
"""'the 5 largest payouts by gross_amount_usd', 'the 5 most recent orders': rows of the table, not groups."""
LISTED_FIRST = {"smallest": True, "lowest": True, "cheapest": True, "oldest": True, "earliest": True, "fastest": True,
                "shortest": True}  # fmt: skip
"""Listing adjectives that put the least first."""
WHEN_EXTREME = re.compile(r"^\s*when\b.*\b(last|latest|most recent|newest|first|earliest|oldest)\b"
                          r"|\b(last|latest|most recent|newest|first|earliest|oldest)\s+(?:[a-z_]+\s+)?(?:date|time|day)\b")
"""'when was the last ticket created?', 'the latest payout date': the newest (or first) time of a column."""
FIRST_WORDS = frozenset({"first", "earliest", "oldest"})
RECENCY = frozenset({"recent", "latest", "newest", "oldest", "earliest"})
"""Listing adjectives ordered by the table's time, not a measure."""
PRICE_WORDS = frozenset({"expensive", "cheapest"})
ALSO = re.compile(r"^\s*(?:,|and|,\s*and)\s+(?:the\s+)?(?:(sum|total|average|avg|mean|count|number|min|max)\s+(?:of\s+)?)?([a-z_]+)")
GROUP = re.compile(r"\b(?:by|per|for each|each|(?:for|in) every|grouped by|group by|across)\s+(?![a-z_][\w-]*\.[a-z_])"
                   r"([a-z_, ]+?)" + END.replace("|and)", ")"))
"""A breakdown: "by region", "for each plan", "in every category", "across channels"; "per a.b" names a table (as
"according to a.b"), not a group."""
ACROSS_ALL = re.compile(r"\b(?:across|over)\s+(?:all|the whole|the entire)\s+(?:of\s+)?(?:the\s+|our\s+|its\s+)?"
                        r"[a-z_]+(?:(?:\s*,\s*|\s+and\s+)[a-z_]+)*")
"""'across all regions', 'over all the channels and countries': one total over them, not a breakdown."""
NAME_OF = re.compile(r"\bnames?\s+of\s+(?:the\s+|each\s+|every\s+|all\s+|our\s+|its\s+|their\s+)*(?:\d+\s+)?([a-z_]+)"
                     r"|\b([a-z_]+)\s+(?=names?\b)")
"""'the names of the 3 campaigns', 'show its campaign name': the name held in the table about the thing."""
ROWS_ASKED = re.compile(r"^\s*(?:please\s+)?(?:list|show|give|display|what are)(?:\s+me)?\s+(?:all\s+)?(?:the\s+)?"
                        r"([a-z_]+(?:\s+[a-z_]+)?)\s+of\s+(?:all\s+)?(?:the\s+)?([a-z_]+)\s+"
                        r"(?=(?:whose|where|that|which|who|with|in|from)\b)")
"""'list the names of the campaigns whose channel is email': a column of the rows a filter picks, not an aggregate."""
MEASURE_SAID = re.compile(r"\b(?:how many|how much|count|number|sum|total|average|avg|mean|median|min|max|minimum"
                          r"|maximum|top|most|least|by|per|each|every)\b")
"""Words that ask for an aggregate, a ranking or groups: a question saying one is no plain listing of rows."""
VALUES_ASKED = re.compile(r"^\s*(?:which|what)\s+(?:different\s+|distinct\s+)?([a-z_]+)\s+(?:are there|exist|do we have)\b")
"""'which pipelines are there in ops.runs?': the values of a column, one group each."""
MEAN_OF_COUNTS = re.compile(r"\b(?:average|mean)\s+(?:number|count)\s+of\s+([a-z_]+)\s+(?:per|for each|each|by|a)\s+([a-z_]+)")
ON_AVERAGE = re.compile(r"\bon average\b.*?\bhow many\s+([a-z_]+)\s+(?:does|do|did|has|have)\s+(?:a|an|each|every|one|the)\s+"
                        r"([a-z_]+)")  # fmt: skip
"""'the average number of lines per order', 'on average, how many orders does a customer have': counted per
group, then averaged."""
ASKED_OF_EACH = re.compile(r"\b(?:has|have|had|did|do|does)\s+(?:each|every)\s+[a-z_ ]+[?.!]*\s*$")
"""'how many tickets has each team handled': the group phrase ends with the question's verb."""
GROUP_WORD = re.compile(r"\b(?:by|per|each|across|grouped)\b")
"""Where the groups start: the words before it name the measure ("ad clicks by campaign")."""
POSSESSIVE = re.compile(r"(?<=[a-z])'s\b")
"""``the agent's team``: read as ``the agent team``."""
CONTRACTION = re.compile(r"\b(what|where|who|how|it|that|there|here)'s\b", re.IGNORECASE)


def without_possessives(text: str) -> str:
    """"where's" as "where is", "the agent's team" as "the agent team"."""
    return POSSESSIVE.sub("", CONTRACTION.sub(r"\1 is", text))
RUN_WORDS = re.compile(r"--run\b|\b(?:and\s+)?(?:run|execute)(?:\s+(?:it|that|this|the query))?\b")
EQUALS = re.compile(r"\bwhere\s+([a-z_][\w.]*)\s*(?:=|==|is|equals)\s*(?!(?:not|null|missing|empty|blank)\b)"
                    r"(?:'([^']*)'|\"([^\"]*)\"|([\w\-.]+))")
"""``where status is 'open'``; not ``where x is null`` (a column's state, ``agent.models.states``)."""
AGG_WORDS = {"sum": "total", "total": "total", "average": "avg", "avg": "avg", "mean": "avg", "count": "count",
             "number": "count", "min": "min", "max": "max", "median": "median"}
FILLER = frozenset({"sql", "query", "write", "draft", "run", "execute", "it", "number", "count", "result", "results",
                    "instead", "give", "show", "first", "most", "highest", "lowest", "least", "fewest", "overall",
                    "times"}) | BREAKDOWN_WORDS
DOTTED = re.compile(r"\b[a-z_][\w-]*(?:\.[a-z_][\w-]*)+")
"""Qualified table names, whose parts are never column values."""
OWNER = re.compile(r"^\s+of\s+(?:the\s+|their\s+|its\s+|each\s+)?([a-z_]+)")
NUMBER = r"\$?(\d+(?:\.\d+)?)(?![\d\-:/])"
COMPARE_WORDS = {"over": ">", "above": ">", "more than": ">", "greater than": ">", "higher than": ">",
                 "larger than": ">", "bigger than": ">", "exceeding": ">", "at least": ">=", "no less than": ">=",
                 "under": "<", "below": "<", "less than": "<", "fewer than": "<", "lower than": "<",
                 "smaller than": "<", "at most": "<=", "no more than": "<=", "up to": "<=", "between": "between"}  # fmt: skip
COMPARE = re.compile(
    r"(?:\b([a-z_]+)\s+(?:(?:of|is|was|were|are)\s+)?)?\b("
    + "|".join(sorted(COMPARE_WORDS, key=len, reverse=True)) + r")\s+" + NUMBER
    + r"(?:\s+and\s+" + NUMBER + r")?(?:\s+([a-z_]+))?"
)
"""A comparison with a number in words: "over 100 USD", "more than 3 items", "csat_score of at least 4",
"between 5 and 10 events"; the word before (a column) and the noun after (a column or a unit)."""
TIME_NOUNS = frozenset("second seconds minute minutes hour hours day days week weeks month months year years".split())


@dataclass
class Request:
    agg: str = "count"
    """count, distinct, total (a sum, or a count when nothing numeric matches), avg, median, min, max, share (the
    percentage of rows a value filter picks)."""
    measure: list[str] = field(default_factory=list)
    dims: list[str] = field(default_factory=list)
    grain: str | None = None
    period: Period | None = None
    top: int | None = None
    ascending: bool = False
    equals: list[tuple[str, str]] = field(default_factory=list)
    also: list[tuple[str, list[str]]] = field(default_factory=list)
    """Further aggregates asked for with "and" ("impressions and clicks")."""
    implicit: bool = False
    """No aggregate word: a sum when the measure is a numeric column ("revenue by day"), else a count."""
    made: bool = False
    """The rows asked for are a value the table's rows made ("how many rows did the runs write?"): a column of
    theirs, never a count of the table's rows."""
    owners: dict[str, str] = field(default_factory=dict)
    """Group words qualified by the table they belong to ("region of their store")."""
    qualifiers: dict[str, str] = field(default_factory=dict)
    """A group word that qualifies the next one in the same phrase ("agent" in "by agent team") -> that head:
    the team of the agent, grouped by the team, not also by the agent's key."""
    codes: list[str] = field(default_factory=list)
    """Words written in capitals ("US", "EUR"), lower-cased: codes, which may be values even when they read as
    common words."""
    units: set[str] = field(default_factory=set)
    words: list[str] = field(default_factory=list)
    """The question's words in order, for matching column values."""
    layer: LayerUse | None = None
    """What the lake's semantic layer says about the question (its terms and metrics the search matched)."""
    subject: list[str] = field(default_factory=list)
    """What a listing's rows are ("payouts", "log lines")."""
    comparisons: list[Comparison] = field(default_factory=list)
    """Numeric filters said in words ("over 100 USD", "at least 4")."""
    listing: str | None = None
    """Rows listed rather than aggregated ("the 5 largest payouts"): ordered by "time" or by the "measure"; or
    "extreme", the newest or first time of a column (``agg`` max or min: "when was the last ticket created?");
    or "rows", a column of the rows a filter picks ("the names of the campaigns whose channel is email")."""
    shown: list[str] = field(default_factory=list)
    """The words of the column a "rows" listing shows ("names", "agent ids")."""
    mean_of_counts: bool = False
    """The mean over the groups of a count ("the average number of lines per order"), not an average column."""


@dataclass
class Comparison:
    op: str
    """>, >=, <, <= or between."""
    low: str
    high: str | None
    names: list[str]
    """The words that may name the column compared: the noun after the number, then the word before."""


OR_BOUND = re.compile(NUMBER + r"\s+or\s+(?:(more|above|higher|greater|over)|(less|fewer|below|lower|under))\b")
"""A bound said after the number ("4 or more", "10 or fewer"): read as "at least 4", "at most 10"."""


def parse_comparisons(text: str) -> tuple[list[Comparison], str]:
    """The comparisons of a question and the text without them; a count of time units ("over 3 days") is a
    period, not a comparison."""
    text = OR_BOUND.sub(lambda m: f"{'at least' if m.group(2) else 'at most'} {m.group(1)}", text)
    found, rest = [], text
    for match in reversed(list(COMPARE.finditer(text))):
        before, said, low, high, after = match.groups()
        if after in TIME_NOUNS or (COMPARE_WORDS[said] == "between") != (high is not None):
            continue
        after = after if after not in QUESTION_STOPWORDS else None
        names = [w for w in (after, before) if w and w not in QUESTION_STOPWORDS]
        found.insert(0, Comparison(COMPARE_WORDS[said], low, high, names))
        end = match.end(5) if after else match.end(4 if high else 3)
        rest = rest[: match.start(2)] + " " + rest[end:]
    return found, rest

def parse_measure(phrase: str, default: str) -> tuple[str, list[str], bool]:
    """An aggregate and its words from a phrase ("number of orders", "total amount", "revenue")."""
    for agg, pattern in MEASURES:
        if match := pattern.search(phrase):
            return agg, content_words(match.group(1), FILLER), False
    return default, content_words(phrase, FILLER), True


def parse_request(question: str, today: date) -> Request:
    asked = without_possessives(split_instructions(question)[0])
    text = RUN_WORDS.sub(" ", asked.lower())
    request = Request(grain=grain_of(text), period=period_of(text, today))
    request.units = {UNITS[w] for w in words(DOTTED.sub(" ", text)) if w in UNITS}
    request.comparisons, text = parse_comparisons(text)
    request.words = words(DOTTED.sub(" ", text))
    request.codes = [w.lower() for w in re.findall(r"\b[A-Z]{2,4}\b", asked)
                     if w.lower() in request.words and w.lower() not in FILLER]  # "SQL" is no value
    text = strip_grain(text)
    request.equals = [(m.group(1), next(g for g in m.groups()[1:] if g is not None)) for m in EQUALS.finditer(text)]
    text = EQUALS.sub(" ", text)
    if mean := MEAN_OF_COUNTS.search(text) or ON_AVERAGE.search(text):
        request.agg, request.measure, request.dims = "count", content_words(mean.group(1), FILLER), [mean.group(2)]
        request.mean_of_counts = True
        return request
    if extreme := WHEN_EXTREME.search(text):
        request.agg = "min" if (extreme.group(1) or extreme.group(2)) in FIRST_WORDS else "max"
        request.listing, request.measure = "extreme", []
        return request
    if (rows := ROWS_ASKED.search(text)) and not MEASURE_SAID.search(text):
        request.agg, request.listing = "list", "rows"
        request.shown, request.subject = content_words(rows.group(1)), content_words(rows.group(2))
        request.measure = request.subject  # what the rows are: the table about them is the main one
        return request
    if listed := LISTING.search(text):
        request.top, request.listing = int(listed.group(1)), "time" if listed.group(3) in RECENCY else "measure"
        request.ascending = (listed.group(2) == "least") != LISTED_FIRST.get(listed.group(3), False)
        ranked = content_words(listed.group(5) or "", FILLER) or (["price"] if listed.group(3) in PRICE_WORDS else [])
        request.agg, request.measure, request.dims = "list", ranked, []
        request.subject = content_words(listed.group(4), FILLER)
        return request
    least = False
    if mode := MODE.search(text) or MODE_ASKED.search(text):
        least = (mode.group("way") or mode.group("share")) in ("least", "fewest")
        text = f"{text[: mode.start()]} top 1 {mode.group('thing') or mode.group('other')} {text[mode.end() :]}".rstrip()
    elif best := SUPERLATIVE.search(text):
        text = f"top 1 {best.group(1)} by {best.group(3)}" if best.group(2) not in ASCENDING else text
        if best.group(2) in ASCENDING:
            text = f"1 {best.group(1)} with the {best.group(2)} {best.group(3)}"
    for pattern, direction in TOPS:
        if top := pattern.search(text):
            request.top = int(top.group(1) or 10)
            subject, *rest = top.groups()[1:]
            request.ascending = (direction or rest[0]) in ASCENDING or least
            ranked_by = rest[-1]
            named = content_words(subject, FILLER) or [subject]  # "campaign objective": the objective, of the campaign
            request.dims = named
            request.qualifiers |= {w: named[-1] for w in named[:-1]}
            if ranked_by:
                request.agg, request.measure, request.implicit = parse_measure(ranked_by, "total")
            else:  # "the top 5 products": a count of products; "the most common reason": of the rows holding each
                request.agg, request.measure = "count", [] if mode else named[-1:]
            return with_names(request, text)
    if span := RANGE.search(text):
        measure = content_words(next(g for g in span.groups() if g), FILLER)
        request.agg, request.measure, request.also = "min", measure, [("max", measure)]
        text = text[: span.start()] + " " + text[span.end() :]
    elif found := [(m.start(), i, agg, m) for i, (agg, pattern) in enumerate(MEASURES) if (m := pattern.search(text))]:
        # the aggregate said first; "how many"/"count" only when nothing more specific is asked
        _, _, agg, match = min(found, key=lambda f: (f[2] == "count", *f[:2]))
        request.agg, request.measure = agg, content_words(match.group(1), FILLER)
        request.made = match.re is ROWS_MADE
        while also := ALSO.match(text[match.end() :]):
            request.also.append((AGG_WORDS.get(also.group(1) or "", agg), content_words(also.group(2), FILLER)))
            text = text[: match.end()] + " " + text[match.end() + also.end() :]
        text = text[: match.start()] + " " + text[match.end() :]
    text = ACROSS_ALL.sub(" ", text)  # "across all regions": one total
    for match in GROUP.finditer(text):
        phrases = [content_words(part, FILLER) for part in re.split(r",|\band\b", match.group(1))]
        ends_with = (words(match.group(1)) or [""])[-1]  # "each segment have": "have" is no group word anyway
        if ASKED_OF_EACH.search(asked.lower()) and not text[match.end() :].strip(" ?.!") and len(phrases[-1]) > 1 \
                and phrases[-1][-1] == ends_with:  # fmt: skip
            phrases[-1] = phrases[-1][:-1]  # "has each support team handled": the team, not "handled"
        parts = [w for phrase in phrases for w in phrase]
        request.qualifiers |= {w: phrase[-1] for phrase in phrases for w in phrase[:-1] if w != phrase[-1]}
        request.dims += [w for w in parts if w not in request.dims]
        if parts and (owner := OWNER.match(text[match.end() :])):
            request.owners[parts[-1]] = owner.group(1)
    if not request.dims and (values := VALUES_ASKED.search(text)):
        request.dims = [values.group(1)]
    if grain := next((d for d in request.dims if d in GRAIN_NOUNS and not request.grain), None):
        request.grain, request.dims = grain, [d for d in request.dims if d != grain]  # "by plan and month"
    if not request.measure:
        before = GROUP_WORD.split(DOTTED.sub(" ", text), 1)
        if len(before) == 1:  # "monthly ad clicks in a.b": the noun phrase before its preposition
            before = re.split(r"\b(?:in|from|for|of|on|during|since|over)\b", before[0], maxsplit=1)
        head = content_words(before[0], FILLER) if len(before) > 1 else []
        request.measure = head[-2:] if 1 < len(head) <= 3 else content_words(text, FILLER)[:1]  # "ad clicks by"
        request.implicit = True
    return with_names(request, text)


def with_names(request: Request, text: str) -> Request:
    """A group whose name the question asks for ("the names of the 3 campaigns", "its campaign name") grouped
    by that name, held in the table about the group (``group_owners``), rather than by the group's key."""
    for match in NAME_OF.finditer(text):
        thing = stem(match.group(1) or match.group(2))
        group = next((d for d in request.dims if stem(d) == thing), None)
        if group and "name" not in request.dims:
            request.dims.insert(request.dims.index(group) + 1, "name")
            request.qualifiers[group] = "name"
    return request


def has_groups(text: str) -> bool:
    return GROUP.search(text.lower()) is not None


def strip_groups(text: str) -> str:
    """The text without its "by X" groupings, for a follow-up that replaces them."""
    return GROUP.sub(" ", text.lower())


def topic_words(question: str) -> list[str]:
    """What to search for: the question's content words without SQL and time vocabulary."""
    return [w for w in content_words(strip_grain(question.lower()), FILLER) if w not in {"top", "last", "this"}]
