"""One uvicorn and one headless Chromium for the whole browser suite.

Chromium is Debian's (/usr/bin/chromium) driven by Playwright through its
executable path: no browser is downloaded. The web interface runs in this
process under uvicorn on 127.0.0.1 (port 0: the kernel picks a free one) over
the test site (tests/web/site.py). Screenshots go to $PAGETALLY_SCREENSHOTS, or
a temporary folder whose path the run prints.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pagetally.web.app import create_app
from pagetally.web.serving import server, start_in_thread
from tests.polling import wait_until
from tests.web.site import NOW, SETTINGS, build_site

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def site_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    store = build_site(tmp_path_factory.mktemp("browser-site"))
    yield store
    store.close()


@pytest.fixture(scope="session")
def base_url(site_store: Any) -> Iterator[str]:
    srv = server(create_app(SETTINGS, site_store, now=lambda: NOW), "127.0.0.1", 0)
    thread = start_in_thread(srv)
    wait_until(lambda: srv.started, "uvicorn started", timeout=60)
    port = srv.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(30)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (scripts/apt-packages.txt)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("PAGETALLY_SCREENSHOTS")
    folder = Path(where) if where else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    _SHOTS.append(folder)
    return folder


_SHOTS: list[Path] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say where the screenshots are, after the run (also without -s)."""
    for folder in _SHOTS:
        names = sorted(p.name for p in folder.glob("*.png"))
        terminalreporter.write_line(f"screenshots of the web pages ({len(names)}): {folder}")
