"""`pagetally billing-codes`: codes jobs are billed to (PyKota's pkbcodes)."""

from __future__ import annotations

from typing import Annotated

import typer

from pagetally.cli import common
from pagetally.cli.env import get_env
from pagetally.cli.names import check_new_names, expand
from pagetally.cli.output import Row, each_matching, emit
from pagetally.core.models import BillingCode
from pagetally.errors import AlreadyExists, InvalidInput

app = typer.Typer(help="Billing codes: add, edit, delete, list.", no_args_is_help=True)

Codes = Annotated[list[str], typer.Argument(help="Billing codes; wildcards select.")]
DescOpt = Annotated[str | None, typer.Option("--description", "-d", help="Free text.")]
COLUMNS = ("code", "description", "balance", "page_counter")


def code_row(c: BillingCode) -> Row:
    return {
        "code": c.code,
        "description": c.description,
        "balance": c.balance,
        "page_counter": c.page_counter,
    }


@app.command("add")
def add(
    codes: Codes,
    description: DescOpt = None,
    skip_existing: Annotated[bool, typer.Option("--skip-existing")] = False,
) -> None:
    """Create billing codes."""
    env = get_env()
    new = check_new_names("billing code", codes)
    with env.store(write=True) as store:
        existing = {c.code for c in store.find_billing_codes(new)}
        if existing and not skip_existing:
            raise AlreadyExists("billing code", sorted(existing)[0])
        todo = [c for c in new if c not in existing]
        for code in todo:
            store.add_billing_code(BillingCode(code, description=description or ""))
    env.note(f"{len(todo)} billing code(s) added")


@app.command("edit")
def edit(
    codes: Codes,
    description: DescOpt = None,
    balance: Annotated[
        str | None, typer.Option("--balance", "-b", help="Set the balance to this amount.")
    ] = None,
) -> None:
    """Change billing codes' description or balance."""
    env = get_env()
    value = common.amount(balance, "balance", allow_negative=True) if balance else None
    if description is None and value is None:
        raise InvalidInput("nothing to change: give --description or --balance")
    with env.store(write=True) as store:
        found = expand("billing code", codes, store.find_billing_codes, lambda c: c.code)
        for c in found:
            store.edit_billing_code(c.code, description=description, balance=value)
    env.note(f"{len(found)} billing code(s) changed")


@app.command("delete")
def delete(codes: Codes) -> None:
    """Delete billing codes (job history keeps the code's name)."""
    env = get_env()
    with env.store(write=True) as store:
        each_matching(
            env,
            "billing code",
            codes,
            store.find_billing_codes,
            lambda c: c.code,
            store.delete_billing_code,
            "deleted",
        )


@app.command("list")
def list_(
    codes: Annotated[list[str] | None, typer.Argument(help="Codes or wildcards.")] = None,
    fmt: common.FormatOption = common.Format.TABLE,
) -> None:
    """List billing codes with their balance and page counter."""
    env = get_env()
    with env.store() as store:
        rows = [code_row(c) for c in store.find_billing_codes(codes or ["*"])]
    emit(env, fmt, COLUMNS, rows, title="Billing codes")
