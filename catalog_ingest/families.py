"""Date-shard families: tables that differ only by a date or number suffix (``events_20240101``,
``events_20240102``, ...), found from their names alone. Pure and fast: one regular expression per name.

Recognised suffixes, tried in this order (the first that reads gives the table's family):

| pattern | example | members needed |
|---|---|---|
| ``YYYYMMDDHH`` | ``clicks_2024010113`` | 2 |
| ``YYYYMMDD`` | ``events_20240101``, ``ga_sessions20170801`` (no separator) | 2 |
| ``YYYY_MM_DD`` | ``events_2024_01_01`` | 2 |
| ``YYYYMM`` | ``billing_202401`` | 2 |
| ``YYYY_MM`` | ``billing_2024_01`` | 2 |
| ``N`` | ``shard_001``, ``part_7`` | 10, and one schema (checked once the records are read) |

Dates must be real dates of years 1970-2099; a bare year (``sales_2024``) is a number. Numbers glued to a
word (``top100``), versions (``users_v2``) and digits followed by letters (``auth_2fa``) are not suffixes;
numbered tables with different schemas (``user_daily_12``, ``user_daily_57``: two datasets that happen to end
in ids) are not a family. A family's name is its stem with the pattern in place of the suffix
(``events_YYYYMMDD``), so it reads as a table name and can never equal one of its members.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

NUMBER_PATTERN = "N"
SUFFIX_COLUMN = "_table_suffix"
"""The column SQL that reads a family as one table adds (``agent.sql.family_tables``): a member's suffix, like
BigQuery's ``_TABLE_SUFFIX``."""
MIN_DATE_MEMBERS = 2
MIN_NUMBER_MEMBERS = 10
"""Numbers say less than dates: a few numbered tables are often datasets of their own (``ledger_1``,
``ledger_2`` of two companies) that a user asks about by name; ten or more with one schema are shards."""


@dataclass(frozen=True)
class SuffixPattern:
    name: str
    """What stands in for the suffix in the family's name: ``YYYYMMDD``, ``N``."""
    regex: re.Pattern[str]
    """Matches the end of a table name; group ``stem`` is what the members share."""
    period: str
    """``hour``, ``day``, ``month`` or ``number``: what one member covers."""


def _pattern(name: str, digits: str, period: str, separator: str = "_") -> SuffixPattern:
    return SuffixPattern(name, re.compile(rf"^(?P<stem>.*?[A-Za-z0-9]){separator}(?<!\d)(?P<suffix>{digits})$"), period)


PATTERNS = (
    _pattern("YYYYMMDDHH", r"(?:19[7-9]\d|20\d\d)\d{6}", "hour"),
    _pattern("YYYYMMDD", r"(?:19[7-9]\d|20\d\d)\d{4}", "day", separator="_?"),
    _pattern("YYYY_MM_DD", r"(?:19[7-9]\d|20\d\d)_\d\d_\d\d", "day"),
    _pattern("YYYYMM", r"(?:19[7-9]\d|20\d\d)\d\d", "month"),
    _pattern("YYYY_MM", r"(?:19[7-9]\d|20\d\d)_\d\d", "month"),
    _pattern(NUMBER_PATTERN, r"\d+", "number"),
)


@dataclass(frozen=True)
class Member:
    name: str
    """The table's own name (without namespace)."""
    suffix: str
    moment: datetime | None
    """When a date suffix starts (None for numbers)."""

    @property
    def day(self) -> date | None:
        return self.moment.date() if self.moment else None

    def order(self) -> tuple[int, str]:
        return (int(self.suffix), self.suffix) if self.moment is None else (0, self.moment.isoformat())


@dataclass(frozen=True)
class Family:
    namespace: str
    stem: str
    """What the members' names share, separator included: ``events_``."""
    pattern: SuffixPattern
    members: tuple[Member, ...]
    """In suffix order: the first and last are the range."""

    @property
    def name(self) -> str:
        return f"{self.stem}{self.pattern.name}"

    @property
    def full_name(self) -> str:
        return f"{self.namespace}.{self.name}"

    @property
    def is_dated(self) -> bool:
        return self.pattern.period != "number"

    def member_names(self) -> list[str]:
        return [f"{self.namespace}.{m.name}" for m in self.members]

    def members_between(self, start: date | None, end: date | None) -> list[Member]:
        """Dated members whose suffix falls in ``[start, end]`` (either side open), in order."""
        return [m for m in self.members if m.day and (start is None or m.day >= start) and (end is None or m.day <= end)]


def suffix_moment(suffix: str) -> datetime:
    """The start of a date suffix's period (``2024_01_31`` -> 2024-01-31 00:00); ValueError for no real date."""
    digits = suffix.replace("_", "")
    parts = [int(digits[i : i + 2]) for i in range(4, len(digits), 2)]
    month, day, hour = parts + [1, 1, 0][len(parts) :]
    return datetime(int(digits[:4]), month, day, hour)


def read_suffix(name: str) -> tuple[str, SuffixPattern, Member] | None:
    """(stem, pattern, member) when the table name ends in a recognised suffix, else None."""
    if not name[-1:].isdigit():
        return None
    for pattern in PATTERNS:
        match = pattern.regex.match(name)
        if not match:
            continue
        suffix = match["suffix"]
        moment = None
        if pattern.period != "number":
            try:
                moment = suffix_moment(suffix)
            except ValueError:
                continue  # 20241399 is not a date; it may still read as a plain number
        return name[: match.start("suffix")], pattern, Member(name, suffix, moment)
    return None


def detect_families(full_names: Iterable[str]) -> list[Family]:
    """Families among ``namespace.table`` names, by namespace, stem and pattern; tables that fit no family
    are left out (singletons). Number families still need ``one_schema`` once their records are read."""
    groups: dict[tuple[str, str, str], list[Member]] = defaultdict(list)
    patterns = {p.name: p for p in PATTERNS}
    for full_name in full_names:
        namespace, _, table = full_name.rpartition(".")
        found = read_suffix(table)
        if found:
            stem, pattern, member = found
            groups[(namespace, stem, pattern.name)].append(member)
    families = []
    for (namespace, stem, pattern_name), members in groups.items():
        pattern = patterns[pattern_name]
        needed = MIN_NUMBER_MEMBERS if pattern.period == "number" else MIN_DATE_MEMBERS
        if len(members) >= needed:
            families.append(Family(namespace, stem, pattern, tuple(sorted(members, key=Member.order))))
    return sorted(families, key=lambda f: f.full_name)


def dated_members(full_names: Iterable[str]) -> dict[str, Family]:
    """``namespace.table`` -> its family, for members of date families only: those are known from names alone,
    before any record is read (number families wait for their schemas)."""
    return {name: family for family in detect_families(full_names) if family.is_dated for name in family.member_names()}


@dataclass(frozen=True)
class SchemaSplit:
    representative: str
    """The newest member with the family's schema (the most common column list)."""
    differing: dict[str, tuple[list[str], list[str]]]
    """member name -> (columns it adds, columns it lacks) against the family's schema."""


def schema_split(columns_by_member: Mapping[str, Sequence[str]]) -> SchemaSplit:
    """The family's schema is the column list most members share (the newer one on a tie); every other member
    is listed with what it adds and lacks. ``columns_by_member`` is in member order."""
    counts: dict[tuple[str, ...], int] = defaultdict(int)
    for columns in columns_by_member.values():
        counts[tuple(columns)] += 1
    order = list(columns_by_member)
    last_seen = {tuple(columns): i for i, columns in enumerate(columns_by_member.values())}
    schema = max(counts, key=lambda cols: (counts[cols], last_seen[cols]))
    representative = order[last_seen[schema]]
    wanted = set(schema)
    differing = {}
    for member, columns in columns_by_member.items():
        if tuple(columns) != schema:
            have = set(columns)
            differing[member] = ([c for c in columns if c not in wanted], [c for c in schema if c not in have])
    return SchemaSplit(representative, differing)


def one_schema(columns_by_member: Mapping[str, Sequence[str]]) -> bool:
    """Whether every member has the same columns (what a number family needs to be one)."""
    return len({tuple(columns) for columns in columns_by_member.values()}) <= 1
