"""overwrite_jobticket and askconfirmation: PyKota's answers, hostile output bounded."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from pagetally.core.models import JobFacts
from pagetally.notify.hooks import Phase, hook_environment
from pagetally.notify.jobcommands import (
    DEFAULT_CANCEL_REASON,
    DEFAULT_DENY_REASON,
    TicketAction,
    TicketAnswer,
    ask_confirmation,
    overwrite_jobticket,
    parse_answers,
    parse_confirmation,
)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ("", TicketAnswer()),
        ("USERNAME=lab42\n", TicketAnswer(user="lab42")),
        (
            "  USERNAME= lab42  \nBILLINGCODE=proj-7\n",
            TicketAnswer(user="lab42", billing_code="proj-7"),
        ),
        ("BILLINGCODE=\n", TicketAnswer(billing_code="")),
        ("USERNAME=\n", TicketAnswer()),  # an empty name changes nothing (PyKota)
        ("DENY\n", TicketAnswer(TicketAction.DENY, reason=DEFAULT_DENY_REASON)),
        ("AUTH=NO\n", TicketAnswer(TicketAction.DENY, reason=DEFAULT_DENY_REASON)),
        ("AUTH=IMPOSSIBLE", TicketAnswer(TicketAction.DENY, reason=DEFAULT_DENY_REASON)),
        ("CANCEL\n", TicketAnswer(TicketAction.CANCEL, reason=DEFAULT_CANCEL_REASON)),
        (
            "USERNAME=bob\nREASON=Wrong PIN\nDENY\n",  # refused: no rewrite applied
            TicketAnswer(TicketAction.DENY, reason="Wrong PIN"),
        ),
        ("DENY\nCANCEL\n", TicketAnswer(TicketAction.CANCEL, reason=DEFAULT_CANCEL_REASON)),
        ("CANCEL\nDENY\n", TicketAnswer(TicketAction.DENY, reason=DEFAULT_DENY_REASON)),
        ("deny\nhello\nUSERNAME bob\n", TicketAnswer()),  # not answers: ignored
        ("REASON=line\x1b[31m red\x07\n", TicketAnswer(reason="line [31m red")),
    ],
)
def test_answers(output: str, expected: TicketAnswer) -> None:
    assert parse_answers(output) == expected


@pytest.mark.parametrize("name", ["bob\x1b]0;x\x07", "bob\x00", "bob\tx", "b" * 256, "a\u202eb"])
def test_a_hostile_user_name_refuses_the_job(name: str) -> None:
    answer = parse_answers(f"USERNAME={name}\n".encode("utf-8", "surrogateescape"))
    assert answer.action is TicketAction.DENY
    assert answer.user is None
    assert answer.problems


def test_a_hostile_billing_code_refuses_the_job() -> None:
    answer = parse_answers("BILLINGCODE=x\x1by\n")
    assert answer.refused and answer.billing_code is None


def test_overlong_lines_are_ignored_and_reasons_bounded() -> None:
    answer = parse_answers("USERNAME=" + "x" * 10000 + "\nREASON=" + "r" * 3000 + "\nDENY\n")
    assert answer.action is TicketAction.DENY
    assert answer.reason == "r" * 1024
    assert any("ignored" in p for p in answer.problems)


def test_undecodable_bytes_are_replaced_not_fatal() -> None:
    assert parse_answers(b"USERNAME=caf\xe9\n").user == "caf\ufffd"


def script(tmp_path: Path, body: str) -> str:
    path = tmp_path / "ticket.py"
    path.write_text("import os, sys\n" + body)
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(path))}"


def env_for(user: str, host: str) -> dict[str, str]:
    facts = JobFacts(user=user, printer="lab", pages=1, host=host, title="$(reboot)")
    return hook_environment(Phase.BEFORE, facts)


def test_the_command_reads_the_job_from_its_environment(tmp_path: Path) -> None:
    """A per-host account: jobs from lab hosts are charged to the lab's account."""
    cmd = script(
        tmp_path,
        'host = os.environ["PYKOTAJOBORIGINATINGHOSTNAME"]\n'
        'if host.startswith("lab"):\n'
        '    print("USERNAME=lab-" + host)\n'
        '    print("BILLINGCODE=" + os.environ["PAGETALLY_TITLE"])\n',
    )
    answer = overwrite_jobticket(cmd, env_for("alice", "lab7"))
    assert answer == TicketAnswer(user="lab-lab7", billing_code="$(reboot)")
    assert overwrite_jobticket(cmd, env_for("alice", "office")) == TicketAnswer()


def test_no_command_changes_nothing() -> None:
    assert overwrite_jobticket(None, {}) == TicketAnswer()
    assert overwrite_jobticket("  ", {}) == TicketAnswer()


def test_a_failing_command_fails_closed(tmp_path: Path) -> None:
    missing = overwrite_jobticket(str(tmp_path / "nope"), {})
    assert missing.action is TicketAction.DENY and missing.problems
    hung = overwrite_jobticket(script(tmp_path, "import time; time.sleep(30)"), {}, timeout=0.3)
    assert hung.action is TicketAction.DENY
    # exits non-zero but answers: the answer counts (PyKota ignored the status)
    assert overwrite_jobticket(script(tmp_path, "print('USERNAME=x'); sys.exit(2)"), {}).user == "x"


def test_flooding_output_is_bounded(tmp_path: Path) -> None:
    cmd = script(tmp_path, "sys.stdout.write('USERNAME=ok\\n' + 'A' * 5_000_000)")
    answer = overwrite_jobticket(cmd, {})
    assert answer.user == "ok"
    assert any("64 KiB" in p for p in answer.problems)


def test_askconfirmation(tmp_path: Path) -> None:
    assert parse_confirmation("CONTINUE\n") is True
    assert parse_confirmation("cancel\n") is False
    assert ask_confirmation(None, {}) is True
    assert ask_confirmation(script(tmp_path, "print('CANCEL')"), {}) is False
    assert ask_confirmation(script(tmp_path, "print('OK')"), {}) is True
