"""Reading `pagetally.conf` and its admin-only secrets file into a `Config`.

The format is PyKota's (read by the one INI reader, pagetally/ini.py): a
`[global]` section and one section per printer (print queue) whose directives
override the global ones. Every value is checked against the directive table
(config/table.py) when the file is read, so a typo fails at once with the file,
line and directive in the message (`ConfigError`).

The read-write credentials (`storageadmin`, `storageadminpw`) live in a separate
file readable by administrators only (PyKota's pykotadmin.conf): by default
`pagetally-admin.conf` beside the main file. It is refused when world-readable.
Someone who cannot read it gets the read-only credentials only.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from pagetally.config.table import (
    PYKOTA_FORMS,
    PYKOTA_ONLY,
    UNDERSTOOD,
    did_you_mean,
    find_directive,
)
from pagetally.config.values import Config
from pagetally.errors import ConfigError
from pagetally.ini import GLOBAL, Entry, IniError, declared_charset, parse_ini

DEFAULT_PATH = "/etc/pagetally/pagetally.conf"
ENV_VAR = "PAGETALLY_CONFIG"
ADMIN_FILE_NAME = "pagetally-admin.conf"
#: PyKota's name for the admin file, read when PageTally's is not beside the config.
PYKOTA_ADMIN_FILE_NAME = "pykotadmin.conf"
#: What the admin file may say besides the secrets: where the store is. As in
#: PyKota (admins write the master, others read a replica), its values win for
#: whoever can read it.
ADMIN_FILE_STORE = ("storagebackend", "storageserver", "storagename")


def _parse_ini(text: str, path: str) -> dict[str, dict[str, Entry]]:
    """The INI reader (pagetally/ini.py), its errors as ConfigError."""
    try:
        return parse_ini(text, path)
    except IniError as e:
        raise ConfigError(str(e), path=e.path, line=e.line, directive=e.directive) from None


def _decode(data: bytes, path: Path) -> str:
    """UTF-8, or the charset PyKota's `config_charset` names (a pykota.conf in
    ISO-8859-15 is read as it is)."""
    found = declared_charset(data)
    charset = found or "utf-8"
    try:
        return data.decode(charset)
    except LookupError:
        raise ConfigError(
            f"config_charset {charset!r} is not a known character set", path=str(path)
        ) from None
    except UnicodeDecodeError:
        what = "UTF-8" if not found else f"{charset} (its config_charset)"
        raise ConfigError(f"not {what} text", path=str(path)) from None


def _read(path: Path) -> str:
    try:
        return _decode(path.read_bytes(), path)
    except FileNotFoundError:
        raise ConfigError("configuration file not found", path=str(path)) from None
    except PermissionError:
        raise ConfigError(
            "cannot read the configuration file (permission denied)", path=str(path)
        ) from None
    except IsADirectoryError:
        raise ConfigError("is a directory, not a configuration file", path=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=str(path)) from None


def _validate(
    sections: Mapping[str, Mapping[str, Entry]],
    *,
    admin_file: bool,
    warnings: list[str] | None = None,
) -> dict[str, dict[str, object]]:
    """Check every value; return the typed values per section. PyKota's
    directives that PageTally does not use add a line to `warnings`."""
    typed: dict[str, dict[str, object]] = {}
    for section, entries in sections.items():
        out: dict[str, object] = {}
        for key, entry in entries.items():
            if key in UNDERSTOOD:
                continue
            if key in PYKOTA_ONLY:
                if warnings is not None:
                    warnings.append(f"{entry.path}, line {entry.line}: {key}: {PYKOTA_ONLY[key]}")
                continue
            d = find_directive(key)
            if d is None:
                raise ConfigError(
                    f"unknown directive{did_you_mean(key)}",
                    path=entry.path,
                    line=entry.line,
                    directive=key,
                )
            if d.admin_only and not admin_file:
                raise ConfigError(
                    f"a secret: put it in the admin-only file {ADMIN_FILE_NAME}",
                    path=entry.path,
                    line=entry.line,
                    directive=key,
                )
            if admin_file and not d.admin_only and d.name not in ADMIN_FILE_STORE:
                raise ConfigError(
                    "only storageadmin, storageadminpw, syncldapbindpw and where the store is "
                    "(storagebackend, storageserver, storagename) belong in this file",
                    path=entry.path,
                    line=entry.line,
                    directive=key,
                )
            if section != GLOBAL and not d.per_printer:
                raise ConfigError(
                    f"may only be set in [global], not in [{section}]",
                    path=entry.path,
                    line=entry.line,
                    directive=key,
                )
            try:
                out[key] = d.check(entry.value)
            except ValueError as exc:
                if key not in PYKOTA_FORMS:
                    raise ConfigError(
                        str(exc), path=entry.path, line=entry.line, directive=key
                    ) from None
                value, instead = PYKOTA_FORMS[key]
                out[key] = d.check(value)
                if warnings is not None:
                    warnings.append(f"{entry.path}, line {entry.line}: {key}: {instead}")
        typed[section] = out
    return typed


def config_path(
    explicit: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Path:
    """--config, else $PAGETALLY_CONFIG, else /etc/pagetally/pagetally.conf."""
    if explicit:
        return Path(explicit)
    env = os.environ if environ is None else environ
    if env.get(ENV_VAR):
        return Path(env[ENV_VAR])
    return Path(DEFAULT_PATH)


def _load_admin(path: Path, warnings: list[str] | None = None) -> dict[str, object] | None:
    """The secrets, or None when the file is absent or not readable by us."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    except PermissionError:
        return None
    if st.st_mode & stat.S_IROTH:
        raise ConfigError(
            f"the admin secrets file is world-readable: run chmod o-r {path}", path=str(path)
        )
    if not os.access(path, os.R_OK):
        return None
    sections = _parse_ini(_read(path), str(path))
    unknown = [s for s in sections if s != GLOBAL]
    if unknown:
        raise ConfigError(
            f"only a [global] section belongs here, not [{unknown[0]}]", path=str(path)
        )
    return _validate(sections, admin_file=True, warnings=warnings).get(GLOBAL, {})


def _not_world_writable(path: Path) -> None:
    """The configuration names commands the backend runs as root: a file anyone
    may write is refused (setup cups checks owners and folders too)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & stat.S_IWOTH:
        raise ConfigError(
            f"anyone may write this file (mode {stat.S_IMODE(mode):04o}), and it names "
            f"commands run as root: run chmod o-w {path}",
            path=str(path),
        )


def load_config(
    explicit: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    admin_path: str | os.PathLike[str] | None = None,
) -> Config:
    """Find, read and check the configuration and (if readable) its secrets file."""
    path = config_path(explicit, environ)
    sections = _parse_ini(_read(path), str(path))
    _not_world_writable(path)
    if GLOBAL not in sections:
        raise ConfigError("no [global] section", path=str(path))
    warnings: list[str] = []
    typed = _validate(sections, admin_file=False, warnings=warnings)
    apath = Path(admin_path) if admin_path else path.parent / ADMIN_FILE_NAME
    if not admin_path and not apath.exists() and (path.parent / PYKOTA_ADMIN_FILE_NAME).exists():
        apath = path.parent / PYKOTA_ADMIN_FILE_NAME  # a PyKota site's file, as it is
    secrets = _load_admin(apath, warnings)
    return Config(
        path=str(path),
        admin_path=str(apath) if secrets is not None else None,
        global_values=typed.pop(GLOBAL),
        printer_values=typed,
        secrets=secrets or {},
        warnings=tuple(warnings),
    )
