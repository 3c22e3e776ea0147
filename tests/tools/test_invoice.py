"""`pagetally invoice` / `pkinvoice`: PDF invoices read back with pdftotext."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from pagetally.cli.aliases_tools import pkinvoice_args
from tests.cli.conftest import NOW, Cli

SITE = (
    "invoicesitename: Lycée Victor Hugo\n"
    "invoicesiteaddress: 1 rue de la Paix|75001 Paris\n"
    "invoicevat: 20\n"
)


def pdf_text(path: Path) -> list[str]:
    """The PDF's pages as text (poppler's pdftotext)."""
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, timeout=60
    ).stdout.decode()
    return [p for p in out.split("\f") if p.strip()]


def job(cli: Cli, user: str, pages: int) -> int:
    out = cli("jobs", "add", "-u", user, "-P", "lp1", "-p", str(pages), "--json").stdout
    return int(json.loads(out)["job"])


def story(cli: Cli, site: str = SITE) -> int:
    """ann and bob print on lp1 (0.10 a page) on 24 and 25 November; one of bob's
    jobs is refunded. Returns that job's row."""
    cli.conf.write_text(cli.conf.read_text() + site)
    cli("printers", "add", "lp1", "--price-per-page", "0.10")
    cli("users", "add", "ann", "bob", "--limit-by", "balance", "--balance", "50")
    cli("users", "edit", "ann", "--description", "Ann Smith")
    cli("quotas", "set", "--printer", "lp1", "ann", "bob")
    job(cli, "bob", 12)  # 1.20
    refunded = job(cli, "bob", 7)  # 0.70, refunded below
    job(cli, "ann", 5)  # 0.50
    cli.now[0] = NOW + timedelta(days=1)
    job(cli, "bob", 3)  # 0.30, on the 25th
    cli("jobs", "refund", str(refunded), "--force")
    return refunded


@pytest.mark.slow  # pdftotext: a third-party program
def test_invoices_per_user_with_vat_and_site(tcli: Cli, tmp_path: Path) -> None:
    story(tcli)
    out = tmp_path / "nov24.pdf"
    r = tcli("invoice", "-s", "20261124", "-e", "20261124", "-o", str(out))
    assert "2 invoice(s), numbers 1 to 2, total 1.70 EUR" in r.stderr
    pages = pdf_text(out)
    assert len(pages) == 2
    ann, bob = pages
    for page in pages:
        assert "Lycée Victor Hugo" in page and "75001 Paris" in page
    assert "Invoice #1" in ann and "Ann Smith" in ann
    assert "Total excluding VAT: 0.42 EUR" in ann  # 0.50 - 0.08
    assert "VAT 20%: 0.08 EUR" in ann  # 0.50 × 20 / 120 = 0.0833
    assert "Total including VAT: 0.50 EUR" in ann
    assert "Invoice #2" in bob and "Invoiced to: bob" in bob
    assert "1.20 EUR" in bob and "0.70 EUR" not in bob  # the refunded job is not invoiced
    assert "VAT 20%: 0.20 EUR" in bob and "Total excluding VAT: 1.00 EUR" in bob
    assert "Jobs: 1, pages: 12" in bob
    assert "Period: from 2026-11-24 00:00 up to 2026-11-25 00:00" in bob


@pytest.mark.slow  # pdftotext: a third-party program
def test_numbers_never_repeat(tcli: Cli, tmp_path: Path) -> None:
    story(tcli)
    tcli("invoice", "bob", "-o", str(tmp_path / "a.pdf"))
    assert "Invoice #1" in pdf_text(tmp_path / "a.pdf")[0]
    tcli("invoice", "bob", "-o", str(tmp_path / "b.pdf"))
    assert "Invoice #2" in pdf_text(tmp_path / "b.pdf")[0]
    r = tcli("invoice", "bob", "-n", "2", "-o", str(tmp_path / "c.pdf"), code=2)
    assert "invoice number 2 is not free" in r.stderr and "the next is 3" in r.stderr
    assert not (tmp_path / "c.pdf").exists()
    tcli("invoice", "-n", "100", "-o", str(tmp_path / "d.pdf"))
    texts = pdf_text(tmp_path / "d.pdf")
    assert ["Invoice #100" in texts[0], "Invoice #101" in texts[1]] == [True, True]
    # bob over both days, VAT 20 %: 1.20 + 0.30 = 1.50, VAT 0.25, net 1.25
    assert "Total including VAT: 1.50 EUR" in texts[1] and "VAT 20%: 0.25 EUR" in texts[1]


def test_nothing_to_invoice_and_bad_dates(tcli: Cli, tmp_path: Path) -> None:
    story(tcli)
    r = tcli("invoice", "-s", "2025", "-e", "2025", "-o", str(tmp_path / "x.pdf"))
    assert "nothing to invoice" in r.stderr
    r = tcli("invoice", "-s", "20261125", "-e", "20261124", code=2)
    assert "is not before" in r.stderr
    r = tcli("invoice", "--vat", "abc", code=2)
    assert "--vat" in r.stderr


@pytest.mark.slow  # pdftotext: a third-party program
def test_pkinvoice_man_page_example(tcli: Cli, tmp_path: Path) -> None:
    # $ pkinvoice --unit EURO --output invoices.pdf --start=now-30
    args = pkinvoice_args(["--unit", "EURO", "--output", "invoices.pdf", "--start=now-30"])
    assert args == [
        "invoice",
        "--start",
        "now-30",
        "--output",
        "invoices.pdf",
        "--unit",
        "EURO",
        "--pagesize",
        "A4",
    ]
    story(tcli, site="")  # no invoicevat: "No VAT information will be included"
    out = tmp_path / "invoices.pdf"
    args[args.index("invoices.pdf")] = str(out)
    tcli(*args)
    text = "\n".join(pdf_text(out))
    assert "Total: 1.50 EURO" in text and "Total: 0.50 EURO" in text and "VAT" not in text
    assert pkinvoice_args(["-V", "19.6", "-n", "7", "-s", "2026", "-e", "2026", "jo*"]) == [
        "invoice",
        "jo*",
        "--start",
        "2026",
        "--end",
        "2026",
        "--number",
        "7",
        "--output",
        "-",
        "--vat",
        "19.6",
        "--pagesize",
        "A4",
    ]


@pytest.mark.slow  # pdftotext and pdfimages: third-party programs
def test_logo_on_each_page_and_a_bad_logo_takes_no_number(tcli: Cli, tmp_path: Path) -> None:
    from PIL import Image

    story(tcli)
    r = tcli("invoice", "--logo", str(tmp_path / "missing.png"), code=2)
    assert "not a readable image" in r.stderr
    logo = tmp_path / "logo.png"
    Image.new("RGB", (120, 40), (20, 20, 160)).save(logo)
    out = tmp_path / "logo.pdf"
    tcli("invoice", "--logo", str(logo), "-o", str(out))
    pages = pdf_text(out)
    assert "Invoice #1" in pages[0]  # the refused run took no number
    images = subprocess.run(
        ["pdfimages", "-list", str(out)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    assert sorted({line.split()[0] for line in images}) == ["1", "2"]  # one on each page
