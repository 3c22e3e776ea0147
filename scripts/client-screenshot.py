"""The picture of pagetally-client's status view in docs/client.md.

    .venv/bin/python scripts/client-screenshot.py [OUT.png]

A store with a user, two printers and a few jobs, the notifier hub on 127.0.0.1,
`pagetally-client status` run as a user runs it, and its output drawn as a
terminal shows it (Pillow, DejaVu Sans Mono). Default OUT:
docs/images/client-status.png.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def demo_store(db: Path) -> str:
    from pagetally.core.models import (
        Action,
        ChargeRequest,
        Decision,
        JobFacts,
        LimitBy,
        PriceTable,
        Printer,
        User,
    )
    from pagetally.core.tokens import TokenRole
    from pagetally.storage import StoreSettings, open_store
    from tests.sqlite_store import migrated_sqlite

    store = open_store(StoreSettings(backend="sqlite", name=str(migrated_sqlite(db))))
    store.add_printer(Printer("lab-color", prices=PriceTable(per_page=Decimal("0.25"))))
    store.add_printer(Printer("library", prices=PriceTable(per_page=Decimal("0.05"))))
    store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("14.80")))
    store.set_user_quota("alice", "lab-color", soft_limit=200, hard_limit=250)
    store.set_user_quota("alice", "library", soft_limit=500, hard_limit=None)
    now = datetime.now(UTC).replace(microsecond=0)
    jobs = [
        ("library", "thesis-draft.pdf", 42, Action.ALLOW, ""),
        ("lab-color", "poster.pdf", 4, Action.ALLOW, ""),
        ("lab-color", "photos.pdf", 60, Action.DENY, "balance too low"),
        ("library", "slides.pdf", 12, Action.ALLOW, ""),
    ]
    for n, (printer, title, pages, action, reason) in enumerate(jobs):
        price = Decimal("0.25" if printer == "lab-color" else "0.05") * pages
        facts = JobFacts(
            user="alice", printer=printer, pages=pages, job_id=str(100 + n), title=title
        )
        decision = Decision(
            action,
            reason,
            price=price if action is Action.ALLOW else Decimal(0),
            pages=pages if action is Action.ALLOW else 0,
        )
        store.charge(
            ChargeRequest(facts=facts, decision=decision, date=now - timedelta(hours=5 - n))
        )
    token = store.add_api_token("alice", TokenRole.USER, now)[1]
    store.close()
    return token


FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"  # fonts-dejavu-core


def render(text: str, out: Path, size: int = 15) -> None:
    """`text` as a dark terminal window shows it."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(FONT, size)
    lines = text.rstrip("\n").split("\n")
    left, top, right, bottom = font.getbbox("M")
    cell_w, cell_h = right - left, int(size * 1.35)
    width = max(len(line) for line in lines) * cell_w + 40
    image = Image.new("RGB", (width, len(lines) * cell_h + 40), "#1e1e1e")
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        colour = "#8ae234" if line.startswith("$") else "#e0e0e0"
        draw.text((20, 20 + row * cell_h), line, font=font, fill=colour)
    image.save(out)


def main() -> None:
    from pagetally.service.notifier import Hub, NotifierSettings
    from pagetally.service.notifier_store import status_reader, verifier
    from pagetally.storage import StoreSettings, open_store

    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs/images/client-status.png"
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "demo.db"
        token = demo_store(db)
        store = open_store(StoreSettings(backend="sqlite", name=str(db)))
        hub = Hub(
            NotifierSettings(("127.0.0.1", 0), None), verifier(store), status_reader(store, "EUR")
        )
        hub.start()
        try:
            shown = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pagetally_client",
                    "--server",
                    f"127.0.0.1:{hub.port}",
                    "status",
                ],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "PAGETALLY_TOKEN": token},
            ).stdout
        finally:
            hub.stop()
            store.close()
        render("$ pagetally-client status\n" + shown, out)
    print(shown)
    print(f"written {out}")


if __name__ == "__main__":
    main()
