"""Jinja2 filters: money, dates and numbers shown the same on every page."""

from __future__ import annotations

import functools
from datetime import datetime
from decimal import Decimal

from jinja2 import Environment

from pagetally.core.money import format_money


@functools.lru_cache(maxsize=4096)
def money(amount: Decimal | None, currency: str = "") -> str:
    """An amount as format_money shows it (kept per value: a history page shows
    fifty prices, mostly the same few; equal amounts show the same text)."""
    return "" if amount is None else format_money(amount, currency)


def when(value: datetime | None) -> str:
    """'2026-12-03 10:05 UTC' (as strftime's "%Y-%m-%d %H:%M UTC", in half the
    time: a history page shows fifty)."""
    return "" if value is None else value.isoformat(" ", "minutes")[:16] + " UTC"


def limit(value: int | None) -> str:
    return "none" if value is None else str(value)


def install(env: Environment) -> None:
    env.filters["money"] = money
    env.filters["when"] = when
    env.filters["limit"] = limit
