"""PDF refund receipts for `pagetally jobs refund --receipt FILE` (`pkrefund -o`).

One receipt per user refunded, numbered from the same never-repeating sequence
as invoices (`Store.issue_numbers`, kind "receipt"). Whether a receipt can be
written (reportlab present, the folder there) is checked before any refund.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from pagetally.cli.env import Env
from pagetally.cli.invoice import site_of, unit_of, write_output
from pagetally.config import Config
from pagetally.core.invoices import Receipt, ReceiptLine, Site
from pagetally.core.refunds import RefundResult
from pagetally.errors import InvalidInput
from pagetally.storage.base import Store


def check_receipts(output: str) -> None:
    """Refuse now what would make the receipts fail after the money moved."""
    from pagetally.notify.documents import receipts_pdf

    receipts_pdf([], Site())
    if output != "-":
        folder = Path(output).parent
        if not (folder if str(folder) else Path(".")).is_dir():
            raise InvalidInput(f"--receipt {output}: folder {folder} does not exist")


def write_receipts(
    env: Env, store: Store, cfg: Config, done: list[RefundResult], output: str, now: datetime
) -> list[Receipt]:
    from pagetally.notify.documents import receipts_pdf

    by_user: dict[str, list[RefundResult]] = {}
    for res in done:
        by_user.setdefault(res.job.user, []).append(res)
    users = sorted(by_user)
    totals = [sum((r.amount for r in by_user[u]), Decimal(0)) for u in users]
    numbers = store.issue_numbers("receipt", list(zip(users, totals, strict=True)), now)
    unit = unit_of(cfg, None)
    receipts = [
        Receipt(
            number=n,
            user=u,
            issued=now.astimezone(env.local_tz()),
            lines=tuple(ReceiptLine(r.job, r.amount, r.pages) for r in by_user[u]),
            total=total,
            balance_after=by_user[u][-1].balance_after,
            unit=unit,
        )
        for n, u, total in zip(numbers, users, totals, strict=True)
    ]
    write_output(env, output, receipts_pdf(receipts, site_of(cfg)))
    env.note(f"{len(receipts)} receipt(s), numbers {numbers[0]} to {numbers[-1]}")
    return receipts
