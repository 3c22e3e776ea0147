"""The SQL schema (SQLAlchemy Core), table and column names close to PyKota's.

Names of people, printers and codes are stored case-sensitively. The job history
keeps user and printer *names* (not ids), so that history survives the deletion of
a user or printer and jobs of unknown users can be recorded; it stays lean (about
250 bytes a row, see tests/storage/test_lifecycle.py). A job's identity (printername, jobid,
hostname, jobuuid; '' for "none", as NULLs never collide in a unique index) is
unique through `jobkey`, a 16-byte digest of those four: a unique index on the
four text columns alone cost 190 bytes a job on PostgreSQL, the digest's ~40.

`SCHEMA_REVISION` is the Alembic head this code expects; a test pins it to the
migrations so that opening a store need not import Alembic.

What only MariaDB's or PostgreSQL's DDL says (table options, the binary
collation of names, a partial index's WHERE) is added by `for_dialect`, which
`engine.make_engine` and the migrations call before anything is compiled for
that server: SQLAlchemy loads a dialect to check such options, and loading
MariaDB's and PostgreSQL's costs every SQLite command ~50 ms of start-up.
"""

from __future__ import annotations

import hashlib
from threading import Lock
from typing import Any

from sqlalchemy import (
    BINARY,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from pagetally.storage.types import Money, UtcDateTime, mysql_names, name_type

SCHEMA_REVISION = "0013"


def identity_key(printer: str, job_id: str, host: str, job_uuid: str) -> bytes:
    """The 16-byte digest that makes a job's identity unique (jobhistory.jobkey)."""
    raw = "\x1f".join((printer, job_id, host, job_uuid)).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(raw, digest_size=16).digest()


# Widths of the free-text job fields: the history row stays small whatever CUPS sends.
TITLE_MAX = 200
FILENAME_MAX = 200
OPTIONS_MAX = 400
REASON_MAX = 255
DECISION_CODE_MAX = 32
TEXT_MAX = 255

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite: an alias of the rowid
_BILLED_ONLY = "billingcode IS NOT NULL"  # jobhistory's partial index on billing codes
_KEY = LargeBinary(16).with_variant(BINARY(16), "mysql", "mariadb")
#: Every table's MariaDB options, added by for_dialect("mysql") (not here: see above).
MYSQL_OPTIONS: dict[str, Any] = {"mysql_charset": "utf8mb4", "mysql_engine": "InnoDB"}
_MYSQL: dict[str, Any] = {}  # (a table's own options besides MYSQL_OPTIONS)

users = Table(
    "users",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("username", name_type(), nullable=False, unique=True),
    Column("email", String(TEXT_MAX), nullable=True),
    Column("balance", Money(), nullable=False, default=0),
    Column("lifetimepaid", Money(), nullable=False, default=0),
    Column("limitby", String(16), nullable=False, default="quota"),
    Column("description", String(TEXT_MAX), nullable=False, default=""),
    Column("overcharge", Money(), nullable=False, default=1),
    # print-time PIN as a salted slow hash (core/pins.py); NULL: none set
    Column("pinhash", String(TEXT_MAX), nullable=True),
    **_MYSQL,
)

groups = Table(
    "groups",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("groupname", name_type(), nullable=False, unique=True),
    Column("description", String(TEXT_MAX), nullable=False, default=""),
    Column("limitby", String(16), nullable=False, default="quota"),
    **_MYSQL,
)

groupsmembers = Table(
    "groupsmembers",
    metadata,
    Column("groupid", _ID, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
    Column("userid", _ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Index(None, "userid"),
    **_MYSQL,
)

printers = Table(
    "printers",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("printername", name_type(), nullable=False, unique=True),
    Column("description", String(TEXT_MAX), nullable=False, default=""),
    Column("priceperpage", Money(), nullable=False, default=0),
    Column("priceperjob", Money(), nullable=False, default=0),
    Column("prices", Text(), nullable=False, default="{}"),  # PriceTable.to_dict as JSON
    Column("passthrough", Boolean(), nullable=False, default=False),
    Column("maxjobsize", Integer(), nullable=True),
    **_MYSQL,
)

printergroupsmembers = Table(
    "printergroupsmembers",
    metadata,
    Column("groupid", _ID, ForeignKey("printers.id", ondelete="CASCADE"), primary_key=True),
    Column("printerid", _ID, ForeignKey("printers.id", ondelete="CASCADE"), primary_key=True),
    Index(None, "printerid"),
    **_MYSQL,
)

userpquota = Table(
    "userpquota",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("userid", _ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("printerid", _ID, ForeignKey("printers.id", ondelete="CASCADE"), nullable=False),
    Column("lifepagecounter", BigInteger(), nullable=False, default=0),
    Column("pagecounter", BigInteger(), nullable=False, default=0),
    Column("softlimit", Integer(), nullable=True),
    Column("hardlimit", Integer(), nullable=True),
    Column("datelimit", UtcDateTime(), nullable=True),
    Column("maxjobsize", Integer(), nullable=True),
    Column("warncount", Integer(), nullable=False, default=0),
    UniqueConstraint("userid", "printerid"),
    Index(None, "printerid"),
    **_MYSQL,
)

grouppquota = Table(
    "grouppquota",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("groupid", _ID, ForeignKey("groups.id", ondelete="CASCADE"), nullable=False),
    Column("printerid", _ID, ForeignKey("printers.id", ondelete="CASCADE"), nullable=False),
    Column("softlimit", Integer(), nullable=True),
    Column("hardlimit", Integer(), nullable=True),
    Column("datelimit", UtcDateTime(), nullable=True),
    Column("maxjobsize", Integer(), nullable=True),
    UniqueConstraint("groupid", "printerid"),
    Index(None, "printerid"),
    **_MYSQL,
)

jobhistory = Table(
    "jobhistory",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("jobdate", UtcDateTime(), nullable=False),
    Column("username", name_type(), nullable=False),
    Column("printername", name_type(), nullable=False),
    Column("action", String(8), nullable=False),
    Column("jobsize", Integer(), nullable=False),
    Column("colorpages", Integer(), nullable=False, default=0),
    Column("sheets", Integer(), nullable=True),
    Column("copies", Integer(), nullable=False, default=1),
    Column("jobprice", Money(), nullable=False, default=0),
    Column("reason", String(REASON_MAX), nullable=False, default=""),
    Column("billingcode", name_type(), nullable=True),
    Column("hostname", String(TEXT_MAX), nullable=False, default=""),  # '' = unknown
    Column("title", String(TITLE_MAX), nullable=False, default=""),
    Column("filename", String(FILENAME_MAX), nullable=False, default=""),
    Column("jobsizebytes", BigInteger(), nullable=False, default=0),
    Column("sha256", String(64), nullable=True),
    Column("options", String(OPTIONS_MAX), nullable=False, default=""),
    Column("jobid", String(64), nullable=False, default=""),
    Column("jobuuid", String(64), nullable=False, default=""),
    Column("jobkey", _KEY, nullable=False),  # identity digest, see identity_key()
    Column("pagecounter", BigInteger(), nullable=True),  # printer's counter before the job
    Column("precomputedjobsize", Integer(), nullable=True),
    Column("precomputedjobprice", Money(), nullable=True),
    # house (0009): Decision.code, what rules reading the history match (not `reason`)
    Column("decisioncode", String(DECISION_CODE_MAX), nullable=True),
    # webperf (0012): milliseconds from the backend's start on the job to its
    # charge (NULL: not measured, e.g. refused jobs, imports); /metrics' backend time
    Column("backendms", Integer(), nullable=True),
    UniqueConstraint("jobkey"),
    Index(None, "username", "jobdate"),
    Index(None, "printername", "jobdate"),
    Index(None, "hostname", "jobdate"),
    Index(  # most jobs carry no billing code: index only those that do
        None,  # (PostgreSQL's WHERE, the same: for_dialect)
        "billingcode",
        "jobdate",
        sqlite_where=text(_BILLED_ONLY),
    ),
    Index(None, "jobdate"),
    **_MYSQL,
)

payments = Table(
    "payments",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("userid", _ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("amount", Money(), nullable=False),
    Column("kind", String(8), nullable=False, default="credit"),
    Column("description", String(TEXT_MAX), nullable=False, default=""),
    Column("date", UtcDateTime(), nullable=False),
    Index(None, "userid", "date"),
    **_MYSQL,
)

billingcodes = Table(
    "billingcodes",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("billingcode", name_type(), nullable=False, unique=True),
    Column("description", String(TEXT_MAX), nullable=False, default=""),
    Column("balance", Money(), nullable=False, default=0),
    Column("pagecounter", BigInteger(), nullable=False, default=0),
    **_MYSQL,
)

allowances = Table(
    "allowances",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("target", name_type(), nullable=False),
    Column("isgroup", Boolean(), nullable=False, default=False),
    Column("period", String(8), nullable=False),
    Column("credit", Money(), nullable=False, default=0),
    Column("cap", Money(), nullable=True),
    Column("pages", Integer(), nullable=False, default=0),
    Column("resetcounters", Boolean(), nullable=False, default=False),
    Column("printer", name_type(), nullable=False, default="*"),
    Column("description", String(TEXT_MAX), nullable=False, default=""),
    **_MYSQL,
)

allowancegrants = Table(
    "allowancegrants",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("allowanceid", _ID, ForeignKey("allowances.id", ondelete="CASCADE"), nullable=False),
    Column("periodkey", String(32), nullable=False),
    Column("granted", UtcDateTime(), nullable=False),
    UniqueConstraint("allowanceid", "periodkey"),
    **_MYSQL,
)

#: Invoice and receipt numbers issued (pkinvoice, refund receipts): the primary
#: key is what makes a number never issued twice, also by two admins at once.
invoices = Table(
    "invoices",
    metadata,
    Column("number", BigInteger(), primary_key=True, autoincrement=False),
    Column("kind", String(8), nullable=False),
    Column("username", name_type(), nullable=False),
    Column("amount", Money(), nullable=False),
    Column("issued", UtcDateTime(), nullable=False),
    **_MYSQL,
)

# --- webapi (issue 13): API tokens and the indexes of the web's queries -------
#: API tokens (`pagetally tokens`): only a token's SHA-256 is kept (core/tokens.py);
#: a token goes with its user.
apitokens = Table(
    "apitokens",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("userid", _ID, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("tokenhash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False, default="user"),
    Column("label", String(TEXT_MAX), nullable=False, default=""),
    Column("created", UtcDateTime(), nullable=False),
    Column("expires", UtcDateTime(), nullable=True),
    Column("revoked", UtcDateTime(), nullable=True),
    Index(None, "userid"),
    **_MYSQL,
)
# --- end webapi ----------------------------------------------------------------

# --- notifier (issue 15): answers given at print time (pagetally-client) ---------
#: What decided a print-time question of a job (core/dialogs.py): the job's
#: identity as in jobhistory, the question, the answer (a PIN is never kept,
#: only "given"), and where it came from (the client, or the default and why).
jobanswers = Table(
    "jobanswers",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("printername", name_type(), nullable=False),
    Column("jobid", String(64), nullable=False),
    Column("hostname", String(TEXT_MAX), nullable=False),
    Column("jobuuid", String(64), nullable=False),
    Column("username", name_type(), nullable=False),
    Column("question", String(16), nullable=False),
    Column("answer", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("jobdate", UtcDateTime(), nullable=False),
    Index(None, "printername", "jobid"),
    **_MYSQL,
)
# --- end notifier ----------------------------------------------------------------
# --- webui (issue 13): the web interface's passwords and refund requests -------
#: Local web passwords (`webauth: local`), argon2 hashes set from the CLI; kept
#: apart from `users` so that a user row never carries a password.
webpasswords = Table(
    "webpasswords",
    metadata,
    Column("username", name_type(), primary_key=True),
    Column("passwordhash", String(255), nullable=False),
    Column("updated", UtcDateTime(), nullable=False),
    **_MYSQL,
)

#: A user's request to refund one job (the web's refund page), decided by an
#: admin in the queue; an approval refunds through `refund` (as `jobs refund`).
refundrequests = Table(
    "refundrequests",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("jobrowid", _ID, nullable=False),
    Column("username", name_type(), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("created", UtcDateTime(), nullable=False),
    Column("state", String(16), nullable=False),
    Column("decidedby", name_type(), nullable=True),
    Column("decided", UtcDateTime(), nullable=True),
    Column("note", Text(), nullable=True),
    Index(None, "state"),
    Index(None, "username"),
    **_MYSQL,
)

#: Web sessions logged out before their cookie expires (the nonce the signed
#: cookie carries): refused by every web process, also after a restart; a row
#: is deleted once the cookie has expired anyway.
webrevoked = Table(
    "webrevoked",
    metadata,
    Column("nonce", String(64), primary_key=True),
    Column("expires", UtcDateTime(), nullable=False),
    Index(None, "expires"),
    **_MYSQL,
)

#: The web's rate limits (failed logins, quotes) shared by every web process of
#: the store: one row per limited key (a SHA-256 of kind and key, so neither
#: names nor addresses are kept), the times of its recent attempts as text.
webthrottle = Table(
    "webthrottle",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("times", String(4000), nullable=False),
    Column("updated", UtcDateTime(), nullable=False),
    Index(None, "kind", "updated"),
    **_MYSQL,
)

#: The receipt of a job refunded from the web (an approved request, an admin's
#: refund): its number (from `invoices`, kind "receipt") and what it says, kept
#: so that every download is the same document. The key makes one per job.
refundreceipts = Table(
    "refundreceipts",
    metadata,
    Column("jobrowid", _ID, primary_key=True, autoincrement=False),
    Column("number", BigInteger(), nullable=False, unique=True),
    Column("username", name_type(), nullable=False),
    Column("amount", Money(), nullable=False),
    Column("pages", Integer(), nullable=False),
    Column("balanceafter", Money(), nullable=True),
    Column("issued", UtcDateTime(), nullable=False),
    Index(None, "username"),
    **_MYSQL,
)
# --- end webui --------------------------------------------------------------------

_dialects_done: set[str] = set()
_dialects_lock = Lock()


def for_dialect(name: str) -> None:
    """Add to the tables what `name`'s DDL says and other engines' does not
    (MariaDB's table options and binary collation of names, PostgreSQL's partial
    index): once per process, before anything is compiled for that server (see
    the module's docstring). Nothing for SQLite."""
    name = "mysql" if name == "mariadb" else name
    with _dialects_lock:
        if name in _dialects_done or name not in ("mysql", "postgresql"):
            return
        if name == "mysql":
            for table in metadata.tables.values():
                table.dialect_kwargs.update(MYSQL_OPTIONS)
            mysql_names(c for t in metadata.tables.values() for c in t.columns)
        else:
            for index in jobhistory.indexes:
                if index.dialect_kwargs.get("sqlite_where") is not None:
                    index.dialect_kwargs["postgresql_where"] = text(_BILLED_ONLY)
        _dialects_done.add(name)


TABLES = (
    users,
    groups,
    groupsmembers,
    printers,
    printergroupsmembers,
    userpquota,
    grouppquota,
    jobhistory,
    payments,
    billingcodes,
    allowances,
    allowancegrants,
    invoices,
    apitokens,
    jobanswers,
    webpasswords,  # webui
    refundrequests,  # webui
    webrevoked,  # webui
    refundreceipts,  # webui
    webthrottle,  # webui
)
