"""Signed session cookies and CSRF tokens.

The cookie holds the user's name and a random nonce, signed and dated with the
site's `websecret` (itsdangerous): it cannot be forged or kept past
`websessionminutes`. The role is not in it: it is read from the config and the
store on every request, so a demoted admin loses the rights at once. A form's
CSRF token is an HMAC of the name and the nonce: a page of another site cannot
know it, and logging out (a new nonce) voids the old ones.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "pagetally_session"
LOGIN_COOKIE = "pagetally_login"


@dataclass(frozen=True, slots=True)
class Session:
    user: str
    nonce: str


class Sessions:
    """Signs and reads session cookies; makes and checks CSRF tokens."""

    def __init__(self, secret: str, max_age_seconds: int) -> None:
        self._secret = secret.encode()
        self._signer = URLSafeTimedSerializer(secret, salt="pagetally-session")
        self._notes = URLSafeTimedSerializer(secret, salt="pagetally-note")
        self.max_age = max_age_seconds
        #: nonces of sessions logged out (in memory: a restart with a new secret voids all)
        self._revoked: set[str] = set()

    def new(self, user: str) -> tuple[Session, str]:
        """A fresh session for `user` and its cookie value."""
        session = Session(user, secrets.token_urlsafe(16))
        return session, self._signer.dumps({"u": user, "n": session.nonce})

    def read(self, cookie: str | None) -> Session | None:
        """The session a cookie carries; None when absent, forged or expired."""
        if not cookie:
            return None
        try:
            data = self._signer.loads(cookie, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str):
            return None
        session = Session(data["u"], str(data.get("n", "")))
        return None if session.nonce in self._revoked else session

    def revoke(self, cookie: str | None) -> None:
        """Log a session out: its cookie is refused from now on, even if kept."""
        session = self.read(cookie)
        if session is not None:
            self._revoked.add(session.nonce)

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
