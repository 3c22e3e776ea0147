"""Putting PageTally in front of CUPS queues (`pagetally setup cups`).

Installs the backend where cupsd looks for it ($CUPS_SERVERBIN/backend/pagetally,
root-owned, mode 0700 so that cupsd runs it as root), as a tiny script that runs
this installation's interpreter with the config's path written in (cupsd gives
backends a fixed environment). Wrapping a queue rewrites its device URI to
`pagetally:<old URI>` with lpadmin; `--undo` restores it. Queue names and URIs go
to lpadmin as arguments, never through a shell.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

# What `pagetally setup cups` needs of the backend's rules, offered here (cli/setup
# imports only this module of cups/).
from pagetally.cups.strictmodes import check_install as check_install
from pagetally.cups.strictmodes import install_paths as install_paths
from pagetally.cups.ticket import PYKOTA_SCHEME as PYKOTA_SCHEME
from pagetally.cups.ticket import SCHEME as SCHEME
from pagetally.cups.ticket import our_scheme
from pagetally.errors import InvalidInput, PageTallyError


class SetupError(PageTallyError):
    """lpadmin or lpstat failed, or the backend could not be installed."""


@dataclass(frozen=True, slots=True)
class QueueChange:
    queue: str
    old_uri: str
    new_uri: str

    @property
    def changed(self) -> bool:
        return self.old_uri != self.new_uri


def serves(script: str) -> str | None:
    """The configuration an installed PageTally backend script runs with, or None
    when the script is not PageTally's (PyKota's cupspykota, another program)."""
    import ast

    m = re.search(r"^main\((.+)\)\s*$", script, flags=re.MULTILINE)
    if "pagetally" not in script or m is None:
        return None
    try:
        value = ast.literal_eval(m.group(1))
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def check_replacing(target: Path, config_path: str | Path) -> None:
    """Refuse to replace a backend that serves another configuration (or is not
    PageTally's): its queues would silently change store or program."""
    try:
        text = target.read_text(errors="replace")
    except FileNotFoundError:
        return
    except OSError as e:
        raise SetupError(f"cannot read the installed backend {target}: {e.strerror}") from e
    other = serves(text)
    if other is not None and os.path.abspath(other) == os.path.abspath(str(config_path)):
        return
    what = (
        f"serves another configuration ({other})"
        if other is not None
        else "is not PageTally's (PyKota's cupspykota, or another program)"
    )
    raise SetupError(
        f"the installed backend {target} {what}: replacing it would move its queues to "
        f"this configuration. Move it away first, or give --replace-backend"
    )


def backend_is_current(
    serverbin: str | Path, config_path: str | Path, python: str = sys.executable, name: str = SCHEME
) -> bool:
    """The installed backend is already the one `install_backend` would write
    (same script, mode 0700): a second setup leaves it alone."""
    from pagetally.service.thin import backend_script

    target = Path(serverbin) / "backend" / name
    try:
        same = target.read_text(errors="replace") == backend_script(str(config_path), python)
        return same and (target.stat().st_mode & 0o7777) == 0o700
    except OSError:
        return False


def install_backend(
    serverbin: str | Path,
    config_path: str | Path,
    python: str = sys.executable,
    name: str = SCHEME,
    replace: bool = False,
) -> Path:
    """Write the backend script (as `name`: ours, or PyKota's scheme for queues
    that keep their cupspykota: URIs); returns its path. Needs root for the real
    ServerBin. Refuses to replace another configuration's backend unless `replace`."""
    from pagetally.service.thin import backend_script

    target = Path(serverbin) / "backend" / name
    if not replace:
        check_replacing(target, config_path)
    # the thin backend: hands the job to `pagetally serve` when it runs (fast),
    # else runs it itself (see docs/service.md)
    text = backend_script(str(config_path), python)
    tmp = target.with_suffix(".new")
    try:
        tmp.write_text(text)
        os.chmod(tmp, 0o700)
        os.replace(tmp, target)
    except OSError as e:
        raise SetupError(f"cannot install the backend as {target}: {e.strerror}") from e
    return target


def _run(argv: list[str], env: Mapping[str, str] | None) -> str:
    try:
        out = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=60,
            env=dict(env) if env is not None else None,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SetupError(f"{argv[0]} failed: {e}") from e
    if out.returncode != 0:
        raise SetupError(f"{argv[0]} failed: {(out.stderr or out.stdout).strip()}")
    return out.stdout


def queue_uris(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every CUPS queue and its device URI (`lpstat -v`)."""
    uris: dict[str, str] = {}
    try:
        listed = _run(["lpstat", "-v"], env)
    except SetupError as exc:
        if "No destinations added" in str(exc):  # a cupsd without queues yet
            return uris
        raise
    for line in listed.splitlines():
        m = re.match(r"device for (\S+): (\S+)", line)
        if m:
            uris[m.group(1)] = m.group(2)
    return uris


def wrapped(uri: str) -> str:
    """The queue's URI through PageTally; a PyKota queue's `cupspykota:` URI is kept
    (its backend is then PageTally's too, installed under that name)."""
    return uri if our_scheme(uri) else f"{SCHEME}:{uri}"


def unwrapped(uri: str) -> str:
    from pagetally.cups.ticket import strip_prefix

    return strip_prefix(uri) if our_scheme(uri) else uri


def setup_queues(
    queues: list[str], *, undo: bool = False, env: Mapping[str, str] | None = None
) -> list[QueueChange]:
    """Wrap (or with `undo` unwrap) the named queues; unknown names are an error
    raised before anything changes."""
    uris = queue_uris(env)
    missing = [q for q in queues if q not in uris]
    if missing:
        raise InvalidInput(f"no such CUPS queue: {', '.join(missing)}")
    changes = []
    for queue in queues:
        old = uris[queue]
        new = unwrapped(old) if undo else wrapped(old)
        if new != old:
            _run(["lpadmin", "-p", queue, "-v", new], env)
        changes.append(QueueChange(queue, old, new))
    return changes


# --- what `setup cups` warns about in the cupsd it wraps queues of -----------------

# cups-daemon versions seen to segfault when a user name that is no local account
# meets `Require user @OWNER` (docs/backend.md, "Known problems"); found on Debian
# 12 with its security update of 2025 (Send-Document and Cancel-Job both crash)
CRASHING_CUPSD = frozenset({"2.4.2-3+deb12u10"})


def owner_limits(cupsd_conf: str) -> list[str]:
    """`<Policy NAME> <Limit OPS>` of every policy section whose `Require user`
    line names `@OWNER`: the checks that crash CRASHING_CUPSD for user names that
    are no local account. Directives are case-insensitive, as cupsd reads them."""
    found: list[str] = []
    policy = limit = ""
    for raw in cupsd_conf.splitlines():
        line = raw.split("#", 1)[0].strip()
        lower = line.lower()
        if lower.startswith("<policy"):
            policy = line[len("<policy") :].rstrip(">").strip()
        elif lower.startswith("</policy"):
            policy = ""
        elif policy and lower.startswith("<limit"):
            limit = line[len("<limit") :].rstrip(">").strip()
        elif lower.startswith("</limit"):
            limit = ""
        elif (
            policy and limit and lower.startswith("require user") and "@owner" in lower.split()[2:]
        ):
            ops = limit.split()
            found.append(f"<Policy {policy}> <Limit {ops[0]}{' ...' if len(ops) > 1 else ''}>")
    return found


def crash_warning(version: str | None, cupsd_conf: str | None) -> str | None:
    """The warning for a cupsd that will crash on jobs of user names that are no
    local account (None: nothing known to crash). `version`: the cups-daemon
    package's version; `cupsd_conf`: its cupsd.conf, None when unreadable."""
    if version not in CRASHING_CUPSD:
        return None
    limits = owner_limits(cupsd_conf) if cupsd_conf is not None else []
    if cupsd_conf is not None and not limits:
        return None
    where = (
        f" under {limits[0]}" + (f" and {len(limits) - 1} more" if len(limits) > 1 else "")
        if limits
        else " if its cupsd.conf has the stock policy (unreadable here)"
    )
    return (
        f"warning: this cupsd (cups-daemon {version}) crashes when a job's user "
        f"name is no local account and meets `Require user @OWNER`{where}: remote "
        "IPP clients sending such names stop printing for everyone. Workarounds: "
        'docs/backend.md, "Known problems".'
    )


def status_warning(cupsd_conf: str | None) -> str | None:
    """A note when other users can read each job's status (pages, price, a refusal's
    reason) in `lpstat -l -o`: some policy's JobPrivateValues lacks
    job-printer-state-message (and is not `all`)."""
    if cupsd_conf is None:
        return None
    for raw in cupsd_conf.splitlines():
        words = raw.split("#", 1)[0].split()
        if words and words[0].lower() == "jobprivatevalues":
            values = {w.lower() for w in words[1:]}
            if "all" not in values and "job-printer-state-message" not in values:
                return (
                    "note: every user can read each job's status in `lpstat -l -o` "
                    "(pages, price, a refusal's reason, without the owner's name); "
                    "to keep it to the owner and admins, add job-printer-state-message "
                    "to each JobPrivateValues line of cupsd.conf (docs/backend.md)"
                )
    return None


def cupsd_version() -> str | None:
    """The installed cups-daemon package's version (Debian's dpkg), None elsewhere."""
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", "cups-daemon"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


def read_cupsd_conf(env: Mapping[str, str]) -> str | None:
    """cupsd.conf of the local cupsd ($CUPS_SERVERROOT, else /etc/cups), None if unreadable."""
    path = Path(env.get("CUPS_SERVERROOT") or "/etc/cups") / "cupsd.conf"
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None
