"""Reading a question's words for the offline model: synonyms, typos, time grains and periods, instructions
to the assistant.

The word lists live in `agent.models.vocabulary` (general English only); table and column names come from
tool results. Words and stems come from the one text module, `catalog_ingest.text`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from datetime import date, timedelta

from agent.models.vocabulary import (
    CLAUSE_WORDS,
    COUNTING_WORDS,
    COUNTRIES,
    COUNTRY_NAME_STARTS,
    COUNTRY_PAIRS,
    GRAINS,
    IRREGULAR_PAST,
    LAYERS,
    NEGATING_PAIRS,
    NUMBER_SCALES,
    NUMBER_WORDS,
    SYNONYMS,
)
from catalog_ingest.records import time_span
from catalog_ingest.text import QUESTION_STOPWORDS, stem, words

GRAIN_PHRASE = re.compile(r"\b(?:by|per|each|every|a|over)\s+(hour|day|week|month|quarter|year)s?\b")
GRAIN_WORD = re.compile(r"\b(" + "|".join(GRAINS) + r")\b")
ISO = r"\d{4}-\d{2}(?:-\d{2})?"
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
NAMED_MONTH = re.compile(r"\b(in|during|for|of|since)\s+(?:the\s+month\s+of\s+)?(" + "|".join(MONTHS) + r")(?:\s+(\d{4}))?\b")
"""A month named in a period phrase ("in March", "since October 2026"); "may" only there, never the verb."""
YEAR = re.compile(r"\b(in|during|for|of|since)\s+(?:the\s+year\s+)?((?:19|20)\d{2})\b(?![-/.]\d)")
"""A year named in a period phrase ("signed up in 2025", "since 2024")."""
SINCE_WEEKDAY = re.compile(r"\bsince\s+(?:last\s+)?(" + "|".join(WEEKDAYS) + r")\b")


COUNTRY_WORDS = {word: code for code, names in COUNTRIES.items() for word in names.split()}


def country_code(word: str) -> str | None:
    """The ISO code of a country a word (or two joined, ``united_kingdom``) names: "germany" -> de."""
    first, _, second = word.partition("_")
    if second:
        return COUNTRY_PAIRS.get(second) or COUNTRY_WORDS.get(second) if first in COUNTRY_NAME_STARTS else None
    return COUNTRY_WORDS.get(word)


def layer_rank(table: str) -> int:
    """2 for a curated table (any namespace not named like a raw or staging layer), 1 staging, 0 raw."""
    return LAYERS.get(table.partition(".")[0].lower(), 2)


# Instructions to the assistant ---------------------------------------------------------------------------

ANSWER_NOUN = r"(?:sql|query|queries|statement|code|result|results|answer|draft|output|reasoning|logic|steps|solution)"
ANSWER_REF = (rf"(?:(?:(?:the|your|a|an|my|this|that|final|same|whole|full|generated|resulting)\s+)*{ANSWER_NOUN}\b"
              r"|(?:it|that|this|them)\b)")  # fmt: skip
"""What an instruction is about: the answer itself ("the SQL", "your query", "it"), never the lake's data."""
PLAIN_TAIL = (
    "only just back to me us please now here as is in a an the code block markdown plain text format duckdb sql "
    "syntax dialect without with no any explanation explanations comment comments commentary prose formatting fence "
    "fences against catalog first before running it that this works runs run compiles valid correct is are ok okay "
    "fine so can could i we copy paste properly correctly errors error"
).split()
TAIL = r"(?:\s+(?:" + "|".join(sorted(PLAIN_TAIL, key=len, reverse=True)) + r")\b)*"
"""Words that may follow an instruction's object without making it a question ("return the SQL only")."""
LEAD = (r"(?:(?:and|then|but|also|so|please|kindly|pls|now|finally|first|just|can you|could you|would you|will you"
        r"|you should|you must|i want you to|i need you to|i'd like you to|remember to|don't forget to)\s+)*")  # fmt: skip
CLAUSE_START = r"(?:^|(?<=[.;:!?,\n])|(?<=\s)(?=(?:and|then|but|also|so)\b))\s*"
CLAUSE_END = r"(?=\s*(?:[.;:!?,\n]|\b(?:and|then|but)\b|$))"
SENTENCE_END = r"[^.;!?\n]*"
INSTRUCTIONS = [
    re.compile(CLAUSE_START + LEAD + p, re.IGNORECASE)
    for p in (
        # validate it / check the query against the catalog / validate.
        r"(?:validate|check|verify|test|lint|double[- ]check|review|proofread|dry[- ]run)"
        rf"(?:\s+(?:that\s+)?{ANSWER_REF})?{TAIL}{CLAUSE_END}",
        # make sure it runs / ensure the query is valid / be sure to validate it
        rf"(?:make sure|ensure|be sure|confirm)\s+(?:that\s+)?(?:to\b|{ANSWER_REF}){SENTENCE_END}",
        # return the SQL / give me only the query / show your reasoning
        r"(?:return|give|send|output|print|show|provide|reply with|respond with|paste|share|hand back|write out)"
        rf"(?:\s+(?:me|us|back))?(?:\s+(?:only|just))?\s+{ANSWER_REF}{TAIL}{CLAUSE_END}",
        # only the query / just the SQL / SQL only
        rf"(?:only|just)\s+(?:the\s+)?{ANSWER_NOUN}\b{TAIL}{CLAUSE_END}",
        rf"(?:the\s+)?{ANSWER_NOUN}\s+only{TAIL}{CLAUSE_END}",
        # explain / explain it / explain your reasoning / explain how it works
        rf"explain(?:\s+(?:{ANSWER_REF}|why|how it works|what it does|your \w+))?{TAIL}{CLAUSE_END}",
        # no explanation / without comments / don't run it
        r"(?:no|without(?:\s+any)?)\s+(?:explanation|explanations|comments?|commentary|prose|markdown|formatting)"
        rf"{TAIL}{CLAUSE_END}",
    )
] + [
    # in DuckDB syntax / use the postgres dialect, wherever it stands; (the editor language is sql)
    re.compile(r"(?:^|(?<=[\s.;:!?,]))(?:use|using|in|with|for)\s+(?:the\s+)?(?:(?:duckdb|ansi|standard)"
               r"(?:\s+(?:sql|syntax|dialect))?|[\w-]+\s+(?:sql\s+)?(?:syntax|dialect))" + TAIL + CLAUSE_END, re.IGNORECASE),
    re.compile(r"\s*\([^()]*\b(?:language|dialect|syntax|sql flavou?r)\b[^()]*\)", re.IGNORECASE),
]  # fmt: skip
"""Sentences and clauses addressed to the assistant about how to answer, not about what the lake holds;
also an aside on the SQL dialect ("(the editor language is sql)")."""


def split_instructions(text: str) -> tuple[str, list[str]]:
    """The question without its instructions to the assistant ("validate it", "return only the SQL", "make sure
    it runs", "explain"), and those instructions. A clause counts only when all of it is about the answer, so
    "show returns by region" or "return rate by region" stay questions."""
    said: list[str] = []
    changed = True
    while changed:
        changed = False
        for pattern in INSTRUCTIONS:
            match = pattern.search(text)
            if match and match.group(0).strip():
                said.append(match.group(0).strip(" ,"))
                text = text[: match.start()] + " " + text[match.end() :]
                changed = True
    text = re.sub(r"\s*[.;:!?,](?:\s*([.;:!?,]))+", r"\1", " ".join(text.split()))  # "region.." -> "region."
    return re.sub(r"\s+([.;:!?,])", r"\1", text).lstrip(" .;:!?,"), said


WORD = re.compile(r"[A-Za-z]+")


def spelled_numbers(text: str) -> str:
    """Numbers written in words as digits: "more than five items" -> "more than 5 items", "two hundred" -> "200",
    "forty-five" -> "45"; a lone "one" only where it counts ("more than one"), not in "which one" or "one row"."""
    tokens, out, kept = list(WORD.finditer(text)), [], 0
    i = 0
    while i < len(tokens):
        j, total, current, last = i, 0, 0, None
        while j < len(tokens):
            word = tokens[j].group(0).lower()
            if j > i and text[tokens[j - 1].end() : tokens[j].start()].strip(" -"):
                break  # only spaces or a hyphen join the words of one number
            if word in NUMBER_WORDS and (last is None or (last % 10 == 0 < last // 10 and NUMBER_WORDS[word] < 10)):
                current, last = current + NUMBER_WORDS[word], NUMBER_WORDS[word]  # "forty five", not "five six"
            elif word in NUMBER_SCALES and last is not None:
                scale, last = NUMBER_SCALES[word], None
                total, current = (total, current * scale) if scale == 100 else (total + current * scale, 0)
            elif word == "and" and j > i and last is None and tokens[j + 1 :][:1] and \
                    tokens[j + 1].group(0).lower() in NUMBER_WORDS:  # fmt: skip
                pass  # "two hundred and fifty"
            else:
                break
            j += 1
        said = [t.group(0).lower() for t in tokens[i:j]]
        before = tokens[i - 1].group(0).lower() if i else ""
        if not said or (said == ["one"] and before not in COUNTING_WORDS):
            i += 1
            continue
        out += [text[kept : tokens[i].start()], str(total + current)]
        kept, i = tokens[j - 1].end(), j
    return "".join([*out, text[kept:]])


def content_words(text: str, also_drop: frozenset[str] = frozenset()) -> list[str]:
    """The words that say what a question is about: no stop words, no ``also_drop``, no bare numbers."""
    return [w for w in words(text) if w not in QUESTION_STOPWORDS and w not in also_drop and not w.isdigit()]


def similar(a: str, b: str, cutoff: float = 0.84) -> bool:
    """Same word up to a typo: ``recieve`` ~ ``receive``; short words must match exactly."""
    if a == b:
        return True
    return min(len(a), len(b)) >= 5 and SequenceMatcher(None, a, b).ratio() >= cutoff


QUESTION_WORDS = frozenset(
    "which where table tables dataset datasets partition partitions partitioned column columns describe history "
    "snapshot snapshots schema".split()
)


def correct_typos(text: str) -> str:
    """Fix a misspelled question word (``whcih`` -> ``which``) so intent detection sees it; others stay."""

    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        if len(word) < 4 or word.lower() in QUESTION_WORDS or word.lower() in QUESTION_STOPWORDS:
            return word
        ratio, best = max((SequenceMatcher(None, word.lower(), w).ratio(), w) for w in QUESTION_WORDS)
        return best if ratio >= 0.85 else word

    return re.sub(r"[A-Za-z]+", fix, text)


def related(word: str) -> set[str]:
    """A word's stem and the stems of its business synonyms; a plural the stemmer keeps whole ("ads") also
    as its singular."""
    if present := IRREGULAR_PAST.get(word.lower()):
        return {stem(word)} | related(present)
    base = stem(word)
    return {base, *singular(word), *(stem(s) for s in SYNONYMS.get(base) or SYNONYMS.get(word.lower(), ()))}


def singular(word: str) -> set[str]:
    """The stem of a short plural's singular the stemmer keeps whole ("ads" -> ad), else nothing."""
    base = stem(word)
    return {stem(word[:-1].lower())} if base == word.lower() and len(word) >= 3 and re.search(r"[^su]s$", base) else set()


def verb_forms(word: str) -> set[str]:
    """A word and the stems its inflections may come from: ``opted`` -> opt, ``cancelled`` -> cancel,
    ``resolved`` -> resolve, ``running`` -> run, ``manually`` -> manual."""
    word = word.lower()
    found = {word}
    for suffix in ("ed", "ing", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            found |= {base, base + "e"} if suffix in ("ed", "ing") else {base}
            if len(base) >= 4 and base[-1] == base[-2]:
                found.add(base[:-1])  # cancelled -> cancel, running -> run
    if word.endswith("ied") and len(word) > 4:
        found.add(word[:-3] + "y")
    return found | ({IRREGULAR_PAST[word]} if word in IRREGULAR_PAST else set())


def grain_of(text: str) -> str | None:
    if match := GRAIN_WORD.search(text):
        return GRAINS[match.group(1)]
    if match := GRAIN_PHRASE.search(text):
        return match.group(1)
    return None


GRAIN_IN_LIST = re.compile(GRAIN_PHRASE.pattern + r"\s*(?:,|\band\b)\s*")
"""A grain listed first among groups ("by month and plan"): the groups after it keep their "by"."""
GRAIN_NOUNS = frozenset({"hour", "day", "week", "month", "quarter", "year"})


def strip_grain(text: str) -> str:
    text = GRAIN_IN_LIST.sub(lambda m: m.group(0).split()[0] + " ", text)
    return GRAIN_PHRASE.sub(" ", GRAIN_WORD.sub(" ", text))


@dataclass(frozen=True)
class Period:
    start: date
    end: date
    """Inclusive."""
    label: str
    relative: bool

    def filter(self) -> str:
        """The range in the ``FROM..TO`` form ``list_partitions`` takes."""
        return f"{self.start.isoformat()}..{self.end.isoformat()}"


def iso_period(text: str) -> tuple[date, date]:
    """``2026-11`` is the whole month; ``2026-11-05`` one day (first and last day, inclusive)."""
    return time_span(text).days()


def month_start(day: date, back: int = 0) -> date:
    """The first day of ``day``'s month, ``back`` calendar months earlier."""
    months = day.year * 12 + day.month - 1 - back
    return date(months // 12, months % 12 + 1, 1)


def calendar_unit_back(unit: str, back: int, today: date) -> tuple[date, date]:
    """The first and last day of the calendar week (Monday to Sunday), month or year ``back`` of them before
    ``today``'s."""
    if unit == "week":
        start = today - timedelta(days=today.weekday() + 7 * back)
        return start, start + timedelta(days=6)
    if unit == "month":
        return month_start(today, back), month_start(today, back - 1) - timedelta(days=1)
    return date(today.year - back, 1, 1), date(today.year - back, 12, 31)


def period_of(text: str, today: date) -> Period | None:
    """A time range in the question. Relative ones count from ``today`` (in the configured time zone):
    "last month" is the previous calendar month, "last week" the previous Monday-to-Sunday week, "the last 3
    days" the three days ending today; the label states the dates. Other words for the same periods are read as
    these ("the prior month", "since the start of the year", "month to date")."""
    text = re.sub(r"\b(?:prior|preceding)\s+(?=\d+\s|week|month|quarter|year|fortnight)", "previous ", text.lower())
    text = re.sub(r"\bsince\s+the\s+(?:start|beginning)\s+of\s+(?:the\s+|this\s+)?(week|month|quarter|year)\b", r"this \1", text)
    text = re.sub(r"\b(week|month|quarter|year)[\s-]to[\s-]date\b", r"this \1", text)
    text = re.sub(r"\b(?:ytd|mtd)\b", lambda m: "this year" if m.group(0) == "ytd" else "this month", text)
    if match := re.search(rf"\b(?:between|from)\s+({ISO})\s+(?:and|to|until)\s+({ISO})\b", text):
        start, end = iso_period(match.group(1))[0], iso_period(match.group(2))[1]
        return Period(start, end, f"{start} to {end}", relative=False)
    if match := re.search(rf"\bsince\s+({ISO})\b", text):
        start = iso_period(match.group(1))[0]
        return Period(start, today, f"since {start} (to today, {today})", relative=True)
    if match := re.search(rf"\b({ISO})\b", text):
        start, end = iso_period(match.group(1))
        return Period(start, end, match.group(1), relative=False)
    if match := YEAR.search(text):
        year = int(match.group(2))
        start = date(year, 1, 1)
        if match.group(1) == "since":
            return Period(start, today, f"since {year} (to today, {today})", relative=True)
        return Period(start, date(year, 12, 31), f"{year}: {start} to {date(year, 12, 31)}", relative=False)
    if match := NAMED_MONTH.search(text):
        return named_month(match.group(2), match.group(3), match.group(1) == "since", today)
    if match := SINCE_WEEKDAY.search(text):
        start = today - timedelta(days=(today.weekday() - WEEKDAYS.index(match.group(1))) % 7)
        return span(start, today, f"since {match.group(1).capitalize()}")
    if match := re.search(r"\b(\d+|an?|one)\s+(day|week)s?\s+(?:ago|back)\b", text):  # one day: "3 days ago", "a week back"
        count = int(match.group(1)) if match.group(1).isdigit() else 1
        day = today - timedelta(days=count * (7 if match.group(2) == "week" else 1))
        return Period(day, day, f"{match.group(0)} ({day})", relative=True)
    if match := re.search(r"\b(?:last|past|previous)\s+(\d+)\s+(day|week|month)s?\b", text):
        count, unit = int(match.group(1)), match.group(2)
        if unit == "month":
            back = month_start(today, count)
            start = back.replace(day=min(today.day, 28)) + timedelta(days=1)
        else:
            start = today - timedelta(days=count * (7 if unit == "week" else 1) - 1)
        return span(start, today, f"the last {count} {unit}s")
    if match := re.search(r"\b(?:(week|month|year)\s+before\s+last|(?:last|previous)\s+(week|month|year))\b", text):
        unit, back = (match.group(1), 2) if match.group(1) else (match.group(2), 1)  # "the month before last"
        start, end = calendar_unit_back(unit, back, today)
        said = f"the {unit} before last" if back == 2 else f"last {unit}"
        return span(start, end, said + {"week": "", "month": f" ({start:%Y-%m})", "year": f" ({start.year})"}[unit])
    if match := re.search(r"\b(?:last|past|previous)\s+(fortnight)\b|\bpast\s+(week|month|year)\b", text):
        days = {"fortnight": 14, "week": 7, "month": 30, "year": 365}[match.group(1) or match.group(2)]
        return span(today - timedelta(days=days - 1), today, f"the past {match.group(1) or match.group(2)}")
    if match := re.search(r"\b(last|previous|this|current)\s+quarter\b", text):
        start = month_start(today, (today.month - 1) % 3)  # the first day of this quarter
        if match.group(1) in ("this", "current"):
            return span(start, today, "this quarter")
        first = month_start(start, 3)
        return span(first, start - timedelta(days=1), f"last quarter (Q{(first.month - 1) // 3 + 1} {first.year})")
    if match := re.search(r"\b(?:this|current)\s+(week|month|year)\b", text):
        unit = match.group(1)
        start = {"week": today - timedelta(days=today.weekday()), "month": today.replace(day=1),
                 "year": date(today.year, 1, 1)}[unit]  # fmt: skip
        return span(start, today, f"this {unit}")
    if re.search(r"\bday before yesterday\b", text):
        day = today - timedelta(days=2)
        return Period(day, day, f"the day before yesterday ({day})", relative=True)
    if re.search(r"\byesterday\b", text):
        day = today - timedelta(days=1)
        return Period(day, day, f"yesterday ({day})", relative=True)
    if re.search(r"\btoday\b", text):
        return Period(today, today, f"today ({today})", relative=True)
    return None


def named_month(name: str, year: str | None, since: bool, today: date) -> Period:
    """A month by name: of the year given, else the latest such month up to today's; "since" runs to today."""
    month = MONTHS.index(name) + 1
    first = date(int(year) if year else today.year - (month > today.month), month, 1)
    last = month_start(date(first.year + first.month // 12, first.month % 12 + 1, 1)) - timedelta(days=1)
    label = f"{name.capitalize()} {first.year}"
    if since:
        return span(first, today, f"since {label}")
    return Period(first, last, f"{label}: {first} to {last}", relative=not year)


def span(start: date, end: date, label: str) -> Period:
    return Period(start, end, f"{label}: {start} to {end}" if start != end else f"{label}: {start}", relative=True)


def what_is_asked(said: list[str]) -> list[str]:
    """The words of a question that say what it is about: without the words that frame, negate or compare it
    ("did not fail", "fewer than 500", "leaving out"), and without numbers."""
    kept, pair_end = [], -1
    for i, word in enumerate(said):
        if i == pair_end:
            continue
        if i + 1 < len(said) and NEGATING_PAIRS.get(word) == said[i + 1]:
            pair_end = i + 1
        elif word not in CLAUSE_WORDS and not word.isdigit():
            kept.append(word)
    return kept
