"""Jinja2 filters: money, dates and numbers shown the same on every page."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from jinja2 import Environment

from pagetally.core.money import format_money


def money(amount: Decimal | None, currency: str = "") -> str:
    return "" if amount is None else format_money(amount, currency)


def when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def limit(value: int | None) -> str:
    return "none" if value is None else str(value)


def install(env: Environment) -> None:
    env.filters["money"] = money
    env.filters["when"] = when
    env.filters["limit"] = limit
