"""A real OpenLDAP server (Debian's slapd) for tests, on 127.0.0.1.

Started once per test session in a private temporary folder (its own slapd.conf,
mdb database, pid file) on a free port, and stopped (folder removed) at the
session's end; the system's slapd, if any, is never used or touched. It loads the
core, cosine, nis and inetorgperson schemas and PageTally's two schema files
(PyKota's, pagetally/storage/ldap_schema/pykota.schema, and PageTally's own).

One suffix, `dc=pagetally,dc=test`, with a root DN (read-write, the "admin") and a
read-only reader entry. `new_directory()` makes a fresh branch below the suffix
(one per test: as cheap as an empty database) and gives the StoreSettings of an
LDAP store rooted there, PyKota's default layout (ou=People, ou=Groups,
ou=PyKota with its branches) beneath it.

Use from any conftest: `from tests.slapd import slapd_server` (pytest then knows
the fixture), or call `start_slapd()` directly (bench/ldap.py does).
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pagetally.storage.base import StoreSettings
from pagetally.storage.ldap_schema import SCHEMA_DIR
from tests.ports import free_port
from tests.servers import _wait_port

SLAPD = Path("/usr/sbin/slapd")
SYSTEM_SCHEMAS = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")
SUFFIX = "dc=pagetally,dc=test"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "admin-secret"
READER_DN = f"cn=reader,{SUFFIX}"
READER_PASSWORD = "reader-secret"
_counter = itertools.count(1)

# Indexes as a site would set them for PageTally (docs/store.md, "LDAP").
_INDEXES = (
    "objectClass,uid,cn,memberUid,uniqueMember,pykotaUserName,pykotaGroupName,"
    "pykotaPrinterName,pykotaJobId,pykotaBillingCode,pagetallyChargeKey,"
    "pagetallyNumber,pagetallyDate eq"
)


def _slapd_conf(folder: Path) -> str:
    schemas = [SYSTEM_SCHEMAS / f"{n}.schema" for n in ("core", "cosine", "nis", "inetorgperson")]
    schemas += [SCHEMA_DIR / "pykota.schema", SCHEMA_DIR / "pagetally.schema"]
    includes = "\n".join(f'include "{p}"' for p in schemas)
    return f"""{includes}
pidfile "{folder / "slapd.pid"}"
argsfile "{folder / "slapd.args"}"
modulepath "{MODULES}"
moduleload back_mdb
sizelimit unlimited

database mdb
maxsize 1073741824
suffix "{SUFFIX}"
rootdn "{ADMIN_DN}"
rootpw "{ADMIN_PASSWORD}"
directory "{folder / "data"}"
dbnosync
index {_INDEXES}
access to attrs=userPassword
    by anonymous auth
    by * none
access to *
    by dn.exact="{READER_DN}" read
    by * none
limits dn.exact="{READER_DN}" size=unlimited

database monitor
"""


@dataclass
class SlapdServer:
    """A running slapd: where it is and how to make a fresh directory branch in it."""

    port: int
    proc: subprocess.Popen[bytes]
    folder: Path
    log: Path

    @property
    def uri(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def settings(self, base: str = SUFFIX) -> StoreSettings:
        """StoreSettings of an LDAP store rooted at `base` (admin and reader binds)."""
        return StoreSettings(
            backend="ldap",
            name=base,
            server=self.uri,
            user=READER_DN,
            password=READER_PASSWORD,
            admin_user=ADMIN_DN,
            admin_password=ADMIN_PASSWORD,
        )

    def new_directory(self, prefix: str = "t") -> StoreSettings:
        """A fresh, empty branch `ou=<prefix><n>,dc=pagetally,dc=test` and its settings.

        Only the branch's own entry is made; the store's `upgrade()` (or a test's
        LDIF) makes the branches below it.
        """
        import ldap3

        name = f"{prefix}{os.getpid()}x{next(_counter)}"
        base = f"ou={name},{SUFFIX}"
        server = ldap3.Server("127.0.0.1", port=self.port)
        conn = ldap3.Connection(server, ADMIN_DN, ADMIN_PASSWORD, auto_bind=True)
        try:
            if not conn.add(base, ["organizationalUnit"], {"ou": name}):
                raise RuntimeError(f"cannot add {base}: {conn.result}")
        finally:
            conn.unbind()
        return self.settings(base)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)


def _seed(port: int) -> None:
    """The suffix's own entry and the reader's entry (bindable, read-only by the ACL)."""
    import ldap3

    conn = ldap3.Connection(
        ldap3.Server("127.0.0.1", port=port), ADMIN_DN, ADMIN_PASSWORD, auto_bind=True
    )
    try:
        conn.add(SUFFIX, ["dcObject", "organization"], {"dc": "pagetally", "o": "PageTally tests"})
        conn.add(
            READER_DN,
            ["simpleSecurityObject", "organizationalRole"],
            {"cn": "reader", "userPassword": READER_PASSWORD},
        )
    finally:
        conn.unbind()


def start_slapd() -> SlapdServer:
    """A private slapd on a free 127.0.0.1 port, its data in a temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix="pt-slapd-"))
    (folder / "data").mkdir()
    conf, log = folder / "slapd.conf", folder / "slapd.log"
    conf.write_text(_slapd_conf(folder))
    check = subprocess.run(
        [str(SLAPD), "-T", "test", "-u", "-f", str(conf)], capture_output=True, text=True
    )
    if check.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"slapd.conf does not check:\n{check.stderr[-3000:]}")
    for _attempt in range(5):
        port = free_port()
        with open(log, "wb") as out:
            # -d 0: stay in the foreground (the pid is ours to stop), log nothing extra
            proc = subprocess.Popen(
                [str(SLAPD), "-d", "0", "-f", str(conf), "-h", f"ldap://127.0.0.1:{port}/"],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        info = SlapdServer(port, proc, folder, log)
        try:
            _wait_port(port, proc, log, timeout=30)
        except RuntimeError:
            if proc.poll() is not None and "Address already in use" in log.read_text(
                errors="replace"
            ):
                continue  # the free port was taken meanwhile: try another
            info.stop()
            raise
        try:
            _seed(port)
        except BaseException:
            info.stop()
            raise
        return info
    shutil.rmtree(folder, ignore_errors=True)
    raise RuntimeError("slapd found no free port")


@pytest.fixture(scope="session")
def slapd_server() -> Iterator[SlapdServer]:
    """One private slapd for the whole session."""
    info = start_slapd()
    try:
        yield info
    finally:
        info.stop()
