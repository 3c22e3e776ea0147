"""printauth and askconfirmation in the backend, in-process: a real SQLite store,
real job files, a recording stand-in for the device's backend, real hooks.
The credential (job-password) must never reach the history, a hook, the real
backend or cupsd's log lines. Through cupsd: test_auth_cupsd.py."""

from __future__ import annotations

import functools
import io
import stat
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pagetally.core.models import Action, LimitBy, User
from pagetally.core.pins import hash_pin
from pagetally.cups.auth import Credential, parse_printauth, take_credential
from pagetally.cups.backend import BackendEnv, run
from pagetally.cups.status import BackendExit
from pagetally.cups.ticket import parse_ticket
from tests.cups.test_backend import PDF, Site

PIN = "83zq-1975"

DEVICE = """#!/bin/sh
printf '%s' "$5" > "{out}/options-$1"
cat > "{out}/printed-$1"
exit 0
"""

#: A PIN's stored hash, made once per process for each (PIN, time set): hash_pin
#: costs what it costs in production (scrypt, tens of ms), and the tests here
#: check PINs against a hash, not that two hashes of one PIN differ (core/test_pins).
stored_pin = functools.cache(hash_pin)

HOOK = """#!/bin/sh
env > "{out}/hookenv-$PYKOTAJOBID-$PYKOTAPHASE"
"""


class AuthSite(Site):
    def __init__(self, tmp: Path, settings: str = "") -> None:
        super().__init__(tmp)
        device = Path(self.environ["CUPS_SERVERBIN"]) / "backend" / "socket"
        device.write_text(DEVICE.format(out=tmp))
        hook = tmp / "hook.sh"
        hook.write_text(HOOK.format(out=tmp))
        hook.chmod(stat.S_IRWXU)
        with self.conf.open("a") as conf:
            conf.write(f"prehook: {hook}\nposthook: {hook}\nmailto: devnull\n{settings}")
        for name in ("alice", "bob"):
            self.store.add_user(User(name, limit_by=LimitBy.BALANCE, balance=Decimal("5")))
            self.store.set_user_quota(name, "lab")
        self.store.set_user_pin_hash("alice", stored_pin(PIN))

    def submit(self, job_id: str, user: str, *options: str) -> tuple[int, str]:
        argv = [
            "pagetally",
            job_id,
            user,
            "t",
            "1",
            " ".join(("job-originating-host-name=pc7", "sides=one-sided", *options)),
        ]
        err = io.StringIO()
        env = BackendEnv(
            argv,
            self.environ,
            io.BytesIO(PDF.read_bytes()),
            err,
            now=lambda: datetime(2026, 11, 24, 12, tzinfo=UTC),
            config_path=str(self.conf),
        )
        return run(env), err.getvalue()

    def seen_by_others(self) -> str:
        """Everything written where the PIN must never be: stored rows, hook
        environments, what the real backend was given."""
        rows = [repr(r) for r in self.store.history()]
        files = [
            p.read_text(errors="replace")
            for p in self.tmp.iterdir()
            if p.name.startswith(("hookenv-", "options-"))
        ]
        return "\n".join(rows + files)


def pin_site(tmp_path: Path, mode: str = "pin", extra: str = "") -> AuthSite:
    return AuthSite(tmp_path, f"printauth: {mode}\n{extra}")


def test_the_right_pin_prints_and_charges_and_is_passed_on_to_no_one(tmp_path: Path) -> None:
    site = pin_site(tmp_path)
    code, err = site.submit("1", "alice", f"job-password={PIN}")
    assert code == BackendExit.OK, err
    assert (tmp_path / "printed-1").read_bytes() == PDF.read_bytes()
    assert site.store.get_user("alice").balance == Decimal("4.90")
    assert (tmp_path / "options-1").read_text() == (
        "job-originating-host-name=pc7 sides=one-sided"
    )  # the rest went through
    assert (tmp_path / "hookenv-1-BEFORE").exists() and (tmp_path / "hookenv-1-AFTER").exists()
    assert PIN not in site.seen_by_others() and PIN not in err


@pytest.mark.parametrize(
    ("user", "options", "reason"),
    [
        ("alice", (), "PIN missing"),
        ("alice", ("job-password=",), "PIN missing"),
        ("alice", ("job-password=1234",), "wrong PIN"),
        ("alice", (f"job-password={PIN}x",), "wrong PIN"),
        ("bob", (f"job-password={PIN}",), "wrong PIN"),  # bob has no PIN
        ("nobody", (f"job-password={PIN}",), "wrong PIN"),  # not in the store: same answer
        (
            "alice",
            (f"job-password={PIN}", "job-password-encryption=sha2-256"),
            "the PIN was sent hashed",
        ),
    ],
)
def test_a_missing_or_wrong_pin_is_refused_and_nothing_charged(
    tmp_path: Path, user: str, options: tuple[str, ...], reason: str
) -> None:
    site = pin_site(tmp_path, extra="policy: allow\n")
    code, err = site.submit("2", user, *options)
    assert code == BackendExit.CANCEL
    assert f"WARNING: PageTally refused the job: {reason}" in err
    assert not (tmp_path / "printed-2").exists()
    [row] = list(site.store.history())
    assert (row.user, row.action, row.price) == (user, Action.DENY, Decimal("0"))
    assert row.reason.startswith(reason)
    assert site.store.get_user("alice").balance == Decimal("5")
    env = (tmp_path / "hookenv-2-BEFORE").read_text()  # the prehook ran, as on refusals
    assert "PYKOTAACTION=DENY" in env
    assert PIN not in site.seen_by_others() and "1234" not in site.seen_by_others()
    assert PIN not in err


def test_refusals_do_not_tell_whether_the_user_exists(tmp_path: Path) -> None:
    site = pin_site(tmp_path)
    _, known = site.submit("3", "bob", "job-password=0000")
    _, unknown = site.submit("4", "ghost", "job-password=0000")
    assert known.replace("bob", "X").replace(" 3 ", " N ") == (
        unknown.replace("ghost", "X").replace(" 4 ", " N ")
    )


def test_known_refuses_users_not_in_the_store_whatever_the_policy(tmp_path: Path) -> None:
    site = pin_site(tmp_path, "known", "policy: allow\n")
    code, err = site.submit("5", "stranger")
    assert code == BackendExit.CANCEL
    assert "refused the job: unknown user stranger" in err
    assert site.submit("6", "bob")[0] == BackendExit.OK
    assert site.store.get_user("bob").balance == Decimal("4.90")


def test_without_printauth_the_job_password_goes_to_the_printer_untouched(tmp_path: Path) -> None:
    """A site may use job-password for release at the device (PWG 5100.11)."""
    site = AuthSite(tmp_path)
    assert site.submit("7", "bob", "job-password=2468")[0] == BackendExit.OK
    assert "job-password=2468" in (tmp_path / "options-7").read_text()
    assert "2468" not in "".join(repr(r) for r in site.store.history())


def test_the_store_down_refuses_even_with_onstoreerror_allow(tmp_path: Path) -> None:
    site = pin_site(tmp_path, extra="onstoreerror: allow\n")
    site.conf.write_text(
        site.conf.read_text().replace(
            f"storagename: {site.db}", f"storagename: {tmp_path / 'gone' / 'x.db'}"
        )
    )
    code, err = site.submit("8", "alice", f"job-password={PIN}")
    assert code == BackendExit.CANCEL
    assert "the user cannot be authenticated" in err


CHECKER = """#!/bin/sh
read -r user
read -r secret
printf '%s|%s|%s' "$user" "$*" "$(env)" > "{out}/checker-args"
[ "$user" = alice ] && [ "$secret" = "{pin}" ]
"""


def test_a_site_command_checks_the_credential_given_on_its_stdin_only(tmp_path: Path) -> None:
    checker = tmp_path / "check.sh"
    checker.write_text(CHECKER.format(out=tmp_path, pin=PIN))
    checker.chmod(stat.S_IRWXU)
    site = pin_site(tmp_path, f"command({checker} --site x)")
    assert site.submit("9", "alice", f"job-password={PIN}")[0] == BackendExit.OK
    seen = (tmp_path / "checker-args").read_text()
    assert seen.startswith("alice|--site x|") and PIN not in seen
    code, err = site.submit("10", "alice", "job-password=nope")
    assert code == BackendExit.CANCEL and "refused the job: authentication failed" in err
    code, err = site.submit("11", "alice")
    assert code == BackendExit.CANCEL and "PIN missing" in err
    assert site.store.get_user("alice").balance == Decimal("4.90")


@pytest.mark.parametrize(("answer", "printed"), [("CANCEL", False), ("CONTINUE", True), ("", True)])
def test_askconfirmation(tmp_path: Path, answer: str, printed: bool) -> None:
    ask = tmp_path / "ask.sh"
    ask.write_text(f"#!/bin/sh\necho 'user $PYKOTAUSERNAME asked'\necho '{answer}'\n")
    ask.chmod(stat.S_IRWXU)
    site = AuthSite(tmp_path, f"askconfirmation: {ask}\n")
    code, err = site.submit("12", "bob")
    assert (tmp_path / "printed-12").exists() is printed
    [row] = list(site.store.history())
    if printed:
        assert code == BackendExit.OK and row.action == Action.ALLOW
        assert site.store.get_user("bob").balance == Decimal("4.90")
    else:
        assert code == BackendExit.CANCEL
        assert "refused the job: cancelled by the user (askconfirmation)" in err
        assert (row.action, row.price, row.reason) == (
            Action.CANCEL,
            Decimal("0"),
            "cancelled by the user (askconfirmation)",
        )
        assert site.store.get_user("bob").balance == Decimal("5")


def test_take_credential_and_parse_printauth() -> None:
    env = {"DEVICE_URI": "pagetally:socket://h", "PRINTER": "p"}
    ticket = parse_ticket(
        ["b", "1", "u", "t", "1", "a=1 job-password='x y' job-password-encryption=none b=2"], env
    )
    clean, cred = take_credential(ticket)
    assert clean.options == {"a": "1", "b": "2"}
    assert cred == Credential("x y", "none") and "x y" not in repr(cred)
    same, none = take_credential(clean)
    assert same is clean and none is None
    assert parse_printauth("command(/bin/check -v)").command == "/bin/check -v"
    assert parse_printauth(None).mode == "none"
    assert not parse_printauth("known").needs_credential


def test_pins_are_checked_through_the_accounting_service(tmp_path: Path) -> None:
    """With `pagetally serve` holding the store, the backend asks it for the hash."""
    site = pin_site(tmp_path)
    with site.served():
        assert site.submit("20", "alice", f"job-password={PIN}")[0] == BackendExit.OK
        code, err = site.submit("21", "ghost", f"job-password={PIN}")
        assert code == BackendExit.CANCEL and "refused the job: wrong PIN" in err
    assert site.store.get_user("alice").balance == Decimal("4.90")
