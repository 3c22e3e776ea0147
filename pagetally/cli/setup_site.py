"""`pagetally setup site`'s answers, the configuration it writes and the replay
script it leaves (PyKota's pkturnkey/pksetup). No CUPS here: cli/setup.py asks
CUPS (through cups/setup) and runs the steps.

Answers come from flags, an answers file (`key: value` lines: the setup keys
below or any `pagetally.conf` directive) or, interactively, from questions;
directives among them are written into the configuration's [global] section,
so that later `pagetally sync` runs from cron use the same choices. Rewriting a
directive to the value it has is no change: a second setup changes nothing.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from pagetally.errors import ConfigError, InvalidInput

#: Answers that are not configuration directives: what setup itself does.
SETUP_KEYS = {
    "queues": "CUPS queues to manage, comma-separated (default: all)",
    "wrap": "put PageTally in front of those queues (yes/no, default yes)",
    "serverbin": "CUPS' ServerBin (default /usr/lib/cups)",
    "priceperpage": "price per page of the printers setup creates (default 0)",
    "priceperjob": "price per job of the printers setup creates (default 0)",
    "users": "import users (yes/no, default yes)",
    "passwd": "a passwd file to import from instead of the system's",
    "group": "a group file to import with passwd",
}

#: What interactive setup asks, in order (key, question); defaults from the
#: configuration as it is, else PageTally's.
QUESTIONS: tuple[tuple[str, str], ...] = (
    ("storagename", "Store (SQLite file, or database name)"),
    ("currency", "Currency (ISO 4217)"),
    ("queues", "CUPS queues to manage (comma-separated, * for all)"),
    ("priceperpage", "Price per page of new printers"),
    ("priceperjob", "Price per job of new printers"),
    ("syncsource", "Users and groups from (system or ldap)"),
    ("syncuidmin", "Lowest uid to import"),
    ("synclimitby", "New users limited by (quota, balance, noquota)"),
    ("syncbalance", "Initial balance of new users"),
    ("syncsoftlimit", "Soft page limit of new users (empty: none)"),
    ("synchardlimit", "Hard page limit of new users (empty: none)"),
    ("wrap", "Put PageTally in front of the queues (yes/no)"),
)


@dataclass
class Answers:
    """Everything setup was told, by whichever means."""

    directives: dict[str, str] = field(default_factory=dict)
    setup: dict[str, str] = field(default_factory=dict)

    def put(self, key: str, value: str) -> None:
        from pagetally.config import DIRECTIVES

        if key in SETUP_KEYS:
            self.setup[key] = value
        elif key in DIRECTIVES:
            try:
                DIRECTIVES[key].check(value)
            except (ConfigError, ValueError) as exc:  # the checks raise either
                raise InvalidInput(f"{key}: {exc}") from None
            self.directives[key] = value
        else:
            raise InvalidInput(
                f"{key!r} is neither a setup answer ({', '.join(SETUP_KEYS)}) "
                "nor a pagetally.conf directive"
            )

    def has(self, key: str) -> bool:
        return key in self.setup or key in self.directives

    def flag(self, key: str, default: bool = True) -> bool:
        value = self.setup.get(key)
        if value is None:
            return default
        if value.lower() in ("yes", "y", "true", "on", "1"):
            return True
        if value.lower() in ("no", "n", "false", "off", "0"):
            return False
        raise InvalidInput(f"{key}: {value!r} is not yes or no")

    def price(self, key: str) -> Decimal:
        from pagetally.cli.common import amount

        return amount(self.setup.get(key, "0") or "0", key)

    def queues(self) -> list[str] | None:
        """The named queues; None: all of CUPS'."""
        text = self.setup.get("queues", "*").strip()
        names = [q.strip() for q in text.split(",") if q.strip()]
        return None if not names or names == ["*"] else names


def read_answers(path: Path, answers: Answers) -> None:
    """`key: value` (or `key = value`) lines; `#` comments; errors name the line."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise InvalidInput(f"cannot read the answers file {path}: {exc.strerror}") from None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith(("#", ";", "[")):
            continue
        m = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*[:=]\s*(.*?)\s*$", line)
        if not m:
            raise InvalidInput(f"{path}:{number}: expected 'key: value'")
        try:
            answers.put(m.group(1).lower(), m.group(2))
        except InvalidInput as exc:
            raise InvalidInput(f"{path}:{number}: {exc}") from None


_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*[:=]")


def update_ini(text: str, values: Mapping[str, str]) -> tuple[str, list[str]]:
    """`text` with `values` set in its [global] section (lines replaced in place,
    new ones appended to the section); returns the new text and the names whose
    value changed. Everything else, comments included, is kept as it is."""
    lines = text.splitlines()
    if not any(line.strip().lower() == "[global]" for line in lines):
        lines = ["[global]", *lines]
    changed: list[str] = []
    todo = dict(values)
    section, end_of_global = "", 0
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            section = stripped[1:-1].strip().lower()
            continue
        if section != "global":
            continue
        end_of_global = i + 1
        m = _LINE.match(line)
        if m and m.group(1).lower() in todo:
            key = m.group(1).lower()
            value = todo.pop(key)
            if line.split(":", 1)[-1].strip() != value and line.split("=", 1)[-1].strip() != value:
                lines[i] = f"{key}: {value}"
                changed.append(key)
    if todo:
        index = end_of_global or 1 + next(
            i for i, x in enumerate(lines) if x.strip().lower() == "[global]"
        )
        new = [f"{k}: {v}" for k, v in todo.items()]
        lines[index:index] = new
        changed.extend(todo)
    return "\n".join(lines) + "\n", changed


def write_if_changed(path: Path, text: str, mode: int) -> bool:
    """Write atomically with `mode` unless the file already holds `text`."""
    try:
        if path.read_text() == text:
            return False
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".new")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "w") as out:
            out.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None
    return True


def replay_script(
    *, config: Path, config_text: str, queues: Mapping[str, str], argv: list[str], host: str
) -> str:
    """A shell script that sets up another server the same way: the configuration
    (if it has none), the queues (if missing; created raw: drivers and PPDs are
    not copied), then the same `pagetally setup site --unattended`, which is
    idempotent. Secrets (the admin file) are not in it: copy that file by hand."""
    q = shlex.quote
    lines = [
        "#!/bin/sh",
        f"# Replays `pagetally setup site` as run on {host}.",
        "# Secrets (pagetally-admin.conf) are not included: copy that file by hand.",
        "set -eu",
        'PAGETALLY="${PAGETALLY:-pagetally}"',
        "# PAGETALLY_CONFIG overrides where the configuration goes; arguments given",
        "# to this script are passed on (e.g. --set serverbin=/usr/lib/cups).",
        'CONF="${PAGETALLY_CONFIG:-}"',
        f'[ -n "$CONF" ] || CONF={q(str(config))}',
        'if [ ! -e "$CONF" ]; then',
        '  mkdir -p "$(dirname "$CONF")"',
        "  umask 022",
        "  cat > \"$CONF\" <<'PAGETALLY_CONF'",
        config_text.rstrip("\n"),
        "PAGETALLY_CONF",
        "fi",
    ]
    for name, uri in sorted(queues.items()):
        lines.append(
            f"lpstat -v {q(name)} >/dev/null 2>&1 || lpadmin -p {q(name)} -E -v {q(uri)} -m raw"
        )
    lines.append('"$PAGETALLY" --config "$CONF" ' + " ".join(q(a) for a in argv) + ' "$@"')
    return "\n".join(lines) + "\n"
