"""The application `pagetally web` builds from pagetally.conf alone."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from pagetally.config import load_config
from pagetally.web.app import create_app_from_config
from tests.web.conftest import csrf_of, login
from tests.web.site import build_site


def test_a_sqlite_site_without_admin_file_can_be_changed(tmp_path: Path) -> None:
    """As the CLI: a SQLite store is written by whoever may write the file (the
    demo has no admin file), so admins change it and users ask refunds."""
    build_site(tmp_path).close()
    conf = tmp_path / "pagetally.conf"
    conf.write_text(
        f"[global]\nstoragebackend: sqlite\nstoragename: {tmp_path / 'web.db'}\n"
        "currency: EUR\nwebadmins: root\n"
    )
    cfg = load_config(str(conf))
    assert not cfg.is_admin
    client = login(TestClient(create_app_from_config(cfg)), "root")
    r = client.post(
        "/admin/user/credit",
        data={"csrf": csrf_of(client.get("/admin").text), "name": "bob", "amount": "1"},
    )
    assert r.status_code == 200 and "credit of 1.00 EUR for bob recorded" in r.text
    assert 'id="balance">10.80 EUR<' in client.get("/admin/user?name=bob").text
