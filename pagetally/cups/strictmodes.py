"""Like sshd's StrictModes, for what cupsd runs as root: the backend imports
PageTally from its install folder and reads the configuration (which names
commands it runs), the journal and the spool. If anyone but root (or the user
installing, for a private cupsd) can write one of these or a folder above it,
that person can make the backend run their code as root. `setup cups` refuses
then, naming the path and how to fix it.

Pure checks over `os.lstat`-like results, so that tests can give any owner and mode.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

StatFn = Callable[[str], os.stat_result]


@dataclass(frozen=True, slots=True)
class Unsafe:
    """One path others could write: what it is for, the path, the reason."""

    what: str
    path: str
    reason: str

    def __str__(self) -> str:
        return (
            f"{self.what}: {self.path} {self.reason}: run `chown root {self.path}` and "
            f"`chmod go-w {self.path}` (cupsd runs the backend as root, and whoever "
            "can write there could make it run their code)"
        )


def _problem(st: os.stat_result, trusted: frozenset[int], below_owner: int | None) -> str | None:
    if st.st_uid not in trusted:
        return f"is owned by uid {st.st_uid}"
    mode = stat.S_IMODE(st.st_mode)
    if mode & (stat.S_IWGRP | stat.S_IWOTH):
        # a sticky folder owned by a trusted user (/tmp) lets nobody replace an
        # entry they do not own: safe when what lies below is trusted
        if stat.S_ISDIR(st.st_mode) and mode & stat.S_ISVTX and below_owner in trusted:
            return None
        who = (
            "its group and others"
            if mode & stat.S_IWGRP and mode & stat.S_IWOTH
            else ("its group" if mode & stat.S_IWGRP else "others")
        )
        return f"is writable by {who} (mode {mode:04o})"
    return None


def unsafe_path(
    what: str, path: str | Path, trusted: frozenset[int], lstat: StatFn = os.lstat
) -> Unsafe | None:
    """The first problem with `path` or a folder above it (symbolic links
    followed as they resolve), else None. A missing path is no problem."""
    full = Path(os.path.abspath(path))
    chain = [full, *full.parents]
    owners: list[int | None] = []
    stats: list[os.stat_result | None] = []
    for p in chain:
        try:
            st = lstat(str(p))
        except FileNotFoundError:
            st = None
        stats.append(st)
        owners.append(st.st_uid if st is not None else None)
    for i, (p, st) in enumerate(zip(chain, stats, strict=True)):
        if st is None:
            continue
        below = owners[i - 1] if i > 0 else None
        reason = _problem(st, trusted, below)
        if reason is not None:
            return Unsafe(what, str(p), reason)
    return None


def unsafe_tree(
    what: str, folder: str | Path, trusted: frozenset[int], lstat: StatFn = os.lstat
) -> Unsafe | None:
    """`folder`, the folders above it and everything inside it (PageTally's package)."""
    found = unsafe_path(what, folder, trusted, lstat)
    if found is not None:
        return found
    for root, dirs, files in os.walk(folder):
        for name in [*dirs, *files]:
            p = os.path.join(root, name)
            st = lstat(p)
            reason = _problem(st, trusted, None)
            if reason is not None:
                return Unsafe(what, p, reason)
    return None


def trusted_owners() -> frozenset[int]:
    """root, and whoever runs setup (a private cupsd runs backends as its user)."""
    return frozenset({0, os.geteuid()})


def check_install(
    paths: Iterable[tuple[str, str | Path, bool]],
    trusted: frozenset[int] | None = None,
    lstat: StatFn = os.lstat,
) -> list[Unsafe]:
    """Every problem among (what, path, whole tree?) entries."""
    owners = trusted if trusted is not None else trusted_owners()
    out: list[Unsafe] = []
    for what, path, tree in paths:
        found = (unsafe_tree if tree else unsafe_path)(what, path, owners, lstat)
        if found is not None:
            out.append(found)
    return out


def install_paths(
    config_path: str, admin_path: str | None, spool: str
) -> list[tuple[str, str, bool]]:
    """What the installed backend trusts: (what, path, check the whole tree?)."""
    import sys

    import pagetally

    package = Path(pagetally.__file__).resolve().parent
    paths = [
        ("PageTally's install folder", str(package), True),
        ("the Python interpreter", os.path.realpath(sys.executable), False),
        ("the configuration", config_path, False),
        ("the spool folder (directory)", spool, False),
        ("the journal folder", str(Path(spool) / "journal"), False),
    ]
    if admin_path:
        paths.append(("the admin file", admin_path, False))
    return paths
