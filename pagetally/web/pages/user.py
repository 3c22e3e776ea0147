"""The user's own pages: status, history, charts, quote, payments, refund requests.

Every page shows the caller's own account only (rights.may_see_user): there is
no user parameter a user could change to see someone else's.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from pagetally.core.models import User
from pagetally.errors import NotFound
from pagetally.web.app import WebState, render
from pagetally.web.identity import current, state_of
from pagetally.web.rights import Identity
from pagetally.web.status import balance_warning, quota_line

router = APIRouter()
Me = Annotated[Identity, Depends(current)]


def poorman(state: WebState) -> Decimal:
    return state.config.rule_settings().poorman if state.config else Decimal("1.0")


def own_user(state: WebState, who: Identity) -> User | None:
    try:
        return state.store.get_user(who.name)
    except NotFound:
        return None


@router.get("/")
def status(request: Request, who: Me) -> Response:
    state = state_of(request)
    user = own_user(state, who)
    if user is None:
        return render(request, "nouser.j2", who)
    now = state.now()
    lines = [quota_line(q, now) for q in state.store.user_quotas(users=[user.name])]
    warnings = [q.message for q in lines if q.level != "ok"]
    low = balance_warning(user, poorman(state), state.settings.currency)
    if low:
        warnings.insert(0, low)
    return render(request, "status.j2", who, user=user, quotas=lines, warnings=warnings)
