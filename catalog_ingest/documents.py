"""Searchable documents derived from a table record: table summaries and one document per column.

MiniLM reads only the first 256 word pieces of a text, so a wide table's summary is split into chunks
that each repeat the table's name and description: the tail columns stay findable. Column documents,
with their table's name and description as context, let a question about one field ("refund amount by
region") land on the table that holds it.

Catalog text (comments, tags, owners) is written by anyone with catalog access: it is kept as data,
stripped of control characters and cut to a sane length, never interpreted.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone

from catalog_ingest.records import Column, FamilyRecord, TableRecord
from catalog_ingest.sizes import human_bytes
from catalog_ingest.text import name_parts

MetadataValue = str | int | float | bool

TABLE_CHUNK_CHARS = 700
"""Budget per table chunk; snake_case identifiers run about 3-4 characters per MiniLM word piece, so this
stays under 256 word pieces with room for the header."""
HEADER_COMMENT_CHARS = 200
COLUMN_COMMENT_IN_TABLE_CHARS = 100
COLUMN_COMMENT_CHARS = 500
NAME_CHARS = 200
VALUES_IN_COLUMN_TEXT = 12
"""The most frequent values of a profiled column named in its document, so a value word finds the column."""
VALUE_CHARS = 40
COLUMN_VECTORS_MAX_COLUMNS = 64
"""Tables up to this many columns get a vector and a BM25 entry per column document; a wider table's columns
reach dense and lexical search through its table chunks (which name every column with its type and comment).
Real catalogs hold a long tail of tables with hundreds of columns: one vector per column there made ~100
vectors per table, and at 1,000 generated tables their column documents were 81% of the BM25 documents."""
WIDE_CHUNKS_PER_VECTOR = 4
"""A wide table's continuation chunks (past ``COLUMN_VECTORS_MAX_COLUMNS`` columns) share one vector per this
many, composed from all their columns: a vector's cost on disk (Chroma and the vector file) is per vector, not
per column composed into it, and at 1,000 generated tables these chunks held 36% of all vectors."""


@dataclass(frozen=True)
class Document:
    id: str
    text: str
    """What lexical search reads and what is shown."""
    metadata: dict[str, MetadataValue]
    embed_parts: tuple[str, ...] = ()
    """Texts whose embeddings, composed (``embeddings.compose``), give the document's vector (empty: the
    text itself). A column's vector is its own table-independent phrase plus its table's header; a table's
    first chunk's is its header plus the words of its column names, a continuation chunk's its header plus its
    columns' phrases (a wide table's: the words of its column names). So each column phrase, name word and table
    header is embedded once across the lake, and no table embeds a long text of its own: the first chunks' (header,
    layout and column names as one text) were half the word pieces embedded at 10,000 generated tables."""
    in_vectors: bool = True
    """False: the document has no vector (column documents of wide tables, a wide table's continuation chunks
    other than the first of each ``WIDE_CHUNKS_PER_VECTOR``)."""
    in_lexical: bool = True
    """False: BM25 does not index the document either; the lexical index only lists its column among its
    table's (column documents of wide tables, whose columns are found through their table chunks)."""

    @property
    def vector_texts(self) -> tuple[str, ...]:
        return self.embed_parts or (self.text,)


def clean_text(value: object, limit: int) -> str:
    """Untrusted catalog text as one line: control and format characters dropped, whitespace collapsed."""
    text = str(value)
    if not text.isprintable():  # printable text (most of it) holds none of the dropped categories
        text = "".join(
            " " if ch.isspace() else ch
            for ch in text
            if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
        )
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def documents_for(record: TableRecord) -> list[Document]:
    """Table chunks first (ids ``KEY::table::i``), then one document per column (``KEY::col::PATH``)."""
    return table_documents(record) + column_documents(record)


def family_documents(family: FamilyRecord, representative: TableRecord) -> list[Document]:
    """One set of documents for a whole family (ids ``FAMILY_KEY::...``): its representative member's columns and
    layout under the family's name, with the member range and the family's totals."""
    as_table = representative.model_copy(
        update={"name": family.name, "totals": family.totals, "last_updated": family.last_updated}
    )
    family_line = f"Table family: {clean_text(family.describe_range(), 300)}"
    extra = list(dict.fromkeys(column for d in family.schema_differences for column in d.added))
    if family.schema_differences:
        family_line += f"; {len(family.schema_differences)} members differ in schema"
    if extra:
        family_line += "; columns only in some members: " + clean_text(", ".join(extra), 300)
    return table_documents(as_table, family_line) + column_documents(as_table)


def member_documents(record: TableRecord, family_name: str) -> list[Document]:
    """A family member's only document: it marks the version as written, search never serves it (the family's
    documents stand for all members). Its vector text is the same for every member, so it is embedded once."""
    text = f"Table {clean_text(record.full_name, NAME_CHARS)}, a member of the table family {clean_text(family_name, NAME_CHARS)}"
    metadata = base_metadata(record, kind="table") | {"family": family_name}
    return [Document(id=f"{record.key}::table::0", text=text, metadata=metadata, embed_parts=("table family member",))]


def table_documents(record: TableRecord, family_line: str = "") -> list[Document]:
    header = table_header(record)
    overview = "\n".join(line for line in [*table_facts(record), family_line] if line)

    columns = unique_columns(record)
    column_lines = [column_summary(column) for column in columns]
    chunks: list[list[int]] = [[]]
    used = len(header) + len(overview)
    for index, line in enumerate(column_lines):
        if chunks[-1] and used + len(line) + 2 > TABLE_CHUNK_CHARS:
            chunks.append([])
            used = len(header)
        chunks[-1].append(index)
        used += len(line) + 2

    documents = []
    phrases = column_parts(columns, partition_keys(record))
    per_vector = 1 if len(columns) <= COLUMN_VECTORS_MAX_COLUMNS else WIDE_CHUNKS_PER_VECTOR
    for i, indexes in enumerate(chunks):
        label = "Columns" if i == 0 else f"Columns (continued, part {i + 1})"
        parts = [header, overview if i == 0 else ""]
        if indexes:
            parts.append(f"{label}: " + "; ".join(column_lines[n] for n in indexes))
        # No chunk embeds a long text of its own: each vector is its header composed with texts embedded once
        # across the lake. The first chunk's are the words of its column names (what its one text, header and
        # column names, used to say); composed from the column phrases instead, it came out close to the mean
        # of its own column documents and found fewer tables (``Document.embed_parts``). A continuation
        # chunk's are its columns' ``column_parts``; a wide table's continuation chunks share one vector per
        # ``WIDE_CHUNKS_PER_VECTOR``, held by the first of them.
        holds_vector = i == 0 or (i - 1) % per_vector == 0
        if i == 0:
            vector_texts = [word for n in indexes for word in name_words(columns[n])]
        else:
            vector_chunks = chunks[i : i + per_vector] if holds_vector else []
            vector_texts = [text for chunk in vector_chunks for n in chunk for text in phrases[n]]
        documents.append(
            Document(
                id=f"{record.key}::table::{i}",
                text="\n".join(part for part in parts if part),
                metadata=base_metadata(record, kind="table"),
                embed_parts=(header, *vector_texts),
                in_vectors=holds_vector,
            )
        )
    return documents


def column_documents(record: TableRecord) -> list[Document]:
    table_name = clean_text(record.full_name, NAME_CHARS)
    table_comment = clean_text(record.comment or "", HEADER_COMMENT_CHARS)
    keys = partition_keys(record)
    header = table_header(record)
    columns = unique_columns(record)
    in_vectors = len(columns) <= COLUMN_VECTORS_MAX_COLUMNS
    documents = []
    for column in columns:
        path = clean_text(column.path, NAME_CHARS)
        context = f" in table {table_name}" + (f" ({table_comment})" if table_comment else "")
        documents.append(
            Document(
                id=f"{record.key}::col::{column.path}",
                text=". ".join([f"Column {path}{context}", f"Type: {clean_text(column.type, NAME_CHARS)}",
                                *column_traits(column, keys)]),
                metadata=base_metadata(record, kind="column") | {"column": column.path},
                embed_parts=(column_phrase(column, keys), header),
                in_vectors=in_vectors,
                in_lexical=in_vectors,
            )
        )
    return documents


def partition_keys(record: TableRecord) -> set[str]:
    return {field.source_column for field in record.partition_spec.fields}


def column_traits(column: Column, partition_sources: set[str]) -> list[str]:
    traits = [clean_text(column.comment, COLUMN_COMMENT_CHARS)] if column.comment else []
    if column.is_partition_key or column.path in partition_sources:
        traits.append("Partition key")
    if column.pii:
        traits.append("Personal data (PII)")
    return traits + column_values_text(column)


def column_parts(columns: list[Column], partition_sources: set[str]) -> list[tuple[str, ...]]:
    """The texts a table's continuation chunks compose their vectors from, per column: its column phrase
    (already embedded for its column document) up to ``COLUMN_VECTORS_MAX_COLUMNS`` columns; past it, where the
    column documents have no vectors, the words of its name (``name_words``). Whole names (``Column PATH``) were
    half the word pieces embedded at 2,500 generated tables (35,000 distinct paths), their words a few hundred
    texts."""
    if len(columns) <= COLUMN_VECTORS_MAX_COLUMNS:
        return [(column_phrase(column, partition_sources),) for column in columns]
    return [name_words(column) for column in columns]


def name_words(column: Column) -> tuple[str, ...]:
    """The words of a column's name (``billing`` and ``revenue`` for ``billing_revenue``), each a text embedded
    once across the lake."""
    path = clean_text(column.path, NAME_CHARS)
    return tuple(name_parts(path) or [path])


def column_phrase(column: Column, partition_sources: set[str]) -> str:
    """What a column's vector says of it, its table aside: name, comment, traits, values. The type stays out
    (lexical search has it), so a column with the same name and comment in many tables is embedded once."""
    return ". ".join([f"Column {clean_text(column.path, NAME_CHARS)}", *column_traits(column, partition_sources)])


def column_values_text(column: Column) -> list[str]:
    """``Values: completed, shipped, ...`` from the column's profile (none for PII columns, which have no
    values), in both the text and the vector."""
    values = column.profile.values if column.profile and not column.pii else None
    if not values:
        return []
    return ["Values: " + ", ".join(clean_text(v.value, VALUE_CHARS) for v in values[:VALUES_IN_COLUMN_TEXT])]


def table_header(record: TableRecord) -> str:
    kind = {"iceberg": "Iceberg table", "hive": "Hive table", "view": "View"}[record.kind]
    header = f"{kind} {clean_text(record.full_name, NAME_CHARS)}"
    if record.comment:
        header += f": {clean_text(record.comment, HEADER_COMMENT_CHARS)}"
    return header


def table_facts(record: TableRecord) -> list[str]:
    """Who owns it, how it is laid out, how big and how fresh: what analysts ask before using a table."""
    tags = ", ".join(clean_text(tag, 50) for tag in record.tags)
    return [
        f"Namespace: {clean_text(record.namespace, NAME_CHARS)}; catalog: {clean_text(record.catalog, NAME_CHARS)}",
        f"Owner: {clean_text(record.owner, 100)}" if record.owner else "",
        f"Tags: {clean_text(tags, 200)}" if tags else "",
        f"Layout: {clean_text(record.partition_spec.describe(), 300)}"
        + (f"; sorted by {clean_text(record.sort_order, 200)}" if record.sort_order else ""),
        size_and_freshness(record),
    ]


def size_and_freshness(record: TableRecord) -> str:
    totals = record.totals
    facts = []
    if totals.record_count is not None:
        facts.append(f"{totals.record_count:,} rows")
    if totals.total_bytes is not None:
        facts.append(human_bytes(totals.total_bytes))
    if totals.file_count is not None:
        facts.append(f"{totals.file_count:,} files")
    if record.last_updated is not None:
        facts.append(f"last updated {describe_time(record.last_updated)}")
    return "Size: " + ", ".join(facts) if facts else ""


def column_summary(column: Column) -> str:
    summary = f"{clean_text(column.path, NAME_CHARS)} ({clean_text(column.type, 60)})"
    if column.comment:
        summary += f" {clean_text(column.comment, COLUMN_COMMENT_IN_TABLE_CHARS)}"
    return summary


def unique_columns(record: TableRecord) -> list[Column]:
    """Columns by first occurrence of each path: document ids must be unique within a table."""
    seen: set[str] = set()
    columns = []
    for column in record.columns:
        if column.path not in seen:
            seen.add(column.path)
            columns.append(column)
    return columns


def base_metadata(record: TableRecord, kind: str) -> dict[str, MetadataValue]:
    return {
        "catalog": record.catalog,
        "namespace": record.namespace,
        "table": record.full_name,
        "table_key": record.key,
        "kind": kind,
    }


def describe_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
