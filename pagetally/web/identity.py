"""Who is asking: the FastAPI dependencies that resolve the caller.

A request's identity comes from the first resolver that knows it, in
`WebState.resolvers` order: the reverse proxy's user header (`webauth:
remote-user`, and only when the TCP peer is one of `webproxies`: from anywhere
else the header is ignored), then the signed session cookie. Other parts add
their own resolver (the API's bearer tokens: `state.resolvers.append(...)`);
a resolver returns None when the request carries nothing it knows.

The role is never carried by the request: `roles_for` reads it from
`webadmins`/`webreadonlyadmins` and the user's groups in the store each time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request

from pagetally.errors import NotFound, StorageError
from pagetally.web.rights import Identity, Role, may_change_site, may_see_admin, role_of
from pagetally.web.sessions import COOKIE

if TYPE_CHECKING:
    from pagetally.web.app import WebState

__all__ = [
    "Identity",
    "NotLoggedIn",
    "Resolver",
    "Role",
    "admin",
    "admin_view",
    "current",
    "optional",
    "state_of",
]

#: A request -> its identity, or None when it carries nothing this resolver knows.
Resolver = Callable[[Request], Identity | None]


class NotLoggedIn(Exception):
    """No resolver knew the caller: HTML pages redirect to /login, the API says 401."""


def state_of(request: Request) -> WebState:
    from pagetally.web.app import WebState

    state = request.app.state.web
    assert isinstance(state, WebState)
    return state


def identity_for(state: WebState, name: str, via: str) -> Identity:
    """`name` with the role the config and their groups give. The store is asked
    for the groups only when `webadmins`/`webreadonlyadmins` name a group (`@g`):
    otherwise they cannot change the role, and a request saves a unit of work."""
    s = state.settings
    groups: list[str] = []
    if s.names_groups:
        try:
            groups = [g.name for g in state.store.groups_of(name)]
        except (NotFound, StorageError):
            groups = []
    return Identity(name, role_of(name, groups, s.admins, s.readonly_admins), via)


def remote_user(request: Request) -> Identity | None:
    """The proxy's header, from `webproxies` only (webauth: remote-user)."""
    state = state_of(request)
    if state.settings.auth != "remote-user":
        return None
    peer = request.client.host if request.client else None
    if not state.settings.is_proxy(peer):
        return None
    name = (request.headers.get(state.settings.user_header) or "").strip()
    return identity_for(state, name, "remote-user") if name else None


def session_user(request: Request) -> Identity | None:
    state = state_of(request)
    session = state.sessions.read(request.cookies.get(COOKIE))
    return identity_for(state, session.user, "session") if session else None


DEFAULT_RESOLVERS: tuple[Resolver, ...] = (remote_user, session_user)


def optional(request: Request) -> Identity | None:
    """The caller, or None (the login page)."""
    if getattr(request.state, "identity_resolved", False):
        cached: Identity | None = request.state.identity
        return cached
    who = None
    for resolve in state_of(request).resolvers:
        who = resolve(request)
        if who is not None:
            break
    request.state.identity = who
    request.state.identity_resolved = True
    return who


async def current(who: Annotated[Identity | None, Depends(optional)]) -> Identity:
    """The caller; NotLoggedIn when nobody is. (`async`, as the two below: pure
    checks run on the event loop, not handed to a worker thread and back.)"""
    if who is None:
        raise NotLoggedIn()
    return who


async def admin_view(who: Annotated[Identity, Depends(current)]) -> Identity:
    """An admin or read-only admin; 403 for anyone else."""
    if not may_see_admin(who):
        raise HTTPException(403, "admins only")
    return who


async def admin(who: Annotated[Identity, Depends(current)]) -> Identity:
    """An admin who may change things; 403 for a read-only admin or a user."""
    if not may_change_site(who):
        raise HTTPException(403, "admins only (read-only admins may not change anything)")
    return who
