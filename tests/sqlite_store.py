"""A migrated SQLite store in milliseconds: a copy of one file migrated per session.

Migrating a new SQLite file with Alembic costs ~0.1 s (over a second for the
first, which pays Alembic's imports), and most of the fast core's tests need a
store. Each gets a copy of one file migrated once per test process instead: the
copy is exactly what `open_store` would have made (same schema, same revision,
WAL mode), so a store that refuses a missing or old schema still accepts it.
Tests of migrating itself (`db upgrade`, a first open) start from no file.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

from pagetally.storage import StoreSettings, open_store

_TEMPLATE: list[Path] = []


def _template() -> Path:
    if not _TEMPLATE:
        folder = Path(tempfile.mkdtemp(prefix="pagetally-template-"))
        atexit.register(shutil.rmtree, folder, True)
        path = folder / "template.db"
        store = open_store(StoreSettings(backend="sqlite", name=str(path)))
        store.upgrade()
        store.close()
        # the last connection closed checkpoints the WAL: the one file is the store
        assert not path.with_name(path.name + "-wal").exists()
        _TEMPLATE.append(path)
    return _TEMPLATE[0]


def migrated_sqlite(path: Path) -> Path:
    """Put a freshly migrated, empty SQLite store at `path` (its folder must exist)."""
    shutil.copyfile(_template(), path)
    return path
