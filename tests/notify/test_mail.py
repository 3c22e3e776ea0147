"""Mail to the person and the administrator, through a real SMTP server."""

from __future__ import annotations

import json
import shlex
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from pagetally.core.models import Action, Decision, DecisionCode, JobFacts, LimitBy, User, UserQuota
from pagetally.notify.mail import (
    MailSettings,
    deliver,
    notify_job,
    send_crash_report,
    user_address,
)
from pagetally.notify.messages import Notice, Role, fill
from tests.notify.conftest import Listener, SmtpServer
from tests.ports import free_port

pytestmark = pytest.mark.slow  # a real SMTP server per test

FACTS = JobFacts(user="alice", printer="lab-1", pages=12, job_id="77", title="thesis.pdf")
HARD = "Hard limit for $user on $printer: $pagecounter of $hardlimit pages. Balance $balance."
DENY = Decision(
    Action.DENY,
    "Print quota exceeded on printer lab-1: 100 of 100 pages used",
    code=DecisionCode.HARD_LIMIT,
    message=HARD,
)
WARN = Decision(
    Action.WARN,
    "Balance low",
    Decimal("1.20"),
    12,
    code=DecisionCode.BALANCE_LOW,
    message="Your balance is $balance.",
)
ALICE = User("alice", balance=Decimal("2.5"), email="alice@uni.example")
QUOTA = UserQuota("alice", "lab-1", page_counter=100, soft_limit=90, hard_limit=100)


def settings(server: str, mailto: str = "both", **kw: object) -> MailSettings:
    return MailSettings(
        mailto=mailto,
        smtpserver=server,
        maildomain="uni.example",
        admin="Print Desk",
        adminmail="printdesk@uni.example",
        **kw,  # type: ignore[arg-type]
    )


def test_a_denied_job_mails_the_user_and_the_admin(smtp_server: SmtpServer) -> None:
    out = notify_job(DENY, FACTS, settings(smtp_server.address), user=ALICE, quota=QUOTA)
    assert out.ok and len(out.sent) == 2
    [to_user] = smtp_server.to("alice@uni.example")
    assert to_user.sender == "printdesk@uni.example"
    assert to_user.subject == "Print Quota Exceeded"
    assert to_user.message["Auto-Submitted"] == "auto-generated"
    body = to_user.body
    assert "Hard limit for alice on lab-1: 100 of 100 pages. Balance 2.50 EUR." in body
    assert "Your job 77 on printer lab-1 was refused: Print quota exceeded" in body
    assert "Print Desk - <printdesk@uni.example>" in body
    [to_admin] = smtp_server.to("printdesk@uni.example")
    assert to_admin.subject == "Print Quota"
    assert "Print Quota exceeded for user alice on printer lab-1" in to_admin.body


@pytest.mark.parametrize(
    ("mailto", "expected"),
    [("user", ["alice@uni.example"]), ("admin", ["printdesk@uni.example"])],
)
def test_mailto_chooses_the_recipients(
    smtp_server: SmtpServer, mailto: str, expected: list[str]
) -> None:
    notify_job(WARN, FACTS, settings(smtp_server.address, mailto), user=ALICE)
    assert [r.recipients for r in smtp_server.received] == [expected]


def test_warning_subject_and_maildomain_fallback(smtp_server: SmtpServer) -> None:
    bob = User("bob", limit_by=LimitBy.BALANCE, balance=Decimal("0.80"))
    facts = JobFacts(user="bob", printer="lab-1", pages=1)
    notify_job(WARN, facts, settings(smtp_server.address, "user"), user=bob)
    [got] = smtp_server.received
    assert got.recipients == ["bob@uni.example"]
    assert got.subject == "Print Quota Low"
    assert got.body.startswith("Your balance is 0.80 EUR.\n\nBalance low")


def test_an_allowed_job_sends_nothing(smtp_server: SmtpServer) -> None:
    out = notify_job(Decision(Action.ALLOW), FACTS, settings(smtp_server.address), user=ALICE)
    assert out.ok and out.sent == [] and smtp_server.received == []


def test_devnull_opens_no_connection(listener: Listener) -> None:
    out = notify_job(DENY, FACTS, settings(listener.address, "devnull"), user=ALICE)
    assert out.sent == [] and out.failed == [] and out.external == []
    assert listener.attempts() == 0
    # the same server, mailto both: a connection is attempted (the check can fail)
    notify_job(DENY, FACTS, settings(listener.address, "both", timeout=0.3), user=ALICE)
    assert listener.attempts() == 1


def test_an_unreachable_server_is_one_logged_line(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nothing listens here: connection refused
    out = notify_job(DENY, FACTS, settings(f"127.0.0.1:{port}"), user=ALICE)
    assert not out.ok and len(out.failed) == 2 and out.sent == []
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors and all(f"cannot send mail via 127.0.0.1:{port}" in m for m in errors)
    assert all("\n" not in m for m in errors)


def test_a_refused_recipient_does_not_stop_the_others(smtp_server: SmtpServer) -> None:
    smtp_server.refuse.add("alice@uni.example")
    out = notify_job(DENY, FACTS, settings(smtp_server.address), user=ALICE)
    assert [to for to, _ in out.failed] == ["alice@uni.example"]
    assert "550" in out.failed[0][1]
    assert [r.recipients for r in smtp_server.received] == [["printdesk@uni.example"]]


def test_hostile_names_cannot_inject_headers_or_lines(smtp_server: SmtpServer) -> None:
    evil = "eve\r\nBcc: victim@x.org\r\n\r\nfake body"
    facts = JobFacts(user=evil, printer="lab\nX-Evil: 1", pages=1, job_id="1")
    out = notify_job(DENY, facts, settings(smtp_server.address), user=None)
    # the person's address is unusable: refused, not sent; the admin's mail is clean
    assert [to for to, _ in out.failed] == [evil]  # has an @: taken as an address, refused
    [got] = smtp_server.received
    assert got.recipients == ["printdesk@uni.example"]
    assert got.message["Bcc"] is None and got.message["X-Evil"] is None
    assert "eve Bcc: victim@x.org fake body" in got.body


def test_templates_fill_once_and_leave_unknown_names() -> None:
    text = fill("Hi $user, $unknown costs $$5; ${printer}!", {"user": "$printer", "printer": "p1"})
    assert text == "Hi $printer, $unknown costs $5; p1!"
    assert fill("$user", {"user": "a\nb\x1b[2J"}) == "a b [2J"


def test_user_address_rules() -> None:
    s = settings("mail.uni.example:2525")
    assert user_address(ALICE, "alice", s) == "alice@uni.example"
    assert user_address(None, "carol", s) == "carol@uni.example"
    assert (
        user_address(None, "carol", MailSettings(smtpserver="smtp.x.org:25")) == "carol@smtp.x.org"
    )
    assert MailSettings(smtpserver="[::1]:2525").server() == ("::1", 2525)
    assert MailSettings(smtpserver="relay").server() == ("relay", 25)


def test_external_mailer_gets_the_message_on_stdin_and_no_shell(tmp_path: Path) -> None:
    out_file = tmp_path / "got.txt"
    marker = tmp_path / "PWNED"
    script = tmp_path / "mailer.py"
    script.write_text(
        "import os, sys, json\n"
        "json.dump({'argv': sys.argv[1:], 'stdin': sys.stdin.read(),"
        " 'user': os.environ['PAGETALLY_USERNAME'], 'email': os.environ['PYKOTAEMAIL']},"
        f" open({str(out_file)!r}, 'w'))\n"
    )
    python, path = shlex.quote(sys.executable), shlex.quote(str(script))
    cmd = f"{python} {path} --to %(email)s --who=%(username)s %(action)s"
    evil = f"x; touch {marker} $(touch {marker})"
    facts = JobFacts(user=evil, printer="lab-1", pages=1, job_id="5")
    out = notify_job(DENY, facts, settings("127.0.0.1:1", f"external({cmd})"), user=None)
    assert len(out.external) == 1 and out.external[0].ok
    got = json.loads(out_file.read_text())
    assert got["argv"] == ["--to", f"{evil}@uni.example", f"--who={evil}", "DENY"]
    assert got["user"] == evil
    assert "was refused" in got["stdin"]
    assert not marker.exists()


def test_crash_report_has_facts_and_traceback_never_content(smtp_server: SmtpServer) -> None:
    s = settings(smtp_server.address, "devnull")  # crash reports ignore mailto
    assert send_crash_report(None, s, "boom", "tb").sent == []
    facts = JobFacts(user="alice", printer="lab-1", pages=3, title="secret plans", sha256="ff" * 32)
    out = send_crash_report(
        "ops", s, RuntimeError("boom"), "Traceback...\nRuntimeError: boom", facts
    )
    assert out.sent == [("ops@uni.example", "PageTally crash report")]
    [got] = smtp_server.received
    assert "PageTally failed: boom" in got.body
    assert "user: alice" in got.body and "sha256: " + "ff" * 32 in got.body
    assert "RuntimeError: boom" in got.body and "title: secret plans" in got.body
    send_crash_report("ops@uni.example", s, "x", "tb", facts, privacy=True)
    assert "secret plans" not in smtp_server.received[1].body


def test_deliver_batches_on_one_connection(smtp_server: SmtpServer) -> None:
    notices = [
        Notice(Role.USER, f"u{i}", "p", "WARN", "Print Quota Low", f"body {i}\n") for i in range(5)
    ]
    out = deliver(notices, settings(smtp_server.address, "user"))
    assert len(out.sent) == 5
    assert sorted(r.recipients[0] for r in smtp_server.received) == [
        f"u{i}@uni.example" for i in range(5)
    ]


def test_a_rejected_message_does_not_stop_the_next(smtp_server: SmtpServer) -> None:
    smtp_server.reject_data.add("alice@uni.example")
    out = notify_job(DENY, FACTS, settings(smtp_server.address), user=ALICE)
    assert out.failed == [
        (
            "alice@uni.example",
            f"refused by {smtp_server.address}: 554 5.7.1 message looks like spam",
        )
    ]
    assert out.sent == [("printdesk@uni.example", "Print Quota")]
