"""`lakescout doctor`: check a setup end to end, one line per check, before a user finds out by asking.

Checks, in order: the configuration loads; each catalog can be listed; the embedding model loads; the index
is complete (every stored table has vectors in Chroma and lexical entries); the SQL engine starts (DuckDB
with its extensions and a view per table); the semantic layer loads and names real tables and columns; the model endpoint answers, when one is configured. Each check
reads and never writes: a missing Chroma folder is reported, not created.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from catalog_ingest.settings import DEFAULT_CONFIG_FILE, ConfigError, Settings, load_settings


@dataclass(frozen=True)
class Check:
    """One line of the report: ``ok``, ``FAIL`` or ``skip``, what was checked, and what was found."""

    status: str
    name: str
    detail: str

    @property
    def failed(self) -> bool:
        return self.status == "FAIL"

    def line(self) -> str:
        return f"{self.status:4} {self.name}: {self.detail}"


def ok(name: str, detail: str) -> Check:
    return Check("ok", name, detail)


def failed(name: str, detail: str) -> Check:
    return Check("FAIL", name, detail)


def guarded(name: str, check: Callable[[], Check]) -> Check:
    """A check that raised is a failed check naming the error, not a traceback."""
    try:
        return check()
    except Exception as exc:  # any failure of the checked part is the finding
        return failed(name, f"{type(exc).__name__}: {exc}")


def check_catalog(settings: Settings, config: Any) -> Check:
    from catalog_ingest.crawlers import crawler_for

    crawler = crawler_for(config, max_partitions=settings.ingest.max_partitions, retries=0)
    try:
        tables = crawler.list_tables()
    finally:
        crawler.close()
    return ok(f"catalog {config.name}", f"{config.type}, {len(tables)} tables listed")


def check_index(settings: Settings, embedder: Any) -> Check:
    from catalog_ingest.lexical import LexicalIndex
    from catalog_ingest.retrieval import Retriever
    from catalog_ingest.store import RecordStore
    from catalog_ingest.store_backends import without_password

    if RecordStore.published_at(settings.store_location) is None:
        return failed("index", f"no record store at {without_password(str(settings.store_location))}: run `lakescout ingest`")
    if settings.index.chroma_host is None and not settings.chroma_path.is_dir():
        return failed("index", f"no Chroma index at {settings.chroma_path}: run `lakescout ingest --full`")
    if LexicalIndex.saved_location(settings.lexical_path) is None:
        return failed("index", f"no lexical index at {settings.lexical_path}: run `lakescout ingest --full`")
    store = RecordStore(settings.store_location, pinned=True)
    try:
        stored = store.versions()
        retriever = Retriever(settings, embedder, store=store)
        try:
            health = retriever.health()  # the same check /readyz makes: vectors and lexical entries per table
            search = retriever.dense_search()
        finally:
            retriever.close()
    finally:
        store.close()
    if health != "ok":
        return failed("index", f"{health.removeprefix('degraded: ')}; run `lakescout ingest`")
    return ok("index", f"{len(stored)} tables, each with vectors and lexical entries; dense search {search}")


def check_embedder(settings: Settings) -> tuple[Check, Any]:
    from catalog_ingest.embeddings import embedder_for

    embedder = embedder_for(settings.index)
    vector = embedder.embed_query("lakescout doctor")
    return ok("embedding model", f"{embedder.name} loads ({len(vector)} dimensions)"), embedder


def check_engine(settings: Settings) -> Check:
    from agent.sql.engines import engine_for
    from catalog_ingest.store import RecordStore

    ingested = RecordStore.published_at(settings.store_location) is not None
    records = list(RecordStore(settings.store_location).records()) if ingested else []
    engine = engine_for(records, settings)
    try:
        detail = f"{settings.sql.engine} starts over {len(records)} tables"
        if settings.sql.engine == "duckdb":
            detail += " (avro and iceberg extensions loaded)"
    finally:
        engine.close()
    return ok("sql engine", detail)


def has_semantic_layer(settings: Settings) -> bool:
    """A layer is configured, or its default file exists: without either there is nothing to check."""
    from catalog_ingest.semantic import layer_path

    path, explicit = layer_path(settings)
    return explicit or path.is_file()


def check_semantic_layer(settings: Settings) -> Check:
    """The layer file loads and every entry names real tables and columns (the same check the server makes)."""
    from catalog_ingest.semantic import load_checked
    from catalog_ingest.store import RecordStore

    ingested = RecordStore.published_at(settings.store_location) is not None
    records = list(RecordStore(settings.store_location).records()) if ingested else []
    checked = load_checked(settings, records)
    if checked.failed or checked.layer is None:
        return failed("semantic layer", f"{checked.status()}; the server answers without it")
    entries = len(checked.layer.entries())
    warnings = "; ".join(str(p) for p in checked.problems)
    return ok("semantic layer", f"{entries} entries valid" + (f"; warnings: {warnings}" if warnings else ""))


def check_model(settings: Settings) -> Check:
    model = settings.model
    if model.name == "offline":
        return Check("skip", "model", "the offline rule-based model runs in-process; nothing to reach")
    if not model.base_url:
        return Check("skip", "model", f"{model.name}: no model.base_url, the provider's endpoint is not checked")
    import httpx

    url = model.base_url.rstrip("/") + "/models"
    headers = {"Authorization": f"Bearer {model.api_key.get_secret_value()}"} if model.api_key else {}
    response = httpx.get(url, headers=headers, timeout=10.0)
    if response.status_code >= 400:
        return failed("model", f"{url} answered HTTP {response.status_code}")
    return ok("model", f"{model.name} at {model.base_url} answers")


def run_checks(settings: Settings) -> Iterator[Check]:
    for config in settings.effective_catalogs():
        yield guarded(f"catalog {config.name}", lambda config=config: check_catalog(settings, config))
    try:
        embedding, embedder = check_embedder(settings)
    except Exception as exc:
        yield failed("embedding model", f"{type(exc).__name__}: {exc}")
        embedder = None
    else:
        yield embedding
    if embedder is None:
        yield Check("skip", "index", "not checked: its vectors cannot be read without the embedding model")
    else:
        yield guarded("index", lambda: check_index(settings, embedder))
    yield guarded("sql engine", lambda: check_engine(settings))
    if has_semantic_layer(settings):
        yield guarded("semantic layer", lambda: check_semantic_layer(settings))
    yield guarded("model", lambda: check_model(settings))


def doctor(overrides: dict[str, Any], emit: Callable[[str], None]) -> int:
    """Run every check, emitting one line each; the exit code is 1 when any failed."""
    try:
        settings = load_settings(**overrides)
    except ConfigError as exc:
        emit(failed("config", str(exc)).line())
        return 1
    default_file = DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else "defaults and environment"
    source = settings.config_file or default_file
    emit(ok("config", f"{source}; data dir {settings.data_dir}").line())
    any_failed = False
    for check in run_checks(settings):
        emit(check.line())
        any_failed = any_failed or check.failed
    return 1 if any_failed else 0
