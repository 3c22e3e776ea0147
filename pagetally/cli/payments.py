"""`pagetally payments`: credit, refund, debit and list payments (PyKota's
edpykota --add/--balance and pkrefund)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import typer

from pagetally.cli import common
from pagetally.cli.env import Env, get_env
from pagetally.cli.names import expand
from pagetally.cli.output import Row, emit, progress
from pagetally.core.models import Payment, PaymentKind
from pagetally.core.money import format_money
from pagetally.errors import InvalidAmount

app = typer.Typer(help="Payments: credit, refund, debit, list.", no_args_is_help=True)

NamesArg = Annotated[list[str], typer.Argument(help="User names or wildcards.")]
AmountArg = Annotated[str, typer.Argument(help="A positive amount, e.g. 10 or 2.50.")]
NoteOpt = Annotated[str, typer.Option("--note", "-n", help="Why (kept with the payment).")]

COLUMNS = ("id", "date", "user", "kind", "amount", "description")

#: How each kind moves the balance: the signed amount given to the store.
_SIGN = {PaymentKind.CREDIT: 1, PaymentKind.FREE: 1, PaymentKind.REFUND: 1, PaymentKind.DEBIT: -1}


def record(env: Env, names: Sequence[str], text: str, kind: PaymentKind, note: str) -> None:
    """One payment of `kind` per user; the amount is checked before anything changes."""
    value = common.payment(text, env.config().get_str("currency"))
    if value == 0:
        raise InvalidAmount("amount: 0 changes nothing; give a positive amount")
    with env.store(write=True) as store:
        users = expand("user", names, store.find_users, lambda u: u.name)
        currency = env.config().get_str("currency")
        for u in progress(env, users, f"{kind.value} payments"):
            after = store.add_payment(Payment(u.name, _SIGN[kind] * value, kind, note, env.now()))
            env.note(
                f"{u.name}: {kind.value} {format_money(value, currency)}, "
                f"balance now {format_money(after.balance, currency)}"
            )


@app.command("set-balance")
def set_balance(
    names: NamesArg,
    amount: Annotated[str, typer.Argument(help="The balance each user ends with, e.g. 10.")],
    note: NoteOpt = "",
) -> None:
    """Set users' balances to AMOUNT (PyKota's pkusers --balance N): the difference
    is recorded as a credit or a debit, so the payments still add up."""
    env = get_env()
    currency = env.config().get_str("currency")
    target = common.payment(amount, currency, "balance", allow_negative=True)
    with env.store(write=True) as store:
        users = expand("user", names, store.find_users, lambda u: u.name)
        for u in progress(env, users, "setting balances"):
            diff = target - u.balance
            if diff == 0:
                continue
            kind = PaymentKind.CREDIT if diff > 0 else PaymentKind.DEBIT
            after = store.add_payment(Payment(u.name, diff, kind, note, env.now()))
            env.note(f"{u.name}: balance now {format_money(after.balance, currency)}")


@app.command("credit")
def credit(names: NamesArg, amount: AmountArg, note: NoteOpt = "") -> None:
    """Credit money paid in (raises balance and lifetime paid)."""
    record(get_env(), names, amount, PaymentKind.CREDIT, note)


@app.command("free")
def free(names: NamesArg, amount: AmountArg, note: NoteOpt = "") -> None:
    """Grant credit that was not paid for (raises the balance only)."""
    record(get_env(), names, amount, PaymentKind.FREE, note)


@app.command("refund")
def refund(names: NamesArg, amount: AmountArg, note: NoteOpt = "") -> None:
    """Give money back for a job (raises the balance; PyKota's pkrefund)."""
    record(get_env(), names, amount, PaymentKind.REFUND, note)


@app.command("debit")
def debit(names: NamesArg, amount: AmountArg, note: NoteOpt = "") -> None:
    """Correct a balance downwards."""
    record(get_env(), names, amount, PaymentKind.DEBIT, note)


def payment_row(p: Payment) -> Row:
    return {
        "id": p.id,
        "date": p.date,
        "user": p.user,
        "kind": p.kind,
        "amount": p.amount,
        "description": p.description,
    }


@app.command("list")
def list_(
    user: Annotated[str | None, typer.Option("--user", "-u", help="Only this user.")] = None,
    fmt: common.FormatOption = common.Format.TABLE,
) -> None:
    """List payments, oldest first."""
    env = get_env()
    with env.store() as store:
        if user is not None:
            store.get_user(user)
        rows = [payment_row(p) for p in store.payments(user)]
    emit(env, fmt, COLUMNS, rows, title="Payments")
