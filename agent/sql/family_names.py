"""A table family's name in SQL (``web.events_YYYYMMDD``): not a table any engine can read, so validation says
what it is and which members to name instead, for the dates the query asks about.

Members are tables and validate as such. DuckDB has no wildcard table (BigQuery's ``events_*``), and its
``iceberg_scan`` reads one table's metadata at a time; Athena has none either. So the way to read several
members is one SELECT per member joined by ``UNION ALL BY NAME``, and the message says so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from catalog_ingest.families import PATTERNS, Family, detect_families, one_schema
from catalog_ingest.records import TableRecord

DATE_LITERAL = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")
SUGGESTED_MEMBERS = 7


def looks_like_family(name: str) -> bool:
    return any(name.rsplit(".", 1)[-1].upper().endswith(p.name) for p in PATTERNS)


def family_named(name: str, records: Iterable[TableRecord]) -> Family | None:
    """The family whose name (``namespace.stem_PATTERN`` or the bare name) is ``name``, among ``records``' tables."""
    if not looks_like_family(name):
        return None
    by_name = {r.full_name: r for r in records}
    wanted = name.lower()
    for family in detect_families(by_name):
        if wanted in (family.full_name.lower(), family.name.lower()):
            columns = {m: [c.path for c in by_name[m].columns] for m in family.member_names()}
            return family if family.is_dated or one_schema(columns) else None
    return None


def dates_asked(sql: str) -> tuple[date | None, date | None]:
    """The earliest and latest ISO dates written in the query (None, None when it names none)."""
    found = []
    for year, month, day in DATE_LITERAL.findall(sql):
        try:
            found.append(date(int(year), int(month), int(day)))
        except ValueError:
            continue
    return (min(found), max(found)) if found else (None, None)


def family_message(family: Family, sql: str) -> tuple[str, list[str]]:
    """The sentence for a family named in SQL, and the member names to use (those for the dates asked, else
    the newest)."""
    start, end = dates_asked(sql)
    chosen = family.members_between(start, end) if family.is_dated and start else []
    picked = chosen or list(family.members[-3:])
    names = [f"{family.namespace}.{m.name}" for m in picked[:SUGGESTED_MEMBERS]]
    first, last = family.members[0].name, family.members[-1].name
    scope = f"the members for {start}..{end}" if chosen else "a member"
    message = (
        f"{family.full_name} is a family of {len(family.members)} tables ({first} .. {last}), not one table, and "
        f"DuckDB has no wildcard table for it: name {scope} ({', '.join(names)}), joining several with "
        "UNION ALL BY NAME, one SELECT per member"
    )
    return message, names
