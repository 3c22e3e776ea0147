"""warnpykota: PyKota's options onto `pagetally warn` (its man page's examples)."""

from __future__ import annotations

from pagetally.cli.aliases_tools import warnpykota_args


def test_warnpykota_man_page_examples() -> None:
    # $ warnpykota --printer lp
    assert warnpykota_args(["--printer", "lp"]) == ["warn", "--printer", "lp"]
    # $ warnpykota
    assert warnpykota_args([]) == ["warn", "--printer", "*"]
    # $ warnpykota --groups --printer "laserjet*" "dev*"
    assert warnpykota_args(["--groups", "--printer", "laserjet*", "dev*"]) == [
        "warn",
        "--groups",
        "--printer",
        "laserjet*",
        "dev*",
    ]
    assert warnpykota_args(["-u", "-P", "a,b", "--config", "/c"]) == [
        "--config",
        "/c",
        "warn",
        "--printer",
        "a",
        "--printer",
        "b",
    ]
