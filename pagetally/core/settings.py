"""The rule settings: what pagetally.conf says about one printer's decisions.

`pagetally.config` builds one `RuleSettings` per printer from `[global]` and the
printer's own section (PyKota's directive names given with each field). The rules
in `core/` read nothing else: no file, no environment, no clock.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from pagetally.core.models import Enforcement, Policy

DEFAULT_POORWARN = (
    "Your print account balance is low.\n"
    "Soon you will not be allowed to print any more.\n"
    "Please contact the print quota administrator to top up your account."
)
DEFAULT_SOFTWARN = (
    "Your print quota soft limit is reached.\n"
    "You may still print for a while, but you must contact your\n"
    "administrator to get more print quota."
)
DEFAULT_BALANCEWARN = (
    "Your print account balance is too low to print.\n"
    "You are not allowed to print any more until it is topped up.\n"
    "Please contact your administrator."
)
DEFAULT_HARDWARN = (
    "Your print quota hard limit is reached.\n"
    "You are not allowed to print any more.\n"
    "Please contact your administrator as soon as possible."
)


class UnknownBillingCode(enum.StrEnum):
    """What to do with a job whose billing code the store does not know
    (PyKota's `unknown_billingcode`). `create`: allow it; the store creates the
    code when it charges the job. `deny`: refuse the job."""

    DENY = "deny"
    CREATE = "create"


@dataclass(frozen=True, slots=True)
class RuleSettings:
    """Every setting the pure rules use, for one printer. Defaults are PyKota's.

    Fields (directive in pagetally.conf in brackets):
    - enforcement [enforcement]: `laxist` checks limits against usage before the
      job (the last job may overshoot); `strict` against usage including this job.
    - grace_delay_days [gracedelay]: days a user (or group) may keep printing past
      the soft limit, counted from the moment it is first crossed.
    - poorman [poorman]: a balance at or below this warns (WARN, poorwarn text).
    - balance_zero [balancezero]: a balance at or below this denies (laxist);
      under strict, a balance that would fall below it.
    - policy [policy]: what to do when the user, the printer or the user's quota
      entry on the printer is missing: deny, allow, or external (the caller runs
      the configured command; the rules report it with code `policy_external`).
    - currency [currency]: ISO 4217 code shown with amounts, e.g. "EUR".
    - coefficients [coefficient_<ink>]: ink name (lower case, e.g. "black",
      "cyan") -> price coefficient for ink accounting; a missing ink counts 1.
    - poorwarn / softwarn / hardwarn [poorwarn, softwarn, hardwarn]: the texts
      sent to a person whose balance is low / soft limit passed / hard limit hit.
    - balancewarn [balancewarn]: the text sent when a job is refused for the
      balance (PyKota sent hardwarn, which speaks of a quota limit).
    - term_starts [termstarts]: first days of the terms, for allowances granted
      every term (any order; the rules sort them).
    - unknown_billing_code [unknown_billingcode]: see `UnknownBillingCode`.
    """

    enforcement: Enforcement = Enforcement.LAXIST
    grace_delay_days: int = 7
    poorman: Decimal = Decimal("1.0")
    balance_zero: Decimal = Decimal("0.0")
    policy: Policy = Policy.DENY
    currency: str = "EUR"
    coefficients: Mapping[str, Decimal] = field(default_factory=dict)
    poorwarn: str = DEFAULT_POORWARN
    softwarn: str = DEFAULT_SOFTWARN
    hardwarn: str = DEFAULT_HARDWARN
    balancewarn: str = DEFAULT_BALANCEWARN
    term_starts: tuple[date, ...] = ()
    unknown_billing_code: UnknownBillingCode = UnknownBillingCode.DENY

    @property
    def grace_delay(self) -> timedelta:
        """The grace delay as a duration."""
        return timedelta(days=self.grace_delay_days)

    @property
    def strict(self) -> bool:
        return self.enforcement is Enforcement.STRICT

    def coefficient(self, ink: str) -> Decimal:
        """The price coefficient of one ink (1 when not configured)."""
        return self.coefficients.get(ink.lower(), Decimal(1))


#: The LDAP store's layout directives (PyKota's names; storage/ldap_io.LdapLayout).
LDAP_LAYOUT_KEYS = (
    "userbase", "userrdn", "balancebase", "balancerdn", "groupbase", "grouprdn",
    "groupmembers", "usermail", "printerbase", "printerrdn", "jobbase", "lastjobbase",
    "billingcodebase", "userquotabase", "groupquotabase", "paymentbase", "newuser", "newgroup",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """Where the store is and who we are to it; built by `pagetally.config`.

    `backend`: sqlite | postgresql | mysql. `name`: the SQLite file's path or the
    database's name. `user`/`password` are the read-only credentials (pagetally.conf);
    `admin_user`/`admin_password` the read-write ones (the admin-only secrets file).
    With `backend` ldap, `server` is the LDAP URI (ldapuri), `name` the base DN
    (ldapbasedn), the users bind DNs; `ldap` holds the layout directives set in
    pagetally.conf (ldapuserbase, ldapuserrdn, ...; storage/ldap_io.LdapLayout).
    """

    backend: str = "sqlite"
    name: str = "/var/lib/pagetally/pagetally.db"
    server: str | None = None  # host or host:port
    user: str | None = None
    password: str | None = None
    admin_user: str | None = None
    admin_password: str | None = None
    ldap: tuple[tuple[str, str], ...] = ()  # (directive, value): the LDAP layout
