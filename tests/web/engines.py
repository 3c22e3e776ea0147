"""The web's site (tests/web/site.py) on each SQL engine, and requests at once:
for the tests of what must hold under concurrency (one invoice number, one
refund an approval)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pagetally.storage import open_store
from pagetally.storage.sql import SqlStore
from tests.servers import ServerInfo
from tests.web.site import build_site, fill

ENGINES = [
    "sqlite",
    pytest.param("postgresql", marks=[pytest.mark.slow, pytest.mark.postgresql]),
    pytest.param("mariadb", marks=[pytest.mark.slow, pytest.mark.mariadb]),
]


def site_on(request: pytest.FixtureRequest, tmp_path: Path) -> SqlStore:
    """The site on `request.param`'s engine (a server's own new database).
    The test module imports the servers' fixtures from tests/servers.py."""
    if request.param == "sqlite":
        return build_site(tmp_path)
    server: ServerInfo = request.getfixturevalue(f"{request.param}_server")
    settings = server.new_database("web")
    made = open_store(settings)
    made.upgrade()
    made.close()
    opened = open_store(settings)
    assert isinstance(opened, SqlStore)
    return fill(opened)


def site_of(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A fixture's body: `@pytest.fixture(params=ENGINES)` then `yield from` it."""
    store = site_on(request, tmp_path)
    try:
        yield store
    finally:
        store.close()


def at_once(n: int, work: Callable[[int], Any]) -> list[object]:
    """`work(i)` in `n` threads released together; their results (or errors)."""
    gate = threading.Barrier(n)
    out: list[object] = [None] * n

    def run(i: int) -> None:
        gate.wait()
        try:
            out[i] = work(i)
        except Exception as exc:
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return out
