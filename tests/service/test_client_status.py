"""`pagetally-client status` (the status view) and its picture for docs/client.md."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.service.test_notifier import Running, running  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]


def test_status_view(running: Running) -> None:  # noqa: F811
    env = {**os.environ, "PAGETALLY_TOKEN": running.tokens["bob"]}
    shown = subprocess.run(
        [
            sys.executable,
            "-m",
            "pagetally_client",
            "--server",
            f"127.0.0.1:{running.hub.port}",
            "status",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0] == "PageTally — bob"
    assert "Balance: 3.00   (limited by balance)" in lines
    assert "  lab                   0         100       120       120" in lines
    assert "alice" not in shown.stdout and "12.50" not in shown.stdout
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "pagetally_client",
            "--server",
            f"127.0.0.1:{running.hub.port}",
            "status",
        ],
        env={**env, "PAGETALLY_TOKEN": "ptk_" + "z" * 43},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1
    assert "the server refused this client: token refused" in refused.stderr


@pytest.mark.slow
def test_screenshot_of_the_status_view(tmp_path: Path) -> None:
    out = tmp_path / "status.png"
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "client-screenshot.py"), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Balance: 11.10 EUR" in done.stdout
    from PIL import Image

    with Image.open(out) as image:
        assert image.format == "PNG" and image.width > 500 and image.height > 250
