"""`pagetally setup cups` against a real (private) cupsd: install, wrap, print, undo."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pagetally.cli.env import Env
from pagetally.cli.main import app
from pagetally.cups.setup import CRASHING_CUPSD, cupsd_version
from tests.cups.cupsd import DEBIAN12_CUPSD_CONF, Cupsd
from tests.fixtures_devices import IppEvePrinter

pytestmark = [pytest.mark.slow, pytest.mark.cups]


def setup_cli(cupsd: Cupsd, *args: str, **environ: str) -> tuple[int, str]:
    env = Env(environ={**os.environ, "CUPS_SERVER": cupsd.server, **environ})
    result = CliRunner().invoke(
        app, ["--config", str(cupsd.config), "setup", "cups", *args], obj=env
    )
    return result.exit_code, result.output


def test_wrap_and_undo(cupsd: Cupsd, ipp_printer: IppEvePrinter) -> None:
    cupsd.run("lpadmin", "-p", "plain1", "-E", "-v", ipp_printer.uri, "-m", "raw")
    serverbin = cupsd.root / "bin"
    backend = serverbin / "backend" / "pagetally"

    code, out = setup_cli(cupsd, "plain1", "--serverbin", str(serverbin))
    assert code == 0, out
    assert f"plain1: {ipp_printer.uri} -> pagetally:{ipp_printer.uri} (changed)" in out
    assert stat.S_IMODE(backend.stat().st_mode) == 0o700
    assert str(cupsd.config) in backend.read_text()
    assert f"device for plain1: pagetally:{ipp_printer.uri}" in cupsd.run("lpstat", "-v").stdout
    # the installed backend answers CUPS' discovery call
    found = subprocess.run([str(backend)], capture_output=True, text=True, check=True)
    assert found.stdout.startswith('network pagetally "Unknown"')

    code, out = setup_cli(cupsd, "plain1", "--serverbin", str(serverbin))
    assert "(unchanged)" in out

    code, out = setup_cli(cupsd, "plain1", "--undo")
    assert code == 0, out
    assert f"device for plain1: {ipp_printer.uri}" in cupsd.run("lpstat", "-v").stdout


def test_unknown_queue_changes_nothing(cupsd: Cupsd, tmp_path: Path) -> None:
    code, out = setup_cli(cupsd, "nosuchqueue", "--serverbin", str(tmp_path))
    assert code != 0
    assert "no such CUPS queue: nosuchqueue" in out


def test_warns_about_the_cupsd_that_crashes(
    cupsd: Cupsd, ipp_printer: IppEvePrinter, tmp_path: Path
) -> None:
    """On the cupsd that crashes on user names that are no local account, with the
    stock policy, setup says so (docs/backend.md, "Known problems"); and it tells
    that other users can read the jobs' statuses."""
    cupsd.run("lpadmin", "-p", "warned", "-E", "-v", ipp_printer.uri, "-m", "raw")
    (tmp_path / "cupsd.conf").write_text(DEBIAN12_CUPSD_CONF.read_text())
    code, out = setup_cli(
        cupsd, "warned", "--serverbin", str(cupsd.root / "bin"), CUPS_SERVERROOT=str(tmp_path)
    )
    assert code == 0, out
    crashes = "crashes when a job's user name is no local account" in out
    assert crashes == (cupsd_version() in CRASHING_CUPSD), out
    assert "add job-printer-state-message to each JobPrivateValues line" in out
    assert "warned: " in out  # and the queue was wrapped all the same
