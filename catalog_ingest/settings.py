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

from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
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


class CatalogConfig(BaseModel):
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


class IndexSettings(BaseModel):
    chroma_host: str | None = None
    """A Chroma server's host; unset means the embedded persistent client under the data directory."""
    chroma_port: int = 8000
    collection: str = Field(default="lakescout", min_length=3, max_length=512)
    embedding: str = "minilm"
    """``minilm`` (local all-MiniLM-L6-v2 ONNX, offline) or ``openai:MODEL`` (e.g. openai:text-embedding-3-small)."""
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    batch_size: int = Field(default=8, ge=1, le=256)

    @field_validator("embedding")
    @classmethod
    def _known_embedding(cls, value: str) -> str:
        if value != "minilm" and not value.startswith("openai:"):
            raise ValueError("expected 'minilm' or 'openai:MODEL_NAME', e.g. openai:text-embedding-3-small")
        return value


class IngestSettings(BaseModel):
    concurrency: int = Field(default=4, ge=1, le=64)
    """Tables crawled at once (and the bound on concurrent catalog calls)."""
    max_partitions: int = Field(default=20000, ge=0)
    """Partition statistics kept per table; totals always cover all of them."""
    retries: int = Field(default=3, ge=0, le=10)


class ModelSettings(BaseModel):
    name: str = "offline"
    """``offline`` (rule-based, no key), a provider string for ``init_chat_model`` (``openai:gpt-4o-mini``),
    or any model name served by ``base_url`` (an OpenAI-compatible endpoint: Ollama, vLLM, LM Studio)."""
    base_url: str | None = None
    api_key: SecretStr | None = None
    temperature: float = 0.0
    timeout_seconds: float = Field(default=60.0, gt=0)
    max_steps: int = Field(default=12, ge=2, le=100)


class SqlSettings(BaseModel):
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


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8321, ge=1, le=65535)
    workers: int = Field(default=1, ge=1)
    auth_enabled: bool = True
    api_keys: dict[str, str] = Field(default_factory=dict)
    """Key name -> ``scope:sha256-hex`` of the key, scope ``user`` or ``admin``."""
    cors_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    rate_limit_per_minute: int = Field(default=120, ge=1)


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
    threads_url: str | None = Field(default=None, pattern=r"^postgres(ql)?://")
    """Keep chat threads in Postgres (``postgresql://...``; install the ``postgres`` extra) instead of
    ``data_dir/threads.sqlite``."""
    config_file: Path | None = None
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
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
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
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def lexical_path(self) -> Path:
        return self.data_dir / "lexical"

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
    """Build settings, turning pydantic's errors into one message that names each bad setting."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "settings"
            env = "LAKESCOUT_" + "__".join(str(p).upper() for p in err["loc"] if not isinstance(p, int))
            problems.append(f"{where} ({env}): {err['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems)) from None
