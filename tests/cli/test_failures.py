"""Bad configuration, a store that is down, read-only credentials: one clear line
on stderr, a distinct exit code, never a traceback, nothing changed."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.cli.conftest import Cli, make_cli


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    assert "Traceback" not in text
    return lines[0]


def test_broken_config_names_file_line_directive(cli: Cli) -> None:
    cli("users", "add", "alice")
    good = cli.conf.read_text()
    cli.conf.write_text(good + "gracedelai: 3\n")
    line = one_line(cli("users", "list", code=3).stderr)
    assert line == (
        f"pagetally: error: {cli.conf}:4 [gracedelai]: unknown directive "
        "(did you mean 'gracedelay'?)"
    )
    cli.conf.write_text(good + "policy: sometimes\n")
    assert "[policy]" in one_line(cli("users", "add", "bob", code=3).stderr)
    cli.conf.write_text(good)
    assert [u["name"] for u in cli.json("users", "list")] == ["alice"]


def test_missing_config(tmp_path: Path) -> None:
    cli = make_cli(tmp_path)
    cli.conf = tmp_path / "nope.conf"
    assert "configuration file not found" in one_line(cli("users", "list", code=3).stderr)


def test_config_from_environment(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pagetally.cli.env import Env
    from pagetally.cli.main import app

    cli = make_cli(tmp_path)
    env = Env(environ={"PAGETALLY_CONFIG": str(cli.conf)})
    r = CliRunner().invoke(app, ["users", "add", "zoe"], obj=env)
    assert r.exit_code == 0, r.stderr
    assert [u["name"] for u in cli.json("users", "list")] == ["zoe"]


def test_unreadable_sqlite_path(tmp_path: Path) -> None:
    conf = tmp_path / "p.conf"
    conf.write_text(f"[global]\nstoragename: {tmp_path}/missing/dir/pt.db\n")
    cli = make_cli(tmp_path)
    cli.conf = conf
    line = one_line(cli("users", "add", "alice", code=4).stderr)
    assert "missing/dir" in line
    assert not (tmp_path / "missing").exists()


def postgres_conf(tmp_path: Path, admin: bool) -> Path:
    folder = tmp_path / ("admin" if admin else "ro")
    folder.mkdir()
    conf = folder / "pagetally.conf"
    conf.write_text(
        f"[global]\nstoragebackend: postgresql\nstorageserver: 127.0.0.1:"
        f"{closed_port()}\nstoragename: pt\nstorageuser: reader\n"
        "storageuserpw: pw\n"
    )
    if admin:
        secrets = folder / "pagetally-admin.conf"
        secrets.write_text("[global]\nstorageadmin: writer\nstorageadminpw: pw\n")
        secrets.chmod(0o600)
    return conf


def test_database_down(tmp_path: Path) -> None:
    cli = make_cli(tmp_path)
    cli.conf = postgres_conf(tmp_path, admin=True)
    for args in (
        ("users", "list"),
        ("users", "add", "bob"),
        ("report",),
        ("db", "upgrade"),
        ("jobs", "add", "-u", "bob", "-P", "lp", "-p", "1"),
    ):
        line = one_line(cli(*args, code=4).stderr)
        assert "PostgreSQL database 'pt' on 127.0.0.1" in line and "refused" in line


def test_read_only_credentials_refuse_every_write(tmp_path: Path) -> None:
    cli = make_cli(tmp_path)
    cli.conf = postgres_conf(tmp_path, admin=False)
    writes = [
        ("users", "add", "bob"),
        ("users", "delete", "bob"),
        ("users", "credit", "bob", "1"),
        ("groups", "add", "g"),
        ("printers", "add", "lp"),
        ("quotas", "set", "-P", "lp", "b"),
        ("payments", "refund", "bob", "1"),
        ("billing-codes", "add", "c"),
        ("jobs", "add", "-u", "bob", "-P", "lp", "-p", "1"),
        ("allowances", "run"),
        ("db", "upgrade"),
    ]
    for args in writes:
        line = one_line(cli(*args, code=7).stderr)
        assert "only the read-only credentials" in line, args
    # reads are not refused for want of credentials: they reach the (down) database
    assert "refused" in one_line(cli("users", "list", code=4).stderr)


def test_world_readable_secrets_refused(tmp_path: Path) -> None:
    cli = make_cli(tmp_path)
    cli.conf = postgres_conf(tmp_path, admin=True)
    (cli.conf.parent / "pagetally-admin.conf").chmod(0o644)
    assert "world-readable" in one_line(cli("users", "list", code=3).stderr)


def test_usage_errors_are_one_line(cli: Cli) -> None:
    assert "No such option" in one_line(cli("users", "list", "--bogus", code=2).stderr)
    assert "Missing" in one_line(cli("jobs", "add", "-u", "x", code=2).stderr)
    assert "Missing command" in one_line(cli(code=2).stderr)
    from typer.testing import CliRunner

    from pagetally.cli.main import app

    r = CliRunner().invoke(app, [])  # no arguments at all: the help, no error line
    assert r.exit_code == 2 and "Usage" in r.stdout and "users" in r.stdout
    assert r.stderr == ""
