"""Helpers shared by the end-to-end tests through a private cupsd
(test_cupsd_policies.py, test_cupsd_reliability.py); test_cupsd.py has the
submitting and waiting ones."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pagetally.storage import StoreSettings, open_store
from pagetally.storage.base import Store
from tests.cups.cupsd import Cupsd
from tests.fixtures_devices import IppEvePrinter, start_ippeveprinter

PAGETALLY = Path(sys.executable).parent / "pagetally"


def store_of(cupsd: Cupsd) -> Store:
    """The SQLite store the session cupsd's pagetally.conf names."""
    return open_store(
        StoreSettings(backend="sqlite", name=str(cupsd.config.parent / "pagetally.db"))
    )


def wrap(cupsd: Cupsd, queue: str, device_uri: str, *lpadmin: str) -> None:
    """A raw queue whose device is `pagetally:<device_uri>`.

    A freshly started cupsd now and then refuses the first admin request
    ("Unable to connect to server: Bad file descriptor"): tried again then."""
    argv = ["lpadmin", "-p", queue, "-E", "-v", f"pagetally:{device_uri}", "-m", "raw", *lpadmin]
    for _ in range(5):
        done = cupsd.run(*argv, check=False)
        if done.returncode == 0:
            return
        if "Unable to connect" not in done.stderr:
            break
        time.sleep(0.5)
    raise subprocess.CalledProcessError(done.returncode, argv, done.stdout, done.stderr)


def configure(cupsd: Cupsd, queue: str, **directives: str) -> None:
    """A section for `queue` in the cupsd's pagetally.conf (read by every job)."""
    lines = "".join(f"{name}: {value}\n" for name, value in directives.items())
    with cupsd.config.open("a") as conf:
        conf.write(f"\n[{queue}]\n{lines}")


def lpstat_status(cupsd: Cupsd, queue: str) -> str:
    """The `Status:` lines `lpstat -l` shows for the queue's finished jobs."""
    out = cupsd.run("lpstat", "-l", "-W", "completed", "-o", queue).stdout
    return "\n".join(
        line.strip() for line in out.splitlines() if line.strip().startswith("Status:")
    )


def pdf_of_pages(path: Path, pages: int) -> Path:
    """A PDF of `pages` copies of CUPS' one-page test page."""
    one = "/usr/share/cups/data/default-testpage.pdf"
    subprocess.run(["qpdf", "--empty", "--pages", *[one] * pages, "--", str(path)], check=True)
    return path


def own_ipp_printer(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[IppEvePrinter]:
    """A module's own ippeveprinter (needs `dns_sd`), for a module-scoped
    `ipp_printer` fixture that shadows the session's: a job another module
    leaves stuck in the session's printer (ippeveprinter refuses a PJL-wrapped
    document, then answers "Currently printing another job" for good) must not
    hold these tests up."""
    printer = start_ippeveprinter(tmp_path_factory.mktemp(name), name)
    try:
        yield printer
    finally:
        printer.stop()
