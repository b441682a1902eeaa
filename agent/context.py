"""What the agent's tools need, bundled once at the edge and passed in as LangGraph's runtime context.

Nothing in the agent reads settings or opens stores by itself: the CLI, the API or a test builds one
``AgentContext`` and hands it to ``LakeAgent``, so tests can swap any part (a fake retriever, a store of
hand-made records, another engine).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from catalog_ingest.dense_bounds import BoundsWhen
from catalog_ingest.embeddings import Embedder
from catalog_ingest.records import TableRecord
from catalog_ingest.semantic import CheckedLayer, load_checked
from catalog_ingest.settings import Settings
from catalog_ingest.store import RecordStore


def sql_engine_for(records: list[TableRecord], settings: Settings) -> Any:
    """``agent.sql.engines.engine_for``, imported on the first ``run_sql``: a question that runs no SQL
    never loads the engines (DuckDB among them)."""
    from agent.sql.engines import engine_for

    return engine_for(records, settings)


class TableSearch(Protocol):
    def search(self, query: str, k: int = 5, namespace: str | None = None) -> list[Any]: ...

    def dense_search(self) -> str: ...

    def close(self) -> None: ...


@dataclass
class AgentContext:
    settings: Settings
    store: RecordStore
    retriever: TableSearch
    engine_factory: Callable[[list[TableRecord], Settings], Any]
    """Builds the SQL engine over the catalog's records; called once, on the first ``run_sql``."""
    semantic: CheckedLayer = field(default_factory=CheckedLayer)
    """The lake's semantic layer as validated against ``store``: only its sound entries are used."""
    _engine: Any = field(default=None, init=False, repr=False)
    _engine_lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @classmethod
    def from_settings(
        cls, settings: Settings, embedder: Embedder | None = None, bounds: BoundsWhen = "open"
    ) -> AgentContext:
        """The context over the published generation; ``embedder`` (default: the settings') may already be
        loading its model; ``bounds``: when dense search builds its score bounds (``dense_bounds.BoundsWhen``)."""
        from catalog_ingest.retrieval import Retriever

        store = RecordStore(settings.store_location, pinned=True)  # one generation for records and search
        semantic = load_checked(settings, store.records)
        retriever = Retriever(settings, embedder, store=store, bounds=bounds)
        return cls(settings, store, retriever, sql_engine_for, semantic)

    def records(self, *, with_partitions: bool = False) -> dict[str, TableRecord]:
        """``namespace.table`` -> record: what the SQL validator, estimator and engine resolve names in."""
        return {r.full_name: r for r in self.store.records(with_partitions=with_partitions)}

    def partition_lookup(self) -> Callable[[str], TableRecord | None]:
        """Name -> record, resolved exactly as in ``records()``, with partition statistics loaded only for the
        tables looked up: what the scan estimator needs, without reading every table's partitions."""
        from agent.sql.validate import Catalog

        catalog = Catalog(self.records())
        loaded: set[str] = set()

        def lookup(name: str) -> TableRecord | None:
            record = catalog.get(name)
            if record is not None and record.key not in loaded:
                record.partitions = self.store.partitions(record.key)
                loaded.add(record.key)
            return record

        return lookup

    def engine(self) -> Any:
        with self._engine_lock:
            if self._engine is None:
                self._engine = self.engine_factory(list(self.store.records()), self.settings)
            return self._engine

    def close(self) -> None:
        """Release what the context opened: the SQL engine (if one was built), the retriever, the store."""
        with self._engine_lock:
            if self._engine is not None:
                self._engine.close()
        self.retriever.close()
        self.store.close()
