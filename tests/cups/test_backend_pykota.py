"""The backend for a PyKota site: a `cupspykota://` device URI prints and charges;
a job's values can never become the options of the site's policy command."""

from __future__ import annotations

from decimal import Decimal

from pagetally.core.models import Action, LimitBy, User
from pagetally.notify.process import fill_placeholders
from tests.cups.test_backend import PDF, Site
from tests.cups.test_backend import site as site  # the fixture


def test_cupspykota_uri_prints_and_charges(site: Site) -> None:
    site.environ["DEVICE_URI"] = "cupspykota://socket://127.0.0.1:9100"  # PyKota's form
    site.store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("5.00")))
    site.store.set_user_quota("alice", "lab")
    code, err = site.job("1", "alice", PDF.read_bytes())
    assert code == 0, err
    assert site.store.get_user("alice").balance == Decimal("4.90")


def test_a_user_named_like_an_option_never_reaches_the_command(site: Site) -> None:
    marker = site.tmp / "ran"
    script = site.tmp / "create-account"
    script.write_text(f"#!/bin/sh\ntouch {marker}\n")
    script.chmod(0o700)
    with site.conf.open("a") as conf:
        conf.write(f"policy: external({script} %(username)s)\n")
    _, err = site.job("22", "-rf", PDF.read_bytes())
    assert "would be read as an option by the command: not run" in err
    assert not marker.exists()
    assert [j.action for j in site.store.history()] == [Action.DENY]


def test_fill_placeholders() -> None:
    argv = ["/bin/mk", "--user=%(username)s", "%(printername)s", "-x"]
    assert fill_placeholders(argv, {"username": "-rf", "printername": "lp"}) == [
        "/bin/mk",
        "--user=-rf",
        "lp",
        "-x",
    ]
    for bad in ("-rf", "--help"):
        try:
            fill_placeholders(["/bin/mk", "%(username)s"], {"username": bad})
        except ValueError as exc:
            assert repr(bad) in str(exc)
        else:
            raise AssertionError(f"{bad} became an option")
