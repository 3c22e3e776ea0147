"""Refund receipts: `pagetally jobs refund --receipt FILE` and `pkrefund -o FILE`."""

from __future__ import annotations

from pathlib import Path

import pytest

from pagetally.cli.aliases import pkrefund_args
from tests.cli.conftest import Cli
from tests.tools.test_invoice import SITE, job, pdf_text


@pytest.mark.slow  # pdftotext: a third-party program
def test_receipts_per_user_numbered_after_invoices(tcli: Cli, tmp_path: Path) -> None:
    tcli.conf.write_text(tcli.conf.read_text() + SITE)
    tcli("printers", "add", "lp1", "--price-per-page", "0.10")
    tcli("users", "add", "ann", "bob", "--limit-by", "balance", "--balance", "10")
    tcli("quotas", "set", "--printer", "lp1", "ann", "bob")
    b1, b2, a1 = job(tcli, "bob", 12), job(tcli, "bob", 3), job(tcli, "ann", 5)
    tcli("invoice", "-o", str(tmp_path / "inv.pdf"))  # numbers 1 and 2
    out = tmp_path / "receipts.pdf"
    r = tcli("jobs", "refund", str(b1), str(b2), str(a1), "--force", "--receipt", str(out))
    assert "2 receipt(s), numbers 3 to 4" in r.stderr
    ann, bob = pdf_text(out)
    assert "Receipt #3" in ann and "Refunded to: ann" in ann
    assert "Total refunded: 0.50 EUR" in ann and "Balance after refund: 10.00 EUR" in ann
    assert "Receipt #4" in bob and "Lycée Victor Hugo" in bob
    assert "1.20 EUR" in bob and "0.30 EUR" in bob
    assert "Total refunded: 1.50 EUR" in bob and "Balance after refund: 10.00 EUR" in bob


def test_receipt_to_a_missing_folder_refunds_nothing(tcli: Cli, tmp_path: Path) -> None:
    tcli("printers", "add", "lp1", "--price-per-page", "0.10")
    tcli("users", "add", "bob", "--limit-by", "balance", "--balance", "10")
    tcli("quotas", "set", "--printer", "lp1", "bob")
    row = job(tcli, "bob", 12)
    before = tcli.snapshot()
    bad = tmp_path / "nowhere" / "r.pdf"
    r = tcli("jobs", "refund", str(row), "--force", "--receipt", str(bad), code=2)
    assert "does not exist" in r.stderr
    assert tcli.snapshot() == before


def test_pkrefund_output_is_the_receipt() -> None:
    assert pkrefund_args(["-f", "-o", "r.pdf", "jobid=12", "printername=lp1"]) == [
        [
            "jobs",
            "refund",
            "--filter",
            "jobid=12",
            "--filter",
            "printername=lp1",
            "--receipt",
            "r.pdf",
            "--force",
        ]
    ]
