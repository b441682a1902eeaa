"""Joins of a draft: where a group column lives (the main table, a table it points to, or two hops away) and
the aliases and ON conditions of the tables joined for it."""

from __future__ import annotations

from sqlglot import exp

from agent.models.groups import named_by_key
from agent.models.sql_expressions import column, table_as
from agent.models.tables import Table, hop_path, points_to


def locate(
    dim: str,
    main: Table,
    tables: list[Table],
    aliases: dict[str, str],
    joins: list[tuple[exp.Expression, exp.Expression]],
    owner: str | None = None,
) -> tuple[Table, str | None]:
    """Find a group column in the main table, else in a table that joins to it along a key column; a group
    qualified by its owner ("region of their store") looks in the table about that owner first; a group the main
    table holds only as a key ("per campaign": ``campaign_id``) is the name in the table the key points to."""
    if not owner and (named := named_by_key(dim, main, tables)):
        other, keys, name = named
        join_alias(other, keys, aliases, joins)
        return other, name
    own = main.column(dim)
    if own and not (owner and not main.is_about(owner)):
        return main, own
    owned = [t for t in tables if owner and t is not main and t.is_about(owner)]
    for other in owned or tables:  # the owner's table when one is described, else any that joins
        if other is main or (found := other.column(dim)) is None or (keys := points_to(main, other)) is None:
            continue
        join_alias(other, keys, aliases, joins)
        return other, found
    if not own and (path := hop_path(dim, main, tables)):  # payments -> orders -> customers
        middle, first, other, second = path
        join_alias(other, second, aliases, joins, join_alias(middle, first, aliases, joins))
        return other, other.column(dim)
    return main, own


def join_alias(other: Table, keys: tuple[str, str], aliases: dict[str, str],
               joins: list[tuple[exp.Expression, exp.Expression]], base: str = "t") -> str:
    """The alias of a joined table, joining it on ``keys`` (the ``base`` table's, its own) the first time."""
    if other.name not in aliases:
        aliases[other.name] = next(a for a in (other.short[0], f"{other.short[0]}2", "j") if a not in aliases.values())
        joins.append((table_as(other.name, aliases[other.name]), column(keys[0], base).eq(column(keys[1], aliases[other.name]))))
    return aliases[other.name]
