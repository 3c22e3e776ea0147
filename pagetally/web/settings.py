"""The web interface's settings, read once from pagetally.conf (docs/config.md)."""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from pagetally.config import Config
from pagetally.errors import ConfigError

AuthMode = Literal["local", "pam", "ldap", "remote-user"]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_names(raw: str) -> frozenset[str]:
    """A comma (or space) separated list of names and @groups."""
    return frozenset(p for p in raw.replace(",", " ").split() if p)


def parse_proxies(raw: str) -> tuple[Network, ...]:
    """`webproxies`: addresses or networks (CIDR), comma separated."""
    out: list[Network] = []
    for part in raw.replace(",", " ").split():
        try:
            out.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ConfigError(
                f"not an address or network: {part!r}", directive="webproxies"
            ) from None
    return tuple(out)


@dataclass(frozen=True)
class WebSettings:
    """What the pages and the authentication need; `secret` signs cookies."""

    auth: AuthMode = "local"
    user_header: str = "X-Remote-User"
    proxies: tuple[Network, ...] = ()
    admins: frozenset[str] = frozenset()
    readonly_admins: frozenset[str] = frozenset()
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    session_minutes: int = 480
    login_attempts: int = 5
    login_window_seconds: int = 900
    quote_limit: int = 20
    quote_window_seconds: int = 600
    pam_service: str = "login"
    ldap_uri: str | None = None
    ldap_dn: str | None = None
    secure_cookie: bool = False
    currency: str = ""
    sheet_grams: Decimal = Decimal("4.99")
    sheet_co2_grams: Decimal = Decimal("5.4")
    host: str = "127.0.0.1"
    port: int = 8632

    @property
    def names_groups(self) -> bool:
        """`webadmins` or `webreadonlyadmins` names a group (`@g`): a role then
        depends on the user's groups in the store."""
        return any(e.startswith("@") for e in self.admins | self.readonly_admins)

    def is_proxy(self, address: str | None) -> bool:
        """True when `address` (the TCP peer) is one of `webproxies`."""
        if not address:
            return False
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.proxies)


def web_settings(cfg: Config) -> WebSettings:
    """The settings `cfg` gives; ConfigError for an LDAP mode without its server."""
    auth = str(cfg.get("webauth"))
    if auth == "ldap" and not (cfg.get("webldapuri") and cfg.get("webldapdn")):
        raise ConfigError("webauth: ldap needs webldapuri and webldapdn", directive="webauth")
    secret = cfg.get("websecret")
    return WebSettings(
        auth=auth,  # type: ignore[arg-type]
        user_header=str(cfg.get("webuserheader")),
        proxies=parse_proxies(str(cfg.get("webproxies") or "")),
        admins=parse_names(str(cfg.get("webadmins") or "")),
        readonly_admins=parse_names(str(cfg.get("webreadonlyadmins") or "")),
        secret=str(secret) if secret else secrets.token_urlsafe(32),
        session_minutes=int(cfg.get("websessionminutes")),
        login_attempts=int(cfg.get("webloginattempts")),
        quote_limit=int(cfg.get("webquotelimit")),
        pam_service=str(cfg.get("webpamservice")),
        ldap_uri=cfg.get("webldapuri"),
        ldap_dn=cfg.get("webldapdn"),
        secure_cookie=bool(cfg.get("websecurecookie")),
        currency=str(cfg.get("currency")),
        sheet_grams=cfg.get("sheetgrams"),
        sheet_co2_grams=cfg.get("sheetcarbongrams"),
        host=str(cfg.get("webhost")),
        port=int(cfg.get("webport")),
    )
