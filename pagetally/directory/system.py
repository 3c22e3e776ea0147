"""Users and groups of the system: NSS (`pwd`/`grp`, so NIS, LDAP via sssd and
winbind users too) or passwd/group files given by path (tests, a copy from
another server)."""

from __future__ import annotations

import grp
import pwd
from pathlib import Path

from pagetally.core.directory import Directory, DirGroup, DirUser
from pagetally.errors import DirectoryError


def _description(gecos: str) -> str:
    """The full name: GECOS' first comma-separated field."""
    return gecos.split(",", 1)[0].strip()


def read_nss() -> Directory:
    """Every user and group the name service lists (`getent passwd`/`group`)."""
    users = tuple(
        DirUser(p.pw_name, p.pw_uid, p.pw_gid, None, _description(p.pw_gecos))
        for p in pwd.getpwall()
    )
    groups = tuple(DirGroup(g.gr_name, g.gr_gid, tuple(g.gr_mem)) for g in grp.getgrall())
    return Directory("system", users, groups)


def _lines(path: Path, fields: int) -> list[tuple[int, list[str]]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DirectoryError(f"cannot read {path}: {exc.strerror or exc}") from None
    out: list[tuple[int, list[str]]] = []
    for number, raw in enumerate(data.splitlines(), 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise DirectoryError(f"{path}:{number}: not UTF-8 text") from None
        if not line.strip() or line.startswith(("#", "+", "-")):  # comments, NIS markers
            continue
        parts = line.split(":")
        if len(parts) != fields or not parts[0]:
            raise DirectoryError(f"{path}:{number}: expected {fields} ':'-separated fields")
        out.append((number, parts))
    return out


def _number(path: Path, line: int, text: str, what: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise DirectoryError(f"{path}:{line}: {what} {text!r} is not a number")
    return int(text)


def read_files(passwd: Path, group: Path | None = None) -> Directory:
    """passwd(5) and group(5) files; a malformed line is an error naming it."""
    users = tuple(
        DirUser(
            f[0],
            _number(passwd, n, f[2], "uid"),
            _number(passwd, n, f[3], "gid"),
            None,
            _description(f[4]),
        )
        for n, f in _lines(passwd, 7)
    )
    groups: tuple[DirGroup, ...] = ()
    if group is not None:
        groups = tuple(
            DirGroup(
                f[0],
                _number(group, n, f[2], "gid"),
                tuple(m.strip() for m in f[3].split(",") if m.strip()),
            )
            for n, f in _lines(group, 4)
        )
    return Directory(f"files {passwd}", users, groups)
