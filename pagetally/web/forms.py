"""Forms: CSRF tokens on every form, checked before any change is made."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from pagetally.web.identity import current, state_of
from pagetally.web.rights import Identity
from pagetally.web.sessions import COOKIE

CSRF_FIELD = "csrf"


def _nonce(request: Request, who: Identity) -> str:
    """The caller's session nonce (the resolver read the session, logouts included,
    for this request: here only the cookie's signature is checked, no store read,
    so `posted` may run on the event loop)."""
    if who.via == "session":
        return state_of(request).sessions.nonce_of(request.cookies.get(COOKIE))
    return who.via  # remote-user: no session of ours; the token is per user


def csrf_token(request: Request, who: Identity) -> str:
    return state_of(request).sessions.csrf_token(who.name, _nonce(request, who))


async def posted(request: Request, who: Annotated[Identity, Depends(current)]) -> Identity:
    """The caller of a form's POST, once its CSRF token is right (403 otherwise)."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    if not state_of(request).sessions.csrf_ok(
        who.name, _nonce(request, who), token if isinstance(token, str) else None
    ):
        raise HTTPException(
            403, "the form's security token is missing or old: reload the page and try again"
        )
    return who


Posted = Annotated[Identity, Depends(posted)]
