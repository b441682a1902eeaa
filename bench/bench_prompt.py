"""Prompt size: characters the agent sends the model for a question on a large catalog, against a
whole-schema prompt (every table's CREATE TABLE, what the LangChain SQL toolkit puts in context).

Target: under 3% of the whole-schema prompt on a 2,000-table catalog.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from agent.context import AgentContext
from agent.models.offline import OfflineChatModel
from agent.service import LakeAgent
from bench.bench_ingest import generate_catalog
from catalog_ingest.ingest import ingest
from catalog_ingest.records import TableRecord
from catalog_ingest.settings import CatalogConfig, load_settings
from catalog_ingest.store import RecordStore

def questions(records: list[TableRecord]) -> list[str]:
    """A discovery question, then a stats question and a SQL draft about a real table of the catalog."""
    table = next(r for r in records if any(c.type == "string" for c in r.columns))
    column = next(c.path for c in table.columns if c.type == "string")
    return [
        "which table has refunds by region?",
        f"how big is {table.full_name} and when was it last written?",
        f"count rows of {table.full_name} by {column}",
    ]


class MeasuredModel(OfflineChatModel):
    """The offline model, counting the characters of every prompt it is sent."""

    sent: list[int]

    def reply(self, messages: list[Any], run: bool = False) -> Any:
        self.sent.append(sum(len(m.text) for m in messages))
        return super().reply(messages, run)


def create_table_ddl(record: TableRecord) -> str:
    columns = ",\n".join(
        f"  {c.path} {c.type.upper()}" + (f" COMMENT '{c.comment}'" if c.comment else "") for c in record.columns
    )
    return f"CREATE TABLE {record.full_name} (\n{columns}\n)"


def main(argv: list[str]) -> None:
    tables = int(argv[0]) if argv else 2000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        properties = generate_catalog(root / "lake", tables, 20)
        settings = load_settings(data_dir=root / "data", catalogs=[CatalogConfig(name="bench", properties=properties)])
        ingest(settings)
        records = list(RecordStore(settings.store_path).records())
        whole_schema = sum(len(create_table_ddl(r)) + 2 for r in records)
        print(f"whole-schema prompt for {tables} tables: {whole_schema:,} characters")
        model = MeasuredModel(sent=[])  # pydantic copies the list it is given: read model.sent
        sent = model.sent
        agent = LakeAgent(AgentContext.from_settings(settings), model=model)
        for question in questions(records):
            before = len(sent)
            agent.ask(question)
            chars = sum(sent[before:])
            print(f"{question!r}: {chars:,} characters over {len(sent) - before} model calls, "
                  f"{chars / whole_schema:.2%} of the whole-schema prompt (target under 3%)")
        agent.close()


if __name__ == "__main__":
    main(sys.argv[1:])
