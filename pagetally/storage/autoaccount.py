"""autopykota in the store: create what `core.autoaccount.plan_account` says,
through the print job's role only (PrintJobStore: the SQL store, and the
accounting service's remote store a backend uses).

The initial balance is written with the user, in the same insert (balance and
lifetime paid) and unit of work as its payment row ("initial balance
(autopykota)"), so two first jobs of one new user racing cannot pay it twice:
the second `add_user` finds the user there (AlreadyExists) and goes on with the
quota entries.
"""

from __future__ import annotations

import contextlib
from decimal import Decimal

from pagetally.core.autoaccount import AutoAccount, plan_account
from pagetally.core.models import LimitBy, Printer, User
from pagetally.errors import AlreadyExists
from pagetally.storage.base import PrintJobStore

#: the payment that records an autopykota user's starting balance
OPENING = "initial balance (autopykota)"


def ensure_account(store: PrintJobStore, user: str, printer: str, balance: Decimal) -> AutoAccount:
    """Create the user (limit-by balance, starting with `balance`), the printer, and
    the user's missing quota entries on the printer and its groups; returns what
    was planned (an existing user keeps their balance)."""
    snap = store.snapshot(user, printer)
    todo = plan_account(
        user_exists=snap.user is not None,
        printer=printer,
        printer_exists=snap.printer is not None,
        chain=[p.name for p in snap.printers],
        entries=list(snap.user_quotas),
        balance=balance,
    )
    if todo.create_user:
        with contextlib.suppress(AlreadyExists):
            store.add_user(
                User(
                    user, limit_by=LimitBy.BALANCE, balance=todo.balance, lifetime_paid=todo.balance
                ),
                opening=OPENING,
            )
    if todo.create_printer:
        with contextlib.suppress(AlreadyExists):
            store.add_printer(Printer(printer))
    for name in todo.quota_printers:
        store.set_user_quota(user, name)
    return todo
