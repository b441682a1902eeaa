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

QUESTIONS = [
    "which table has refunds by region?",
    "how big is billing.invoices_daily_1 and when was it last written?",
    "count rows of sales.orders_agg_0 by status",
]


class MeasuredModel(OfflineChatModel):
    """The offline model, counting the characters of every prompt it is sent."""

    sent: list[int]

    def _generate(self, messages: list[Any], *args: Any, **kwargs: Any) -> Any:
        self.sent.append(sum(len(m.text) for m in messages))
        return super()._generate(messages, *args, **kwargs)


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
        whole_schema = sum(len(create_table_ddl(r)) + 2 for r in RecordStore(settings.store_path).records())
        print(f"whole-schema prompt for {tables} tables: {whole_schema:,} characters")
        sent: list[int] = []
        agent = LakeAgent(AgentContext.from_settings(settings), model=MeasuredModel(sent=sent))
        for question in QUESTIONS:
            before = len(sent)
            agent.ask(question)
            chars = sum(sent[before:])
            print(f"{question!r}: {chars:,} characters over {len(sent) - before} model calls, "
                  f"{chars / whole_schema:.2%} of the whole-schema prompt (target under 3%)")
        agent.close()


if __name__ == "__main__":
    main(sys.argv[1:])
