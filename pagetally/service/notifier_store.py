"""What the notifier hub reads from the store: a token's user, a user's status.

Both read only the token's own user: the status view can never show another
user's balance, quotas or jobs, whatever the client sends.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pagetally.core.money import format_money
from pagetally.core.tokens import looks_like_token
from pagetally.errors import NotFound
from pagetally.storage.base import HistoryFilter, Store, TokenStore

LAST_JOBS = 5


def _literal(name: str) -> str:
    """`name` as a pattern matching only itself (`*`, `?`, `[` are wildcards)."""
    return re.sub(r"([*?[])", r"[\1]", name)


def _left(used: int, limit: int | None) -> int | None:
    return None if limit is None else max(limit - used, 0)


def verifier(
    store: TokenStore, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> Callable[[str], str | None]:
    """token -> its user, for a valid token (not revoked, not expired)."""

    def verify(secret: str) -> str | None:
        if not looks_like_token(secret):
            return None  # junk costs no query
        token = store.verify_api_token(secret, now())
        return token.user if token is not None else None

    return verify


def status_reader(store: Store, currency: str = "") -> Callable[[str], dict[str, Any]]:
    """user -> the status view's data: balance, quota left per printer, last jobs."""

    def status(user: str) -> dict[str, Any]:
        try:
            account = store.get_user(user)
        except NotFound:
            return {"user": user, "known": False, "quotas": [], "jobs": []}
        quotas = [
            {
                "printer": q.printer,
                "used": q.page_counter,
                "soft": q.soft_limit,
                "hard": q.hard_limit,
                "left": _left(q.page_counter, q.hard_limit or q.soft_limit),
            }
            for q in store.user_quotas(users=(_literal(user),))
        ]
        jobs = [
            {
                "date": j.date.isoformat(timespec="seconds"),
                "printer": j.printer,
                "pages": j.pages,
                "price": format_money(j.price, currency),
                "action": j.action.value,
                "title": j.title[:60],
                "reason": j.reason[:120],
            }
            for j in store.history(
                HistoryFilter(user=_literal(user), newest_first=True, limit=LAST_JOBS)
            )
            if j.user == user
        ]
        return {
            "user": user,
            "known": True,
            "limit_by": account.limit_by.value,
            "balance": format_money(account.balance, currency),
            "quotas": quotas,
            "jobs": jobs,
        }

    return status
