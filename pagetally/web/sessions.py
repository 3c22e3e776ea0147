"""Signed session cookies and CSRF tokens.

The cookie holds the user's name and a random nonce, signed and dated with the
site's `websecret` (itsdangerous): it cannot be forged or kept past
`websessionminutes`. The role is not in it: it is read from the config and the
store on every request, so a demoted admin loses the rights at once. A form's
CSRF token is an HMAC of the name and the nonce: a page of another site cannot
know it, and logging out (a new nonce) voids the old ones.

Logging out revokes the session's nonce in the store (table `webrevoked`, until
the cookie would have expired anyway): a kept copy of the cookie stays refused
after a restart and on every web server of the same store (with `websecret`
set, cookies outlive a restart). Expired revocations are deleted at each logout.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from itsdangerous import BadSignature, URLSafeTimedSerializer

_log = logging.getLogger("pagetally.web")

COOKIE = "pagetally_session"
#: How long a "not logged out" answer of the store is trusted (another web
#: process's logout is seen within this time; this process's at once).
RECHECK_SECONDS = 2.0
LOGIN_COOKIE = "pagetally_login"


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    nonce: str


class RevokedSessions(Protocol):
    """Where logged-out sessions are kept (the SQL store: storage/webdata.py)."""

    def revoke_web_session(self, nonce: str, expires: datetime, now: datetime) -> None: ...
    def web_session_revoked(self, nonce: str) -> bool: ...


class Sessions:
    """Signs and reads session cookies; makes and checks CSRF tokens."""

    def __init__(
        self, secret: str, max_age_seconds: int, revoked: RevokedSessions | None = None
    ) -> None:
        self._secret = secret.encode()
        self._signer = URLSafeTimedSerializer(secret, salt="pagetally-session")
        self._notes = URLSafeTimedSerializer(secret, salt="pagetally-note")
        self.max_age = max_age_seconds
        self._store = revoked
        #: nonces of sessions logged out, as this process knows them (the store
        #: knows them all: other processes' and those from before a restart)
        self._revoked: set[str] = set()
        self._checked: dict[str, float] = {}  # nonce -> when the store said "not revoked"

    def new(self, user: str) -> tuple[Session, str]:
        """A fresh session for `user` and its cookie value."""
        session = Session(user, secrets.token_urlsafe(16))
        return session, self._signer.dumps({"u": user, "n": session.nonce})

    def _load(self, cookie: str | None) -> tuple[Session, datetime] | None:
        """The session a cookie carries and when it was signed; None when absent,
        forged or expired (revoked or not)."""
        if not cookie:
            return None
        try:
            data, signed = self._signer.loads(cookie, max_age=self.max_age, return_timestamp=True)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str):
            return None
        return Session(data["u"], str(data.get("n", ""))), signed

    def nonce_of(self, cookie: str | None) -> str:
        """The nonce of a cookie whose session was read (`read`) for this request:
        its signature is checked, not the store ('' when absent or forged)."""
        got = self._load(cookie)
        return got[0].nonce if got is not None else ""

    def read(self, cookie: str | None) -> Session | None:
        """The session a cookie carries; None when absent, forged, expired or
        logged out (here, in another process or before a restart)."""
        got = self._load(cookie)
        if got is None:
            return None
        session = got[0]
        if session.nonce in self._revoked:
            return None
        if self._store is not None and not self._checked_lately(session.nonce):
            from pagetally.errors import StorageError

            try:
                revoked = self._store.web_session_revoked(session.nonce)
            except StorageError as exc:  # unknown: nobody (fail closed): the login page
                _log.warning("web: cannot check the session of %s: %s", session.user, exc)
                return None
            if revoked:
                self._revoked.add(session.nonce)
                return None
            self._checked[session.nonce] = time.monotonic()
        return session

    def _checked_lately(self, nonce: str) -> bool:
        """The store said `nonce` was not revoked less than RECHECK_SECONDS ago (a
        page reads its session two or three times: one query, not three)."""
        now = time.monotonic()
        if len(self._checked) > 10_000:
            kept = list(self._checked.items())  # one copy: other threads add meanwhile
            self._checked = {n: t for n, t in kept if now - t < RECHECK_SECONDS}
        return now - self._checked.get(nonce, -RECHECK_SECONDS) < RECHECK_SECONDS

    def revoke(self, cookie: str | None) -> None:
        """Log a session out: its cookie is refused from now on, even if kept, also
        after a restart (kept in the store until it would have expired)."""
        from pagetally.errors import ReadOnlyStore

        got = self._load(cookie)
        if got is None:
            return
        session, signed = got
        self._revoked.add(session.nonce)
        if self._store is None:
            return
        expires = signed.astimezone(UTC) + timedelta(seconds=self.max_age + 1)
        try:
            self._store.revoke_web_session(session.nonce, expires, datetime.now(UTC))
        except ReadOnlyStore as exc:  # the store is open read-only: this process only
            _log.warning("web: logout of %s kept in memory only: %s", session.user, exc)

    def seal_note(self, text: str) -> str:
        """A page's "what was done" note, signed: a link from elsewhere cannot make
        the site say something it did not do."""
        return self._notes.dumps(text)

    def open_note(self, token: str) -> str:
        """The note a sealed token carries ('' for none, forged or older than a minute)."""
        if not token:
            return ""
        try:
            text = self._notes.loads(token, max_age=60)
        except BadSignature:
            return ""
        return text if isinstance(text, str) else ""

    def csrf_token(self, user: str, nonce: str) -> str:
        msg = f"csrf|{user}|{nonce}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()

    def csrf_ok(self, user: str, nonce: str, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(self.csrf_token(user, nonce), str(token))
