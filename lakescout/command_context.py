"""What every `lakescout` command shares: the console, the settings loaded on first use, the index check."""

from __future__ import annotations

import typer
from rich.console import Console

from catalog_ingest.settings import Settings, load_settings
from lakescout.errors import UserError

console = Console()

NO_INDEX_HINT = (
    "run `lakescout demo-lake` (the sample lake) or configure a catalog in lakescout.toml, "
    "then `lakescout ingest`"
)


def settings_of(ctx: typer.Context) -> Settings:
    """The settings, loaded on first use inside the command, so a config error is reported the way the
    command reports errors (one line, or JSON under ``--json``)."""
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        root.obj = load_settings(**root.obj)
    return root.obj


def require_index(settings: Settings) -> None:
    from catalog_ingest.store import RecordStore

    if RecordStore.published_at(settings.store_location) is None:
        raise UserError(f"no index in {settings.data_dir} yet: {NO_INDEX_HINT}", code="no_index")
