"""prehook/posthook: the job's facts in the environment, verbatim, and nothing run
by a shell."""

from __future__ import annotations

import json
import shlex
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pagetally.core.models import (
    Action,
    Decision,
    DecisionCode,
    JobFacts,
    LimitBy,
    PriceTable,
    Printer,
    User,
    UserQuota,
)
from pagetally.notify.hooks import Phase, base_environment, hook_environment, run_hook

DUMP = """\
import json, os, sys
with open(sys.argv[1], "w", encoding="utf-8") as fh:
    json.dump({"argv": sys.argv[1:], "env": dict(os.environ)}, fh)
"""


def hostile(marker: Path) -> str:
    """Text that runs `touch marker` if any shell ever interprets it."""
    m = shlex.quote(str(marker))
    return (
        f"; touch {m}; rm -rf / ; $(touch {m}) `touch {m}` ' \" \\ "
        f"&& touch {m} | touch {m} > {m}.2\n$(reboot)\nline 3 é €"
    )


@pytest.fixture
def dumper(tmp_path: Path) -> tuple[Path, Path]:
    script = tmp_path / "dump env.py"  # a space in the path, quoted in the command
    script.write_text(DUMP)
    return script, tmp_path / "out.json"


def command_for(script: Path, out: Path) -> str:
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))} {shlex.quote(str(out))}"


def facts(title: str, user: str) -> JobFacts:
    return JobFacts(
        user=user,
        printer="lab-1",
        pages=7,
        copies=2,
        title=title,
        filename=title,
        options=f"job-name={title}",
        billing_code=title,
        host="ws12.example.org",
        size_bytes=12345,
        sha256="ab" * 32,
        job_id="42",
        job_uuid="urn:uuid:1234",
    )


def test_shell_metacharacters_reach_the_hook_verbatim(
    dumper: tuple[Path, Path], tmp_path: Path
) -> None:
    script, out = dumper
    marker = tmp_path / "PWNED"
    title = hostile(marker)
    user = "bob;id`id`$(id)"
    decision = Decision(Action.DENY, reason=title, code=DecisionCode.HARD_LIMIT)
    env = hook_environment(Phase.BEFORE, facts(title, user), decision=decision)
    result = run_hook("prehook", command_for(script, out), env, base_env={"PATH": "/usr/bin:/bin"})
    assert result is not None and result.ok, result
    seen = json.loads(out.read_text(encoding="utf-8"))
    assert seen["argv"] == [str(out)]  # exactly the admin's arguments
    got = seen["env"]
    for prefix in ("PYKOTA", "PAGETALLY_"):
        assert got[prefix + "TITLE"] == title
        assert got[prefix + "USERNAME"] == user
        assert got[prefix + "FILENAME"] == title
        assert got[prefix + "JOBBILLING"] == title
        assert got[prefix + "OPTIONS"] == f"job-name={title}"
        assert got[prefix + "REASON"] == title
    assert got["PYKOTAACTION"] == "DENY"
    assert got["PYKOTAPHASE"] == "BEFORE"
    assert not marker.exists()
    assert not Path(f"{marker}.2").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dump env.py", "out.json"]


def test_pykota_names_and_values(dumper: tuple[Path, Path]) -> None:
    script, out = dumper
    user = User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("1.50"), email="a@x.org")
    quota = UserQuota("alice", "lab-1", page_counter=90, life_page_counter=300, soft_limit=100)
    printer = Printer("lab-1", prices=PriceTable(per_page=Decimal("0.10")), max_job_size=50)
    decision = Decision(Action.WARN, "low", Decimal("0.70"), 7, code=DecisionCode.BALANCE_LOW)
    env = hook_environment(
        "AFTER",
        facts("report.pdf", "alice"),
        user=user,
        quota=quota,
        printer=printer,
        printer_groups=("floor-2", "all"),
        decision=decision,
        job_pages=7,
        job_price=Decimal("0.70"),
        original_user="ALICE",
        device_uri="socket://10.0.0.5:9100",
    )
    run_hook("posthook", command_for(script, out), env, base_env={"DEVICE_URI": "pagetally:x"})
    got = json.loads(out.read_text())["env"]
    expected = {
        "DEVICE_URI": "socket://10.0.0.5:9100",
        "PYKOTAPHASE": "AFTER",
        "PYKOTAPRINTERNAME": "lab-1",
        "PYKOTAJOBID": "42",
        "PYKOTACOPIES": "2",
        "PYKOTAJOBORIGINATINGHOSTNAME": "ws12.example.org",
        "PYKOTAJOBSIZEBYTES": "12345",
        "PYKOTAMD5SUM": "ab" * 32,
        "PAGETALLY_SHA256": "ab" * 32,
        "PYKOTAPRECOMPUTEDJOBSIZE": "7",
        "PYKOTAPRECOMPUTEDJOBPRICE": "0.70",
        "PYKOTABALANCE": "1.50",
        "PYKOTALIMITBY": "balance",
        "PYKOTAPAGECOUNTER": "90",
        "PYKOTALIFEPAGECOUNTER": "300",
        "PYKOTASOFTLIMIT": "100",
        "PYKOTAHARDLIMIT": "None",
        "PAGETALLY_HARDLIMIT": "",
        "PYKOTADATELIMIT": "None",
        "PYKOTAMAXJOBSIZE": "Unlimited",
        "PYKOTAPRINTERMAXJOBSIZE": "50",
        "PYKOTAPGROUPS": "floor-2,all",
        "PYKOTAPRINTERPASSTHROUGHMODE": "OFF",
        "PYKOTAPRICEPERPAGE": "0.10",
        "PYKOTAACTION": "WARN",
        "PAGETALLY_ACTION": "warn",
        "PAGETALLY_DECISION_CODE": "balance_low",
        "PYKOTAREASON": "low",
        "PYKOTAJOBSIZE": "7",
        "PYKOTAJOBPRICE": "0.70",
        "PYKOTAUSERNAME": "alice",
        "PYKOTAORIGINALUSERNAME": "ALICE",
        "PAGETALLY_EMAIL": "a@x.org",
    }
    assert {k: got.get(k) for k in expected} == expected


def test_dates_are_iso_utc() -> None:
    when = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    quota = UserQuota("a", "p", soft_limit=1, hard_limit=2, date_limit=when)
    env = hook_environment(Phase.BEFORE, facts("t", "a"), quota=quota)
    assert env["PYKOTADATELIMIT"] == env["PAGETALLY_DATELIMIT"] == "2026-12-01T12:00:00+00:00"


def test_stale_values_from_the_backend_environment_are_dropped() -> None:
    base = {
        "PATH": "/bin",
        "PYKOTAREASON": "stale",
        "PAGETALLY_TITLE": "old",
        "PAGETALLY_CONFIG": "/c",
    }
    assert base_environment(base) == {"PATH": "/bin", "PAGETALLY_CONFIG": "/c"}


def test_nul_in_a_title_does_not_stop_the_hook(dumper: tuple[Path, Path]) -> None:
    script, out = dumper
    env = hook_environment(Phase.BEFORE, facts("a\0b\udcff", "u"))
    result = run_hook("prehook", command_for(script, out), env, base_env={})
    assert result is not None and result.ok
    assert json.loads(out.read_text())["env"]["PYKOTATITLE"].startswith("ab")


def test_failing_missing_and_hanging_hooks_are_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = hook_environment(Phase.BEFORE, facts("t", "u"))
    failing = run_hook("prehook", f"{sys.executable} -c 'import sys; sys.exit(3)'", env)
    assert failing is not None and failing.returncode == 3 and not failing.ok
    missing = run_hook("prehook", str(tmp_path / "no-such-hook"), env)
    assert missing is not None and missing.error and "cannot run" in missing.error
    badquote = run_hook("posthook", "/bin/true 'unclosed", env)
    assert badquote is not None and badquote.error and "cannot parse" in badquote.error
    hanging = run_hook("posthook", "sleep 30", env, timeout=0.3)
    assert hanging is not None and hanging.timed_out
    assert run_hook("prehook", None, env) is None
    assert run_hook("prehook", "   ", env) is None
    lines = [r.getMessage() for r in caplog.records]
    assert any("prehook" in m and "exit status 3" in m for m in lines)
    assert any("cannot run" in m for m in lines)
    assert any("killed after 0.3 s" in m for m in lines)
