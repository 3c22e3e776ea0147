"""`pagetally tokens`: API tokens for scripts (the REST API, the notifier's client).

`add` prints the token once on stdout (only its hash is stored: a lost token is
revoked and replaced, never shown again). A token has a role no greater than
its user's; used, it acts with the lesser of the two, so a user's lost role is
lost for their tokens too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, cast

import typer

from pagetally.cli import common
from pagetally.cli.env import Env, get_env
from pagetally.cli.output import Row, emit
from pagetally.core.tokens import ApiToken, TokenRole, check_role
from pagetally.errors import InvalidInput

if TYPE_CHECKING:  # the store's modules load when the command runs, not for --help
    from pagetally.storage.base import Store, TokenStore


@contextlib.contextmanager
def token_store(env: Env, store: Store) -> Iterator[TokenStore]:
    """The store's tokens (storage/tokens.py, loaded only when a command runs);
    beside the LDAP store, the web's own database's (`webstore`)."""
    from pagetally.storage.tokens import token_store as of_store

    if getattr(getattr(store, "settings", None), "backend", None) != "ldap":
        yield of_store(store)
        return
    from pagetally.storage.webside import WebSideStore, open_side

    side = open_side(env.config().web_store_settings())
    try:
        yield cast("TokenStore", WebSideStore(store, side))
    finally:
        side.close()


app = typer.Typer(help="API tokens for scripts: add, list, revoke.", no_args_is_help=True)

COLUMNS = ("id", "user", "role", "label", "created", "expires", "revoked", "state")


def token_row(t: ApiToken, env: Env) -> Row:
    now = env.now()
    state = "revoked" if t.revoked else ("expired" if not t.valid_at(now) else "valid")
    return {
        "id": t.id,
        "user": t.user,
        "role": t.role,
        "label": t.label,
        "created": t.created,
        "expires": t.expires,
        "revoked": t.revoked,
        "state": state,
    }


def user_role(env: Env, store: Store, user: str) -> TokenRole:
    """The user's own role on the web, the ceiling of their tokens' roles."""
    from pagetally.core.tokens import role_of_user

    cfg = env.config()
    # names and @groups, comma or space separated (as web/settings.py reads them)
    lists = [
        str(cfg.get(name) or "").replace(",", " ").split()
        for name in ("webadmins", "webreadonlyadmins")
    ]
    groups = [g.name for g in store.groups_of(user)]
    return role_of_user(user, groups, lists[0], lists[1])


@app.command("add")
def add(
    user: Annotated[str, typer.Argument(help="The user the token acts for.")],
    role: Annotated[
        TokenRole,
        typer.Option(
            "--role",
            "-r",
            help="user (themselves only), readonly-admin (sees "
            "everything, changes nothing) or admin; no greater than the user's own role.",
        ),
    ] = TokenRole.USER,
    label: Annotated[str, typer.Option("--label", "-l", help="What the token is for.")] = "",
    expires: Annotated[
        str | None,
        typer.Option(
            "--expires",
            "-e",
            help="When it stops working (a date, e.g. 2027-06-30 or today+90); default never.",
        ),
    ] = None,
) -> None:
    """Make a token for USER and print it once (only its hash is kept)."""
    from pagetally.cli.dates import parse_date

    env = get_env()
    now = env.now()
    until = parse_date(expires, now=now, tz=env.local_tz(), end=True) if expires else None
    if until is not None and until <= now:
        raise InvalidInput(f"--expires {expires}: that is not in the future")
    with env.store(write=True) as store:
        store.get_user(user)  # NotFound before anything else
        check_role(role, user_role(env, store, user), user)
        with token_store(env, store) as tokens:
            token, secret = tokens.add_api_token(user, role, now, label=label, expires=until)
    env.out.write(secret + "\n")
    env.note(
        f"token {token.id} for {user} (role {token.role.value}) added; it is shown "
        "only now: keep it where only its script can read it"
    )


@app.command("list")
def list_(
    users: Annotated[list[str] | None, typer.Argument(help="Users; default everyone.")] = None,
    fmt: common.FormatOption = common.Format.TABLE,
) -> None:
    """List tokens (never their secrets): id, user, role, label, dates, state."""
    env = get_env()
    with env.store() as store, token_store(env, store) as tokens:
        rows = [token_row(t, env) for t in tokens.api_tokens(users or None)]
    emit(env, fmt, COLUMNS, rows, title="API tokens")


@app.command("revoke")
def revoke(
    ids: Annotated[list[int], typer.Argument(help="Token ids (see `tokens list`).")],
) -> None:
    """Revoke tokens: from now on they are refused."""
    env = get_env()
    with env.store(write=True) as store, token_store(env, store) as tokens:
        for token_id in ids:
            t = tokens.revoke_api_token(token_id, env.now())
            env.note(f"token {t.id} of {t.user} revoked")
