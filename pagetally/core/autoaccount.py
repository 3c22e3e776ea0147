"""autopykota, as a rule: the account a user gets on their first print.

PyKota sites configure `policy: external(autopykota --initbalance N)`: a user
unknown to the store (or without a quota entry on the printer) is created with
limit-by `balance` and N as initial balance, with quota entries (no limits) on
the printer and every printer group above it; a user who exists keeps their
balance and only gets the missing entries; a missing printer is created. This
module parses that command line and says what to create; storage/autoaccount.py
does it, and the backend runs it in-process (no process start, no PATH lookup).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from pagetally.core.models import ZERO
from pagetally.errors import InvalidInput

NAME = "autopykota"


def autopykota_balance(argv: Sequence[str]) -> Decimal | None:
    """The initial balance when `argv` is an autopykota command line, else None.
    `-i N`, `-iN`, `--initbalance N`, `--initbalance=N`; default 0 (PyKota's).
    Anything else on the line is refused, as autopykota refused it."""
    from pagetally.core.money import parse_amount

    if not argv or os.path.basename(argv[0]) != NAME:
        return None
    value = "0"
    args = list(argv[1:])
    while args:
        arg = args.pop(0)
        if arg in ("-i", "--initbalance"):
            if not args:
                raise InvalidInput(f"autopykota: {arg} needs a value")
            value = args.pop(0)
        elif arg.startswith("--initbalance="):
            value = arg.split("=", 1)[1]
        elif arg.startswith("-i") and len(arg) > 2:
            value = arg[2:]
        else:
            raise InvalidInput(
                f"autopykota: {arg!r} is not -i/--initbalance (it takes no other argument)"
            )
    try:
        return parse_amount(value)
    except InvalidInput as exc:
        raise InvalidInput(f"autopykota --initbalance: {exc}") from None


@dataclass(frozen=True, slots=True)
class AutoAccount:
    """What to create for one user on one printer."""

    create_user: bool
    create_printer: bool
    quota_printers: tuple[str, ...]  # entries to add, the printer first
    balance: Decimal = ZERO


def plan_account(
    *,
    user_exists: bool,
    printer: str,
    printer_exists: bool,
    chain: Sequence[str],
    entries: Sequence[str],
    balance: Decimal,
) -> AutoAccount:
    """`chain`: the printer and the groups above it (as the store has them);
    `entries`: printers of `chain` where the user already has a quota entry."""
    names = tuple(chain) if printer_exists else (printer,)
    missing = tuple(p for p in names if p not in set(entries))
    return AutoAccount(
        not user_exists, not printer_exists, missing, ZERO if user_exists else balance
    )
