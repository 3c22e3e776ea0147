"""`pagetally db`: the store's schema."""

from __future__ import annotations

import typer

from pagetally.cli.env import get_env

app = typer.Typer(help="The database: create or upgrade its schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Create the schema, or migrate it to this version of PageTally (every engine)."""
    env = get_env()
    with env.store(write=True) as store:
        store.upgrade()
    env.note(f"the store is up to date ({env.config().store_settings().backend})")
