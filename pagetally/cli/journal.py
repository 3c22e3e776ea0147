"""`pagetally journal`: charges the backend kept locally while the store was down."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from pagetally.cli.env import get_env
from pagetally.errors import StorageError, StoreUnavailable

if TYPE_CHECKING:
    from pagetally.storage.journal import Journal

app = typer.Typer(
    help="The local journal of charges made while the store was down.", no_args_is_help=True
)


def _checked(journal: Journal) -> Journal:
    """The journal, its folder checked now (an unsafe one: exit 4, naming it)."""
    from pagetally.storage.journal import UnsafeFolder

    try:
        journal.check()
    except UnsafeFolder as exc:
        raise StorageError(exc.strerror or str(exc)) from None
    return journal


@app.command("list")
def list_() -> None:
    """Show the pending charges, oldest first."""
    from pagetally.storage.journal import Journal

    env = get_env()
    journal = _checked(Journal.under(env.config().get_str("directory")))
    for _path, req in journal.entries():
        f = req.facts
        print(
            f"{req.date.isoformat()} {f.printer} job {f.job_id} {f.user} "
            f"{req.decision.pages} pages {req.decision.price}",
            file=env.out,
        )
    env.note(f"{journal.pending()} pending in {journal.directory}")


@app.command("replay")
def replay() -> None:
    """Charge every pending entry into the store (safe to repeat: no double charge)."""
    from pagetally.storage.journal import Journal

    env = get_env()
    journal = _checked(Journal.under(env.config().get_str("directory")))
    try:
        with env.store(write=True) as store:
            result = journal.replay(store, env.config().rule_settings)
    except StoreUnavailable as exc:  # still down (or its SQLite file gone): say what waits
        print(f"charged 0, already charged 0, remaining {journal.pending()}", file=env.out)
        raise StoreUnavailable(str(exc)) from None
    print(
        f"charged {result.charged}, already charged {result.already_charged}, "
        f"remaining {result.remaining}",
        file=env.out,
    )
    if result.error:
        raise StoreUnavailable(result.error)
