"""`policy: external(autopykota --initbalance N)` as PyKota sites configure it:
the backend creates the unknown user on their first job (limit-by balance, N as
balance, quota entries on the printer and its groups) and prints, in-process,
with the store opened directly and through the accounting service."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest

from pagetally.core.autoaccount import autopykota_balance
from pagetally.core.models import Action, LimitBy, Printer, User
from pagetally.errors import InvalidInput
from tests.cups.test_backend import PDF, Site
from tests.cups.test_backend import site as site  # the fixture


def _policy(site: Site, command: str) -> None:
    with site.conf.open("a") as conf:
        conf.write(f"policy: external({command})\n")


@pytest.mark.parametrize("served", [False, True], ids=["store", "service"])
def test_first_job_creates_the_account_with_its_initial_balance(site: Site, served: bool) -> None:
    site.store.add_printer(Printer("building"))
    site.store.add_to_printer_group("building", ["lab"])
    _policy(site, "/usr/bin/autopykota --initbalance 2.50")  # PyKota's path: not run
    with site.served() if served else contextlib.nullcontext():
        code, err = site.job("30", "newbie", PDF.read_bytes())
        assert code == 0, err
        # the second job finds everything there: nothing created, the balance goes on
        code2, err2 = site.job("31", "newbie", PDF.read_bytes())
        assert code2 == 0, err2
    user = site.store.get_user("newbie")
    assert user.limit_by == LimitBy.BALANCE
    assert user.balance == Decimal("2.30") and user.lifetime_paid == Decimal("2.50")
    assert [(p.amount, p.kind, p.description) for p in site.store.payments("newbie")] == [
        (Decimal("2.50"), "credit", "initial balance (autopykota)")
    ]  # once, labelled
    assert {q.printer for q in site.store.user_quotas(users=["newbie"])} == {"lab", "building"}
    assert [(j.user, j.action) for j in site.store.history()] == [("newbie", Action.ALLOW)] * 2


def test_an_existing_user_keeps_the_balance_and_gets_the_entry(site: Site) -> None:
    site.store.add_user(User("ann", limit_by=LimitBy.BALANCE, balance=Decimal("1.00")))
    _policy(site, "autopykota -i 50")
    code, err = site.job("32", "ann", PDF.read_bytes())
    assert code == 0, err
    assert site.store.get_user("ann").balance == Decimal("0.90")  # not 50
    assert [q.printer for q in site.store.user_quotas(users=["ann"])] == ["lab"]


def test_a_command_autopykota_refuses_is_run_as_written(site: Site) -> None:
    _policy(site, "autopykota --initbalance 2 extra")  # PyKota: "no non option arguments"
    code, err = site.job("33", "eve", PDF.read_bytes())
    assert code == 5  # the unknown user is refused: the command could not run
    assert "User eve is unknown" in err
    with pytest.raises(InvalidInput, match="takes no other argument"):
        autopykota_balance(["autopykota", "--initbalance", "2", "extra"])


def test_initbalance_forms() -> None:
    assert autopykota_balance(["autopykota"]) == Decimal(0)
    assert autopykota_balance(["/usr/bin/autopykota", "-i5"]) == Decimal(5)
    assert autopykota_balance(["autopykota", "--initbalance=0.25"]) == Decimal("0.25")
    assert autopykota_balance(["/bin/mkuser", "-i", "5"]) is None
    with pytest.raises(InvalidInput, match="initbalance"):
        autopykota_balance(["autopykota", "-i", "1,50"])
