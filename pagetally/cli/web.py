"""`pagetally web`: serve the web interface; `pagetally web-password`: set a
user's local web password (`webauth: local`). See docs/web.md."""

from __future__ import annotations

import sys
from typing import Annotated, Any, cast

import typer

from pagetally.cli.env import get_env


def register(app: typer.Typer) -> None:
    app.command("web")(web)
    app.command("web-password")(web_password)


def web(
    host: Annotated[
        str | None, typer.Option("--host", help="Address to listen on (else webhost).")
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", min=1, max=65535, help="Port (else webport).")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers", min=1, max=64, help="Worker processes (default: one per core, at most 4)."
        ),
    ] = None,
) -> None:
    """Serve the web interface (pages for users and admins) until interrupted."""
    from pagetally.web.serving import address
    from pagetally.web.workers import default_workers, serve_workers

    env = get_env()
    cfg = env.config()
    bind = host or cfg.get("webhost")
    where = port or cfg.get("webport")
    n = workers or default_workers()
    if not cfg.get("websecret"):
        env.note("warning: websecret is not set: sessions end when the web interface stops")
    if n > 1:
        env.out.write(f"PageTally web interface on {address(bind, where)} ({n} processes)\n")
        env.out.flush()
        serve_workers(cfg, bind, where, n)
        return
    from pagetally.web.app import create_app_from_config
    from pagetally.web.serving import server

    app = create_app_from_config(cfg)
    env.out.write(f"PageTally web interface on {address(bind, where)}\n")
    env.out.flush()
    server(app, bind, where).run()


def web_password(
    user: Annotated[str, typer.Argument(help="The user (as in the store).")],
    clear: Annotated[
        bool, typer.Option("--clear", help="Remove the password: no local web login.")
    ] = False,
    stdin: Annotated[
        bool, typer.Option("--stdin", help="Read the password from standard input's first line.")
    ] = False,
) -> None:
    """Set (or --clear) a user's web password (webauth: local), stored as an argon2 hash."""
    from pagetally.storage.base import WebStore
    from pagetally.web.passwords import hash_password

    env = get_env()
    if clear:
        pw_hash = None
    else:
        if stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = typer.prompt("New web password", hide_input=True, confirmation_prompt=True)
        pw_hash = hash_password(password)
    with env.store(write=True) as store:
        store.get_user(user)  # NotFound for a user the store does not know
        if hasattr(store, "set_web_password_hash"):
            cast(WebStore, store).set_web_password_hash(user, pw_hash, env.now())
        else:  # the LDAP store: the web's own store (`webstore`) keeps it
            from pagetally.web.app import web_store

            side = web_store(store, env.config())
            cast(WebStore, side).set_web_password_hash(user, pw_hash, env.now())
            cast(Any, side).side.close()  # the LDAP store itself closes below
    env.out.write(f"web password of {user} {'cleared' if clear else 'set'}\n")
