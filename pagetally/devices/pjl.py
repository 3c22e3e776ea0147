"""A printer's page counter and state over PJL on TCP port 9100.

One query per reading, on a fresh connection (PyKota's, which worked on HP
printers): `ESC%-12345X@PJL USTATUS DEVICE=ON`, `@PJL INFO STATUS`,
`@PJL INFO PAGECOUNT`, `@PJL USTATUS DEVICE=OFF`, `ESC%-12345X`. The printer
answers each INFO with a block ending in a form feed; the page count comes as
`PAGECOUNT=N` or as a bare number on the line after the echoed command.

Status codes (HP PJL Technical Reference): 10023 printing and 10003 warming up
are printing; 10000 and 35078 power save, 10001 ready, 40000 sleep are idle;
10002 (offline), 40xxx (operator intervention), 41xxx (paper out / load
paper), 42xxx and 44xxx (jams), 43xxx (paper handling device) and 5xxxx
(hardware errors) need a person; anything else is busy.

Note: many printers serve one 9100 connection at a time, so a reading made
while the job's own connection is open waits or fails; the session retries.
"""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass

from pagetally.devices.base import PrinterState, Reading
from pagetally.errors import DeviceError

UEL = b"\x1b%-12345X"
QUERY = (
    UEL
    + b"@PJL USTATUS DEVICE=ON\r\n"
    + b"@PJL INFO STATUS\r\n"
    + b"@PJL INFO PAGECOUNT\r\n"
    + b"@PJL USTATUS DEVICE=OFF\r\n"
    + UEL
)
PRINTING_CODES = frozenset({10023, 10003})
IDLE_CODES = frozenset({10000, 10001, 35078, 40000})
MAX_REPLY = 64 * 1024  # a PJL status reply is a few hundred bytes

_CODE = re.compile(rb"^CODE\s*=\s*(\d+)", re.IGNORECASE)
_PAGECOUNT = re.compile(rb"^PAGECOUNT\s*=\s*(\d+)", re.IGNORECASE)
_DISPLAY = re.compile(rb'^DISPLAY\s*=\s*"?([^"\r\n]*)"?', re.IGNORECASE)
_NUMBER = re.compile(rb"^(\d+)\s*$")


@dataclass(frozen=True, slots=True)
class PjlStatus:
    """What a PJL reply said. Any field may be missing."""

    code: int | None = None
    pagecount: int | None = None
    display: str | None = None
    complete: bool = False  # both INFO answers were seen whole


def parse_reply(data: bytes) -> PjlStatus:
    """Parse the printer's answer to `QUERY` (INFO STATUS, INFO PAGECOUNT, USTATUS)."""
    code: int | None = None
    ustatus_code: int | None = None
    pagecount: int | None = None
    display: str | None = None
    seen_status = seen_count = False
    blocks = data.split(b"\x0c")
    for index, block in enumerate(blocks):
        whole = index < len(blocks) - 1  # a block is complete when a form feed ends it
        section = b""
        for raw in block.splitlines():
            line = raw.replace(UEL, b"").strip()
            if not line:
                continue
            upper = line.upper()
            if upper.startswith(b"@PJL"):
                words = upper.split()
                section = b" ".join(words[1:3])
                continue
            if (m := _CODE.match(line)) is not None:
                if section == b"INFO STATUS":
                    code = int(m.group(1))
                    seen_status = seen_status or whole
                else:
                    ustatus_code = int(m.group(1))
            elif (count := _pagecount(line, section)) is not None:
                pagecount = count
                seen_count = seen_count or whole
            elif (m := _DISPLAY.match(line)) is not None and section == b"INFO STATUS":
                display = m.group(1).decode("latin-1").strip()
    return PjlStatus(
        code if code is not None else ustatus_code,
        pagecount,
        display,
        seen_status and seen_count,
    )


def _pagecount(line: bytes, section: bytes) -> int | None:
    """`PAGECOUNT=N` anywhere, or a bare number in the INFO PAGECOUNT answer."""
    m = _PAGECOUNT.match(line)
    if m is None and section == b"INFO PAGECOUNT":
        m = _NUMBER.match(line)
    return int(m.group(1)) if m is not None else None


def classify_code(code: int | None) -> PrinterState:
    """A PJL status code as a printer state."""
    if code is None:
        return PrinterState.UNKNOWN
    if code in PRINTING_CODES:
        return PrinterState.PRINTING
    if code in IDLE_CODES:
        return PrinterState.IDLE
    if code == 10002 or 40000 <= code < 45000 or 50000 <= code < 60000:
        return PrinterState.ERROR
    return PrinterState.BUSY


def query(host: str, port: int = 9100, timeout: float = 5.0) -> PjlStatus:
    """Send `QUERY` on a new connection and parse the answer (waits at most `timeout`)."""
    deadline = time.monotonic() + timeout
    data = b""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(QUERY)
            while len(data) < MAX_REPLY:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                sock.settimeout(left)
                try:
                    chunk = sock.recv(4096)
                except TimeoutError:
                    break
                if not chunk:
                    break
                data += chunk
                if parse_reply(data).complete:
                    break
    except OSError as exc:
        raise DeviceError(f"PJL {host}:{port}: {exc}") from exc
    status = parse_reply(data)
    if status.pagecount is None and status.code is None:
        raise DeviceError(f"PJL {host}:{port}: no status nor page count in {len(data)} bytes")
    return status


class PjlAccounter:
    """A `HardwareAccounter` over PJL (TCP 9100)."""

    reports_status = True

    def __init__(self, host: str, port: int = 9100, *, timeout: float = 5.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout

    @property
    def name(self) -> str:
        return f"pjl://{self.host}:{self.port}"

    def read(self) -> Reading:
        status = query(self.host, self.port, self.timeout)
        state = classify_code(status.code)
        detail = f"PJL code {status.code}" + (f" {status.display!r}" if status.display else "")
        return Reading(status.pagecount, state, detail)
