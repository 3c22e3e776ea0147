"""Where the print server is and who the user is: command line, environment,
then ~/.config/pagetally/client.conf (`server = HOST:PORT`, `tls = yes|no`,
`cafile = PATH`, `token_file = PATH`).

The token is read from a file (mode 0600 advised) or $PAGETALLY_TOKEN, never from
the command line, where every local user could read it (`ps`)."""

from __future__ import annotations

import ipaddress
import os
import sys
from dataclasses import dataclass
from pathlib import Path


class SettingsError(Exception):
    """The client cannot start: what is missing or wrong, for the user."""


def config_dir() -> Path:
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home())) / "PageTally"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "PageTally"
    return Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "pagetally"


@dataclass(frozen=True)
class Settings:
    host: str
    port: int
    token: str
    tls: bool
    cafile: str | None = None


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _read_conf(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return values
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";")) and "=" in line:
            key, _, value = line.partition("=")
            values[key.strip().lower()] = value.strip()
    return values


def load(
    server: str | None,
    token_file: str | None,
    tls: bool | None,
    cafile: str | None,
    environ: dict[str, str] | None = None,
) -> Settings:
    env = dict(os.environ) if environ is None else environ
    conf = _read_conf(config_dir() / "client.conf")
    where = server or env.get("PAGETALLY_SERVER") or conf.get("server")
    if not where:
        raise SettingsError(
            "no print server: give --server HOST:PORT, set PAGETALLY_SERVER "
            f"or write server = HOST:PORT in {config_dir() / 'client.conf'}"
        )
    host, _, port = where.rpartition(":")
    if not port.isdigit() or not host:
        raise SettingsError(f"the server {where!r} is not HOST:PORT")
    host = host.strip("[]")
    token = env.get("PAGETALLY_TOKEN", "").strip()
    if not token:
        path = Path(token_file or conf.get("token_file") or config_dir() / "token")
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as e:
            raise SettingsError(
                f"no token: cannot read {path} ({e.strerror}); get one with "
                "`pagetally tokens add` or from the web interface"
            ) from None
    if tls is None:
        word = conf.get("tls", "").lower()
        tls = word in ("yes", "true", "on", "1") if word else not is_loopback(host)
    return Settings(host, int(port), token, tls, cafile or conf.get("cafile") or None)
