"""warnpykota: PyKota's options onto `pagetally warn` (its man page's examples)."""

from __future__ import annotations

from pagetally.cli.aliases_tools import warnpykota_args
from tests.cli.conftest import Cli


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


def test_warnpykota_examples_run(tcli: Cli) -> None:
    """Each man page example, run on a store: who is warned (mailto: devnull)."""
    tcli.conf.write_text(tcli.conf.read_text() + "mailto: devnull\n")
    tcli("printers", "add", "lp", "laserjet1")
    tcli("users", "add", "jo", "al")
    tcli("groups", "add", "devs", "ops")
    tcli("groups", "add-members", "devs", "jo")
    tcli("groups", "add-members", "ops", "al")
    tcli(
        "quotas",
        "set",
        "--printer",
        "lp",
        "--printer",
        "laserjet1",
        "--soft",
        "2",
        "--hard",
        "10",
        "jo",
        "al",
    )
    tcli(
        "quotas",
        "set",
        "--group",
        "--printer",
        "laserjet1",
        "--soft",
        "2",
        "--hard",
        "10",
        "devs",
        "ops",
    )
    for printer in ("lp", "laserjet1"):
        tcli("jobs", "add", "-u", "jo", "-P", printer, "-p", "3")
    tcli("jobs", "add", "-u", "al", "-P", "laserjet1", "-p", "3")
    out = tcli(*warnpykota_args(["--printer", "lp"])).stdout
    assert out.splitlines() == [line for line in out.splitlines() if " on lp " in line]
    assert "user jo on lp" in out and "user al" not in out
    out = tcli(*warnpykota_args([])).stdout
    assert {"user jo on lp", "user jo on laserjet1", "user al on laserjet1"} <= {
        " ".join(line.split()[1:5]) for line in out.splitlines()
    }
    out = tcli(*warnpykota_args(["--groups", "--printer", "laserjet*", "dev*"])).stdout
    assert "group devs on laserjet1" in out and "group ops" not in out
