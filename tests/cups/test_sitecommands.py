"""The backend tells: site hooks get the job's facts (hostile text included) in
their environment only, overwrite_jobticket rewrites or refuses the job, and the
person gets a mail from a real SMTP server (aiosmtpd on 127.0.0.1) when refused."""

from __future__ import annotations

import json
import stat
from decimal import Decimal
from pathlib import Path

from pagetally.core.models import Action, LimitBy, User
from tests.cups.test_backend import PDF, Site
from tests.notify.conftest import SmtpServer, smtp_server  # noqa: F401

HOSTILE_TITLE = "report; rm -rf / $(reboot) `id` 'q' \"dq\""

DUMP_ENV = """#!{python}
import json, os, sys
with open({out!r}, "a") as f:
    f.write(json.dumps({{k: v for k, v in os.environ.items()
                        if k.startswith(("PYKOTA", "PAGETALLY_"))}}) + "\\n")
"""


def script(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(stat.S_IRWXU)
    return path


def test_hooks_see_hostile_text_verbatim_in_their_environment(tmp_path: Path) -> None:
    import sys

    site = Site(tmp_path)
    site.store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("5")))
    site.store.set_user_quota("alice", "lab")
    out = tmp_path / "hooks.jsonl"
    hook = script(tmp_path / "hook.py", DUMP_ENV.format(python=sys.executable, out=str(out)))
    with site.conf.open("a") as conf:
        conf.write(f"prehook: {hook}\nposthook: {hook}\n")
    site.title = HOSTILE_TITLE
    code, err = site.job("1", "alice", PDF.read_bytes())
    assert code == 0, err
    before, after = (json.loads(line) for line in out.read_text().splitlines())
    assert before["PYKOTAPHASE"] == "BEFORE" and after["PYKOTAPHASE"] == "AFTER"
    assert before["PYKOTATITLE"] == HOSTILE_TITLE
    assert before["PYKOTAUSERNAME"] == "alice" and before["PYKOTAPRINTERNAME"] == "lab"
    assert after["PYKOTAJOBSIZE"] == "1" and Decimal(after["PYKOTAJOBPRICE"]) == Decimal("0.1")
    assert not (Path("/") / "reboot").exists()


def test_overwrite_jobticket_changes_user_or_refuses(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.store.add_user(User("lab-account", limit_by=LimitBy.BALANCE, balance=Decimal("5")))
    site.store.set_user_quota("lab-account", "lab")
    answer = script(
        tmp_path / "ticket.sh",
        """#!/bin/sh
case "$PYKOTAUSERNAME" in
  guest*) echo "USERNAME=lab-account" ;;
  *) echo "DENY"; echo "REASON=only guests print here" ;;
esac
""",
    )
    with site.conf.open("a") as conf:
        conf.write(f"overwrite_jobticket: {answer}\n")
    code, err = site.job("1", "guest7", PDF.read_bytes())
    assert code == 0, err
    assert site.store.get_user("lab-account").balance == Decimal("4.9")
    code, err = site.job("2", "mallory", PDF.read_bytes())
    assert code == 5 and "only guests print here" in err
    assert [(j.user, j.action) for j in site.store.history()] == [
        ("lab-account", Action.ALLOW),
        ("mallory", Action.DENY),
    ]


def test_refused_person_gets_a_mail(tmp_path: Path, smtp_server: SmtpServer) -> None:  # noqa: F811
    site = Site(tmp_path)
    site.store.add_user(
        User("bob", limit_by=LimitBy.BALANCE, balance=Decimal("0"), email="bob@example.org")
    )
    site.store.set_user_quota("bob", "lab")
    with site.conf.open("a") as conf:
        conf.write(f"smtpserver: {smtp_server.address}\nmailto: user\n")
    code, _err = site.job("1", "bob", PDF.read_bytes())
    assert code == 5
    [mail] = smtp_server.to("bob@example.org")
    assert "Balance too low: 0.00 EUR, this job costs 0.10 EUR" in mail.body


def test_crash_is_one_line_for_cups_and_a_mail_for_the_admin(
    tmp_path: Path,
    smtp_server: SmtpServer,  # noqa: F811
    monkeypatch: object,
) -> None:
    """An unexpected failure (here: the page counter itself raising a bug) gives
    cupsd one line, exit 1, and the admin a crash report without the job's data."""
    import pytest

    import pagetally.pdl

    site = Site(tmp_path)
    site.store.add_user(User("alice"))
    site.store.set_user_quota("alice", "lab")
    with site.conf.open("a") as conf:
        conf.write(f"smtpserver: {smtp_server.address}\ncrashrecipient: ops@example.org\n")

    def broken(*_a: object, **_k: object) -> None:
        raise ZeroDivisionError("a bug")

    mp = pytest.MonkeyPatch()  # simulates a programming error: nothing real can
    mp.setattr(pagetally.pdl, "analyse", broken)
    try:
        code, err = site.job("1", "alice", b"%PDF-1.4 SECRET CONTENT")
    finally:
        mp.undo()
    assert code == 1
    assert err.strip().splitlines() == [
        "ERROR: PageTally internal error (ZeroDivisionError); details in the system log"
    ]
    [mail] = smtp_server.to("ops@example.org")
    assert "ZeroDivisionError" in mail.body and "alice" in mail.body
    assert "SECRET CONTENT" not in mail.body
