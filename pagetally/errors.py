"""The one error hierarchy of PageTally.

A leaf module (it imports nothing) so that every layer, `pdl/` included, may raise
these. Libraries raise them; only the edges (backend, CLI, web) render them, each
into its own form: a CUPS stderr line and backend exit code, a CLI message and exit
code, an HTTP status and JSON/HTML body. `exit_code` is the CLI's code for the class.
"""

from __future__ import annotations


class PageTallyError(Exception):
    """Base of every error PageTally raises on purpose. Its text is for a person."""

    exit_code: int = 1
    http_status: int = 500


# --- configuration -------------------------------------------------------------


class ConfigError(PageTallyError):
    """A configuration file is missing, unreadable or holds a bad value.

    The message names the file, line and directive where known.
    """

    exit_code = 3
    http_status = 500

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        directive: str | None = None,
    ) -> None:
        where = ""
        if path:
            where = path + (f":{line}" if line else "")
            where += f" [{directive}]" if directive else ""
            where += ": "
        elif directive:
            where = f"[{directive}] "
        super().__init__(where + message)
        self.path = path
        self.line = line
        self.directive = directive


# --- input and rules -----------------------------------------------------------


class InvalidInput(PageTallyError):
    """A value given by a person or client is malformed (amount, date, name, ...)."""

    exit_code = 2
    http_status = 400


class InvalidAmount(InvalidInput):
    """A money amount is not a number, negative where it must not be, or too precise."""


class RuleError(PageTallyError):
    """A domain rule refuses the request (e.g. a printer-group cycle)."""

    exit_code = 2
    http_status = 409


class PrinterGroupCycle(RuleError):
    """Adding this printer to this group would make a group contain itself."""


# --- the store -------------------------------------------------------------------


class StorageError(PageTallyError):
    """The store failed."""

    exit_code = 4
    http_status = 500


class StoreUnavailable(StorageError):
    """The store cannot be reached (server down, file unreadable, credentials refused)."""

    http_status = 503


class NotFound(StorageError):
    """A named user, group, printer, quota entry, billing code, ... does not exist."""

    exit_code = 5
    http_status = 404

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"{kind} {name!r} does not exist")
        self.kind = kind
        self.name = name


class AlreadyExists(StorageError):
    """Creating something whose name is taken."""

    exit_code = 6
    http_status = 409

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(f"{kind} {name!r} already exists")
        self.kind = kind
        self.name = name


class ReadOnlyStore(StorageError):
    """A write was attempted with the read-only credentials."""

    exit_code = 7
    http_status = 403


class NotAvailable(StorageError):
    """The store cannot answer this query (the LDAP store has no aggregating
    queries: the web's charts and dashboards need an SQL store)."""

    http_status = 501


class SchemaOutOfDate(StorageError):
    """The database schema is older than this PageTally: run `pagetally db upgrade`."""


# --- page description languages ---------------------------------------------------


class PdlError(PageTallyError):
    """A job's data cannot be analysed. Parsers raise only this (and subclasses)."""

    exit_code = 8
    http_status = 422


class UnknownFormat(PdlError):
    """No parser recognises the data."""


class TruncatedData(PdlError):
    """The data ends in the middle of a structure."""


class EncryptedData(PdlError):
    """The document is encrypted and cannot be read without a password."""


class CorruptData(PdlError):
    """The data is malformed beyond what lenient parsing can recover."""


class LimitReached(PdlError):
    """A hostile-input cap (size, count, nesting, time) was reached."""


class AnalysisUnavailable(PdlError):
    """An optional analysis (ink coverage, conversion) needs a tool that is missing."""


# --- devices (printer counters) ---------------------------------------------------


class DeviceError(PageTallyError):
    """A printer did not answer or answered nonsense (SNMP, PJL, IPP)."""

    exit_code = 9
    http_status = 502


# --- directories (sync of users and groups) --------------------------------------


class DirectoryError(PageTallyError):
    """The directory users and groups are synced from could not be read (an LDAP
    server down or refusing the bind, a passwd file that is not one). Nothing
    was changed: a sync never acts on a partial read."""

    exit_code = 4
    http_status = 502
