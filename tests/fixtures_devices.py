"""Simulated printers for tests, reusable by any layer's tests (devices, cups, ...).

Use them from another test folder's conftest.py::

    from tests.fixtures_devices import ipp_printer, pjl_printer, snmp_printer  # noqa: F401

What each gives:
- `pjl_printer` (function scope): a started `tests.devices.pjlsim.PjlSim` on
  127.0.0.1 (`.host`, `.port`, `.counter`, `.print_pages(n)`, `.paper_out()`,
  ...); as a raw socket printer it also takes real jobs
  (`socket://127.0.0.1:PORT`) and counts their form feeds as pages.
- `snmp_agent` (session scope) / `snmp_printer` (function scope, reset to idle,
  counter 1000, no error): an snmpsim-command-responder on a free UDP port of
  127.0.0.1 with a printer's counter and status objects, writable over SNMP SET:
  `.target` (an SnmpTarget), `.set_counter(n)`, `.set_status(printer=3,
  device=2, errors=b"\\0\\0")`, `.read()` for the raw values.
- `ipp_printer` (session scope): an `ippeveprinter` on a free port, with a
  command that reports each PDF job's pages (`job-impressions-completed`, via
  qpdf) as a real printer would; `.uri`, `.spool`. `dns_sd` starts a D-Bus system
  bus and avahi-daemon first if they are not running (ippeveprinter needs
  DNS-SD) and stops only what it started. `start_ippeveprinter()` starts more.
"""

from __future__ import annotations

import contextlib
import grp
import os
import pwd
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pagetally.devices import snmp
from pagetally.devices.snmp import SnmpTarget
from pagetally.errors import DeviceError
from tests.devices.pjlsim import PjlSim
from tests.ports import free_port, listens_for, port_taken, taken_error, until_bound

VENV_BIN = Path(sys.executable).parent


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


# --- PJL ---------------------------------------------------------------------------


@pytest.fixture
def pjl_printer() -> Iterator[PjlSim]:
    """A PJL printer simulator on 127.0.0.1 (counter 1000, 0.05 s per page)."""
    with PjlSim(1000, seconds_per_page=0.05) as sim:
        yield sim


# --- SNMP --------------------------------------------------------------------------

SNMPREC = """\
1.3.6.1.2.1.1.1.0|4|PageTally simulated printer
1.3.6.1.2.1.25.3.2.1.5.1|2:writecache|value=2
1.3.6.1.2.1.25.3.5.1.1.1|2:writecache|value=3
1.3.6.1.2.1.25.3.5.1.2.1|4:writecache|hexvalue=0000
1.3.6.1.2.1.43.10.2.1.4.1.1|65:writecache|value=1000
"""


@dataclass
class SnmpSimAgent:
    """A running snmpsim agent simulating one printer (community 'printer')."""

    target: SnmpTarget
    process: subprocess.Popen[bytes]
    log: Path

    def set_counter(self, value: int) -> None:
        snmp.snmp_set(self.target, snmp.PAGE_COUNTER_OID, value, "counter32")

    def set_status(self, printer: int = 3, device: int = 2, errors: bytes = b"\0\0") -> None:
        snmp.snmp_set(self.target, snmp.HR_PRINTER_STATUS_OID, printer, "integer")
        snmp.snmp_set(self.target, snmp.HR_DEVICE_STATUS_OID, device, "integer")
        snmp.snmp_set(self.target, snmp.HR_ERROR_STATE_OID, errors, "octets")

    def read(self) -> dict[str, snmp.SnmpValue]:
        return snmp.snmp_get(self.target, snmp.STATUS_OIDS)


@pytest.fixture(scope="session")
def snmp_agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SnmpSimAgent]:
    """snmpsim-command-responder on a free UDP port of 127.0.0.1."""
    base = tmp_path_factory.mktemp("snmpsim")
    (base / "data").mkdir()
    (base / "cache").mkdir()
    (base / "data" / "printer.snmprec").write_text(SNMPREC)
    port = free_port(socket.SOCK_DGRAM)
    log = base / "snmpsim.log"
    argv = [
        str(VENV_BIN / "snmpsim-command-responder"),
        f"--data-dir={base / 'data'}",
        f"--cache-dir={base / 'cache'}",
        f"--agent-udpv4-endpoint=127.0.0.1:{port}",
        f"--process-user={pwd.getpwuid(os.getuid()).pw_name}",
        f"--process-group={grp.getgrgid(os.getgid()).gr_name}",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    target = SnmpTarget("127.0.0.1", port, community="printer", timeout=0.5, retries=0)
    agent = SnmpSimAgent(target, proc, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"snmpsim exited: {log.read_text()[-2000:]}")
            try:
                agent.read()
                break
            except DeviceError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield agent
    finally:
        _stop(proc)


@pytest.fixture
def snmp_printer(snmp_agent: SnmpSimAgent) -> SnmpSimAgent:
    """The session's SNMP agent, reset: idle, running, no error, counter 1000."""
    snmp_agent.set_status()
    snmp_agent.set_counter(1000)
    return snmp_agent


# --- IPP (ippeveprinter) ------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _dbus_running() -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect("/run/dbus/system_bus_socket")
        except OSError:
            return False
    return True


def _avahi_running() -> bool:
    return subprocess.run(["avahi-daemon", "--check"], check=False).returncode == 0


def _read_pid(path: Path) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        return int(path.read_text().split()[0])
    return None


@pytest.fixture(scope="session")
def dns_sd() -> Iterator[None]:
    """A D-Bus system bus and avahi-daemon (ippeveprinter needs DNS-SD).

    Starts each only if it is not running, and at the end stops only those it
    started, by their PIDs.
    """
    started: list[int] = []
    try:
        if not _dbus_running():
            Path("/run/dbus").mkdir(parents=True, exist_ok=True)
            stale = _read_pid(Path("/run/dbus/pid"))
            if stale is None or not _alive(stale):
                Path("/run/dbus/pid").unlink(missing_ok=True)
            out = subprocess.run(
                ["dbus-daemon", "--system", "--fork", "--print-pid"],
                capture_output=True,
                check=True,
                timeout=30,
            )
            started.append(int(out.stdout.split()[0]))
        if not _avahi_running():
            subprocess.run(["avahi-daemon", "-D", "--no-rlimits"], check=True, timeout=30)
            deadline = time.monotonic() + 10
            pid = None
            while pid is None and time.monotonic() < deadline:
                pid = _read_pid(Path("/run/avahi-daemon/pid"))
                time.sleep(0.05)
            if pid is not None:
                started.append(pid)
        yield
    finally:
        for pid in reversed(started):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)


# Reports a PDF job's pages the way a printer's firmware would: ippeveprinter reads
# `ATTR:` lines on the print command's stderr into the job's attributes.
PAGE_REPORTING_COMMAND = """\
#!/bin/sh
pages=$(qpdf --show-npages "$1" 2>/dev/null || echo 1)
echo "ATTR: job-impressions=$pages job-impressions-completed=$pages" >&2
exit 0
"""


@dataclass
class IppEvePrinter:
    """A running ippeveprinter."""

    uri: str
    spool: Path
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        _stop(self.process)


def start_ippeveprinter(
    base: Path, name: str = "pagetally-test", *, command: str | None = PAGE_REPORTING_COMMAND
) -> IppEvePrinter:
    """Start an ippeveprinter under `base` (needs `dns_sd`); stop it with `.stop()`."""
    spool = base / "spool"
    spool.mkdir(parents=True, exist_ok=True)
    port = free_port()
    argv = ["ippeveprinter", "-p", str(port), "-k", "-d", str(spool), "-n", "localhost"]
    argv += ["-f", "application/pdf,application/postscript,application/octet-stream"]
    if command is not None:
        script = base / "print-command"
        script.write_text(command)
        script.chmod(0o755)
        argv += ["-c", str(script)]
    log = base / "ippeveprinter.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([*argv, name], stdout=out, stderr=subprocess.STDOUT)
    printer = IppEvePrinter(f"ipp://localhost:{port}/ipp/print", spool, proc, log)
    deadline = time.monotonic() + 30
    while True:
        if proc.poll() is not None:
            text = log.read_text(errors="replace")
            if port_taken(text):  # taken before it bound: callers retry (until_bound)
                raise taken_error("ippeveprinter", port)
            raise RuntimeError(f"ippeveprinter exited: {text[-2000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0 and listens_for(proc.pid, port):
                return printer
        if time.monotonic() > deadline:
            printer.stop()
            raise RuntimeError(f"ippeveprinter did not listen: {log.read_text()[-2000:]}")
        time.sleep(0.1)


@pytest.fixture(scope="session")
def ipp_printer(dns_sd: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[IppEvePrinter]:
    """An ippeveprinter that reports each PDF job's pages."""
    printer = until_bound(lambda: start_ippeveprinter(tmp_path_factory.mktemp("ippeveprinter")))
    try:
        yield printer
    finally:
        printer.stop()
