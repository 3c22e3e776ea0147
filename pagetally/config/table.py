"""The directive table of `pagetally.conf`: every directive PageTally reads,
how its value is checked (raw text -> a typed value, or ValueError saying why),
its default, and where it may appear; the PyKota directives accepted without
being used. Directive names are PyKota's where one exists (docs/config.md).

The kind each directive's value has is also spelled out for mypy in
config/names.py (tests/test_config_typed.py holds the two together).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from pagetally.core.directives import parse_accounter, parse_ink, parse_trust
from pagetally.core.settings import (
    DEFAULT_BALANCEWARN,
    DEFAULT_HARDWARN,
    DEFAULT_POORWARN,
    DEFAULT_SOFTWARN,
)
from pagetally.errors import ConfigError

# --- value checkers: raw text -> typed value, ValueError with a reason ------------

Checker = Callable[[str], object]

_TRUE = {"yes", "y", "true", "on", "1"}
_FALSE = {"no", "n", "false", "off", "0"}


def _text(raw: str) -> str:
    return raw


def _bool(raw: str) -> bool:
    low = raw.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ValueError(f"expected yes or no, got {raw!r}")


def _int(minimum: int = 0) -> Checker:
    def check(raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            raise ValueError(f"expected a whole number, got {raw!r}") from None
        if value < minimum:
            raise ValueError(f"expected a number >= {minimum}, got {value}")
        return value

    return check


def _float(raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        raise ValueError(f"expected a number, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"expected a number >= 0, got {raw!r}")
    return value


def _decimal(raw: str) -> Decimal:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise ValueError(f"expected an amount like 1.50, got {raw!r}") from None
    if not value.is_finite():
        raise ValueError(f"expected a finite amount, got {raw!r}")
    return value


def _choice(*choices: str, command: tuple[str, ...] = ()) -> Checker:
    """One of `choices`, or `word(argument)` for a word in `command`."""

    def check(raw: str) -> str:
        value = raw.strip()
        low = value.lower()
        if low in choices:
            return low
        m = re.fullmatch(r"(\w+)\s*\((.*)\)", value, flags=re.DOTALL)
        if m and m.group(1).lower() in command and m.group(2).strip():
            return f"{m.group(1).lower()}({m.group(2).strip()})"
        allowed = list(choices) + [f"{c}(...)" for c in command]
        raise ValueError(f"expected one of {', '.join(allowed)}, got {raw!r}")

    return check


_BACKEND_ALIASES = {
    "sqlite": "sqlite",
    "sqlitestorage": "sqlite",
    "postgresql": "postgresql",
    "pgstorage": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mysqlstorage": "mysql",
    "ldap": "ldap",
    "ldapstorage": "ldap",
}


def _bool_or_command(raw: str) -> bool | str:
    """yes/no, or (PyKota's third form) a command whose answer decides: the
    command text as written, checked to parse."""
    import shlex

    try:
        return _bool(raw)
    except ValueError:
        pass
    try:
        argv = shlex.split(raw)
    except ValueError as exc:
        raise ValueError(f"neither yes/no nor a command ({exc})") from None
    if not argv:
        raise ValueError("expected yes, no or a command")
    return raw.strip()


def _yes_no_or_int(raw: str) -> str:
    low = raw.strip().lower()
    if low in ("yes", "no") or low.isdigit():
        return low
    raise ValueError(f"expected yes, no or a number of seconds, got {raw!r}")


def _clientconfirm(raw: str) -> str:
    """`clientconfirm`: yes, no or an amount (core/dialogs.parse_confirm)."""
    from pagetally.core.dialogs import parse_confirm

    try:
        parse_confirm(raw)
    except ConfigError as e:
        raise ValueError(str(e).removeprefix("clientconfirm: ")) from None
    return raw.strip()


def _listen(raw: str) -> str:
    """`notifierlisten`: none, PORT, HOST:PORT or [V6]:PORT."""
    from pagetally.core.dialogs import parse_listen

    parse_listen(raw)  # ValueError says what is wrong
    return raw.strip()


def _backend(raw: str) -> str:
    low = raw.strip().lower()
    if low not in _BACKEND_ALIASES:
        raise ValueError(f"expected sqlite, postgresql, mysql or ldap, got {raw!r}")
    return _BACKEND_ALIASES[low]


def _currency(raw: str) -> str:
    value = raw.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", value):
        raise ValueError(f"expected an ISO 4217 code like EUR or USD, got {raw!r}")
    return value


def _onbackenderror(raw: str) -> str:
    parts = [p.strip().lower() for p in raw.split(",") if p.strip()]
    if not parts:
        raise ValueError("expected charge, nocharge and/or retry:N:S")
    for part in parts:
        if part in ("charge", "nocharge") or re.fullmatch(r"retry:\d+:\d+", part):
            continue
        raise ValueError(f"expected charge, nocharge or retry:N:S, got {part!r}")
    return ",".join(parts)


def _bare(error: ConfigError) -> str:
    """The error's text without its `[directive] ` prefix (the loader adds where)."""
    text = str(error)
    return text.split("] ", 1)[1] if text.startswith("[") and "] " in text else text


def _accounter_form(preaccounter: bool) -> Checker:
    """`software()`, `software(cmd)`, `ink(space[,dpi])`, and for the accounter
    `hardware(...)` and `ipp` too — checked at load, not at the first job."""

    def check(raw: str) -> str:
        try:
            form = parse_accounter(raw)
            if form.kind == "ink":
                parse_ink(form.arg)
        except ConfigError as e:
            raise ValueError(_bare(e)) from None
        if preaccounter and form.kind not in ("software", "ink"):
            raise ValueError(
                f"{form.kind} counts what was printed: use software() or ink(...) before printing"
            )
        return raw.strip()

    return check


def _trustjobsize(raw: str) -> str:
    try:
        parse_trust(raw)
    except ConfigError as e:
        raise ValueError(_bare(e)) from None
    return raw.strip()


def _termstarts(raw: str) -> tuple[date, ...]:
    """First days of the terms as YYYY-MM-DD, comma-separated."""
    out: list[date] = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        try:
            out.append(date.fromisoformat(part))
        except ValueError:
            raise ValueError(f"expected dates as YYYY-MM-DD, got {part!r}") from None
    return tuple(sorted(set(out)))


# --- the directives ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Directive:
    """One known directive: how to check it, its default, where it may appear."""

    name: str
    check: Checker
    default: str | None
    summary: str
    per_printer: bool = True  # may appear in a printer's section
    admin_only: bool = False  # only in the admin secrets file


def _d(
    name: str,
    check: Checker,
    default: str | None,
    summary: str,
    *,
    per_printer: bool = True,
    admin_only: bool = False,
) -> Directive:
    return Directive(name, check, default, summary, per_printer, admin_only)


_NEVER = ("never",)

# fmt: off
DIRECTIVES: dict[str, Directive] = {
    d.name: d
    for d in (
        # storage
        _d("storagebackend", _backend, "sqlite", "store engine", per_printer=False),
        _d("storageserver", _text, None, "database host[:port]", per_printer=False),
        _d("storagename", _text, "/var/lib/pagetally/pagetally.db",
           "SQLite path or database name", per_printer=False),
        _d("storageuser", _text, None, "read-only database user", per_printer=False),
        _d("storageuserpw", _text, None, "read-only database password", per_printer=False),
        _d("storageadmin", _text, None, "read-write database user",
           per_printer=False, admin_only=True),
        _d("storageadminpw", _text, None, "read-write database password",
           per_printer=False, admin_only=True),
        # the read store (scale): reports, listings, web pages read from here
        _d("readstorageserver", _text, None,
           "read store's host[:port] (e.g. a streaming replica); unset: no split",
           per_printer=False),
        _d("readstoragebackend", _backend, None, "read store's engine (default: storagebackend)",
           per_printer=False),
        _d("readstoragename", _text, None, "read store's database (default: storagename)",
           per_printer=False),
        _d("readstorageuser", _text, None, "read store's user (default: storageuser)",
           per_printer=False),
        _d("readstorageuserpw", _text, None, "read store's password (default: storageuserpw)",
           per_printer=False),
        # the LDAP store's layout (storagebackend: ldap): PyKota's directive names;
        # a relative DN gets storagename (the base DN) appended (docs/config.md)
        _d("userbase", _text, None, "LDAP: branch of the users (ou=People)", per_printer=False),
        _d("userrdn", _text, None, "LDAP: naming attribute of users (uid)", per_printer=False),
        _d("balancebase", _text, None, "LDAP: branch of the balances (the users' own)",
           per_printer=False),
        _d("balancerdn", _text, None, "LDAP: naming attribute of balances (uid)",
           per_printer=False),
        _d("groupbase", _text, None, "LDAP: branch of the groups (ou=Groups)", per_printer=False),
        _d("grouprdn", _text, None, "LDAP: naming attribute of groups (cn)", per_printer=False),
        _d("groupmembers", _text, None, "LDAP: members attribute (memberUid, uniqueMember, "
           "member)", per_printer=False),
        _d("usermail", _text, None, "LDAP: e-mail attribute of users (mail)", per_printer=False),
        _d("printerbase", _text, None, "LDAP: branch of the printers", per_printer=False),
        _d("printerrdn", _text, None, "LDAP: naming attribute of printers (cn)",
           per_printer=False),
        _d("jobbase", _text, None, "LDAP: branch of the job history", per_printer=False),
        _d("lastjobbase", _text, None, "LDAP: branch of PyKota's last-job entries",
           per_printer=False),
        _d("billingcodebase", _text, None, "LDAP: branch of the billing codes",
           per_printer=False),
        _d("userquotabase", _text, None, "LDAP: branch of the user quota entries",
           per_printer=False),
        _d("groupquotabase", _text, None, "LDAP: branch of the group quota entries",
           per_printer=False),
        _d("paymentbase", _text, None, "LDAP: branch of the payments (PageTally's)",
           per_printer=False),
        _d("newuser", _text, None, "LDAP: below, or attach(posixAccount[, warn]) to the "
           "site's own entries", per_printer=False),
        _d("newgroup", _text, None, "LDAP: below, or attach(posixGroup[, warn])",
           per_printer=False),
        _d("accountingservice", _text, "/run/pagetally/pagetally.sock",
           "socket of `pagetally serve` (none: the backend opens the store itself)",
           per_printer=False),
        _d("disablehistory", _bool, "no", "keep no job history", per_printer=False),
        _d("privacy", _bool, "no", "hide titles, file names and options", per_printer=False),
        # logging and mail
        _d("logger", _choice("stderr", "system"), "system", "where to log", per_printer=False),
        _d("debug", _bool, "no", "verbose logging", per_printer=False),
        _d("smtpserver", _text, "localhost", "mail server host[:port]", per_printer=False),
        _d("maildomain", _text, None, "domain for users without an e-mail address",
           per_printer=False),
        _d("crashrecipient", _text, None, "where crash reports go", per_printer=False),
        _d("admin", _text, "root", "administrator's name in messages"),
        _d("adminmail", _text, "root@localhost", "administrator's e-mail address"),
        _d("mailto", _choice("both", "user", "admin", "devnull", command=("external",)),
           "both", "who is told of warnings and denials"),
        _d("poorwarn", _text, DEFAULT_POORWARN,
           "message when the balance is low"),
        _d("softwarn", _text, DEFAULT_SOFTWARN,
           "message when the soft limit is reached"),
        _d("hardwarn", _text, DEFAULT_HARDWARN,
           "message when printing is refused"),
        _d("balancewarn", _text, DEFAULT_BALANCEWARN,
           "message when printing is refused for the balance"),
        # user names
        _d("usernamecase", _choice("native", "upper", "lower"), "native",
           "case folding of user names from CUPS", per_printer=False),
        _d("utolower", _bool, "no", "PyKota's older form of usernamecase: lower",
           per_printer=False),
        _d("winbind_separator", _text, None, "domain separator stripped from user names",
           per_printer=False),
        # rules
        _d("policy", _choice("deny", "allow", command=("external",)), "deny",
           "unknown user, printer or quota entry"),
        _d("printauth", _choice("none", "known", "pin", command=("command",)), "none",
           "who may print: anyone, users in the store, or a job carrying a valid PIN"),
        _d("printauthmaxfailures", _int(0), "5",
           "wrong PINs within printauthlockout seconds before a user is locked out (0: never)"),
        _d("printauthlockout", _int(1), "900",
           "seconds within which wrong PINs are counted, and a lockout lasts"),
        _d("enforcement", _choice("laxist", "strict"), "laxist",
           "check before the job or including it"),
        _d("gracedelay", _int(0), "7", "days of grace after the soft limit"),
        _d("poorman", _decimal, "1.0", "balance at or below which users are warned"),
        _d("balancezero", _decimal, "0.0", "balance at or below which printing is refused"),
        _d("currency", _currency, "EUR", "ISO 4217 code of all amounts", per_printer=False),
        _d("termstarts", _termstarts, "", "first days of terms (allowances)",
           per_printer=False),
        _d("unknown_billingcode", _choice("create", "deny", command=("deny",)), "create",
           "a job's billing code is not in the store"),
        _d("denyduplicates", _bool_or_command, "no",
           "refuse a job identical to the user's last one (or ask a command)"),
        _d("duplicatesdelay", _int(0), "0", "seconds within which a duplicate is refused"),
        _d("maxdenybanners", _int(0), "0", "banners printed for a denied user"),
        # accounting
        _d("accounter", _accounter_form(False), "software()", "how pages are counted"),
        _d("preaccounter", _accounter_form(True), "software()",
           "how pages are counted before printing"),
        _d("onaccountererror", _choice("stop", "continue"), "stop",
           "the page counter failed"),
        _d("onbackenderror", _onbackenderror, "nocharge", "the real backend failed"),
        _d("onstoreerror", _choice("deny", "allow"), "deny",
           "the store cannot be reached: refuse, or print and journal the charge"),
        _d("onjournalerror", _choice("hold", "stop"), "hold",
           "the job's record cannot be written (disk full): hold the job or stop the queue"),
        _d("trustjobsize", _trustjobsize, "yes", "trust the printer's page counter"),
        _d("skipinitialwait", _bool, "no", "skip waiting for the printer to be idle"),
        _d("noprintingmaxdelay", _int(0), "60", "seconds to wait for printing to start"),
        _d("errormaxdelay", _int(0), "3600",
           "seconds a printer may stay in error (paper out, jam) during a job"),
        _d("unreachablemaxdelay", _int(0), "120",
           "seconds a printer may not answer its counter queries"),
        _d("statusstabilizationloops", _int(1), "5", "idle readings in a row"),
        _d("statusstabilizationdelay", _float, "4.0", "seconds between readings"),
        _d("snmperrormask", _text, "0x4FCC", "SNMP error bits that stop waiting"),
        _d("physicalprinter", _text, None,
           "name of the physical printer a queue prints to (its hardware lock)"),
        # banners and job handling
        _d("accountbanner", _choice("none", "starting", "ending", "both"), "both",
           "which banners are charged"),
        _d("startingbanner", _text, None, "banner printed before the job"),
        _d("endingbanner", _text, None, "banner printed after the job"),
        _d("printcancelledbanners", _bool, "yes", "print banners of cancelled jobs"),
        _d("avoidduplicatebanners", _yes_no_or_int, "no",
           "skip a banner printed less than N seconds ago"),
        _d("directory", _text, "/var/spool/pagetally", "where job data is spooled"),
        _d("keepfiles", _bool, "no", "keep spooled job data"),
        _d("striptitle", _text, None, "pattern stripped from job titles"),
        _d("overwrite_jobticket", _text, None, "command that may rewrite the job ticket"),
        _d("askconfirmation", _text, None, "command asking the user to confirm"),
        # print-time dialogs and notices through pagetally-client (issue 15)
        _d("notifierservice", _text, "/run/pagetally/pagetally-notify.sock",
           "socket of the notifier in `pagetally serve` (none: no client dialogs)",
           per_printer=False),
        _d("notifierlisten", _listen, "none",
           "HOST:PORT where `pagetally serve` waits for pagetally-clients", per_printer=False),
        _d("notifiercert", _text, None, "TLS certificate (PEM) of the notifier's port",
           per_printer=False),
        _d("notifierkey", _text, None, "TLS private key (PEM) of the notifier's port",
           per_printer=False),
        _d("notifiermaxclients", _int(1), "5000", "pagetally-clients registered at once",
           per_printer=False),
        _d("clientconfirm", _clientconfirm, "no",
           "ask the user's client \"print it?\": no, yes, or jobs costing at least AMOUNT"),
        _d("clientconfirmdefault", _choice("yes", "no"), "yes",
           "the answer when the client does not answer"),
        _d("clientbillingcode", _choice("no", "missing", "always"), "no",
           "ask the user's client for the billing code"),
        _d("clientbillingcodes", _text, None, "the codes offered (comma-separated)"),
        _d("clientbillingcodedefault", _text, None,
           "the billing code when the client does not answer"),
        _d("clientpin", _bool, "no", "ask the user's client for a missing print PIN"),
        _d("clienttimeout", _int(1), "30", "seconds a question waits for the client"),
        _d("clientnotices", _bool, "yes",
           "tell the user's client of printed, refused and low-balance jobs"),
        _d("prehook", _text, None, "command run before printing"),
        _d("posthook", _text, None, "command run after printing"),
        # directory sync (`pagetally sync`, `pagetally setup`; the migrate branch)
        _d("syncsource", _choice("system", "ldap"), "system",
           "where users and groups are synced from", per_printer=False),
        _d("syncuidmin", _int(0), "1000", "lowest uid synced (system users below)",
           per_printer=False),
        _d("syncuidmax", _int(0), None, "highest uid synced (none: no bound)",
           per_printer=False),
        _d("syncgidmin", _int(0), "1000", "lowest gid of groups synced", per_printer=False),
        _d("syncgidmax", _int(0), None, "highest gid of groups synced", per_printer=False),
        _d("syncexclude", _text, "nobody,nogroup",
           "comma-separated name patterns never synced", per_printer=False),
        _d("syncgroups", _bool, "yes", "sync groups and memberships too", per_printer=False),
        _d("syncemptygroups", _bool, "no", "sync groups without synced members",
           per_printer=False),
        _d("synclimitby", _choice("quota", "balance", "noquota", "nochange", "noprint"),
           "quota", "limit-by of users the sync creates", per_printer=False),
        _d("syncbalance", _decimal, "0", "initial balance of users the sync creates",
           per_printer=False),
        _d("syncsoftlimit", _int(0), None, "soft page limit of the quota entries it creates",
           per_printer=False),
        _d("synchardlimit", _int(0), None, "hard page limit of the quota entries it creates",
           per_printer=False),
        _d("syncprinters", _text, "*",
           "printers (patterns) on which synced users get quota entries", per_printer=False),
        _d("syncleavers", _choice("report", "disable"), "report",
           "users no longer in the directory: report them, or also disable (noprint)",
           per_printer=False),
        _d("syncmaxleavers", _int(0), "10",
           "percent of users disabled at most in one run (more: held back unless --force)",
           per_printer=False),
        _d("synckeep", _text, "",
           "comma-separated patterns of store users the directory does not manage",
           per_printer=False),
        _d("syncldapuri", _text, None, "LDAP server (ldap://host, ldaps://host:636)",
           per_printer=False),
        _d("syncldapstyle", _choice("posix", "ad"), "posix",
           "attribute layout: posixAccount/posixGroup or Active Directory", per_printer=False),
        _d("syncldapbinddn", _text, None, "DN to bind as (none: anonymous)",
           per_printer=False),
        _d("syncldapbindpw", _text, None, "password of syncldapbinddn", per_printer=False,
           admin_only=True),
        _d("syncldapuserbase", _text, None, "search base of users", per_printer=False),
        _d("syncldapuserfilter", _text, None, "filter of users (default: the style's)",
           per_printer=False),
        _d("syncldapuserattr", _text, None, "attribute holding the login name",
           per_printer=False),
        _d("syncldapmailattr", _text, None, "attribute holding the e-mail address",
           per_printer=False),
        _d("syncldapgroupbase", _text, None, "search base of groups (none: no groups)",
           per_printer=False),
        _d("syncldapgroupfilter", _text, None, "filter of groups (default: the style's)",
           per_printer=False),
        _d("syncldapgroupattr", _text, None, "attribute holding the group name",
           per_printer=False),
        _d("syncldapmemberattr", _text, None,
           "attribute listing members (memberUid: names; member: DNs)", per_printer=False),
        # invoices and receipts (pkinvoice, refund receipts)
        _d("invoicesitename", _text, "", "who issues invoices and receipts",
           per_printer=False),
        _d("invoicesiteaddress", _text, "", "the issuer's address; lines separated by |",
           per_printer=False),
        _d("invoicevat", _decimal, "0", "VAT rate in percent included in prices",
           per_printer=False),
        _d("invoiceunit", _text, "", "unit of amounts on invoices (default: currency)",
           per_printer=False),
        # web interface (webui, issue 13; docs/web.md)
        _d("webserve", _bool, "no", "pagetally serve also serves the web interface",
           per_printer=False),
        _d("webhost", _text, "127.0.0.1", "address the web interface listens on",
           per_printer=False),
        _d("webport", _int(1), "8632", "port of the web interface", per_printer=False),
        _d("webauth", _choice("local", "pam", "ldap", "remote-user"), "local",
           "how web users log in", per_printer=False),
        _d("webuserheader", _text, "X-Remote-User",
           "header naming the user (webauth: remote-user)", per_printer=False),
        _d("webproxies", _text, "", "addresses whose user header is trusted (comma list)",
           per_printer=False),
        _d("webadmins", _text, "", "web admins: user names and @groups (comma list)",
           per_printer=False),
        _d("webreadonlyadmins", _text, "",
           "web read-only admins: user names and @groups (comma list)", per_printer=False),
        _d("websecret", _text, None, "key signing session cookies (else random per start)",
           per_printer=False, admin_only=True),
        _d("webstore", _text, "sqlite:////var/lib/pagetally/web.db",
           "the web's own data when storagebackend is ldap (a database URL)",
           per_printer=False),
        _d("webstorepw", _text, None, "the password of webstore's database user",
           per_printer=False, admin_only=True),
        _d("websessionminutes", _int(1), "480", "how long a web session lasts",
           per_printer=False),
        _d("webloginattempts", _int(1), "5",
           "failed logins per user and address in 15 minutes before a pause",
           per_printer=False),
        _d("webquotelimit", _int(1), "20",
           "quotes (uploads counted) per user in 10 minutes", per_printer=False),
        _d("webpamservice", _text, "login", "PAM service (webauth: pam)", per_printer=False),
        _d("webldapuri", _text, None, "LDAP server (webauth: ldap), e.g. ldap://host",
           per_printer=False),
        _d("webldapdn", _text, None,
           "DN bound as, %s is the user name (webauth: ldap)", per_printer=False),
        _d("websecurecookie", _bool, "no", "send the session cookie over HTTPS only",
           per_printer=False),
        _d("sheetgrams", _decimal, "4.99", "grams of paper per sheet (A4 80 g/m2)",
           per_printer=False),
        _d("sheetcarbongrams", _decimal, "5.4", "grams of CO2 per sheet of paper",
           per_printer=False),
    )
}
# fmt: on

_COEFFICIENT = re.compile(r"coefficient_[a-z0-9]+")

_LDAP = "PyKota's LDAP cache and TLS settings; use an ldaps:// storageserver for TLS (ignored)"
#: PyKota directives PageTally accepts without using them, and what it does
#: instead: a pykota.conf is read as it is, with one warning line for each.
PYKOTA_ONLY: dict[str, str] = {
    "storagecaching": "PageTally does not cache the store: each job reads what it needs, "
    "in one transaction (ignored)",
    "ldapcache": _LDAP,
    "ldaptls": _LDAP,
    "cacert": _LDAP,
    "logourl": "the logo of PyKota's CGI pages and PDF receipts; PageTally makes neither (ignored)",
    "logolink": "the logo link of PyKota's CGI pages; PageTally has none (ignored)",
    "reject_unknown": "PageTally adds the users and groups it is told to, known to the "
    "system or not (ignored)",
}
#: PyKota values PageTally reads as another (directive: (value, what it does instead)).
PYKOTA_FORMS: dict[str, tuple[str, str]] = {}
#: Directives PageTally reads itself (handled before the checks).
UNDERSTOOD = {"config_charset"}


def find_directive(name: str) -> Directive | None:
    """The directive `name` (a `coefficient_<ink>` too), None when unknown."""
    if name in DIRECTIVES:
        return DIRECTIVES[name]
    if _COEFFICIENT.fullmatch(name):
        return Directive(name, _decimal, "1.0", "ink coefficient")
    return None


def did_you_mean(name: str) -> str:
    """` (did you mean 'x'?)` for a close known name, else ""."""
    known = [*DIRECTIVES, *PYKOTA_ONLY, *UNDERSTOOD, "coefficient_black"]
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
