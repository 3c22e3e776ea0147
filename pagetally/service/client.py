"""The backend's side of the accounting service: a Store over a Unix socket.

`connect(path)` returns a `RemoteStore` when `pagetally serve` listens there, else
None (the backend then opens the store itself). `RemoteStore` implements the part
of the Store protocol the backend and its journal use; every call is one request
line and one answer line. Errors come back as their own `pagetally.errors` class;
a service that goes away mid-call is `StoreUnavailable`, so the backend's store-down
policy and journal apply. Standard library only: importing this is cheap.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, BinaryIO, NoReturn

from pagetally.core.dialogs import Answer
from pagetally.core.models import (
    AccountSnapshot,
    BillingCode,
    ChargeRequest,
    ChargeResult,
    Group,
    JobFacts,
    JobRecord,
    Printer,
    User,
    UserQuota,
)
from pagetally.errors import InvalidInput, StoreUnavailable
from pagetally.service import protocol
from pagetally.storage.base import HistoryFilter

DEFAULT_TIMEOUT = 75.0  # seconds per call: longer than the store waits for its locks (60 s)


def connect(path: str, timeout: float = DEFAULT_TIMEOUT) -> RemoteStore | None:
    """A store served at `path`, or None when nothing listens there."""
    if not path or path == "none":
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(min(timeout, 5.0))
    try:
        sock.connect(path)
    except OSError:  # no socket file, nobody listening, not allowed: no service
        sock.close()
        return None
    sock.settimeout(timeout)
    return RemoteStore(sock, path)


class RemoteStore:
    """The store, as `pagetally serve` offers it (see `protocol.OPS`)."""

    readonly = False

    def __init__(self, sock: socket.socket, path: str) -> None:
        self._sock = sock
        self._file: BinaryIO = sock.makefile("rb")
        self.path = path

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()
        self._sock.close()

    def _fail(self, why: str) -> NoReturn:
        self.close()
        raise StoreUnavailable(f"the accounting service at {self.path} {why}")

    def call(self, op: str, **args: Any) -> Any:
        """One request and its answer, decoded to the op's result type."""
        spec = protocol.OPS[op]
        if self._sock.fileno() < 0:
            self._fail("was closed")
        try:
            self._sock.sendall(protocol.encode_request(op, args))
            line = self._file.readline(protocol.MAX_LINE + 1)
        except TimeoutError:
            self._fail("did not answer in time")
        except OSError as e:
            self._fail(f"cannot be reached: {e.strerror or e}")
        if not line.endswith(b"\n"):
            self._fail("closed the connection" if not line else "sent an overlong answer")
        return protocol.decode_answer(line, spec.result)

    # --- the Store methods the backend uses ---------------------------------
    def ping(self) -> dict[str, str]:
        result: dict[str, str] = self.call("ping")
        return result

    def snapshot(self, user: str, printer: str, billing_code: str | None = None) -> AccountSnapshot:
        result: AccountSnapshot = self.call(
            "snapshot", user=user, printer=printer, billing_code=billing_code
        )
        return result

    def charge(self, request: ChargeRequest) -> ChargeResult:
        if request.date.tzinfo is None:
            raise InvalidInput("a charge's date must be timezone-aware")
        result: ChargeResult = self.call("charge", request=request)
        return result

    def history(self, flt: HistoryFilter | None = None) -> Iterator[JobRecord]:
        result: list[JobRecord] = self.call("history", flt=flt or HistoryFilter())
        return iter(result)

    def record_job_answers(self, facts: JobFacts, answers: Sequence[Answer], date: datetime) -> int:
        result: int = self.call("record_job_answers", facts=facts, answers=list(answers), date=date)
        return result

    def add_billing_code(self, code: BillingCode) -> BillingCode:
        result: BillingCode = self.call("add_billing_code", code=code)
        return result

    def get_billing_code(self, code: str) -> BillingCode:
        result: BillingCode = self.call("get_billing_code", code=code)
        return result

    def get_user(self, name: str) -> User:
        result: User = self.call("get_user", name=name)
        return result

    def get_user_pin_hash(self, name: str) -> str | None:
        result: str | None = self.call("get_user_pin_hash", name=name)
        return result

    def get_printer(self, name: str) -> Printer:
        result: Printer = self.call("get_printer", name=name)
        return result

    def get_user_quota(self, user: str, printer: str) -> UserQuota:
        result: UserQuota = self.call("get_user_quota", user=user, printer=printer)
        return result

    def groups_of(self, user: str) -> list[Group]:
        result: list[Group] = self.call("groups_of", user=user)
        return result

    def printer_chain(self, printer: str) -> list[Printer]:
        result: list[Printer] = self.call("printer_chain", printer=printer)
        return result

    def add_user(self, user: User, *, opening: str = "") -> User:
        result: User = self.call("add_user", user=user, opening=opening)
        return result

    def add_printer(self, printer: Printer) -> Printer:
        result: Printer = self.call("add_printer", printer=printer)
        return result

    def set_user_quota(
        self,
        user: str,
        printer: str,
        *,
        soft_limit: int | None = None,
        hard_limit: int | None = None,
        max_job_size: int | None = None,
    ) -> UserQuota:
        result: UserQuota = self.call(
            "set_user_quota",
            user=user,
            printer=printer,
            soft_limit=soft_limit,
            hard_limit=hard_limit,
            max_job_size=max_job_size,
        )
        return result
