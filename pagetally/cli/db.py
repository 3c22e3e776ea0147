"""`pagetally db`: the store's schema and its database roles."""

from __future__ import annotations

from typing import Annotated

import typer

from pagetally.cli.env import get_env
from pagetally.errors import InvalidInput

app = typer.Typer(
    help="The database: its roles, and creating or upgrading its schema.", no_args_is_help=True
)


@app.command("upgrade")
def upgrade() -> None:
    """Create the schema, or migrate it to this version of PageTally (every engine)."""
    env = get_env()
    with env.store(write=True, create=True) as store:
        store.upgrade()
    env.note(f"the store is up to date ({env.config().store_settings().backend})")


@app.command("roles")
def roles(
    sql: Annotated[
        bool,
        typer.Option(
            "--sql",
            help="Print the statements (passwords included) instead of running "
            "them, e.g. for `sudo -u postgres psql`.",
        ),
    ] = False,
    superuser: Annotated[
        str | None,
        typer.Option(
            "--superuser",
            help="Database superuser to run them as (default: postgres "
            "for PostgreSQL, root for MariaDB).",
        ),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the superuser's password from the first line "
            "of standard input (else none: local trust or socket authentication).",
        ),
    ] = False,
) -> None:
    """Create the database and its two roles (PostgreSQL, MariaDB): the admin role
    from pagetally-admin.conf (storageadmin/storageadminpw), which owns the schema, and
    the read-only role (storageuser/storageuserpw), which may only read.

    Idempotent: existing roles get the configured passwords, an existing database
    is kept. Then run `pagetally db upgrade` to create the schema.
    """
    from pagetally.storage.roles import create_roles, role_sql

    env = get_env()
    settings = env.config().store_settings()
    if settings.backend == "sqlite":
        raise InvalidInput(
            "SQLite has no database roles: protect the database file with file permissions instead"
        )
    if not settings.admin_user:
        raise InvalidInput(
            "no admin role configured: set storageadmin and storageadminpw in pagetally-admin.conf"
        )
    if not settings.user:
        raise InvalidInput(
            "no read-only role configured: set storageuser and storageuserpw in pagetally.conf"
        )
    if sql:
        for where, statement in role_sql(settings):
            if where:
                print(
                    f"\\connect {where}" if settings.backend == "postgresql" else f"USE `{where}`;",
                    file=env.out,
                )
            print(f"{statement};", file=env.out)
        return
    password = None
    if password_stdin:
        password = typer.get_text_stream("stdin").readline().rstrip("\r\n")
    who = superuser or ("postgres" if settings.backend == "postgresql" else "root")
    create_roles(settings, who, password)
    env.note(
        f"database {settings.name}: admin role {settings.admin_user} and read-only "
        f"role {settings.user} ready; now run `pagetally db upgrade`"
    )
