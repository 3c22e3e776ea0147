"""Banners: PyKota's rules for when to print and charge them; the built-in banner
rendered by Ghostscript with hostile text shown verbatim."""

from __future__ import annotations

import shlex
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pagetally.core.models import Action, JobFacts, JobRecord
from pagetally.notify.banners import (
    BannerKind,
    BannerRules,
    banner_bytes,
    choose_banner,
    default_banner,
    load_banner,
    ps_string,
)
from pagetally.notify.hooks import Phase, hook_environment

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
START, END = BannerKind.STARTING, BannerKind.ENDING
RULES = BannerRules(starting="/b/start.ps", ending="/b/end.ps", max_deny_banners=2)


def last(user: str, seconds_ago: int) -> JobRecord:
    return JobRecord(None, NOW - timedelta(seconds=seconds_ago), user, "lab", Action.ALLOW, 1)


def choose(
    kind: BannerKind,
    action: Action,
    rules: BannerRules = RULES,
    *,
    printed: int = 0,
    previous: JobRecord | None = None,
) -> tuple[bool, bool, bool]:
    c = choose_banner(
        kind, rules, action, user="alice", deny_banners_printed=printed, last_job=previous, now=NOW
    )
    return c.print, c.charged, c.deny_banner


def test_allowed_jobs_get_both_banners_charged_per_accountbanner() -> None:
    assert choose(START, Action.ALLOW) == (True, True, False)
    assert choose(END, Action.WARN) == (True, True, False)
    only_start = BannerRules(starting="s", ending="e", account="starting")
    assert choose(START, Action.ALLOW, only_start) == (True, True, False)
    assert choose(END, Action.ALLOW, only_start) == (True, False, False)
    none = BannerRules(starting="s", ending="e", account="none")
    assert choose(START, Action.ALLOW, none) == (True, False, False)
    assert choose(START, Action.ALLOW, BannerRules()) == (False, False, False)


def test_deny_banners_are_bounded_by_maxdenybanners() -> None:
    assert choose(START, Action.DENY, printed=0) == (True, False, True)
    assert choose(START, Action.DENY, printed=1) == (True, False, True)
    assert choose(START, Action.DENY, printed=2) == (False, False, False)
    assert choose(END, Action.DENY) == (False, False, False)
    default = BannerRules(starting="s")  # maxdenybanners 0: never
    assert choose(START, Action.DENY, default) == (False, False, False)


def test_cancelled_jobs_follow_printcancelledbanners() -> None:
    assert choose(START, Action.CANCEL) == (True, True, False)
    quiet = BannerRules(starting="s", print_cancelled=False)
    assert choose(START, Action.CANCEL, quiet) == (False, False, False)


@pytest.mark.parametrize(
    ("avoid", "previous", "printed"),
    [
        ("no", last("alice", 1), True),
        ("0", last("alice", 1), True),
        ("yes", last("alice", 9999), False),
        ("yes", last("bob", 1), True),
        ("60", last("alice", 30), False),
        ("60", last("alice", 90), True),
        ("60", None, True),
    ],
)
def test_avoidduplicatebanners(avoid: str, previous: JobRecord | None, printed: bool) -> None:
    rules = BannerRules.from_values(
        startingbanner="s", endingbanner=None, avoidduplicatebanners=avoid
    )
    assert choose(START, Action.ALLOW, rules, previous=previous)[0] is printed


def test_a_banner_file_or_command(tmp_path: Path) -> None:
    data = tmp_path / "banner.ps"
    data.write_bytes(b"%!PS\nshowpage\n")
    assert load_banner(str(data), {}) == b"%!PS\nshowpage\n"
    script = tmp_path / "make banner.py"
    script.write_text(
        "import os, sys\nsys.stdout.write('%!PS % ' + os.environ['PYKOTAUSERNAME'])\n"
    )
    cmd = f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"
    env = hook_environment(Phase.BEFORE, JobFacts(user="al$(id)ice", printer="lab", pages=1))
    assert load_banner(cmd, env) == b"%!PS % al$(id)ice"
    assert load_banner(str(tmp_path / "missing-command"), env) is None
    assert load_banner(f"{sys.executable} -c 'import sys; sys.exit(1)'", env) is None


def test_ps_strings_cannot_escape() -> None:
    assert ps_string("a(b)c\\d") == "(a\\(b\\)c\\\\d)"
    assert ps_string("é€\n") == "(\\351??)"
    assert ps_string(") show quit (") == "(\\) show quit \\()"


@pytest.mark.slow
def test_the_builtin_banner_renders_with_hostile_text(tmp_path: Path) -> None:
    title = ") show (x) quit % evil \\ (é)"
    facts = JobFacts(user="alice", printer="lab-1", pages=3, job_id="12", title=title)
    rules = BannerRules(starting="builtin")
    ps = banner_bytes(
        START, rules, facts, {}, action=Action.DENY, reason="Quota exceeded (100 of 100)", when=NOW
    )
    assert ps is not None
    path = tmp_path / "banner.ps"
    path.write_bytes(ps)
    text = subprocess.run(
        [
            "gs",
            "-q",
            "-dSAFER",
            "-dBATCH",
            "-dNOPAUSE",
            "-sDEVICE=txtwrite",
            "-sOutputFile=-",
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    ).stdout.decode("utf-8", "replace")
    flat = " ".join(text.split())
    assert "PRINT JOB REFUSED" in flat
    assert "Quota exceeded (100 of 100)" in flat
    assert ") show (x) quit % evil \\ (é)" in flat
    pages = subprocess.run(
        ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=nullpage", str(path)],
        capture_output=True,
        timeout=60,
    )
    assert pages.returncode == 0
    assert default_banner(facts).count(b"showpage") == 1
