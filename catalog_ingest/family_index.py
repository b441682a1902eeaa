"""Families in the store and the indexes: family records built from their members' records, and the
documents search serves (every table that is not a family member, and one set per family).

An ingest writes members like any table (date-family members with a single placeholder document, since their
names already say they are members), then ``refresh_families`` groups the generation's tables by name
(``catalog_ingest.families``), builds each family's record from its members' stored records and writes its
documents once. A family whose members did not change is not rebuilt: its version is a hash of the members'
keys and fingerprints.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterator

from catalog_ingest.documents import Document, documents_for, family_documents
from catalog_ingest.families import Family, detect_families, one_schema, schema_split
from catalog_ingest.lexical import LexicalIndex
from catalog_ingest.records import FamilyMember, FamilyRecord, SchemaDifference, TableRecord, TableTotals
from catalog_ingest.store import RecordStore, StoredVersion

WriteDocuments = Callable[[list[tuple[str, list[Document]]]], int]
"""Embeds and writes families' documents, each under its key (into the generation being written), in one
write; returns how many."""
FAMILIES_PER_WRITE = 64
"""Families rebuilt are written together, this many at a time: Chroma's cost is per call far more than per row."""


def family_version(member_keys: list[str], versions: dict[str, StoredVersion]) -> str:
    payload = "\n".join(f"{key} {versions[key].fingerprint}" for key in member_keys)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def families_by_key(versions: dict[str, StoredVersion]) -> dict[str, tuple[str, Family]]:
    """Family key -> (catalog, family) among the tables of ``versions`` (keys ``catalog.namespace.table``)."""
    names_by_catalog: dict[str, list[str]] = defaultdict(list)
    for key in versions:
        catalog, _, full_name = key.partition(".")
        names_by_catalog[catalog].append(full_name)
    return {
        f"{catalog}.{family.full_name}": (catalog, family)
        for catalog, names in names_by_catalog.items()
        for family in detect_families(names)
    }


def build_family(catalog: str, family: Family, records: list[TableRecord], version: str) -> FamilyRecord | None:
    """The family's record from its members' records (in member order); None for a number family whose members
    do not share one schema (tables that merely end in numbers)."""
    columns = {r.name: [c.path for c in r.columns] for r in records}
    if not family.is_dated and not one_schema(columns):
        return None
    split = schema_split(columns)
    suffixes = {m.name: m.suffix for m in family.members}
    members = [
        FamilyMember(name=r.name, suffix=suffixes[r.name], record_count=r.totals.record_count,
                     total_bytes=r.totals.total_bytes, file_count=r.totals.file_count, last_updated=r.last_updated)
        for r in records
    ]  # fmt: skip

    def summed(field: str) -> int | None:
        values = [getattr(r.totals, field) for r in records if getattr(r.totals, field) is not None]
        return sum(values) if values else None

    updated = [r.last_updated for r in records if r.last_updated is not None]
    return FamilyRecord(
        catalog=catalog, namespace=family.namespace, name=family.name, pattern=family.pattern.name,
        period=family.pattern.period, members=members, representative=split.representative,
        schema_differences=[SchemaDifference(member=m, added=a, missing=x) for m, (a, x) in split.differing.items()],
        totals=TableTotals(**{f: summed(f) for f in ("record_count", "file_count", "total_bytes", "partition_count")}),
        last_updated=max(updated) if updated else None, version=version,
    )  # fmt: skip


def refresh_families(
    store: RecordStore, write_documents: WriteDocuments, embedded: set[tuple[str, int]], *, full: bool = False
) -> int:
    """Bring the families of the generation being written up to date with its tables; returns the documents
    written. A family is rebuilt when its members changed, its vectors are not among ``embedded`` (key,
    generation), or with ``full``; families no longer there (members gone, names changed) are removed."""
    versions = store.versions()
    stored = store.family_versions()
    found = families_by_key(versions)
    written = 0
    kept: set[str] = set()
    pending: list[tuple[FamilyRecord, list[Document]]] = []

    def write_pending() -> int:
        """Vectors first, then the records: a run killed in between rebuilds these families."""
        count = write_documents([(record.key, documents) for record, documents in pending])
        for record, _ in pending:
            store.put_family(record)
        pending.clear()
        return count

    for key, (catalog, family) in found.items():
        member_keys = [f"{catalog}.{name}" for name in family.member_names()]
        version = family_version(member_keys, versions)
        previous = stored.get(key)
        if previous and previous.source_version == version and (key, previous.generation) in embedded and not full:
            kept.add(key)
            continue
        records = [r for k in member_keys if (r := store.get(k, with_partitions=False)) is not None]
        record = build_family(catalog, family, records, version)
        if record is None:
            continue
        representative = next(r for r in records if r.name == record.representative)
        pending.append((record, family_documents(record, representative)))
        kept.add(key)
        if len(pending) >= FAMILIES_PER_WRITE:
            written += write_pending()
    if pending:
        written += write_pending()
    for key in sorted(stored.keys() - kept):
        store.delete_family(key)
    return written


def searchable_documents(store: RecordStore) -> Iterator[Document]:
    """The documents search reads for the store's generation: each table's own, except family members', and
    each family's."""
    members = store.member_keys()
    for record in store.records():
        if record.key not in members:
            yield from documents_for(record)
    for family in store.families():
        representative = store.get(family.member_key(family.representative), with_partitions=False)
        if representative is not None:
            yield from family_documents(family, representative)


def lexical_index(store: RecordStore) -> LexicalIndex:
    """The lexical index of ``searchable_documents``."""
    index = LexicalIndex()
    index.build(searchable_documents(store))
    return index
