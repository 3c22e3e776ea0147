"""`setup cups` for a PyKota site against a real (private) cupsd: queues keep their
`cupspykota:` URIs, the queue becomes a printer in the store, and a backend serving
another configuration (or PyKota's own) is never replaced silently."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pagetally.config import load_config
from pagetally.storage import open_store
from tests.cups.cupsd import Cupsd
from tests.cups.test_setup import setup_cli
from tests.fixtures_devices import IppEvePrinter

pytestmark = [pytest.mark.slow, pytest.mark.cups]

PYKOTA_BACKEND = "#!/usr/bin/python\n# PyKota's cupspykota (stands in for the real one)\n"


def test_cupspykota_queue_keeps_its_uri(cupsd: Cupsd, ipp_printer: IppEvePrinter) -> None:
    serverbin = cupsd.root / "bin"
    pykota = serverbin / "backend" / "cupspykota"
    if pykota.is_symlink():
        pykota.unlink()
    pykota.write_text(PYKOTA_BACKEND)
    pykota.chmod(0o700)
    # PyKota wrote cupspykota://URI; CUPS 2.4's lpadmin takes only cupspykota:URI
    # (both are read by the backend: tests/cups/test_strictmodes.py)
    uri = f"cupspykota:{ipp_printer.uri}"
    cupsd.run("lpadmin", "-p", "pkq", "-E", "-v", uri, "-m", "raw")

    code, out = setup_cli(cupsd, "pkq", "--serverbin", str(serverbin))
    assert code == 1 and "is not PageTally's (PyKota's cupspykota" in out
    assert "--replace-backend" in out
    assert pykota.read_text() == PYKOTA_BACKEND  # nothing replaced

    code, out = setup_cli(cupsd, "pkq", "--serverbin", str(serverbin), "--replace-backend")
    assert code == 0, out
    assert f"pkq: {uri} -> {uri} (unchanged)" in out  # the existing URI is kept
    assert str(cupsd.config) in pykota.read_text()  # PageTally answers cupspykota: now
    assert "pkq: added to the store as a printer" in out
    store = open_store(load_config(cupsd.config).store_settings(), readonly=True)
    assert store.get_printer("pkq").name == "pkq"  # the first job is not "unknown printer"
    code, out = setup_cli(cupsd, "pkq", "--serverbin", str(serverbin))
    assert code == 0 and "added to the store" not in out  # again: nothing more


def test_backend_of_another_config_is_refused(
    cupsd: Cupsd, ipp_printer: IppEvePrinter, tmp_path: Path
) -> None:
    cupsd.run("lpadmin", "-p", "other1", "-E", "-v", ipp_printer.uri, "-m", "raw")
    serverbin = tmp_path / "sbin"
    (serverbin / "backend").mkdir(parents=True)
    installed = serverbin / "backend" / "pagetally"
    installed.write_text("#!/usr/bin/python3 -S\nimport pagetally\nmain('/etc/site-b.conf')\n")
    code, out = setup_cli(cupsd, "other1", "--serverbin", str(serverbin))
    assert code == 1 and "serves another configuration (/etc/site-b.conf)" in out
    assert "site-b" in installed.read_text()
    assert f"device for other1: {ipp_printer.uri}" in cupsd.run("lpstat", "-v").stdout


def test_unsafe_config_is_refused(cupsd: Cupsd, ipp_printer: IppEvePrinter, tmp_path: Path) -> None:
    cupsd.run("lpadmin", "-p", "unsafe1", "-E", "-v", ipp_printer.uri, "-m", "raw")
    mode = cupsd.config.stat().st_mode
    os.chmod(cupsd.config, 0o664)
    try:
        code, out = setup_cli(cupsd, "unsafe1", "--serverbin", str(tmp_path))
    finally:
        os.chmod(cupsd.config, mode)
    assert code == 1
    assert f"the configuration: {cupsd.config} is writable by its group (mode 0664)" in out
    assert f"chmod go-w {cupsd.config}" in out
    assert not (tmp_path / "backend" / "pagetally").exists()
