"""Real database servers for tests: PostgreSQL 15 and MariaDB, on 127.0.0.1.

Each server is started once per test session in a private temporary folder, on a
free port, and stopped (folder removed) at the session's end. Root cannot run
PostgreSQL, so as root it runs as the `postgres` system user (runuser); MariaDB
runs as root with `--user=root`. Each fixture gives a `ServerInfo`, whose
`new_database()` creates a fresh database with its two roles (admin read-write,
read-only) through `pagetally.storage.roles.create_roles` and returns the
StoreSettings for it.

Use from any conftest:  `from tests.servers import postgresql_server, mariadb_server`
(pytest then knows the fixtures), or call `start_postgresql()` / `start_mariadb()`
directly (the bench does).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pagetally.storage.base import StoreSettings
from pagetally.storage.roles import create_roles
from tests.ports import free_port, listens_for, port_taken, taken_error, until_bound

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SUPER_PASSWORD = "super-secret"
_counter = itertools.count(1)


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            text = log.read_text(errors="replace")
            if port_taken(text):  # another process took the port first: until_bound retries
                raise taken_error(str(proc.args), port)
            raise RuntimeError(f"server exited early:\n{text[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            if listens_for(proc.pid, port):  # not another suite's server on the port
                return
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"server did not listen on {port}:\n{tail}")


@dataclass
class ServerInfo:
    """A running server: where it is and how to make databases on it."""

    backend: str  # postgresql | mysql
    port: int
    superuser: str
    superpassword: str
    proc: subprocess.Popen[bytes]
    folder: Path
    log: Path
    made: list[str] = field(default_factory=list)

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"

    def new_database(self, prefix: str = "pt") -> StoreSettings:
        """A fresh database with its admin and read-only roles."""
        n = next(_counter)
        settings = StoreSettings(
            backend=self.backend,
            name=f"{prefix}{os.getpid()}_{n}",
            server=self.server,
            user=f"{prefix}ro{n}",
            password=f"ro'pw\\{n}",  # a quote and a backslash: the quoting is tested too
            admin_user=f"{prefix}admin{n}",
            admin_password=f"admin-pw-{n}",
        )
        create_roles(settings, self.superuser, self.superpassword)
        self.made.append(settings.name)
        return settings

    def stop(self) -> None:
        if self.proc.poll() is None:
            self._signal_server()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)

    def _signal_server(self) -> None:
        """Ask the server itself to stop: as root `proc` is runuser, which does not pass
        signals on (signalling it only cost a 10 s wait and left the postmaster running)."""
        if self.backend != "postgresql":
            self.proc.send_signal(signal.SIGTERM)
            return
        try:
            pid = int((self.folder / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):  # not started yet: its session goes
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGINT)
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)  # fast shutdown


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def start_postgresql(*, durable: bool = False, settings: Sequence[str] = ()) -> ServerInfo:
    """initdb + postgres in a temporary folder; `durable` keeps fsync on (benchmarks);
    `settings` are more `name=value` server settings (bench/scale.py's profile)."""
    folder = Path(tempfile.mkdtemp(prefix="pt-pg-"))
    data, log, pwfile = folder / "data", folder / "server.log", folder / "pw"
    pwfile.write_text(SUPER_PASSWORD + "\n")
    if os.geteuid() == 0:
        pg = pwd.getpwnam("postgres")
        os.chown(folder, pg.pw_uid, pg.pw_gid)
        os.chown(pwfile, pg.pw_uid, pg.pw_gid)
    subprocess.run(
        _as_postgres(
            [
                str(PG_BIN / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--pwfile",
                str(pwfile),
                "--auth-local",
                "scram-sha-256",
                "--auth-host",
                "scram-sha-256",
                "-E",
                "UTF8",
                "--no-instructions",
            ]
        ),
        check=True,
        capture_output=True,
    )
    port = free_port()
    fast = [] if durable else ["-c", "fsync=off", "-c", "full_page_writes=off"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            _as_postgres(
                [
                    str(PG_BIN / "postgres"),
                    "-D",
                    str(data),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(port),
                    "-k",
                    str(folder),
                    "-c",
                    "max_connections=200",
                    "-c",
                    "shared_buffers=128MB",
                    *fast,
                    *(arg for kv in settings for arg in ("-c", kv)),
                ]
            ),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    info = ServerInfo("postgresql", port, "postgres", SUPER_PASSWORD, proc, folder, log)
    try:
        _wait_port(port, proc, log)
        _wait_sql(info)
    except BaseException:
        info.stop()
        raise
    return info


#: MySQL 8.0's default sql_mode (MariaDB's lacks ONLY_FULL_GROUP_BY and the zero-date rules).
MYSQL8_SQL_MODE = (
    "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
    "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
)


def start_mariadb() -> ServerInfo:
    """mariadb-install-db + mariadbd in a temporary folder, TCP on 127.0.0.1."""
    folder = Path(tempfile.mkdtemp(prefix="pt-maria-"))
    data, log = folder / "data", folder / "server.log"
    root = ["--user=root"] if os.geteuid() == 0 else []
    subprocess.run(
        [
            "mariadb-install-db",
            "--no-defaults",
            f"--datadir={data}",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
            *root,
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                "mariadbd",
                "--no-defaults",
                f"--datadir={data}",
                f"--socket={folder / 'mysqld.sock'}",
                f"--pid-file={folder / 'mysqld.pid'}",
                f"--port={port}",
                "--bind-address=127.0.0.1",
                "--skip-networking=0",
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=128M",
                "--innodb-flush-log-at-trx-commit=2",
                "--max-connections=200",
                "--skip-log-bin",
                # MySQL 8's stricter defaults (ONLY_FULL_GROUP_BY...) when asked:
                # PAGETALLY_MARIADB_SQL_MODE=mysql8 (docs/store.md, "MySQL 8")
                *(
                    [f"--sql-mode={MYSQL8_SQL_MODE}"]
                    if os.environ.get("PAGETALLY_MARIADB_SQL_MODE") == "mysql8"
                    else []
                ),
                *root,
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    info = ServerInfo("mysql", port, "root", "", proc, folder, log)
    try:
        _wait_port(port, proc, log)
        _set_root_password(folder / "mysqld.sock")
        info.superpassword = SUPER_PASSWORD
        _wait_sql(info)
    except BaseException:
        info.stop()
        raise
    return info


def _set_root_password(sock: Path) -> None:
    """Root may log in over TCP with a password (install-db made it socket-only)."""
    import pymysql

    conn = pymysql.connect(unix_socket=str(sock), user="root", password="")
    try:
        with conn.cursor() as cur:
            cur.execute(f"CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '{SUPER_PASSWORD}'")
            cur.execute("SELECT host FROM mysql.user WHERE user = 'root' AND host <> 'localhost'")
            for (host,) in cur.fetchall():
                with contextlib.suppress(pymysql.err.OperationalError):
                    cur.execute(f"ALTER USER 'root'@'{host}' IDENTIFIED BY '{SUPER_PASSWORD}'")
            cur.execute("GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION")
            cur.execute("FLUSH PRIVILEGES")
    finally:
        conn.close()


def _wait_sql(info: ServerInfo, timeout: float = 60) -> None:
    """Until the server accepts a login (it may listen before it is ready)."""
    from sqlalchemy import URL, create_engine, text

    driver = "postgresql+psycopg" if info.backend == "postgresql" else "mysql+pymysql"
    db = "postgres" if info.backend == "postgresql" else None
    url = URL.create(driver, info.superuser, info.superpassword, "127.0.0.1", info.port, db)
    engine = create_engine(url)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[ServerInfo]:
    """A PostgreSQL 15 server for the whole session."""
    info = until_bound(start_postgresql)
    try:
        yield info
    finally:
        info.stop()


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[ServerInfo]:
    """A MariaDB server for the whole session."""
    info = until_bound(start_mariadb)
    try:
        yield info
    finally:
        info.stop()
