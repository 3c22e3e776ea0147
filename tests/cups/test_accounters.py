"""What is charged under each `preaccounter`/`accounter` form, colour-page prices,
`trustjobsize` and `onbackenderror: retry` — in-process with the real SQLite store,
real PDF files (made by Pillow) and a script standing in for the device's backend."""

from __future__ import annotations

import io
import stat
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from pagetally.core.models import LimitBy, PriceTable, User
from tests.cups.test_backend import Site


def pdf(*colours: str) -> bytes:
    """A PDF with one page per colour, each page filled with it."""
    pages = [Image.new("RGB", (100, 140), c) for c in colours]
    out = io.BytesIO()
    pages[0].save(out, "PDF", save_all=True, append_images=pages[1:], resolution=20)
    return out.getvalue()


def setup(site: Site, extra: str, *, color_price: str | None = None, balance: str = "10") -> None:
    site.conf.write_text(site.conf.read_text() + extra)
    if color_price is not None:
        site.store.edit_printer(
            "lab", prices=PriceTable(per_page=Decimal("0.10"), per_color_page=Decimal(color_price))
        )
    site.store.add_user(User("ann", limit_by=LimitBy.BALANCE, balance=Decimal(balance)))
    site.store.set_user_quota("ann", "lab")


def charged(site: Site) -> tuple[int, Decimal]:
    [row] = list(site.store.history())
    return row.pages, row.price


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path)


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_colour_pages_priced_by_the_printer(site: Site) -> None:
    setup(site, "", color_price="0.50")
    code, err = site.job("1", "ann", pdf("red", "white", "gray"))
    assert code == 0, err
    assert charged(site) == (3, Decimal("0.70"))  # 1 colour page 0.50 + 2 mono 0.10
    assert site.store.get_user("ann").balance == Decimal("9.30")


def test_no_colour_price_no_colour_analysis(site: Site) -> None:
    setup(site, "")
    code, _ = site.job("1", "ann", pdf("red", "white"))
    assert code == 0 and charged(site) == (2, Decimal("0.20"))


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_ink_accounter_prices_coverage(site: Site) -> None:
    setup(site, "accounter: ink(cmyk,20)\n")
    code, err = site.job("1", "ann", pdf("red", "white"))
    assert code == 0, err
    # red is M=100 % + Y=100 % (less a pixel row of anti-aliased edge), white
    # nothing: about 2 "covered pages" at 0.10 each
    pages, price = charged(site)
    assert pages == 2 and Decimal("0.19") < price <= Decimal("0.20")
    site.job("2", "ann", pdf("white", "white"))
    assert site.store.get_user("ann").balance == 10 - price  # blank pages: no ink


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_ink_preaccounter_decides(site: Site) -> None:
    """The decision is priced by ink: the low-balance warning quotes the ink price
    (a red page: about 2 covered pages, 0.20), not one page (0.10)."""
    setup(
        site,
        "preaccounter: ink(cmyk,20)\naccounter: ink(cmyk,20)\nmailto: devnull\n",
        balance="0.15",
    )
    code, err = site.job("1", "ann", pdf("red"))
    assert code == 0, err
    assert "this job costs 0.199608 EUR" in err
    setup_balance = site.store.get_user("ann").balance
    assert setup_balance == Decimal("0.15") - Decimal("0.199608")
    code, err = site.job("2", "ann", pdf("white"))  # balance below 0 now: refused
    assert code == 5 and "balance" in err.lower()


def test_software_command_accounter(site: Site) -> None:
    counter = site.tmp / "count.py"
    counter.write_text(
        "import os, sys\nsys.stdin.buffer.read()\n"
        "print(7 if os.environ['PYKOTAUSERNAME'] == 'ann' else 1)\n"
    )
    setup(site, f"accounter: software({sys.executable} {counter})\n")
    code, err = site.job("1", "ann", pdf("white"))
    assert code == 0, err
    assert charged(site) == (7, Decimal("0.70"))


def test_software_command_preaccounter_failing_is_the_error_policy(site: Site) -> None:
    setup(site, "preaccounter: software(/nonexistent/counter)\n")
    code, err = site.job("1", "ann", pdf("white"))
    assert code == 5 and "cannot count this job's pages" in err
    assert site.store.get_user("ann").balance == Decimal("10")


def test_hardware_preaccounter_is_a_config_error(site: Site) -> None:
    setup(site, "preaccounter: hardware(snmp)\n")
    code, err = site.job("1", "ann", pdf("white"))
    assert code == 4 and "preaccounter" in err


def test_trustjobsize_replaces_an_unbelievable_count(site: Site) -> None:
    counter = site.tmp / "count.py"
    counter.write_text("print(1000)\n")
    setup(
        site, f"accounter: software({sys.executable} {counter})\ntrustjobsize: >100:precomputed\n"
    )
    code, err = site.job("1", "ann", pdf("white", "white"))
    assert code == 0, err
    assert charged(site) == (2, Decimal("0.20"))
    assert "exceed trustjobsize's 100" in err


FLAKY_DEVICE = """#!/bin/sh
n=$(cat "{out}/tries" 2>/dev/null || echo 0)
echo $((n + 1)) > "{out}/tries"
if [ "$n" -lt 2 ]; then echo "ERROR: printer not ready" >&2; exit 1; fi
cat > "{out}/printed-$1"
exit 0
"""


def test_onbackenderror_retry(site: Site) -> None:
    dev = Path(site.environ["CUPS_SERVERBIN"]) / "backend" / "socket"
    dev.write_text(FLAKY_DEVICE.format(out=site.tmp))
    dev.chmod(stat.S_IRWXU)
    setup(site, "onbackenderror: nocharge, retry:3:0\n")
    code, err = site.job("1", "ann", pdf("white"))
    assert code == 0, err
    assert (site.tmp / "tries").read_text().strip() == "3"
    assert err.count("retry") == 2 and (site.tmp / "printed-1").exists()
    assert charged(site) == (1, Decimal("0.10"))


def test_failed_device_charged_under_onbackenderror_charge(tmp_path: Path) -> None:
    site = Site(tmp_path, device_exit=1)
    setup(site, "onbackenderror: retry:1:0,charge\n")
    code, _err = site.job("1", "ann", pdf("white"))
    assert code == 1
    pages, price = charged(site)
    assert (pages, price) == (1, Decimal("0.10"))
    assert site.store.get_user("ann").balance == Decimal("9.90")
    [row] = list(site.store.history())
    assert "onbackenderror: charge" in row.reason


def test_striptitle_and_disablehistory(site: Site) -> None:
    site.title = "smbprn.00000042 Annual report"
    setup(site, "striptitle: smbprn.????????\n")
    assert site.job("1", "ann", pdf("white"))[0] == 0
    [row] = list(site.store.history())
    assert row.title == "Annual report" and row.host == "pc7"

    site.conf.write_text(site.conf.read_text() + "disablehistory: yes\n")
    assert site.job("2", "ann", pdf("white"))[0] == 0
    assert site.job("2", "ann", pdf("white"))[0] == 0  # run again by CUPS: charged once
    row = next(r for r in site.store.history() if r.job_id == "2")
    assert (row.title, row.host, row.sha256, row.options) == ("", None, "", "")
    assert site.store.get_user("ann").balance == Decimal("9.80")
