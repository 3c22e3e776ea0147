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

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request

from pagetally.errors import NotFound, StorageError
from pagetally.web.rights import Identity, Role, may_change_site, may_see_admin, role_of
from pagetally.web.sessions import COOKIE, RECHECK_SECONDS

if TYPE_CHECKING:
    from pagetally.web.app import WebState

__all__ = [
    "Identity",
    "IdentityCache",
    "NotLoggedIn",
    "Resolver",
    "Role",
    "admin",
    "admin_view",
    "current",
    "optional",
    "resolve",
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


def resolve(request: Request) -> Identity | None:
    """The caller, or None, asking every resolver in turn (they may read the
    store: call it from a worker thread). Kept for the request."""
    if getattr(request.state, "identity_resolved", False):
        cached: Identity | None = request.state.identity
        return cached
    who = None
    for resolver in state_of(request).resolvers:
        who = resolver(request)
        if who is not None:
            break
    request.state.identity = who
    request.state.identity_resolved = True
    return who


class IdentityCache:
    """Who a request's credentials (session cookie, bearer token, proxy header)
    named, for RECHECK_SECONDS: a page or API call whose caller was resolved
    lately is answered with no store read and no worker thread for it. A logout
    here forgets them all at once; a logout or a token revoked elsewhere is seen
    within RECHECK_SECONDS (as Sessions). Not used when `webadmins` names a
    group: the role then depends on the store's groups, read on every request."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._known: dict[tuple[str, ...], tuple[Identity, float]] = {}
        #: counts `forget_all`s: what was resolved before one is not kept after it
        self.generation = 0

    @staticmethod
    def key(request: Request, state: WebState) -> tuple[str, ...]:
        h = request.headers
        proxy = ""
        if state.settings.auth == "remote-user":
            peer = request.client.host if request.client else ""
            proxy = f"{peer}|{h.get(state.settings.user_header, '')}"
        return (proxy, h.get("authorization", ""), request.cookies.get(COOKIE, ""))

    def get(self, key: tuple[str, ...]) -> Identity | None:
        got = self._known.get(key)
        if got is None or got[1] <= self._clock():
            return None
        return got[0]

    def keep(
        self, key: tuple[str, ...], who: Identity, generation: int, until: float | None = None
    ) -> None:
        """Remember `who`, resolved in `generation`, for RECHECK_SECONDS (or until
        the monotonic `until`); not when a logout came meanwhile."""
        if generation != self.generation:
            return
        now = self._clock()
        if len(self._known) > 10_000:
            self._known = {k: v for k, v in list(self._known.items()) if v[1] > now}
        end = now + RECHECK_SECONDS
        self._known[key] = (who, end if until is None else min(end, until))

    def forget_all(self) -> None:
        self.generation += 1
        self._known = {}


async def optional(request: Request) -> Identity | None:
    """The caller, or None (the login page): from the cache of callers resolved
    lately on the event loop, else resolved in a worker thread."""
    if getattr(request.state, "identity_resolved", False):
        cached: Identity | None = request.state.identity
        return cached
    state = state_of(request)
    cache = state.identities if not state.settings.names_groups else None
    key = IdentityCache.key(request, state) if cache is not None else ()
    who = cache.get(key) if cache is not None else None
    if who is not None:
        request.state.identity = who
        request.state.identity_resolved = True
        return who
    from starlette.concurrency import run_in_threadpool

    generation = cache.generation if cache is not None else 0
    who = await run_in_threadpool(resolve, request)
    if who is not None and cache is not None:
        cache.keep(key, who, generation, getattr(request.state, "identity_until", None))
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
