"""What the user reads: a notice's summary and body, the status view. Pure text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

WIDTH = 64


def notice_text(notice: Mapping[str, Any]) -> tuple[str, str]:
    """(summary, body) of a notice from the server."""
    return str(notice.get("title", "PageTally")), str(notice.get("body", ""))


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c[:w].ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()


def status_text(status: Mapping[str, Any]) -> str:
    """The status view: balance, quota left per printer, the last jobs."""
    user = str(status.get("user", "?"))
    lines = [f"PageTally — {user}", "=" * WIDTH]
    if not status.get("known", True):
        lines.append("No account yet: your first job creates it (or ask the administrator).")
        return "\n".join(lines)
    lines.append(
        f"Balance: {status.get('balance', '?')}   (limited by {status.get('limit_by', '?')})"
    )
    quotas = list(status.get("quotas", ()))
    lines += ["", "Quotas"]
    if not quotas:
        lines.append("  (no page quota)")
    widths = [20, 8, 8, 8, 8]
    if quotas:
        lines.append("  " + _row(["printer", "used", "soft", "hard", "left"], widths))
    for q in quotas:
        cells = [str(q.get("printer")), str(q.get("used", 0))]
        cells += ["-" if q.get(k) is None else str(q.get(k)) for k in ("soft", "hard", "left")]
        lines.append("  " + _row(cells, widths))
    jobs = list(status.get("jobs", ()))
    lines += ["", "Last jobs"]
    if not jobs:
        lines.append("  (none)")
    widths = [16, 12, 5, 8, 8, 20]
    if jobs:
        lines.append(
            "  " + _row(["date (UTC)", "printer", "pages", "price", "result", "title"], widths)
        )
    for j in jobs:
        date = str(j.get("date", ""))[:16].replace("T", " ")
        result = {
            "allow": "printed",
            "deny": "refused",
            "cancel": "cancelled",
            "warn": "printed",
        }.get(str(j.get("action")), str(j.get("action")))
        lines.append(
            "  "
            + _row(
                [
                    date,
                    str(j.get("printer")),
                    str(j.get("pages")),
                    str(j.get("price")),
                    result,
                    str(j.get("title", "")),
                ],
                widths,
            )
        )
    return "\n".join(lines)


def reminder_text(status: Mapping[str, Any]) -> tuple[str, str]:
    """pykosd's on-screen reminder: one summary line, a short body."""
    if not status.get("known", True):
        return "PageTally", "No print account yet."
    parts = [f"Balance {status.get('balance')}"]
    for q in status.get("quotas", ()):
        if q.get("left") is not None:
            parts.append(f"{q.get('printer')}: {q.get('left')} page(s) left")
    return f"PageTally — {status.get('user')}", "\n".join(parts)
