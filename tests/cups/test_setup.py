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
from tests.cups.cupsd import Cupsd
from tests.fixtures_devices import IppEvePrinter

pytestmark = [pytest.mark.slow, pytest.mark.cups]


def setup_cli(cupsd: Cupsd, *args: str) -> tuple[int, str]:
    env = Env(environ={**os.environ, "CUPS_SERVER": cupsd.server})
    result = CliRunner().invoke(app, ["--config", str(cupsd.config), "setup", "cups", *args],
                                obj=env)
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
