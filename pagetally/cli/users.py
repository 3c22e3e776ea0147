"""`pagetally users`: add, edit, delete, list and credit users (PyKota's pkusers)."""

from __future__ import annotations

from typing import Annotated

import typer

from pagetally.cli import common
from pagetally.cli.env import get_env
from pagetally.cli.names import check_new_names, expand
from pagetally.cli.output import Row, batches, each_matching, emit, progress
from pagetally.core.models import ONE, LimitBy, Payment, PaymentKind, User
from pagetally.core.pins import check_pin_text, hash_pin
from pagetally.errors import AlreadyExists, InvalidInput

app = typer.Typer(help="Users: add, edit, delete, list, credit.", no_args_is_help=True)

Names = Annotated[list[str], typer.Argument(help="User names; wildcards (* ? [a-z]) select.")]
NewNames = Annotated[
    list[str], typer.Argument(help="Names of the users to create (exact names, no wildcards).")
]
LimitOpt = Annotated[
    LimitBy | None, typer.Option("--limit-by", "-l", help="How the user is limited.")
]
OverOpt = Annotated[
    str | None,
    typer.Option(
        "--overcharge",
        "-o",
        help="Price factor (1: normal, 0: free, negative: printing pays the user, as in PyKota).",
    ),
]
EmailOpt = Annotated[str | None, typer.Option("--email", "-e", help="E-mail address.")]
DescOpt = Annotated[str | None, typer.Option("--description", "-d", help="Free text.")]

PinOpt = Annotated[
    bool,
    typer.Option(
        "--pin",
        help="Set the print-time PIN (printauth: pin), typed twice at a hidden "
        "prompt; ends a PIN lockout.",
    ),
]
PinStdinOpt = Annotated[
    bool,
    typer.Option(
        "--pin-stdin", help="Set the print-time PIN from the first line of standard input."
    ),
]

COLUMNS = ("name", "limit_by", "balance", "lifetime_paid", "overcharge", "email", "description")


def read_pin(names: list[str], prompt: bool, from_stdin: bool) -> str | None:
    """The PIN to set, asked for or read from standard input (never an argv
    value: other users could read it in the process list). None: none asked."""
    if not (prompt or from_stdin):
        return None
    if prompt and from_stdin:
        raise InvalidInput("give --pin or --pin-stdin, not both")
    if len(names) != 1 or any(c in names[0] for c in "*?["):
        raise InvalidInput("a PIN is set for one user at a time")
    if from_stdin:
        text = typer.get_text_stream("stdin").readline().rstrip("\r\n")
    else:
        text = typer.prompt(
            f"PIN for {names[0]}", hide_input=True, confirmation_prompt=True, err=True
        )
    return check_pin_text(text)


def user_row(u: User) -> Row:
    return {
        "name": u.name,
        "limit_by": u.limit_by,
        "balance": u.balance,
        "lifetime_paid": u.lifetime_paid,
        "overcharge": u.overcharge,
        "email": u.email,
        "description": u.description,
    }


@app.command("add")
def add(
    names: NewNames,
    limit_by: LimitOpt = None,
    balance: Annotated[
        str | None, typer.Option("--balance", "-b", help="Initial credit (a payment).")
    ] = None,
    overcharge: OverOpt = None,
    email: EmailOpt = None,
    description: DescOpt = None,
    skip_existing: Annotated[
        bool, typer.Option("--skip-existing", help="Leave existing users alone.")
    ] = False,
    pin: PinOpt = False,
    pin_stdin: PinStdinOpt = False,
) -> None:
    """Create users (PyKota: pkusers --add)."""
    env = get_env()
    new = check_new_names("user", names)
    pin_hash = hash_pin(p) if (p := read_pin(new, pin, pin_stdin)) is not None else None
    credit = (
        common.payment(balance, env.config().get_str("currency"), "balance")
        if balance is not None
        else None
    )
    factor = common.factor(overcharge) if overcharge is not None else None
    mail = common.email(email) if email else None
    with env.store(write=True) as store:
        existing = {u.name for u in store.find_users(new)}
        if existing and not skip_existing:
            raise AlreadyExists("user", sorted(existing)[0])
        todo = [n for n in new if n not in existing]
        for chunk in batches(env, todo, "adding users"):
            store.add_users(
                [
                    User(
                        name=name,
                        limit_by=limit_by or LimitBy.QUOTA,
                        overcharge=factor if factor is not None else ONE,
                        email=mail,
                        description=description or "",
                    )
                    for name in chunk
                ]
            )
        if pin_hash is not None or credit:
            for name in progress(env, todo, "initial balances"):
                if pin_hash is not None:
                    store.set_user_pin_hash(name, pin_hash)
                if credit:
                    store.add_payment(
                        Payment(name, credit, PaymentKind.CREDIT, "initial balance", env.now())
                    )
    for name in sorted(existing):
        env.note(f"user {name!r} exists: left unchanged")
    env.note(f"{len(todo)} user(s) added")


@app.command("edit")
def edit(
    names: Names,
    limit_by: LimitOpt = None,
    overcharge: OverOpt = None,
    email: EmailOpt = None,
    email_domain: Annotated[
        str | None,
        typer.Option(
            "--email-domain",
            metavar="DOMAIN",
            help="Set each user's e-mail to NAME@DOMAIN (PyKota: pkusers --email @DOMAIN).",
        ),
    ] = None,
    description: DescOpt = None,
    pin: PinOpt = False,
    pin_stdin: PinStdinOpt = False,
    clear_pin: Annotated[
        bool, typer.Option("--clear-pin", help="Remove the print-time PIN.")
    ] = False,
) -> None:
    """Change users' limit, overcharge factor, e-mail, description or PIN."""
    env = get_env()
    factor = common.factor(overcharge) if overcharge is not None else None
    mail = common.email(email) if email is not None else None
    if email_domain is not None:
        if email is not None:
            raise InvalidInput("give --email or --email-domain, not both")
        common.email("user@" + email_domain.lstrip("@"))
    if clear_pin and (pin or pin_stdin):
        raise InvalidInput("give --clear-pin or a new PIN, not both")
    new_pin = read_pin(names, pin, pin_stdin)
    changes = (limit_by, factor, mail if email_domain is None else email_domain, description)
    if all(c is None for c in changes) and new_pin is None and not clear_pin:
        raise InvalidInput(
            "nothing to change: give --limit-by, --overcharge, --email, "
            "--email-domain, --description, --pin, --pin-stdin or --clear-pin"
        )
    pin_hash = hash_pin(new_pin) if new_pin is not None else None
    with env.store(write=True) as store:
        users = expand("user", names, store.find_users, lambda u: u.name)
        for u in progress(env, users, "editing users"):
            if any(c is not None for c in changes):
                own = f"{u.name}@{email_domain.lstrip('@')}" if email_domain is not None else mail
                store.edit_user(
                    u.name, limit_by=limit_by, overcharge=factor, email=own, description=description
                )
            if pin_hash is not None or clear_pin:
                store.set_user_pin_hash(u.name, pin_hash)
    env.note(f"{len(users)} user(s) changed")


@app.command("delete")
def delete(names: Names) -> None:
    """Delete users and their quota entries (their job history is kept)."""
    env = get_env()
    with env.store(write=True) as store:
        each_matching(
            env, "user", names, store.find_users, lambda u: u.name, store.delete_user, "deleted"
        )


@app.command("list")
def list_(
    names: Annotated[
        list[str] | None, typer.Argument(help="Names or wildcards (default *).")
    ] = None,
    fmt: common.FormatOption = common.Format.TABLE,
) -> None:
    """List users with their limit, balance and overcharge factor."""
    env = get_env()
    with env.store() as store:
        users = store.find_users(names or ["*"])
    emit(env, fmt, COLUMNS, [user_row(u) for u in users], title="Users")


@app.command("credit")
def credit(
    names: Annotated[list[str], typer.Argument(help="User names or wildcards.")],
    amount: Annotated[str, typer.Argument(help="Amount to add, e.g. 10 or 2.50.")],
    note: Annotated[str, typer.Option("--note", "-n", help="Why (kept with the payment).")] = "",
) -> None:
    """Add credit to users' balances (a payment; raises their lifetime paid)."""
    from pagetally.cli.payments import record

    record(get_env(), names, amount, PaymentKind.CREDIT, note)


@app.command("ensure")
def ensure(
    name: Annotated[str, typer.Argument(help="The user (exact name).")],
    printer: Annotated[str, typer.Option("--printer", "-P", help="The printer printed on.")],
    initbalance: Annotated[
        str,
        typer.Option(
            "--initbalance", "-i", help="Balance of a user created now (PyKota's default 0)."
        ),
    ] = "0",
) -> None:
    """Create the user (limit-by balance, --initbalance) and their missing quota
    entries on PRINTER and the groups above it (PyKota's autopykota)."""
    from pagetally.storage.autoaccount import ensure_account

    env = get_env()
    [user] = check_new_names("user", [name])
    balance = common.payment(initbalance, env.config().get("currency"), "initial balance")
    with env.store(write=True) as store:
        done = ensure_account(store, user, printer, balance)
    if done.create_user:
        env.note(f"user {user!r} added with balance {balance}")
    if done.create_printer:
        env.note(f"printer {printer!r} added")
    if done.quota_printers:
        env.note(f"quota entries added on {', '.join(done.quota_printers)}")
    if not (done.create_user or done.create_printer or done.quota_printers):
        env.note(f"{user} on {printer}: nothing to do")
