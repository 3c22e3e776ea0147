"""`pagetally quote` and `pykotme`: the price of files on each printer a user may use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pagetally.cli.aliases_tools import pykotme_args
from tests.cli.conftest import Cli
from tests.tools.conftest import GREY, RED, make_pdf


def setup_site(cli: Cli) -> None:
    """jo may print on lp1 (0.10/page, 0.50/job, in group floor at 0.02/page) and
    colour1 (0.10/page, 0.40 per colour page); not on lp2 (no quota entry)."""
    cli("printers", "add", "lp1", "--price-per-page", "0.10", "--price-per-job", "0.50")
    cli("printers", "add", "floor", "--price-per-page", "0.02")
    cli("printers", "add-to-group", "floor", "lp1")
    cli("printers", "add", "lp2", "--price-per-page", "9")
    cli("printers", "add", "colour1", "--price-per-page", "0.10")
    cli("printers", "edit", "colour1", "--price-per-color-page", "0.40")
    cli("users", "add", "jo", "--limit-by", "balance", "--balance", "5", "--overcharge", "1.5")
    cli("quotas", "set", "--printer", "lp1", "--printer", "colour1", "jo")


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_quote_prices_each_printer_with_groups_overcharge_and_colour(
    tcli: Cli, tmp_path: Path
) -> None:
    setup_site(tcli)
    doc = make_pdf(tmp_path / "doc.pdf", [GREY, RED, GREY])
    out = json.loads(tcli("quote", str(doc), "--user", "jo", "--format", "json").stdout)
    rows = {r["printer"]: r for r in out["quotes"]}
    assert set(rows) == {"lp1", "colour1"}  # lp2: no quota entry
    # lp1: (0.50 + 3 × 0.10) + floor's 3 × 0.02 = 0.86, × overcharge 1.5
    assert rows["lp1"]["price"] == "1.29"
    assert rows["lp1"]["format"] == "PDF"
    assert rows["lp1"]["pages"] == 3
    assert rows["lp1"]["color_pages"] is None  # nothing on lp1's chain prices colour
    # colour1: 2 grey pages × 0.10 + 1 colour × 0.40 = 0.60, × 1.5
    assert rows["colour1"]["color_pages"] == 1
    assert rows["colour1"]["price"] == "0.90"
    table = tcli("quote", str(doc), "-u", "jo", "-P", "lp*").stdout
    assert "lp1" in table and "1.29 EUR" in table and "colour1" not in table


def test_several_files_are_one_job_in_the_total(tcli: Cli, tmp_path: Path) -> None:
    setup_site(tcli)
    a = make_pdf(tmp_path / "a.pdf", [GREY])
    b = make_pdf(tmp_path / "b.pdf", [GREY, GREY])
    out = json.loads(
        tcli("quote", str(a), str(b), "-u", "jo", "-P", "lp1", "--format", "json").stdout
    )
    prices = {r["file"]: (r["pages"], r["price"]) for r in out["quotes"]}
    # one per-job price of 0.50 in the total: (0.50 + 3 × 0.12) × 1.5
    assert prices["(total)"] == (3, "1.29")
    assert prices[str(a)] == (1, "0.93")  # (0.50 + 0.12) × 1.5


def test_unknown_user_unreadable_file_and_no_printer_are_clear_errors(
    tcli: Cli, tmp_path: Path
) -> None:
    setup_site(tcli)
    doc = make_pdf(tmp_path / "doc.pdf", [GREY])
    r = tcli("quote", str(doc), "-u", "nobody", code=5)
    assert "user 'nobody' does not exist" in r.stderr
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\x01garbage" * 10)
    r = tcli("quote", str(junk), "-u", "jo", code=8)
    assert "junk.bin" in r.stderr and "Traceback" not in r.stderr
    r = tcli("quote", str(tmp_path / "missing.ps"), "-u", "jo", code=2)
    assert "missing.ps: no such file" in r.stderr
    r = tcli("quote", str(doc), "-u", "jo", "-P", "lp2", code=5)
    assert "no quota entry on any printer matching lp2" in r.stderr


def test_pykotme_man_page_examples_translate() -> None:
    # $ pykotme --printer apple file1.ps file2.ps
    assert pykotme_args(["--printer", "apple", "file1.ps", "file2.ps", "-u", "jo"]) == [
        "quote",
        "file1.ps",
        "file2.ps",
        "--user",
        "jo",
        "--printer",
        "apple",
    ]
    # $ pykotme --printer apple,hplaser <file1.ps
    assert pykotme_args(["--printer", "apple,hplaser", "-u", "jo"]) == [
        "quote",
        "-",
        "--user",
        "jo",
        "--printer",
        "apple",
        "--printer",
        "hplaser",
    ]
    # $ pykotme (standard input, every printer)
    args = pykotme_args(["--config", "/etc/x.conf", "-u", "jo"])
    assert args == ["--config", "/etc/x.conf", "quote", "-", "--user", "jo", "--printer", "*"]


def test_pykotme_reads_standard_input(tcli: Cli, tmp_path: Path) -> None:
    setup_site(tcli)
    doc = make_pdf(tmp_path / "doc.pdf", [GREY, GREY])
    code = (
        "import sys; from pagetally.cli.aliases_tools import pykotme; "
        "sys.argv = ['pykotme', '--config', sys.argv[1], '-u', 'jo', '-P', 'lp1']; pykotme()"
    )
    r = subprocess.run(
        [sys.executable, "-c", code, str(tcli.conf)],
        input=doc.read_bytes(),
        capture_output=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert r.returncode == 0, r.stderr
    assert (
        b"lp1" in r.stdout and b"1.11 EUR" in r.stdout and b"\xe2\x94\x82 -  " in r.stdout
    )  # (0.50 + 2 × 0.12) × 1.5
    v = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pagetally.cli.aliases_tools import pykotme; "
            "sys.argv = ['pykotme', '--version']; pykotme()",
        ],
        capture_output=True,
        timeout=60,
    )
    assert v.returncode == 0 and v.stdout.startswith(b"pykotme ")


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_ink_preaccounter_prices_by_coverage(tcli: Cli, tmp_path: Path) -> None:
    """preaccounter: ink(cmyk,72): one A4 page with a 200 x 200 pt red square is
    200² / (595 × 842) = 7.98 % magenta and 7.98 % yellow: 0.10 × 0.1597 = 0.016."""
    tcli.conf.write_text(tcli.conf.read_text() + "preaccounter: ink(cmyk,72)\n")
    tcli("printers", "add", "lp1", "--price-per-page", "0.10")
    tcli("users", "add", "jo")
    tcli("quotas", "set", "--printer", "lp1", "jo")
    doc = make_pdf(tmp_path / "red.pdf", [RED])
    (row,) = json.loads(tcli("quote", str(doc), "-u", "jo", "--format", "json").stdout)["quotes"]
    assert 0.0155 <= float(row["price"]) <= 0.0165, row
