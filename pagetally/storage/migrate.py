"""Alembic, run from the package: no alembic.ini on the user's machine.

`upgrade_to_head(engine)` migrates the database in one connection; the scripts
live in `pagetally/storage/migrations/`. Imported only when migrating, so opening a
store for a print job never pays Alembic's import.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    """The newest migration's revision id."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def upgrade_to_head(engine: Engine) -> None:
    """Create or migrate the schema to the newest revision."""
    cfg = alembic_config()
    with engine.connect() as conn:
        conn.execution_options(pagetally_write=True)
        with conn.begin():
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
