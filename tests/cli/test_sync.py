"""`pagetally sync` from passwd/group files (the same reader as the system's,
given paths), in-process against a real SQLite store."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.cli.conftest import Cli, make_cli

PASSWD = """\
root:x:0:0:root:/root:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
ann:x:1000:100:Ann Smith,,,:/home/ann:/bin/bash
bob:x:1001:1001:Bob:/home/bob:/bin/bash
# a comment
cat:x:1002:1001::/home/cat:/bin/sh
"""
GROUP = """\
root:x:0:
users:x:100:bob
bob:x:1001:
staff:x:1500:ann,root
nogroup:x:65534:
"""


def _cli(tmp_path: Path, extra: str = "") -> tuple[Cli, Path, Path]:
    cli = make_cli(tmp_path)
    cli.conf.write_text(
        cli.conf.read_text() + "syncbalance: 2.50\nsynclimitby: balance\n"
        "syncsoftlimit: 50\nsynchardlimit: 60\nsyncgidmin: 100\n" + extra
    )
    passwd, group = tmp_path / "passwd", tmp_path / "group"
    passwd.write_text(PASSWD)
    group.write_text(GROUP)
    cli("printers", "add", "lp")
    return cli, passwd, group


def _sync(cli: Cli, passwd: Path, group: Path, *args: str, code: int = 0) -> str:
    result = cli("sync", "--passwd", str(passwd), "--group", str(group), *args, code=code)
    return result.stdout + result.stderr


def test_first_run_adds_second_changes_nothing(tmp_path: Path) -> None:
    cli, passwd, group = _cli(tmp_path)
    out = _sync(cli, passwd, group)
    assert "users: add 3: ann, bob, cat" in out
    assert "groups: add 3: bob, staff, users" in out
    assert "quota entries: add 3" in out
    users = {u["name"]: u for u in cli.json("users", "list")}
    assert set(users) == {"ann", "bob", "cat"}  # root and nobody are below/excluded
    assert users["ann"]["description"] == "Ann Smith"
    assert users["ann"]["limit_by"] == "balance"
    assert Decimal(users["bob"]["balance"]) == Decimal("2.50")
    paid = cli.json("payments", "list")  # each starting balance is a payment, labelled
    assert sorted((p["user"], p["kind"], Decimal(p["amount"]), p["description"]) for p in paid) == [
        (u, "credit", Decimal("2.50"), "initial balance (pagetally sync)")
        for u in ("ann", "bob", "cat")
    ]
    members = {g["name"]: g["members"] for g in cli.json("groups", "list")}
    assert members == {"bob": ["bob", "cat"], "staff": ["ann"], "users": ["ann", "bob"]}
    quotas = cli.json("quotas", "list", "*", "--printer", "lp")
    assert {(q["name"], q["soft_limit"], q["hard_limit"]) for q in quotas} == {
        ("ann", 50, 60),
        ("bob", 50, 60),
        ("cat", 50, 60),
    }
    before = cli.snapshot()
    again = _sync(cli, passwd, group)
    assert again.endswith(": nothing to change\n") and len(again.splitlines()) == 1
    assert cli.snapshot() == before  # no second initial balance, nothing else
    assert _sync(cli, passwd, group, "--quiet") == ""  # cron: silent when in step


def test_members_follow_the_directory(tmp_path: Path) -> None:
    cli, passwd, group = _cli(tmp_path)
    _sync(cli, passwd, group)
    group.write_text(GROUP.replace("users:x:100:bob", "users:x:100:"))
    out = _sync(cli, passwd, group, "--quiet")
    assert out.strip() == "group users: remove bob"
    assert cli.json("groups", "list", "users")[0]["members"] == ["ann"]


def test_leavers_are_reported_then_disabled_never_deleted(tmp_path: Path) -> None:
    cli, passwd, group = _cli(tmp_path, "syncmaxleavers: 50\nsynckeep: guest\n")
    _sync(cli, passwd, group)
    cli("users", "add", "guest")
    cli("jobs", "add", "--user", "cat", "--printer", "lp", "--pages", "3")
    passwd.write_text(PASSWD.replace("cat:x:1002:1001::/home/cat:/bin/sh\n", ""))
    out = _sync(cli, passwd, group)
    assert "left the directory, kept as they are: cat" in out  # guest is kept
    assert cli.json("users", "list", "cat")[0]["limit_by"] == "balance"
    out = _sync(cli, passwd, group, "--disable-leavers")
    assert "left the directory, disabled (limit-by noprint, history kept): cat" in out
    cat = cli.json("users", "list", "cat")[0]
    assert cat["limit_by"] == "noprint"
    assert [j["user"] for j in cli.json("history", "-u", "cat")] == ["cat"]
    # already disabled: cron hears nothing more about cat
    assert _sync(cli, passwd, group, "--disable-leavers", "--quiet") == ""
    passwd.write_text(PASSWD)
    out = _sync(cli, passwd, group)
    assert "back in the directory but disabled (limit-by noprint): cat" in out


def test_mass_leaving_is_held_back_with_exit_1(tmp_path: Path) -> None:
    cli, passwd, group = _cli(tmp_path)
    _sync(cli, passwd, group)
    passwd.write_text(
        PASSWD.replace("bob:x:1001:1001:Bob:/home/bob:/bin/bash\n", "").replace(
            "cat:x:1002:1001::/home/cat:/bin/sh\n", ""
        )
    )
    out = _sync(cli, passwd, group, "--disable-leavers", code=1)
    assert "none was disabled" in out
    assert {u["limit_by"] for u in cli.json("users", "list")} == {"balance"}
    _sync(cli, passwd, group, "--disable-leavers", "--force")
    assert cli.json("users", "list", "bob")[0]["limit_by"] == "noprint"


def test_dry_run_changes_nothing(tmp_path: Path) -> None:
    cli, passwd, group = _cli(tmp_path)
    before = cli.snapshot()
    out = _sync(cli, passwd, group, "--dry-run")
    assert "users: would add 3" in out
    assert cli.snapshot() == before


def test_a_broken_directory_changes_nothing(tmp_path: Path) -> None:
    cli, passwd, group = _cli(tmp_path)
    before = cli.snapshot()
    passwd.write_text(PASSWD + "dan:x:10x3:100::/home/dan:/bin/sh\n")
    assert f"{passwd}:7: uid '10x3' is not a number" in _sync(cli, passwd, group, code=4)
    passwd.write_bytes(b"\xff\xfe:x:1000:100::/:/bin/sh\n")
    assert "not UTF-8" in _sync(cli, passwd, group, code=4)
    passwd.write_text(PASSWD)
    assert "lists no user" in _sync(cli, passwd, group, "--uidmin", "5000", code=2)
    assert cli.snapshot() == before


def test_system_source_reads_nss(tmp_path: Path) -> None:
    """The real NSS of this machine: root (uid 0) is there."""
    cli, _, _ = _cli(tmp_path)
    out = cli(
        "sync", "--source", "system", "--uidmin", "0", "--uidmax", "0", "--no-groups", "--dry-run"
    ).stdout
    assert "would add 1: root" in out
