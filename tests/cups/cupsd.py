"""A private cupsd for end-to-end tests: its own ServerRoot, spool, logs and
ServerBin in a temporary directory, listening on one loopback address only
(127.0.0.1 unless told another: two print servers take 127.0.0.2 and 127.0.0.3,
as two machines would have an address each), so tests never
touch the machine's CUPS. Its ServerBin links every stock CUPS program and adds
the PageTally backend (mode 0700, run by cupsd as root, as installed for real).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures_devices import free_port

CUPSD_CONF = """\
Listen {address}:{port}
LogLevel debug
MaxLogSize 0
WebInterface No
Browsing No
JobRetryInterval 1
PreserveJobHistory Yes
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  JobPrivateValues none
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
"""

CUPS_FILES_CONF = """\
ServerRoot {root}/etc
RequestRoot {root}/spool
TempDir {root}/spool/tmp
CacheDir {root}/cache
StateDir {root}/state
ServerBin {root}/bin
ErrorLog {root}/log/error_log
AccessLog {root}/log/access_log
PageLog {root}/log/page_log
User lp
Group lp
SystemGroup root
Sandboxing Relaxed
"""

DEBIAN12_CUPSD_CONF = Path(__file__).with_name("debian12-cupsd.conf")


def stock_cupsd_conf(port: int, socket: Path) -> str:
    """Debian 12's stock cupsd.conf (tests/cups/debian12-cupsd.conf), listening on
    127.0.0.1:`port` and the domain socket `socket` instead of the system's: the
    policies as installed (`Require user @OWNER @SYSTEM`, administration for
    @SYSTEM only: lpadmin as root through the socket, PeerCred)."""
    kept = [
        line
        for line in DEBIAN12_CUPSD_CONF.read_text().splitlines()
        if not line.lstrip().startswith(
            ("Listen", "Port", "LogLevel", "WebInterface", "Browsing", "BrowseLocalProtocols")
        )
    ]
    return "\n".join(
        [
            f"Listen 127.0.0.1:{port}",
            f"Listen {socket}",
            "LogLevel debug",
            "WebInterface No",
            "Browsing No",
            *kept,
            "",
        ]
    )


BACKEND = """#!{python}
from pagetally.cups.backend import main
main({config!r})
"""


@dataclass
class Cupsd:
    root: Path
    port: int
    config: Path  # the pagetally.conf the backend reads
    process: subprocess.Popen[bytes]
    address: str = "127.0.0.1"  # the loopback address it listens on

    @property
    def socket(self) -> Path:
        """Its domain socket (only a cupsd started with `stock_cupsd_conf` has one)."""
        return self.root / "cups.sock"

    @property
    def server(self) -> str:
        return f"{self.address}:{self.port}"

    def env(self) -> dict[str, str]:
        return {**os.environ, "CUPS_SERVER": self.server}

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """A CUPS client command against this cupsd. A freshly started cupsd now and
        then refuses a connection ("Unable to connect to server: Bad file
        descriptor"): such a refusal, which changed nothing, is tried again."""
        for _ in range(5):
            done = subprocess.run(
                list(argv), env=self.env(), capture_output=True, text=True, check=False, timeout=60
            )
            if done.returncode == 0 or "Unable to connect to server" not in done.stderr:
                break
            time.sleep(0.5)
        if check:
            done.check_returncode()
        return done

    def error_log(self) -> str:
        path = self.root / "log" / "error_log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_cupsd(
    root: Path,
    config: Path,
    cupsd_conf: Callable[[int, Path], str] | None = None,
    address: str = "127.0.0.1",
) -> Cupsd:
    """`cupsd_conf(port, socket)`: its cupsd.conf (default: open to all, no socket,
    listening on `address`)."""
    for sub in ("etc", "spool/tmp", "cache", "state", "log", "bin/backend"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "spool", 0o710)
    os.chmod(root / "spool" / "tmp", 0o1777)
    stock = Path("/usr/lib/cups")
    for item in stock.iterdir():
        if item.name != "backend":
            (root / "bin" / item.name).symlink_to(item)
    for item in (stock / "backend").iterdir():
        # not an installed pagetally backend: writing ours below would go through
        # the link into /usr/lib/cups and clobber every other test session's
        if item.name != "pagetally":
            (root / "bin" / "backend" / item.name).symlink_to(item)
    backend = root / "bin" / "backend" / "pagetally"
    backend.write_text(BACKEND.format(python=sys.executable, config=str(config)))
    backend.chmod(0o700)
    port = free_port(host=address)
    conf = (
        cupsd_conf(port, root / "cups.sock")
        if cupsd_conf is not None
        else CUPSD_CONF.format(port=port, address=address)
    )
    (root / "etc" / "cupsd.conf").write_text(conf)
    (root / "etc" / "cups-files.conf").write_text(CUPS_FILES_CONF.format(root=root))
    proc = subprocess.Popen(
        [
            "cupsd",
            "-f",
            "-c",
            str(root / "etc" / "cupsd.conf"),
            "-s",
            str(root / "etc" / "cups-files.conf"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cupsd = Cupsd(root, port, config, proc, address)
    deadline = time.monotonic() + 30
    while cupsd.run("lpstat", "-r", check=False).returncode != 0:
        if proc.poll() is not None or time.monotonic() > deadline:
            cupsd.stop()
            raise RuntimeError(f"cupsd did not start: {cupsd.error_log()[-3000:]}")
        time.sleep(0.2)
    return cupsd


@contextlib.contextmanager
def private_cupsd(
    prefix: str,
    config_text: Callable[[Path], str],
    cupsd_conf: Callable[[int, Path], str] | None = None,
    address: str = "127.0.0.1",
) -> Iterator[Cupsd]:
    """A started cupsd under a fresh folder, with the pagetally.conf that
    `config_text(folder)` writes (and `cupsd_conf`, see start_cupsd); stopped
    and removed at the end."""
    # not under pytest's tmp dir (mode 0700): CUPS filters run as user lp and
    # must reach the spool and the PPDs
    base = Path(tempfile.mkdtemp(prefix=prefix))
    base.chmod(0o755)
    config = base / "pagetally.conf"
    config.write_text(config_text(base))
    try:
        try:
            server = start_cupsd(base / "root", config, cupsd_conf, address)
        except RuntimeError:  # e.g. its free port was taken meanwhile: once more
            server = start_cupsd(base / "root-again", config, cupsd_conf, address)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def cupsd() -> Iterator[Cupsd]:
    with private_cupsd(
        "pagetally-cupsd-",
        lambda base: (
            "[global]\nstoragebackend: sqlite\n"
            f"storagename: {base / 'pagetally.db'}\n"
            f"directory: {base / 'pagetally-spool'}\n"
        ),
    ) as server:
        yield server
