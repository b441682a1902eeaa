"""A failed first ingest leaves no trace, and says what to do next.

An ingest whose catalog cannot be listed changes no index, but opening the data directory has already
created its lock and an empty record store; on a fresh data directory those would make the next command
believe an index exists. ``DataDirSnapshot`` notes what was there before and removes only what is new.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from catalog_ingest.settings import Settings


@dataclass(frozen=True)
class DataDirSnapshot:
    """The entries of the data directory before a command, and the paths that command may create."""

    data_dir: Path
    existed: bool
    entries: frozenset[str]
    index_existed: bool
    created_names: tuple[str, ...]

    @classmethod
    def take(cls, settings: Settings) -> DataDirSnapshot:
        data_dir = settings.data_dir
        entries = frozenset(p.name for p in data_dir.iterdir()) if data_dir.is_dir() else frozenset()
        paths = (settings.store_path, settings.chroma_path, settings.lexical_path, data_dir / "ingest.lock")
        return cls(data_dir, data_dir.is_dir(), entries, settings.store_path.exists(), tuple(p.name for p in paths))

    def _is_ours(self, name: str) -> bool:
        """An ingest's own file (``records.sqlite`` and its ``-wal``/``-shm`` companions among them)."""
        return any(name == created or name.startswith(created + "-") for created in self.created_names)

    def remove_what_is_new(self) -> None:
        if not self.data_dir.is_dir():
            return
        for path in self.data_dir.iterdir():
            if path.name in self.entries or not self._is_ours(path.name):
                continue
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        if not self.existed and not any(self.data_dir.iterdir()):
            self.data_dir.rmdir()


def unreachable_hint(settings: Settings, before: DataDirSnapshot) -> str:
    """What to do after the catalogs could not be listed, and whether an index was there to keep."""
    if settings.catalogs:
        where = settings.config_file or "lakescout.toml (or LAKESCOUT_CATALOGS)"
        hint = f"check that catalog's properties in {where}, or run `lakescout doctor`"
    else:
        hint = "no catalog is configured, so this is the sample lake: run `lakescout demo-lake` to build it"
    kept = " The existing index was left untouched." if before.index_existed else " Nothing was written."
    return hint + "." + kept
