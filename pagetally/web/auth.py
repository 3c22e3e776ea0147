"""Checking a web login's password: local (argon2 in the store), PAM or an LDAP bind.

`webauth: remote-user` has no password here: the reverse proxy authenticated the
user and names them in a header (identity.py), trusted from `webproxies` only.
"""

from __future__ import annotations

from collections.abc import Callable

from pagetally.storage.base import WebStore
from pagetally.web.passwords import verify_password
from pagetally.web.settings import WebSettings

#: (user, password) -> the password is right.
Authenticator = Callable[[str, str], bool]


def local_authenticator(store: WebStore) -> Authenticator:
    def check(user: str, password: str) -> bool:
        return verify_password(store.get_web_password_hash(user), password)

    return check


def pam_authenticator(service: str) -> Authenticator:
    def check(user: str, password: str) -> bool:
        import pam

        if not password:
            return False  # pam_unix's nullok would let an account without one in
        return bool(pam.pam().authenticate(user, password, service=service))

    return check


def ldap_authenticator(uri: str, dn_template: str) -> Authenticator:
    """A simple bind as `dn_template % user` (the name escaped as an RDN value)."""

    def check(user: str, password: str) -> bool:
        import ldap3
        from ldap3.core.exceptions import LDAPException
        from ldap3.utils.dn import escape_rdn

        if not password:
            return False  # an empty password is an anonymous bind: never a login
        dn = dn_template.replace("%s", escape_rdn(user))
        try:
            conn = ldap3.Connection(
                ldap3.Server(uri, connect_timeout=5), user=dn, password=password, receive_timeout=10
            )
            ok = bool(conn.bind())
            conn.unbind()
        except LDAPException:
            return False
        return ok

    return check


def authenticator_for(settings: WebSettings, store: WebStore) -> Authenticator | None:
    """The password check of `settings.auth`; None for remote-user (no login form)."""
    if settings.auth == "local":
        return local_authenticator(store)
    if settings.auth == "pam":
        return pam_authenticator(settings.pam_service)
    if settings.auth == "ldap":
        assert settings.ldap_uri and settings.ldap_dn
        return ldap_authenticator(settings.ldap_uri, settings.ldap_dn)
    return None
