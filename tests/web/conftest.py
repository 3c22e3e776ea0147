"""Web test fixtures: the site (tests/web/site.py: one SQLite file built per
process, copied for each test), an app over it, and clients logged in as each
kind of caller. A new test takes `site` (its own copy: write freely) and `app`,
`anon`, `alice`, `bob`, `root` or `audrey`; one that needs other settings calls
`create_app(dataclasses.replace(SETTINGS, ...), site, now=lambda: NOW)` itself,
which costs a millisecond (the routes are built once per process)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pagetally.storage.sql import SqlStore
from pagetally.web.app import create_app
from tests.web.site import NOW, PASSWORD, SETTINGS, build_site

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    m = _CSRF.search(html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def login(client: TestClient, user: str, password: str = PASSWORD) -> TestClient:
    page = client.get("/login")
    r = client.post(
        "/login",
        data={"username": user, "password": password, "csrf": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return client


@pytest.fixture
def site(tmp_path: Path) -> Iterator[SqlStore]:
    store = build_site(tmp_path)
    yield store
    store.close()


@pytest.fixture
def app(site: SqlStore) -> FastAPI:
    return create_app(SETTINGS, site, now=lambda: NOW)


@pytest.fixture
def anon(app: FastAPI) -> TestClient:
    return TestClient(app)


@pytest.fixture
def alice(app: FastAPI) -> TestClient:
    return login(TestClient(app), "alice")


@pytest.fixture
def bob(app: FastAPI) -> TestClient:
    return login(TestClient(app), "bob")


@pytest.fixture
def root(app: FastAPI) -> TestClient:
    return login(TestClient(app), "root")


@pytest.fixture
def audrey(app: FastAPI) -> TestClient:
    """A read-only admin (member of @auditors)."""
    return login(TestClient(app), "audrey")
