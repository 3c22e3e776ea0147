"""End to end through a private cupsd and ippeveprinter: what is missing from the
store under each `policy` (allow; external command that creates it), a deny
banner reaching the printer (bounded by `maxdenybanners`), and duplicate jobs
refused (`denyduplicates`). Each test checks the store's rows, the balance and
what CUPS shows for the job. (`policy: deny` is in test_cupsd.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from pagetally.core.models import Action, LimitBy, PriceTable, Printer, User
from pagetally.errors import NotFound
from pagetally.storage.base import Store
from tests.cups.cupsd import Cupsd
from tests.cups.e2e import (
    PAGETALLY,
    configure,
    lpstat_status,
    own_ipp_printer,
    pdf_of_pages,
    store_of,
    wrap,
)
from tests.cups.test_cupsd import ONE_PAGE, history, submit, wait_done
from tests.fixtures_devices import IppEvePrinter

pytestmark = [pytest.mark.slow, pytest.mark.cups]


@pytest.fixture(scope="module")
def store(cupsd: Cupsd) -> Store:
    return store_of(cupsd)


@pytest.fixture(scope="module")
def ipp_printer(dns_sd: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IppEvePrinter]:
    yield from own_ipp_printer(tmp_path_factory, "policies")


def site_command(tmp_path: Path, body: str) -> Path:
    """A site script (run by the backend as root) calling the `pagetally` CLI
    on the session's config."""
    script = tmp_path / "policy-command"
    script.write_text(f"#!/bin/sh\nset -e\n{body}")
    script.chmod(0o755)
    return script


# --- unknown user ----------------------------------------------------------------


def test_unknown_user_allowed_by_policy(
    cupsd: Cupsd, ipp_printer: IppEvePrinter, store: Store
) -> None:
    wrap(cupsd, "polallow", ipp_printer.uri)
    configure(cupsd, "polallow", policy="allow")
    store.add_printer(Printer("polallow", prices=PriceTable(per_page=Decimal("0.10"))))

    done = wait_done(cupsd, submit(cupsd, "polallow", "walkin", ONE_PAGE))

    assert done["job-state"] == "completed", done
    [job] = [j for j in store.history() if j.user == "walkin"]
    assert (job.action, job.pages, job.price) == (Action.ALLOW, 1, 0)  # nobody paid
    assert "walkin is unknown" in job.reason and "policy allows" in job.reason
    with pytest.raises(NotFound):
        store.get_user("walkin")  # allowed, not created: nobody to charge


def test_unknown_user_created_by_external_policy(
    cupsd: Cupsd, ipp_printer: IppEvePrinter, store: Store, tmp_path: Path
) -> None:
    """The site command adds the user with a balance and a quota entry; the job
    is decided again and charged."""
    wrap(cupsd, "polext", ipp_printer.uri)
    cli = f"{PAGETALLY} -C {cupsd.config}"
    script = site_command(
        tmp_path,
        f'{cli} users add --limit-by balance --balance 2 "$1"\n{cli} quotas set -P "$2" "$1"\n',
    )
    configure(cupsd, "polext", policy=f"external({script} %(username)s %(printername)s)")
    store.add_printer(Printer("polext", prices=PriceTable(per_page=Decimal("0.10"))))

    done = wait_done(cupsd, submit(cupsd, "polext", "newbie", ONE_PAGE))

    assert done["job-state"] == "completed", done
    assert history(store, "newbie") == [(Action.ALLOW, 1, Decimal("0.10"))]
    assert store.get_user("newbie").balance == Decimal("1.90")
    assert store.get_user_quota("newbie", "polext").page_counter == 1


def test_unknown_user_external_policy_command_failing_refuses(
    cupsd: Cupsd, ipp_printer: IppEvePrinter, store: Store, tmp_path: Path
) -> None:
    """A command that creates nothing (here: it fails) leaves the job refused,
    the command's failure in the reason."""
    wrap(cupsd, "polextfail", ipp_printer.uri)
    script = site_command(tmp_path, "exit 3\n")
    configure(cupsd, "polextfail", policy=f"external({script} %(username)s)")
    store.add_printer(Printer("polextfail"))

    done = wait_done(cupsd, submit(cupsd, "polextfail", "ghost", ONE_PAGE))

    assert done["job-state"] == "canceled", done
    message = done["job-printer-state-message"]
    assert "ghost is unknown" in message and "exited 3" in message
    assert history(store, "ghost") == [(Action.DENY, 1, Decimal("0"))]


# --- a queue whose printer is not in the store yet --------------------------------


def test_unknown_printer_allowed_by_policy_is_not_charged(
    cupsd: Cupsd, ipp_printer: IppEvePrinter, store: Store
) -> None:
    wrap(cupsd, "newqallow", ipp_printer.uri)
    configure(cupsd, "newqallow", policy="allow")
    store.add_user(User("pia", limit_by=LimitBy.BALANCE, balance=Decimal("5")))

    done = wait_done(cupsd, submit(cupsd, "newqallow", "pia", ONE_PAGE))

    assert done["job-state"] == "completed", done
    [job] = [j for j in store.history() if j.user == "pia"]
    assert (job.action, job.printer, job.pages, job.price) == (
        Action.ALLOW,
        "newqallow",
        1,
        Decimal("0"),
    )
    assert "Printer newqallow is unknown" in job.reason
    assert store.get_user("pia").balance == Decimal("5")
    with pytest.raises(NotFound):
        store.get_printer("newqallow")  # allow prints; it creates nothing


def test_unknown_printer_created_by_external_policy(
    cupsd: Cupsd, ipp_printer: IppEvePrinter, store: Store, tmp_path: Path
) -> None:
    """PyKota's usual external policy: the command adds the printer (with its
    price) and the user's quota entry on it; the job is then charged."""
    wrap(cupsd, "newqext", ipp_printer.uri)
    cli = f"{PAGETALLY} -C {cupsd.config}"
    script = site_command(
        tmp_path, f'{cli} printers add --price-per-page 0.25 "$2"\n{cli} quotas set -P "$2" "$1"\n'
    )
    configure(cupsd, "newqext", policy=f"external({script} %(username)s %(printername)s)")
    store.add_user(User("pete", limit_by=LimitBy.BALANCE, balance=Decimal("5")))

    done = wait_done(cupsd, submit(cupsd, "newqext", "pete", ONE_PAGE))

    assert done["job-state"] == "completed", done
    assert store.get_printer("newqext").prices.per_page == Decimal("0.25")
    assert history(store, "pete") == [(Action.ALLOW, 1, Decimal("0.25"))]
    assert store.get_user("pete").balance == Decimal("4.75")


# --- deny banner ----------------------------------------------------------------


def printer_jobs(printer: IppEvePrinter) -> dict[int, Path]:
    """The documents ippeveprinter kept (-k), by its job number."""
    jobs: dict[int, Path] = {}
    for path in printer.spool.iterdir():
        number, _, _ = path.name.partition("-")
        if number.isdigit() and path.suffix != ".prn":
            jobs[int(number)] = path
    return jobs


def test_deny_banner_reaches_the_printer_once(
    cupsd: Cupsd, ipp_printer: IppEvePrinter, store: Store
) -> None:
    """maxdenybanners 1: the first refused job prints a banner saying why (and
    only the banner), the second refused job prints nothing; warncount says 1."""
    wrap(cupsd, "bannerq", ipp_printer.uri)
    configure(cupsd, "bannerq", startingbanner="builtin", maxdenybanners="1")
    store.add_printer(Printer("bannerq", prices=PriceTable(per_page=Decimal("0.10"))))
    store.add_user(User("dee", limit_by=LimitBy.BALANCE, balance=Decimal("0")))
    store.set_user_quota("dee", "bannerq")
    before = printer_jobs(ipp_printer)

    first = wait_done(cupsd, submit(cupsd, "bannerq", "dee", ONE_PAGE))

    assert first["job-state"] == "canceled", first
    assert "balance" in first["job-printer-state-message"].lower()
    new = {n: p for n, p in printer_jobs(ipp_printer).items() if n not in before}
    assert len(new) == 1, new
    [banner] = new.values()
    data = banner.read_bytes()
    assert data.startswith(b"%!PS") and b"dee" in data and b"%PDF" not in data
    assert store.get_user_quota("dee", "bannerq").warn_count == 1

    second = wait_done(cupsd, submit(cupsd, "bannerq", "dee", ONE_PAGE))

    assert second["job-state"] == "canceled", second
    assert printer_jobs(ipp_printer).keys() == before.keys() | new.keys()
    assert store.get_user_quota("dee", "bannerq").warn_count == 1
    assert history(store, "dee") == [(Action.DENY, 1, Decimal("0"))] * 2
    assert store.get_user("dee").balance == Decimal("0")


# --- duplicates -----------------------------------------------------------------


def test_duplicate_job_refused_within_the_delay(
    cupsd: Cupsd, ipp_printer: IppEvePrinter, store: Store, tmp_path: Path
) -> None:
    """The same document twice by the same person within duplicatesdelay: the
    second is refused with the reason in its state message and not charged;
    another document goes through."""
    wrap(cupsd, "dupq", ipp_printer.uri)
    configure(cupsd, "dupq", denyduplicates="yes", duplicatesdelay="300")
    store.add_printer(Printer("dupq", prices=PriceTable(per_page=Decimal("0.10"))))
    store.add_user(User("dot", limit_by=LimitBy.BALANCE, balance=Decimal("5")))
    store.set_user_quota("dot", "dupq")
    other = pdf_of_pages(tmp_path / "other.pdf", 2)

    assert wait_done(cupsd, submit(cupsd, "dupq", "dot", ONE_PAGE))["job-state"] == "completed"
    again = wait_done(cupsd, submit(cupsd, "dupq", "dot", ONE_PAGE))
    assert again["job-state"] == "canceled", again
    assert "duplicate job" in again["job-printer-state-message"]
    assert "within 300 s" in again["job-printer-state-message"]
    assert "PageTally refused the job" in lpstat_status(cupsd, "dupq")
    assert wait_done(cupsd, submit(cupsd, "dupq", "dot", other))["job-state"] == "completed"

    assert history(store, "dot") == [
        (Action.ALLOW, 1, Decimal("0.10")),
        (Action.DENY, 1, Decimal("0")),
        (Action.ALLOW, 2, Decimal("0.20")),
    ]
    assert store.get_user("dot").balance == Decimal("4.70")
