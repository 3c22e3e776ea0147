"""`pagetally setup site` (pkturnkey/pksetup) on private cupsds: unattended from
an answers file, interactive, run twice (the second a no-op), and its replay
script run on a fresh cupsd giving the same store and queues."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from pagetally.cli.env import Env
from pagetally.cli.main import app
from tests.cups.cupsd import Cupsd, private_cupsd

pytestmark = [pytest.mark.slow, pytest.mark.cups]

PASSWD = """\
root:x:0:0:root:/root:/bin/bash
ann:x:1000:100:Ann:/home/ann:/bin/bash
bob:x:1001:1001:Bob:/home/bob:/bin/bash
"""
GROUP = "users:x:100:bob\nbob:x:1001:\n"
URIS = {"lab": "socket://127.0.0.1:9", "office": "ipp://127.0.0.1:9/ipp/print"}


def _conf(base: Path) -> str:
    return (
        f"[global]\n# the site's own comment\nstoragebackend: sqlite\n"
        f"storagename: {base / 'pagetally.db'}\ndirectory: {base / 'spool'}\n"
    )


def _invoke(cupsd: Cupsd, *args: str, input: str | None = None) -> Result:
    env = Env(environ={**os.environ, "CUPS_SERVER": cupsd.server})
    return CliRunner().invoke(app, ["--config", str(cupsd.config), *args], obj=env, input=input)


def _queues(cupsd: Cupsd) -> None:
    for name, uri in URIS.items():
        cupsd.run("lpadmin", "-p", name, "-E", "-v", uri, "-m", "raw")


def _store(cupsd: Cupsd) -> dict[str, object]:
    """What the store holds, without row ids and dates."""
    out: dict[str, object] = {}
    for kind in ("users", "groups", "printers", "upquotas", "umembers"):
        result = _invoke(cupsd, "dump", kind, "--format", "json")
        assert result.exit_code == 0, result.output
        rows = json.loads(result.stdout)
        out[kind] = sorted(
            json.dumps(
                {
                    k: v
                    for k, v in r.items()
                    if k not in ("id", "userid", "printerid", "groupid", "datelimit")
                },
                sort_keys=True,
            )
            for r in rows
        )
    return out


def _devices(cupsd: Cupsd) -> set[str]:
    return set(cupsd.run("lpstat", "-v").stdout.splitlines())


def test_unattended_twice_then_replayed_on_a_fresh_cupsd(tmp_path: Path) -> None:
    (tmp_path / "passwd").write_text(PASSWD)
    (tmp_path / "group").write_text(GROUP)
    with private_cupsd("pt-site-a-", _conf) as a, private_cupsd("pt-site-b-", _conf) as b:
        _queues(a)
        answers = tmp_path / "answers"
        answers.write_text(
            f"# answers for pagetally setup site\nqueues: lab, office\npriceperpage: 0.05\n"
            f"syncgidmin: 100\nsyncbalance: 3.00\nsynclimitby: balance\nsyncsoftlimit: 100\n"
            f"passwd: {tmp_path / 'passwd'}\ngroup: {tmp_path / 'group'}\n"
            f"serverbin: {a.root / 'bin'}\n"
        )
        first = _invoke(a, "setup", "site", "--unattended", "--answers", str(answers))
        assert first.exit_code == 0, first.output
        out = first.output
        assert "syncgidmin, syncbalance, synclimitby, syncsoftlimit" in out
        assert "printers: added 2" in out and "users: add 2: ann, bob" in out
        assert f"lab: {URIS['lab']} -> pagetally:{URIS['lab']} (changed)" in out
        conf = a.config.read_text()
        assert "# the site's own comment" in conf and "syncbalance: 3.00" in conf
        assert oct(a.config.stat().st_mode & 0o777) == "0o644"
        users = {
            u["username"]: u
            for u in json.loads(_invoke(a, "dump", "users", "--format", "json").stdout)
        }
        assert set(users) == {"ann", "bob"} and users["ann"]["balance"] == "3.00"
        printers = json.loads(_invoke(a, "dump", "printers", "--format", "json").stdout)
        assert {p["priceperpage"] for p in printers} == {"0.05"}
        assert f"device for office: pagetally:{URIS['office']}" in _devices(a)

        store, devices, conf_before = _store(a), _devices(a), a.config.read_text()
        second = _invoke(a, "setup", "site", "--unattended", "--answers", str(answers))
        assert second.exit_code == 0, second.output
        assert "setup: nothing to change" in second.output
        assert "changed)" not in second.output.replace("(unchanged)", "")
        assert (_store(a), _devices(a), a.config.read_text()) == (store, devices, conf_before)

        script = a.config.parent / "setup-replay.sh"
        assert oct(script.stat().st_mode & 0o777) == "0o700"
        run = subprocess.run(
            ["sh", str(script), "--set", f"serverbin={b.root / 'bin'}"],
            env={
                **os.environ,
                "CUPS_SERVER": b.server,
                "PAGETALLY_CONFIG": str(b.config),
                "PAGETALLY": str(Path(sys.executable).parent / "pagetally"),
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert _store(b) == store
        assert {d.replace(str(a.port), "") for d in _devices(b)} == {
            d.replace(str(a.port), "") for d in devices
        }


def test_interactive_asks_and_keeps_the_answers(tmp_path: Path) -> None:
    (tmp_path / "passwd").write_text(PASSWD)
    with private_cupsd("pt-site-i-", _conf) as a:
        _queues(a)
        # store, currency, queues, price/page, price/job, source, uidmin, limit-by,
        # balance, soft, hard, wrap
        typed = "\n".join(["", "", "lab", "0.10", "", "", "1001", "", "", "", "", "no"]) + "\n"
        result = _invoke(
            a,
            "setup",
            "site",
            "--passwd",
            str(tmp_path / "passwd"),
            "--set",
            f"serverbin={a.root / 'bin'}",
            input=typed,
        )
        assert result.exit_code == 0, result.output
        assert "Lowest uid to import [1000]" in result.output
        assert "users: add 1: bob" in result.output
        assert "syncuidmin: 1001" in a.config.read_text()
        assert f"device for lab: {URIS['lab']}" in _devices(a)  # wrap: no
        printers = json.loads(_invoke(a, "dump", "printers", "--format", "json").stdout)
        assert [(p["printername"], p["priceperpage"]) for p in printers] == [("lab", "0.10")]


def test_bad_answers_change_nothing(tmp_path: Path) -> None:
    with private_cupsd("pt-site-x-", _conf) as a:
        before = a.config.read_text()
        answers = tmp_path / "answers"
        answers.write_text("syncbalance: 3.00\ngracedelay: soon\n")
        result = _invoke(a, "setup", "site", "-y", "--answers", str(answers))
        assert result.exit_code == 2
        assert f"{answers}:2: gracedelay" in result.output
        answers.write_text("queues: nosuch\n")
        result = _invoke(a, "setup", "site", "-y", "--answers", str(answers))
        assert "no such CUPS queue: nosuch" in result.output
        assert a.config.read_text() == before
        # a server without users in the range yet: set up all the same
        (tmp_path / "passwd").write_text(PASSWD)
        result = _invoke(
            a,
            "setup",
            "site",
            "-y",
            "--passwd",
            str(tmp_path / "passwd"),
            "--set",
            "syncuidmin=60000",
            "--set",
            "wrap=no",
        )
        assert result.exit_code == 0, result.output
        assert "lists no user in the selected range: none imported" in result.output
