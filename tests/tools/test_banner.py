"""`pkbanner` / `pagetally banner`: one page, counted back by `pagetally count`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from pagetally.cli.aliases_tools import pkbanner_args
from tests.cli.conftest import Cli
from tests.tools.test_invoice import pdf_text


def run_pkbanner(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    code = (
        "import sys; from pagetally.cli.aliases_tools import pkbanner; "
        "sys.argv = ['pkbanner', *sys.argv[1:]]; pkbanner()"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        timeout=60,
        env={**os.environ, **env},
    )


@pytest.mark.slow  # pdftotext: a third-party program
def test_man_page_example_as_a_startingbanner(tmp_path: Path, tcli: Cli) -> None:
    # startingbanner: /usr/bin/pkbanner --logo="" --savetoner=75
    assert pkbanner_args(["--logo=", "--savetoner=75"]) == [
        "banner",
        "--pagesize",
        "A4",
        "--savetoner",
        "75",
    ]
    env = {  # what the backend gives a banner command
        "PYKOTAUSERNAME": "jo",
        "PYKOTAPRINTERNAME": "lp1",
        "PYKOTAJOBID": "42",
        "PYKOTATITLE": "report.pdf",
        "PYKOTABALANCE": "3.25",
        "PYKOTAPAGECOUNTER": "118",
        "PAGETALLY_CONFIG": str(tcli.conf),
    }
    r = run_pkbanner(["--logo=", "--savetoner=75", "--url", "https://print.example"], env)
    assert r.returncode == 0, r.stderr
    banner = tmp_path / "banner.pdf"
    banner.write_bytes(r.stdout)
    counted = tcli("count", str(banner)).stdout
    assert counted.strip() == f"{banner}: 1 page (PDF)"
    (text,) = pdf_text(banner)
    for line in (
        "Username: jo",
        "Printer: lp1",
        "Job: 42",
        "Title: report.pdf",
        "Account balance: 3.25",
        "Pages printed (page counter): 118",
        "https://print.example",
    ):
        assert line in text


@pytest.mark.slow  # pdftotext: a third-party program
def test_banner_from_the_store_with_a_logo(tmp_path: Path, tcli: Cli) -> None:
    tcli("printers", "add", "lp1", "--price-per-page", "0.10")
    tcli("users", "add", "jo", "--limit-by", "balance", "--balance", "7.5")
    tcli("quotas", "set", "--printer", "lp1", "--soft", "50", "--hard", "60", "jo")
    tcli("jobs", "add", "-u", "jo", "-P", "lp1", "-p", "4")
    logo = tmp_path / "logo.png"
    Image.new("RGB", (200, 80), (200, 30, 30)).save(logo)
    out = tmp_path / "b.pdf"
    tcli(
        "banner",
        "--user",
        "jo",
        "-P",
        "lp1",
        "--logo",
        str(logo),
        "-o",
        str(out),
        "Room 12",
        "Thank you",
    )
    assert tcli("count", str(out)).stdout.strip().endswith("1 page (PDF)")
    (text,) = pdf_text(out)
    for line in (
        "Username: jo",
        "Account balance: 7.10 EUR",
        "Pages printed (page counter): 4",
        "Soft limit: 50",
        "Hard limit: 60",
        "Room 12",
        "Thank you",
    ):
        assert line in text
    r = tcli("banner", "--logo", str(tmp_path / "none.png"), code=2)
    assert "--logo" in r.stderr and "not a readable image" in r.stderr
    r = tcli("banner", "--savetoner", "150", code=2)
    assert "savetoner" in r.stderr
    r = tcli("banner", "--user", "ghost", code=5)
    assert "ghost" in r.stderr
