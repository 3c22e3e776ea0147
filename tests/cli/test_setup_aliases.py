"""pkturnkey and pksetup translate onto `pagetally setup site` (PyKota's options)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pagetally.cli.aliases_tools import pksetup_args, pkturnkey_args
from tests.cli.conftest import make_cli


def test_pkturnkey_is_a_dry_run_without_force() -> None:
    assert pkturnkey_args(["--uidmin", "1000"]) == [
        "setup",
        "site",
        "--unattended",
        "--set",
        "wrap=no",
        "--set",
        "syncuidmin=1000",
        "--dry-run",
    ]


def test_pkturnkey_man_page_forms() -> None:
    # "pkturnkey --uidmin jerome": a user name stands for its uid (root here: 0)
    args = pkturnkey_args(["-f", "-u", "root", "-U", "500", "-D", "-e", "lp", "color"])
    assert "--dry-run" not in args
    assert args[-2:] == ["lp", "color"]
    assert "syncuidmin=0" in args and "syncuidmax=500" in args
    assert "syncgroups=yes" in args and "syncemptygroups=yes" in args
    # bounds given the wrong way round are swapped, as pkturnkey did
    swapped = pkturnkey_args(["-u", "600", "-U", "500"])
    assert "syncuidmin=500" in swapped and "syncuidmax=600" in swapped
    assert "syncgroups=no" in pkturnkey_args(["-d"])


def test_pkturnkey_unknown_user_is_refused() -> None:
    with pytest.raises(SystemExit, match="unknown username nosuchuser"):
        pkturnkey_args(["-u", "nosuchuser"])


def test_pksetup_asks() -> None:
    assert pksetup_args(["--config", "/x.conf"]) == ["--config", "/x.conf", "setup", "site"]


@pytest.mark.slow  # three processes: seconds of start-up
def test_autopykota_script_creates_the_account(tmp_path: Path) -> None:
    """The `autopykota` executable, as a site's own wrapper would call it: the
    user and printer from PyKota's variables."""
    cli = make_cli(tmp_path)
    cli("printers", "add", "lp")
    exe = Path(sys.executable).parent / "autopykota"
    env = {
        "PATH": "/usr/bin:/bin",
        "PAGETALLY_CONFIG": str(cli.conf),
        "PYKOTAUSERNAME": "newbie",
        "PYKOTAPRINTERNAME": "lp",
    }
    done = subprocess.run(
        [str(exe), "--initbalance", "4"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "user 'newbie' added with balance 4" in done.stderr
    [user] = cli.json("users", "list", "newbie")
    assert (user["limit_by"], user["balance"]) == ("balance", "4.00")
    again = subprocess.run(
        [str(exe), "-i", "9"], env=env, capture_output=True, text=True, timeout=60
    )
    assert "newbie on lp: nothing to do" in again.stderr
    assert cli.json("users", "list", "newbie")[0]["balance"] == "4.00"
    missing = subprocess.run(
        [str(exe)], env={**env, "PYKOTAUSERNAME": ""}, capture_output=True, text=True, timeout=60
    )
    assert missing.returncode != 0 and "username or the printername" in missing.stderr
