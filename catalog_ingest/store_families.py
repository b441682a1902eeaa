"""The record store's families: their rows (by generation, like tables) and the reads of them.

``RecordStore`` inherits these methods; they live here so each module keeps one job. A family
(``catalog_ingest.families``) is stored once per generation with its member keys, so a member name finds its
family and search can serve families instead of their members.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog_ingest.records import FamilyRecord

FAMILY_SCHEMA = """
CREATE TABLE IF NOT EXISTS families (
    key TEXT NOT NULL,
    born INTEGER NOT NULL,
    died INTEGER,
    catalog TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    dated INTEGER NOT NULL,
    version TEXT NOT NULL,
    family_json TEXT NOT NULL,
    PRIMARY KEY (key, born)
);
CREATE TABLE IF NOT EXISTS family_members (
    key TEXT NOT NULL,
    born INTEGER NOT NULL,
    member_key TEXT NOT NULL,
    PRIMARY KEY (key, born, member_key),
    FOREIGN KEY (key, born) REFERENCES families(key, born) ON DELETE CASCADE
);
CREATE INDEX IF NOT EXISTS family_members_by_member ON family_members (member_key);
"""


def visible(generation: int, table: str = "tables") -> str:
    """SQL condition: the row of ``table`` is part of ``generation`` (an int from the store, never user text)."""
    g = int(generation)
    return f"({table}.born <= {g} AND ({table}.died IS NULL OR {table}.died > {g}))"


@dataclass(frozen=True)
class StoredVersion:
    source_version: str | None
    fingerprint: str
    generation: int
    """The generation that wrote this version: its vectors carry the same number."""


class FamilyRows:
    """Family writes and reads of ``RecordStore``, which provides ``_connect``, ``generation``,
    ``_writing_generation``, ``_retire`` and ``versions``."""

    def put_family(self, family: FamilyRecord) -> None:
        """Store one family (``catalog_ingest.families``) as the generation's version of it, with its members."""
        with self._writing_generation() as (conn, g):
            self._retire(conn, family.key, g, "families")
            conn.execute(
                "INSERT INTO families VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?)",
                (family.key, g, family.catalog, family.namespace, family.name, int(family.period != "number"),
                 family.version, family.model_dump_json()),
            )  # fmt: skip
            conn.executemany(
                "INSERT INTO family_members VALUES (?, ?, ?)",
                [(family.key, g, family.member_key(m.name)) for m in family.members],
            )

    def delete_family(self, key: str) -> None:
        with self._writing_generation() as (conn, g):
            self._retire(conn, key, g, "families")

    def family_versions(self) -> dict[str, StoredVersion]:
        """Family key -> its version (``source_version``) and the generation that wrote it (its vectors')."""
        sql = f"SELECT key, version, born FROM families WHERE {visible(self.generation, 'families')}"
        return {key: StoredVersion(version, version, born) for key, version, born in self._connect().execute(sql)}

    def member_keys(self, *, dated: bool | None = None) -> set[str]:
        """Keys of the tables that are members of a family (only of date families with ``dated``)."""
        sql = (
            "SELECT m.member_key FROM family_members m JOIN families ON families.key = m.key AND families.born = m.born"
            f" WHERE {visible(self.generation, 'families')}"
        )
        if dated is not None:
            sql += f" AND families.dated = {int(dated)}"
        return {row[0] for row in self._connect().execute(sql)}

    def searchable_versions(self) -> dict[str, int]:
        """What search serves: key -> generation of every table that is not a family member, and of every family."""
        members = self.member_keys()
        tables = {key: v.generation for key, v in self.versions().items() if key not in members}
        return tables | {key: v.generation for key, v in self.family_versions().items()}

    def vector_versions(self) -> set[tuple[str, int]]:
        """(key, generation) of every table and family version served: whose vectors an ingest keeps."""
        versions = self.versions() | self.family_versions()
        return {(key, version.generation) for key, version in versions.items()}

    def families(self) -> list[FamilyRecord]:
        sql = f"SELECT family_json FROM families WHERE {visible(self.generation, 'families')} ORDER BY key"
        return [FamilyRecord.model_validate_json(row[0]) for row in self._connect().execute(sql)]

    def family(self, name: str) -> FamilyRecord | None:
        """The family named ``catalog.namespace.name``, ``namespace.name`` or a bare name (the first by key when
        a bare name is in several namespaces)."""
        name = name.strip().strip("`\"")
        namespace, _, bare = name.rpartition(".")
        sql = f"SELECT family_json FROM families WHERE {visible(self.generation, 'families')} AND (lower(key) = lower(?)"
        sql += " OR (lower(namespace) = lower(?) AND lower(name) = lower(?))" if namespace else " OR lower(name) = lower(?)"
        args = (name, namespace, bare) if namespace else (name, bare)
        row = self._connect().execute(sql + ") ORDER BY key LIMIT 1", args).fetchone()
        return FamilyRecord.model_validate_json(row[0]) if row else None

    def family_of(self, member_key: str) -> FamilyRecord | None:
        """The family a table (by key) is a member of."""
        sql = (
            "SELECT families.family_json FROM family_members m JOIN families ON families.key = m.key"
            f" AND families.born = m.born WHERE m.member_key = ? AND {visible(self.generation, 'families')}"
        )
        row = self._connect().execute(sql, (member_key,)).fetchone()
        return FamilyRecord.model_validate_json(row[0]) if row else None
