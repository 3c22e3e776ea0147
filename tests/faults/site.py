"""A print site to break: a private cupsd (tests/cups/cupsd.py) whose queues go
through PageTally's thin backend to our socket printer (printer.py), the store
(SQLite or PostgreSQL), and `pagetally serve` started and killed at will.

Everything here is real: cupsd, CUPS' socket backend, the thin backend, the
service and its job runner, the store. Faults are injected from outside, as
an administrator would meet them: kill -9, a printer resetting the
connection, a full file system, a store file moved away.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from pagetally.core.models import Action, LimitBy, PriceTable, Printer, User
from pagetally.errors import AlreadyExists
from pagetally.service import jobs_socket
from pagetally.service.thin import backend_script
from pagetally.storage import StoreSettings, open_store
from pagetally.storage.base import HistoryFilter, Store
from tests.cups.cupsd import Cupsd, private_cupsd
from tests.cups.test_cupsd import job_attributes, submit
from tests.faults.printer import SocketPrinter
from tests.pdl._pdfmake import build_pdf

PAGETALLY = Path(sys.executable).parent / "pagetally"
PRICE = Decimal("0.10")  # per page
PAGES = 2
BALANCE = Decimal("100.00")
FINAL = ("completed", "canceled", "aborted")


def job_pdf(tag: str, pages: int = PAGES, size: int = 200_000) -> bytes:
    """A well-formed PDF of `pages` pages, about `size` bytes (comment lines), whose
    bytes are this job's alone (`tag`): the printer tells the jobs apart by them."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % (3 + i) for i in range(pages)), pages),
    }
    for i in range(pages):
        objects[3 + i] = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>"
    line = b"% " + tag.encode() + b" " + b"x" * 96 + b"\n"
    return build_pdf(objects, filler=line * (size // len(line)))


# --- processes ----------------------------------------------------------------


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    argv: list[str]


def processes() -> list[Proc]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read().rsplit(b")", 1)[-1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                argv = [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
        except OSError:
            continue
        if stat[0] == b"Z":
            continue
        found.append(Proc(int(entry), int(stat[1]), argv))
    return found


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except OSError:
        return False


@dataclass
class Site:
    cupsd: Cupsd
    printer: SocketPrinter
    settings: StoreSettings
    base: Path
    queue: str = "faulty"
    serve: subprocess.Popen[bytes] | None = None
    users: int = 0
    log: list[str] = field(default_factory=list)

    @property
    def config(self) -> Path:
        return self.cupsd.config

    @property
    def socket(self) -> str:
        return str(self.base / "run" / "pagetally.sock")

    def store(self) -> Store:
        return open_store(self.settings)

    # --- the service ------------------------------------------------------------
    def start_service(self) -> subprocess.Popen[bytes]:
        log = open(self.base / "serve.log", "ab")
        self.serve = subprocess.Popen(
            [str(PAGETALLY), "--config", str(self.config), "serve"], stdout=log, stderr=log
        )
        deadline = time.monotonic() + 30
        while not (self._runner_of(self.serve.pid) and os.path.exists(self.socket)):
            if self.serve.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((self.base / "serve.log").read_text()[-3000:])
            time.sleep(0.1)
        return self.serve

    def stop_service(self) -> None:
        if self.serve is not None and self.serve.poll() is None:
            self.serve.terminate()
            try:
                self.serve.wait(30)
            except subprocess.TimeoutExpired:
                self.serve.kill()
                self.serve.wait()
        self.serve = None

    def _runner_of(self, serve: int) -> bool:
        pid = self.runner_pid()
        return pid is not None and any(p.pid == pid and p.ppid == serve for p in processes())

    def runner_pid(self) -> int | None:
        """The job runner listening on the jobs socket (SO_PEERCRED)."""
        import socket
        import struct

        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.settimeout(1)
            probe.connect(jobs_socket(self.socket))
            creds = probe.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        except OSError:
            return None
        finally:
            probe.close()
        pid: int = struct.unpack("3i", creds)[0]
        return pid

    # --- people and jobs ----------------------------------------------------------
    def new_user(self, store: Store) -> str:
        self.users += 1
        name = f"{self.settings.backend[:2]}{self.users}"  # jobs' bytes differ per store
        store.add_user(User(name, limit_by=LimitBy.BALANCE, balance=BALANCE))
        store.set_user_quota(name, self.queue)
        return name

    def submit(self, user: str, data: bytes) -> int:
        path = self.base / "jobs" / f"{user}-{len(data)}-{time.monotonic_ns()}.pdf"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o644)
        return submit(self.cupsd, self.queue, user, path)

    def state(self, job: int) -> str:
        return job_attributes(self.cupsd, job).get("job-state", "")

    def wait_final(self, job: int, timeout: float = 90) -> str:
        deadline = time.monotonic() + timeout
        state, held_since = "", None
        while time.monotonic() < deadline:
            state = self.state(job)
            if state in FINAL or self.queue_stopped():
                return state
            # CUPS holds a job it will retry until the retry's time (1 s here):
            # held for longer, it is held for good
            if state != "pending-held":
                held_since = None
            elif held_since is None:
                held_since = time.monotonic()
            elif time.monotonic() - held_since > 30 or (
                "job held:" in self.job_log(job)
            ):  # held by PageTally for good
                return state
            time.sleep(0.2)
        return state

    def job_log(self, job: int) -> str:
        return "\n".join(x for x in self.cupsd.error_log().splitlines() if f"[Job {job}]" in x)

    def queue_stopped(self) -> bool:
        out = self.cupsd.run("lpstat", "-p", self.queue, check=False).stdout
        return "disabled" in out

    def real_backends(self, job: int | None = None) -> list[Proc]:
        """CUPS' socket backend processes started for this printer (argv[0] is the
        device URI), for one job or any."""
        return [
            p
            for p in processes()
            if p.argv
            and p.argv[0] == self.printer.uri
            and (job is None or p.argv[1:2] == [str(job)])
        ]

    def thin_backends(self, job: int) -> list[Proc]:
        return [
            p
            for p in processes()
            if p.ppid == self.cupsd.process.pid
            and any(a.endswith("backend/pagetally") for a in p.argv[:3])
            and str(job) in p.argv[3:4]
        ]

    def settled(self, user: str, data: bytes, timeout: float = 30) -> tuple[int, int]:
        """(printed, charged) once the attempts dir holds no record of the job, no
        process of it runs (a killed attempt's keeper may still be printing), and
        the printer has received what was sent (CUPS' socket backend may end with
        megabytes still in the sockets' buffers)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (
                not self.real_backends()
                and not self.records()
                and not self.settling()
                and not self.printer.receiving()
            ):
                break
            time.sleep(0.2)
        return self.printer.copies(data), len(self.charges(user))

    def settling(self) -> bool:
        """A keeper's settle still running, or charges still in the journal."""
        journal = self.base / "spool" / "journal"
        return any("pagetally.cups.settle" in p.argv for p in processes()) or (
            journal.is_dir() and any(journal.glob("*.json"))
        )

    def records(self) -> list[str]:
        folder = self.base / "spool" / "journal" / "attempts"
        return sorted(p.name for p in folder.glob("*.print*")) if folder.is_dir() else []

    def charges(self, user: str) -> list[tuple[Action, int, Decimal]]:
        with contextlib.closing(self.store()) as store:
            return [
                (j.action, j.pages, j.price)
                for j in store.history(HistoryFilter(user=user))
                if j.action in (Action.ALLOW, Action.WARN)
            ]

    def balance(self, user: str) -> Decimal:
        with contextlib.closing(self.store()) as store:
            found = store.get_user(user)
            assert found is not None
            return found.balance


def config_text(settings: StoreSettings, base: Path, extra: str = "") -> str:
    store = (
        f"storagebackend: sqlite\nstoragename: {settings.name}\n"
        if settings.backend == "sqlite"
        else f"storagebackend: postgresql\nstorageserver: {settings.server}\n"
        f"storagename: {settings.name}\nstorageuser: {settings.user}\n"
        f"storageuserpw: {settings.password}\n"
    )
    return (
        f"[global]\n{store}directory: {base / 'spool'}\n"
        f"accountingservice: {base / 'run' / 'pagetally.sock'}\n"
        f"logger: stderr\nmailto: devnull\n{extra}"
    )


@contextlib.contextmanager
def fault_site(
    settings: StoreSettings, printer: SocketPrinter, address: str = "127.0.0.1", extra: str = ""
) -> Iterator[Site]:
    """A private cupsd with the thin backend installed (as `pagetally setup cups`
    does), one raw queue `faulty` on the socket printer retrying failed jobs
    (`printer-error-policy=retry-job`, every second, 5 times). cupsd listens on
    `address`; `extra`: more [global] directives ("{base}" in them: the site's folder)."""
    holder: dict[str, Path] = {}

    def text(base: Path) -> str:
        holder["base"] = base
        if settings.backend != "sqlite":
            admin = base / "pagetally-admin.conf"
            admin.write_text(
                f"[global]\nstorageadmin: {settings.admin_user}\n"
                f"storageadminpw: {settings.admin_password}\n"
            )
            admin.chmod(0o640)
        return config_text(settings, base, extra.replace("{base}", str(base)))

    with private_cupsd("pagetally-faults-", text, address=address) as cupsd:
        base = holder["base"]
        (base / "run").mkdir(mode=0o755, exist_ok=True)
        backend = cupsd.root / "bin" / "backend" / "pagetally"
        backend.write_text(backend_script(str(cupsd.config), python=sys.executable))
        backend.chmod(0o700)
        cupsd.run(
            "lpadmin",
            "-p",
            "faulty",
            "-E",
            "-v",
            f"pagetally:{printer.uri}",
            "-m",
            "raw",
            "-o",
            "printer-error-policy=retry-job",
        )
        store = open_store(settings)
        store.upgrade()
        with contextlib.suppress(AlreadyExists):  # a second print server on the same store
            store.add_printer(Printer("faulty", prices=PriceTable(per_page=PRICE)))
        store.close()
        site = Site(cupsd, printer, settings, base)
        try:
            yield site
        finally:
            site.stop_service()
            for p in site.real_backends():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p.pid, signal.SIGKILL)


def use_service(site: Site, on: bool) -> None:
    """Whether the thin backend finds a service (`accountingservice`)."""
    text = site.config.read_text()
    want = str(site.base / "run" / "pagetally.sock") if on else "none"
    text = re.sub(r"^accountingservice: .*$", f"accountingservice: {want}", text, flags=re.M)
    site.config.write_text(text)
