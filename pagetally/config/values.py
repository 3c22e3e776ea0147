"""The loaded configuration: `Config` holds the checked values (global,
per printer, the admin file's secrets) and hands them out typed — `get` by the
directive's kind (config/names.py), typed accessors, a view per printer
(`for_printer`), and the settings each area reads (`store_settings`,
`rule_settings`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TypeVar, overload

from pagetally.config import names
from pagetally.config.table import did_you_mean, find_directive
from pagetally.core.models import Enforcement, Policy
from pagetally.core.settings import (
    LDAP_LAYOUT_KEYS,
    RuleSettings,
    StoreSettings,
    UnknownBillingCode,
)
from pagetally.errors import ConfigError

_T = TypeVar("_T")


@dataclass(frozen=True)
class Config:
    """A checked configuration: global values, per-printer overrides, secrets."""

    path: str
    admin_path: str | None = None  # None when the admin file was absent or unreadable
    global_values: dict[str, object] = field(default_factory=dict)
    printer_values: dict[str, dict[str, object]] = field(default_factory=dict)
    secrets: dict[str, object] = field(default_factory=dict)
    #: One line per PyKota directive accepted but not used, saying what PageTally does.
    warnings: tuple[str, ...] = ()

    @property
    def is_admin(self) -> bool:
        """True when the admin secrets file was read (read-write credentials known)."""
        return self.admin_path is not None

    @overload
    def get(self, name: names.Text, printer: str | None = None) -> str: ...
    @overload
    def get(self, name: names.OptionalText, printer: str | None = None) -> str | None: ...
    @overload
    def get(self, name: names.Flag, printer: str | None = None) -> bool: ...
    @overload
    def get(self, name: names.Whole, printer: str | None = None) -> int: ...
    @overload
    def get(self, name: names.OptionalWhole, printer: str | None = None) -> int | None: ...
    @overload
    def get(self, name: names.Amount, printer: str | None = None) -> Decimal: ...
    @overload
    def get(self, name: names.Real, printer: str | None = None) -> float: ...
    @overload
    def get(self, name: names.Dates, printer: str | None = None) -> tuple[date, ...]: ...
    @overload
    def get(self, name: names.BoolOrCommand, printer: str | None = None) -> bool | str: ...
    @overload
    def get(self, name: str, printer: str | None = None) -> object: ...

    def get(self, name: str, printer: str | None = None) -> object:
        """The checked value of `name` for `printer` (its section, else [global],
        else the default). Its type is the directive's kind (config/names.py:
        mypy sees it for a name written out; a name held in a variable gives
        `object`, for the typed accessors below). ConfigError for a name that is
        not a directive."""
        d = find_directive(name)
        if d is None:
            raise ConfigError(f"unknown directive{did_you_mean(name)}", directive=name)
        if printer is not None and name in self.printer_values.get(printer, {}):
            return self.printer_values[printer][name]
        if name in self.secrets:
            return self.secrets[name]
        if name in self.global_values:
            return self.global_values[name]
        return None if d.default is None else d.check(d.default)

    def for_printer(self, printer: str | None) -> PrinterConfig:
        """The view of one printer's settings (None: the global ones)."""
        return PrinterConfig(self, printer)

    # Typed accessors, for a directive's name held in a variable: the value as
    # the type its directive's checker gives. Asking a directive for another
    # kind is a programming error (TypeError), never a user's: the file was
    # checked when it was read.

    def _typed(self, name: str, printer: str | None, kind: type[_T]) -> _T:
        value = self.get(name, printer)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise TypeError(f"directive {name} is {type(value).__name__}, not {kind.__name__}")
        return value

    def get_str(self, name: str, printer: str | None = None) -> str:
        """A text directive that always has a value (set, or its default)."""
        return self._typed(name, printer, str)

    def get_str_or_none(self, name: str, printer: str | None = None) -> str | None:
        """A text directive without a default: None when it is not set."""
        return None if self.get(name, printer) is None else self.get_str(name, printer)

    def get_bool(self, name: str, printer: str | None = None) -> bool:
        return self._typed(name, printer, bool)

    def get_int(self, name: str, printer: str | None = None) -> int:
        return self._typed(name, printer, int)

    def get_float(self, name: str, printer: str | None = None) -> float:
        return self._typed(name, printer, float)

    def get_decimal(self, name: str, printer: str | None = None) -> Decimal:
        return self._typed(name, printer, Decimal)

    def get_dates(self, name: str, printer: str | None = None) -> tuple[date, ...]:
        return self._typed(name, printer, tuple)

    def is_set(self, name: str, printer: str | None = None) -> bool:
        return (printer is not None and name in self.printer_values.get(printer, {})) or (
            name in self.global_values or name in self.secrets
        )

    def coefficients(self, printer: str | None = None) -> dict[str, Decimal]:
        """Ink coefficients (`coefficient_<ink>`), printer's over global's."""
        out = {
            k[len("coefficient_") :]: v
            for k, v in self.global_values.items()
            if k.startswith("coefficient_") and isinstance(v, Decimal)
        }
        if printer is not None:
            out.update(
                {
                    k[len("coefficient_") :]: v
                    for k, v in self.printer_values.get(printer, {}).items()
                    if k.startswith("coefficient_") and isinstance(v, Decimal)
                }
            )
        return out

    def store_settings(self) -> StoreSettings:
        """Where the store is and the credentials we have for it."""
        backend = self.get_str("storagebackend")
        name = self.get_str("storagename")
        if backend != "sqlite" and not self.is_set("storagename"):
            name = "pagetally"
        layout: tuple[tuple[str, str], ...] = ()
        if backend == "ldap":
            layout = tuple((k, self.get_str(k)) for k in LDAP_LAYOUT_KEYS if self.is_set(k))
        return StoreSettings(
            backend=backend,
            name=name,
            server=self.get_str_or_none("storageserver"),
            user=self.get_str_or_none("storageuser"),
            password=self.get_str_or_none("storageuserpw"),
            admin_user=self.get_str_or_none("storageadmin"),
            admin_password=self.get_str_or_none("storageadminpw"),
            ldap=layout,
        )

    def read_store_settings(self) -> StoreSettings | None:
        """The read store (readstorageserver and friends; what is not set is the
        primary's), or None when reads go to the primary too. No admin
        credentials: nothing is ever written there."""
        if not self.is_set("readstorageserver") and not self.is_set("readstoragebackend"):
            return None
        primary = self.store_settings()

        def own(directive: str, fallback: str | None) -> str | None:
            return self.get_str_or_none(directive) if self.is_set(directive) else fallback

        return StoreSettings(
            backend=own("readstoragebackend", primary.backend) or primary.backend,
            name=own("readstoragename", primary.name) or primary.name,
            server=own("readstorageserver", primary.server),
            user=own("readstorageuser", primary.user),
            password=own("readstorageuserpw", primary.password),
        )

    def web_store_settings(self) -> StoreSettings:
        """Where the web keeps its own rows beside an LDAP store (`webstore`, a
        database URL: sqlite:////PATH, postgresql://USER@HOST[:PORT]/DB or
        mysql://USER@HOST[:PORT]/DB; the password is `webstorepw`)."""
        from urllib.parse import unquote, urlsplit

        url = self.get_str("webstore")
        parts = urlsplit(url)
        scheme = parts.scheme.split("+")[0]
        backend = {"sqlite": "sqlite", "postgresql": "postgresql", "postgres": "postgresql"}.get(
            scheme, "mysql" if scheme in ("mysql", "mariadb") else ""
        )
        if not backend or parts.password is not None:
            raise ConfigError(
                f"{url!r} is not a database URL PageTally takes (sqlite:////PATH, "
                "postgresql://USER@HOST/DB, mysql://USER@HOST/DB; the password goes "
                "in webstorepw, in the admin file)",
                directive="webstore",
            )
        if backend == "sqlite":
            return StoreSettings(backend="sqlite", name=unquote(parts.path[1:]))
        user = unquote(parts.username) if parts.username else None
        password = self.get_str_or_none("webstorepw")
        host = parts.hostname or ""
        return StoreSettings(
            backend=backend,
            name=unquote(parts.path.lstrip("/")) or "pagetally_web",
            server=f"{host}:{parts.port}" if parts.port else host or None,
            user=user,
            password=password,
            admin_user=user,
            admin_password=password,
        )

    def rule_settings(self, printer: str | None = None) -> RuleSettings:
        """The settings the decision rules read, for one printer."""
        policy = self.get_str("policy", printer)
        unknown_code = self.get_str("unknown_billingcode", printer)
        return RuleSettings(
            enforcement=Enforcement(self.get_str("enforcement", printer)),
            grace_delay_days=self.get_int("gracedelay", printer),
            poorman=self.get_decimal("poorman", printer),
            balance_zero=self.get_decimal("balancezero", printer),
            policy=Policy.EXTERNAL if policy.startswith("external") else Policy(policy),
            currency=self.get_str("currency"),
            coefficients=self.coefficients(printer),
            poorwarn=self.get_str("poorwarn", printer),
            softwarn=self.get_str("softwarn", printer),
            hardwarn=self.get_str("hardwarn", printer),
            balancewarn=self.get_str("balancewarn", printer),
            term_starts=self.get_dates("termstarts"),
            unknown_billing_code=(
                UnknownBillingCode.CREATE if unknown_code == "create" else UnknownBillingCode.DENY
            ),
        )


@dataclass(frozen=True, slots=True)
class PrinterConfig:
    """One printer's settings (its section over [global] over the defaults),
    typed: what a job on that printer reads, without repeating the printer."""

    config: Config
    printer: str | None

    def get_str(self, name: str) -> str:
        return self.config.get_str(name, self.printer)

    def get_str_or_none(self, name: str) -> str | None:
        return self.config.get_str_or_none(name, self.printer)

    def get_bool(self, name: str) -> bool:
        return self.config.get_bool(name, self.printer)

    def get_int(self, name: str) -> int:
        return self.config.get_int(name, self.printer)

    def get_float(self, name: str) -> float:
        return self.config.get_float(name, self.printer)

    def get_decimal(self, name: str) -> Decimal:
        return self.config.get_decimal(name, self.printer)

    def value(self, name: str) -> object:
        """The checked value of a directive whose kind the caller tells apart."""
        return self.config.get(name, self.printer)

    def is_set(self, name: str) -> bool:
        return self.config.is_set(name, self.printer)

    def rule_settings(self) -> RuleSettings:
        return self.config.rule_settings(self.printer)
