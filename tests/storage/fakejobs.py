"""Typical job-history rows, for measuring row size (tests) and bulk loads (bench)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from pagetally.storage.schema import identity_key

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def history_row(i: int, users: int, printers: int) -> dict[str, Any]:
    """Row `i` of a plausible history: CUPS ids and UUIDs, a host, a title, options."""
    row = {
        "jobdate": EPOCH + timedelta(seconds=i * 7),
        "username": f"user{i % users:06d}",
        "printername": f"printer{i % printers:03d}",
        "action": "allow" if i % 20 else "deny",
        "jobsize": 1 + i % 40,
        "colorpages": i % 3,
        "sheets": 1 + i % 20,
        "copies": 1,
        "jobprice": Decimal(i % 400) / 100,
        "reason": "" if i % 20 else "hard limit reached",
        "billingcode": None if i % 10 else f"PRJ-{i % 50}",
        "hostname": f"ws{i % 500:03d}.lab.example.org",
        "title": f"Quarterly report draft {i % 1000}.pdf",
        "filename": f"/var/spool/cups/d{i:05d}-001",
        "jobsizebytes": 20000 + i % 5000000,
        "sha256": f"{i:064x}",
        "options": "media=iso_a4_210x297mm sides=two-sided-long-edge print-color-mode=monochrome",
        "jobid": str(i),
        "jobuuid": f"urn:uuid:{i:08x}-3c1e-4a4f-9d2e-00000000{i % 10000:04d}",
        "pagecounter": 100000 + i,
        "precomputedjobsize": 1 + i % 40,
        "precomputedjobprice": Decimal(i % 400) / 100,
    }
    row["jobkey"] = identity_key(row["printername"], row["jobid"], row["hostname"], row["jobuuid"])
    return row
