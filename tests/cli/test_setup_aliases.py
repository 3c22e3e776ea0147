"""pkturnkey and pksetup translate onto `pagetally setup site` (PyKota's options)."""

from __future__ import annotations

import pytest

from pagetally.cli.aliases_tools import pksetup_args, pkturnkey_args


def test_pkturnkey_is_a_dry_run_without_force() -> None:
    assert pkturnkey_args(["--uidmin", "1000"]) == [
        "setup", "site", "--unattended", "--set", "wrap=no", "--set", "syncuidmin=1000",
        "--dry-run"]


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
