"""`webstore`: the web's own database beside an LDAP store, as a URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from pagetally.config import load_config
from pagetally.errors import ConfigError
from pagetally.storage.base import StoreSettings


def _settings(tmp_path: Path, main: str, admin: str = "") -> StoreSettings:
    (tmp_path / "pagetally.conf").write_text(f"[global]\n{main}")
    (tmp_path / "pagetally-admin.conf").write_text(f"[global]\n{admin}")
    (tmp_path / "pagetally-admin.conf").chmod(0o600)
    return load_config(str(tmp_path / "pagetally.conf")).web_store_settings()


def test_the_default_is_a_sqlite_file_beside_the_stores(tmp_path: Path) -> None:
    got = _settings(tmp_path, "")
    assert (got.backend, got.name) == ("sqlite", "/var/lib/pagetally/web.db")


def test_a_server_database_takes_its_password_from_the_admin_file(tmp_path: Path) -> None:
    got = _settings(
        tmp_path, "webstore: postgresql://web@db.example.org:5433/ptweb\n", "webstorepw: s3cret\n"
    )
    assert (got.backend, got.server, got.name, got.admin_user, got.admin_password) == (
        "postgresql",
        "db.example.org:5433",
        "ptweb",
        "web",
        "s3cret",
    )
    assert _settings(tmp_path, "webstore: mysql://web@db/ptweb\n").backend == "mysql"


@pytest.mark.parametrize("url", ["ldap://x/y", "postgresql://web:pw@db/ptweb", "nonsense"])
def test_what_is_not_taken_is_said(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="webstore"):
        _settings(tmp_path, f"webstore: {url}\n")
