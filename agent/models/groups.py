"""How the group words of a request map onto the main table before any column is looked up: two words that name
one column ("device type", "currency code") and a word that says whose attribute a group is ("campaign
channel" is the channel of the campaign the key points at, not the order's own sales channel), a group the main
table holds only as a key ("per campaign": ``campaign_id``) read as the name in the table the key points at, and
the key grouped by beside a name that is not known to be unique, so things that share a name stay apart.

Words and the described tables only: nothing here knows a lake.
"""

from __future__ import annotations

from agent.models.tables import Table, points_to
from catalog_ingest.text import stem

EXACT = 9.5
"""A column match this good is the column's own name (``device`` for "device")."""
WEAK = 5.5
"""Below this the word names no column of the table (not even a part of a name)."""


def phrase_groups(dims: list[str], qualifiers: dict[str, str], main: Table) -> tuple[list[str], dict[str, str]]:
    """Group words and qualifiers with each phrase that names one column of the main table read as that column:
    ``event type`` as ``event_type``, ``device type`` as ``device`` when the table has a ``device`` column and
    nothing for "type"."""
    dims, qualifiers = list(dims), dict(qualifiers)
    for word, head in list(qualifiers.items()):
        joined = f"{word}_{head}"
        if main.match(joined)[1] >= EXACT:
            named = main.column(joined) or joined
        elif main.match(word)[1] >= EXACT and main.match(head)[1] < WEAK:
            named = main.column(word) or word
        else:
            continue
        dims = list(dict.fromkeys(named if d in (word, head) else d for d in dims))
        qualifiers = {q: named if h == head else h for q, h in qualifiers.items() if q != word}
    return dims, qualifiers


def group_owners(owners: dict[str, str], qualifiers: dict[str, str], main: Table) -> dict[str, str]:
    """Whose attribute each group is: said outright ("region of their store"), or a qualifier the main table
    has a key for ("campaign" in "by campaign channel": ``campaign_id``) while the table is not about it."""
    found = dict(owners)
    for word, head in qualifiers.items():
        if head not in found and main.key_for(word) and not main.is_about(word):
            found[head] = word
    return found


def owner_entities(owners: dict[str, str], main: Table, tables: list[Table]) -> list[str]:
    """The owners of groups that no described table is about: their tables are still to be found."""
    return [owner for owner in dict.fromkeys(owners.values()) if not any(t is not main and t.is_about(owner) for t in tables)]


def named_by_key(dim: str, main: Table, tables: list[Table]) -> tuple[Table, tuple[str, str], str] | None:
    """A group word the main table holds only as a key ("campaign": ``campaign_id``, the word not saying "id"),
    and a described table the key points to that holds each row's name: that table, the join keys and its name
    column. None when the main table has the name itself or no table it points to names its rows."""
    key = main.key_for(dim)
    if not key or not main.has(key) or main.column(dim) != key or main.owns_name(dim):
        return None
    for other in tables:
        if other is not main and (keys := points_to(main, other)) and keys[0] == key and (name := other.name_column(dim)):
            return other, keys, name
    return None


def keyed_entities(dims: list[str], main: Table, tables: list[Table]) -> list[str]:
    """What the main table's keys for group words point at ("campaign" in "orders per campaign"), with no described
    table the key points to: its table is still to be found, for the names of the groups."""
    keys = [key for dim in dims if (key := main.key_for(dim)) and main.has(key) and main.column(dim) == key]
    pointed = {on[0] for t in tables if t is not main and (on := points_to(main, t))}
    return [key.removesuffix("_id") for key in dict.fromkeys(keys) if key.endswith("_id") and key not in pointed]


def key_beside(owner: Table, name: str, things: list[str], said: list[str]) -> str | None:
    """The key of the rows of ``owner`` to group by beside ``name`` when that column holds the names of the things
    grouped by (``product_name`` for "per product") and its profile does not show one name per row: grouped by
    the name alone, things that share a name (80 product names over 400 products) would merge into one group.
    None for names known to be unique, for a column that holds no thing's name, and for a column the question
    writes out ("by product_name": that column asked for)."""
    if name in said or (owner.rows is not None and owner.distinct_count(name) == owner.rows):
        return None
    for thing in things:
        key = f"{stem(thing)}_id"
        key = key if owner.has(key) else "id" if owner.is_named(thing) and owner.has("id") else None
        if key and owner.name_column(thing) == name:
            return key
    return None
