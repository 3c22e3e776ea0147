"""A caller resolved lately is answered without asking the store again
(web/identity.py IdentityCache): a token revoked by another process (`pagetally
tokens revoke`) is refused within RECHECK_SECONDS, a logout in this process at
once, and with `webadmins` naming a group the role is read on every request."""

from __future__ import annotations

from dataclasses import replace

from fastapi.testclient import TestClient

from pagetally.storage.sql import SqlStore
from pagetally.web.app import create_app
from pagetally.web.identity import IdentityCache
from pagetally.web.sessions import RECHECK_SECONDS
from tests.web.api.conftest import Tokens, bearer
from tests.web.conftest import csrf_of, login
from tests.web.site import NOW, SETTINGS


def _client(site: SqlStore, clock: list[float], **settings: object) -> TestClient:
    app = create_app(replace(SETTINGS, **settings), site, now=lambda: NOW)  # type: ignore[arg-type]
    app.state.web.identities = IdentityCache(clock=lambda: clock[0])
    return TestClient(app, raise_server_exceptions=False)


def test_a_token_revoked_elsewhere_is_refused_within_the_recheck(
    site: SqlStore, tokens: Tokens
) -> None:
    clock = [100.0]
    api = _client(site, clock, admins=frozenset({"root"}), readonly_admins=frozenset())
    assert api.get("/api/v1/me", headers=bearer(tokens.alice)).status_code == 200
    (token,) = [t for t in site.api_tokens(["alice"]) if t.revoked is None]
    site.revoke_api_token(token.id, NOW)  # as `pagetally tokens revoke` in another process
    assert api.get("/api/v1/me", headers=bearer(tokens.alice)).status_code == 200  # cached
    clock[0] += RECHECK_SECONDS + 0.1
    assert api.get("/api/v1/me", headers=bearer(tokens.alice)).status_code == 401


def test_a_logout_here_is_refused_at_once(site: SqlStore) -> None:
    clock = [100.0]
    client = login(
        _client(site, clock, admins=frozenset({"root"}), readonly_admins=frozenset()), "alice"
    )
    assert client.get("/api/v1/me").json()["name"] == "alice"
    kept = dict(client.cookies)
    page = client.get("/")
    out = client.post("/logout", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
    assert out.status_code == 303
    again = TestClient(client.app, cookies=kept, raise_server_exceptions=False)
    assert again.get("/api/v1/me").status_code == 401  # no time passed: not from the cache


def test_no_cache_when_a_group_gives_the_role(site: SqlStore, tokens: Tokens) -> None:
    clock = [100.0]
    api = _client(site, clock)  # the site's webreadonlyadmins name @auditors
    assert api.get("/api/v1/me", headers=bearer(tokens.alice)).status_code == 200
    (token,) = [t for t in site.api_tokens(["alice"]) if t.revoked is None]
    site.revoke_api_token(token.id, NOW)
    assert api.get("/api/v1/me", headers=bearer(tokens.alice)).status_code == 401


def test_what_was_resolved_before_a_logout_is_not_kept_after_it() -> None:
    from pagetally.web.rights import Identity, Role

    cache = IdentityCache(clock=lambda: 100.0)
    alice = Identity("alice", Role.USER, "session")
    before = cache.generation
    cache.forget_all()  # a logout while alice's request was being resolved
    cache.keep(("", "", "cookie"), alice, before)
    assert cache.get(("", "", "cookie")) is None
    cache.keep(("", "", "cookie"), alice, cache.generation)
    assert cache.get(("", "", "cookie")) == alice
