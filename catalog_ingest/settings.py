"""One settings object for all of lakescout: environment variables, then a TOML config file, then defaults.

Built once at the edge (the CLI or the API) and passed down; nothing below reads the environment itself.
Nested settings use ``__`` in environment variables: ``LAKESCOUT_SQL__ROW_LIMIT=500``.

The sections of the upper layers (``model`` and ``sql`` for the agent, ``api`` for the server) live here,
in the bottom layer, on purpose. pydantic-settings reads the environment and the TOML file into one
``BaseSettings`` class, which must name the type of every section; were a section defined in the layer that
uses it, this module would have to import upward (agent, api), and the one-way layering is worth more than
the locality. Each section is a plain model that only its own layer reads, and each layer is handed the
section it needs (``chat_model(settings.model)``, ``SqlSettings`` for the engines, ``KeyRing(settings.api)``).
"""

from __future__ import annotations

import difflib
import tomllib
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG_FILE = Path("lakescout.toml")

SAMPLE_CATALOG_NAME = "demo"


def sample_catalog_properties(lake_dir: Path) -> dict[str, str]:
    """pyiceberg SQL catalog properties of the sample lake in ``lake_dir`` (``catalog.db`` and ``warehouse/``).

    The one definition of the layout: the sample builder writes it, ``Settings.sample_catalog`` crawls it.
    It lives here, not in the ``sample`` package, so settings load without pyarrow or pyiceberg.
    """
    lake = Path(lake_dir).resolve()
    return {"type": "sql", "uri": f"sqlite:///{lake / 'catalog.db'}", "warehouse": f"file://{lake / 'warehouse'}"}


class ConfigError(ValueError):
    """Bad configuration: the message names the setting and what is expected."""


class Section(BaseModel):
    """A settings section: an unknown key is an error (a typo must not silently fall back to a default)."""

    model_config = ConfigDict(extra="forbid")


class CheckedTomlSource(TomlConfigSettingsSource):
    """The TOML config file, whose syntax errors name the file, line and column instead of a traceback."""

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        try:
            return super()._read_file(file_path)
        except tomllib.TOMLDecodeError as exc:  # its message ends "(at line L, column C)"
            raise ConfigError(f"{file_path}: not valid TOML: {exc}") from None


class CatalogConfig(Section):
    """One catalog to crawl.

    ``type = "iceberg"`` passes ``properties`` to pyiceberg's ``load_catalog`` (``type`` there selects sql,
    rest, glue, hive, ...). ``type = "glue"`` crawls every Glue table through boto3 (Iceberg tables among
    them through pyiceberg); ``properties`` then takes ``region``, ``endpoint_url``, ``access_key_id``,
    ``secret_access_key`` and ``catalog_id``.
    """

    name: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    type: Literal["iceberg", "glue"] = "iceberg"
    properties: dict[str, str] = Field(default_factory=dict)
    include: list[str] = Field(default_factory=list)
    """Globs over ``namespace.table`` (or ``namespace`` alone); empty means everything."""
    exclude: list[str] = Field(default_factory=list)


class IndexSettings(Section):
    chroma_host: str | None = None
    """A Chroma server's host; unset means the embedded persistent client under the data directory."""
    chroma_port: int = 8000
    collection: str = Field(default="lakescout", min_length=3, max_length=512)
    embedding: str = "minilm"
    """``minilm`` (local all-MiniLM-L6-v2 ONNX, offline) or ``openai:MODEL`` (e.g. openai:text-embedding-3-small)."""
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    batch_size: int = Field(default=8, ge=1, le=256)
    exact_search_mb: float = Field(default=1024, gt=0)
    """Memory dense search may hold to search exactly (float16 rows and their score bounds, 1,284 bytes a
    384-dimension vector: about 836,000 vectors, 74,000 tables of the scale benchmark's shape); past it an ingest
    writes no vector file and dense queries go to Chroma's approximate index."""

    @field_validator("embedding")
    @classmethod
    def _known_embedding(cls, value: str) -> str:
        if value != "minilm" and not value.startswith("openai:"):
            raise ValueError("expected 'minilm' or 'openai:MODEL_NAME', e.g. openai:text-embedding-3-small")
        return value


class IngestSettings(Section):
    concurrency: int = Field(default=4, ge=1, le=64)
    """Tables crawled at once (and the bound on concurrent catalog calls)."""
    max_partitions: int = Field(default=20000, ge=0)
    """Partition statistics kept per table; totals always cover all of them."""
    retries: int = Field(default=3, ge=0, le=10)
    progress_seconds: float = Field(default=5.0, gt=0)
    """Seconds between progress lines on stderr when it is not a terminal."""
    profile_bytes: int = Field(default=8 * 1024 * 1024, ge=0)
    """Per table, the most data (compressed column bytes) read to list the values of low-cardinality string
    columns; 0 reads none. Counts and bounds come from the manifests whatever this is."""
    profile_max_distinct: int = Field(default=50, ge=0, le=10_000)
    """A string column with at most this many distinct values gets them listed in its profile. Profiles are
    computed when a table's snapshot changes: a new limit reaches unchanged tables with ``ingest --full``."""


class ModelSettings(Section):
    name: str = "offline"
    """``offline`` (rule-based, no key), a provider string for ``init_chat_model`` (``openai:gpt-4o-mini``),
    or any model name served by ``base_url`` (an OpenAI-compatible endpoint: Ollama, vLLM, LM Studio)."""
    base_url: str | None = None
    api_key: SecretStr | None = None
    temperature: float = 0.0
    timeout_seconds: float = Field(default=60.0, gt=0)
    max_steps: int = Field(default=12, ge=2, le=100)
    max_retries: int = Field(default=2, ge=0, le=10)
    """Retries of a model call that got a 429, a 5xx or no connection, with backoff that honours the
    endpoint's ``Retry-After``; after the last one the API answers 503."""


class SqlSettings(Section):
    row_limit: int = Field(default=1000, ge=1, le=1_000_000)
    timeout_seconds: float = Field(default=30.0, gt=0)
    allow_pii: bool = False
    large_table_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    """A scan of a partitioned table bigger than this without a partition filter gets a warning."""
    engine: Literal["duckdb", "athena"] = "duckdb"
    athena_workgroup: str = "primary"
    athena_output_location: str | None = None
    athena_region: str = "us-east-1"
    athena_endpoint_url: str | None = None
    max_sql_chars: int = Field(default=50_000, ge=100)
    """Longest SQL text accepted; longer text is refused before it is parsed."""
    max_depth: int = Field(default=32, ge=4, le=200)
    """Deepest nesting of parentheses, brackets, CASE and unary operators (NOT, -), counted before parsing."""
    max_nodes: int = Field(default=10_000, ge=10)
    """Most syntax-tree nodes a query may have (columns, literals, operators, ...)."""
    max_set_operations: int = Field(default=100, ge=0)
    """Most UNION / INTERSECT / EXCEPT in one query."""
    max_family_members: int = Field(default=1000, ge=1)
    """Most member tables one query may read through family names (``web.events_*``): one scan each."""
    max_result_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    """Result rows stop before this many bytes (as JSON); the result then says it was truncated."""
    memory_limit: str = Field(default="2GB", pattern=r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$")
    """DuckDB's memory limit (its own default is 80% of the machine)."""
    threads: int = Field(default=2, ge=1, le=256)
    """DuckDB worker threads."""
    temp_directory: str | None = None
    """Where DuckDB may spill a query that outgrows ``memory_limit``; unset: no spilling, the query fails instead."""


class ApiSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8321, ge=1, le=65535)
    workers: int = Field(default=1, ge=1)
    auth_enabled: bool = True
    api_keys: dict[str, str] = Field(default_factory=dict)
    """Key name -> ``scope:sha256-hex`` of the key, scope ``user`` or ``admin``."""
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    rate_limit_per_minute: int = Field(default=120, ge=1)
    follow_ingests_seconds: float = Field(default=5.0, ge=0)
    """How often the server checks for a generation published by an ingest outside it (``lakescout ingest``,
    another worker) and switches to it; 0 serves only what it opened and its own ingest jobs publish."""
    user_feedback_verified: bool = False
    """Feedback from user keys becomes a verified query at once, without an admin's approval."""


class McpSettings(BaseModel):
    run_sql_scope: Literal["user", "admin", "none"] = "user"
    """Who may call the MCP ``run_sql`` tool over HTTP: a ``user`` key, only an ``admin`` key, or nobody
    (``none`` leaves the tool out on every transport). stdio runs as the local user, who holds every scope."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LAKESCOUT_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    data_dir: Path = Path(".lakescout")
    """Where the sample lake, the record store, the Chroma index, the lexical index and threads live."""
    catalogs: list[CatalogConfig] = Field(default_factory=list)
    """Catalogs to crawl; empty means the sample lake under ``data_dir/lake``."""
    index: IndexSettings = Field(default_factory=IndexSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    model: ModelSettings = Field(default_factory=ModelSettings)
    sql: SqlSettings = Field(default_factory=SqlSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    mcp: McpSettings = Field(default_factory=McpSettings)
    threads_url: str | None = Field(default=None, pattern=r"^postgres(ql)?://")
    """Keep chat threads in Postgres (``postgresql://...``; install the ``postgres`` extra) instead of
    ``data_dir/threads.sqlite``."""
    store_url: str | None = Field(default=None, pattern=r"^postgres(ql)?://")
    """Keep the record store in Postgres (``postgresql://...``; install the ``postgres`` extra) instead of
    ``data_dir/records.sqlite``, so API replicas on several hosts serve one lake."""
    config_file: Path | None = None
    semantic_layer: Path | None = None
    """The lake's semantic layer (YAML: business terms, metrics, relationships); unset means ``semantic.yaml``
    next to the config file, else in ``data_dir``, and no layer when that file does not exist."""
    use_semantic_layer: bool = True
    """False answers without the layer (evals measure what it adds)."""
    timezone: str = "UTC"
    """IANA time zone (``Europe/Berlin``) in which "today", "yesterday" and "last month" are counted."""

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone '{value}'; use an IANA name such as UTC or Europe/Berlin") from None
        return value

    def today(self) -> date:
        """Today's date in the configured time zone."""
        return datetime.now(ZoneInfo(self.timezone)).date()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = _config_file_from(init_settings, env_settings)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(CheckedTomlSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    @model_validator(mode="after")
    def _unique_catalog_names(self) -> "Settings":
        names = [c.name for c in self.catalogs]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"catalog names must be unique; repeated: {', '.join(duplicates)}")
        return self

    # Paths under the data directory, one place so every component agrees.
    @property
    def lake_dir(self) -> Path:
        return self.data_dir / "lake"

    @property
    def store_path(self) -> Path:
        return self.data_dir / "records.sqlite"

    @property
    def store_location(self) -> Path | str:
        """What ``RecordStore`` opens: ``store_url`` when set, else the SQLite file ``store_path``."""
        return self.store_url or self.store_path

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def lexical_path(self) -> Path:
        return self.data_dir / "lexical"

    @property
    def vectors_path(self) -> Path:
        return self.data_dir / "vectors"

    @property
    def embedding_memo_path(self) -> Path:
        return self.data_dir / "embedding-memo"

    @property
    def threads_path(self) -> Path:
        return self.data_dir / "threads.sqlite"

    def with_section(self, section: str, **changes: Any) -> Settings:
        """A copy with some fields of one section changed (``settings.with_section("api", port=9000)``);
        ``None`` values leave a field as it is, so optional command-line flags can be passed straight in."""
        current = getattr(self, section)
        updated = current.model_copy(update={k: v for k, v in changes.items() if v is not None})
        return self.model_copy(update={section: updated})

    def sample_catalog(self) -> CatalogConfig:
        """The embedded default: the sample lake's local pyiceberg SQL catalog."""
        return CatalogConfig(name=SAMPLE_CATALOG_NAME, type="iceberg", properties=sample_catalog_properties(self.lake_dir))

    def effective_catalogs(self) -> list[CatalogConfig]:
        return self.catalogs or [self.sample_catalog()]


def _config_file_from(*sources: PydanticBaseSettingsSource) -> Path | None:
    for source in sources:
        value = source().get("config_file")
        if value:
            path = Path(value)
            if not path.is_file():
                raise ConfigError(
                    f"config_file: {path} does not exist; point LAKESCOUT_CONFIG_FILE or --config at a TOML file"
                )
            return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning pydantic's errors into one line that names each bad setting."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = [_describe(err["loc"], err["type"], err["msg"]) for err in exc.errors()]
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None


def _describe(loc: tuple[Any, ...], kind: str, message: str) -> str:
    where = ".".join(str(p) for p in loc) or "settings"
    if kind == "extra_forbidden":
        return f"unknown setting {where}{_closest_known(loc)}"
    env = "LAKESCOUT_" + "__".join(str(p).upper() for p in loc if not isinstance(p, int))
    return f"{where} ({env}): {message}"


def _closest_known(loc: tuple[Any, ...]) -> str:
    """``" (did you mean sql.row_limit?)"`` for ``sql.row_limt``, or the known keys when none is close."""
    model: type[BaseModel] = Settings
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[str(part)].annotation
        model = next(t for t in (annotation, *get_args(annotation)) if isinstance(t, type) and issubclass(t, BaseModel))
    known = [name for name in model.model_fields if name != "config_file"]
    prefix = ".".join(str(p) for p in loc[:-1])
    prefix = f"{prefix}." if prefix else ""
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    return f" (did you mean {prefix}{close[0]}?)" if close else f" (known: {', '.join(known)})"
