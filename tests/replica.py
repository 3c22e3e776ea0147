"""A PostgreSQL primary with a streaming replica: two clusters on loopback ports.

The primary is tests/servers.py's (initdb, fsync off), started with
`synchronous_commit = remote_apply` and the replica as its synchronous standby,
so that a commit returns once the replica shows it: tests that write through the
primary and read through the replica see their own writes at once (a site's
asynchronous replica lags instead; docs/store.md). The replica is
`pg_basebackup -R` of the primary, hot standby, on its own port. `stop_replica()`
and `start_replica()` let the failover tests take it away; with the replica
stopped the primary is switched to asynchronous commits (else every commit
would wait for it forever).

Use: `from tests.replica import pg_replicated` in a conftest or test module.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import URL, create_engine, text

from pagetally.storage.base import StoreSettings
from tests.polling import wait_until
from tests.ports import free_port
from tests.servers import PG_BIN, ServerInfo, _as_postgres, _wait_port, _wait_sql, start_postgresql


@dataclass
class Replicated:
    """The primary, the replica's data folder and port, and its process."""

    primary: ServerInfo
    data: Path
    port: int
    proc: subprocess.Popen[bytes] | None = None

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"

    def read_settings(self, primary: StoreSettings) -> StoreSettings:
        """The replica's side of a database made on the primary (read-only user)."""
        return StoreSettings(
            backend="postgresql",
            name=primary.name,
            server=self.server,
            user=primary.user,
            password=primary.password,
        )

    def _sql(self, port: int, sql: str) -> object:
        url = URL.create(
            "postgresql+psycopg",
            "postgres",
            self.primary.superpassword,
            "127.0.0.1",
            port,
            "postgres",
        )
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                result = conn.execute(text(sql))
                return result.scalar() if result.returns_rows else None
        finally:
            engine.dispose()

    def start_replica(self) -> None:
        log = self.data.parent / "replica.log"
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                _as_postgres([str(PG_BIN / "postgres"), "-D", str(self.data), "-h", "127.0.0.1",
                              "-p", str(self.port), "-k", str(self.data.parent),
                              "-c", "fsync=off", "-c", "max_connections=200"]),
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        info = ServerInfo(
            "postgresql",
            self.port,
            "postgres",
            self.primary.superpassword,
            self.proc,
            self.data,
            log,
        )
        _wait_port(self.port, self.proc, log)
        _wait_sql(info)
        wait_until(
            lambda: self._sql(self.port, "SELECT pg_is_in_recovery()") is True,
            timeout=30,
            what="the replica to be in recovery",
        )
        self._sync(True)

    def stop_replica(self) -> None:
        """The replica stops (fast shutdown); the primary stops waiting for it."""
        self._sync(False)
        if self.proc is not None and self.proc.poll() is None:
            # the postmaster itself (runuser does not pass SIGINT on): fast shutdown
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
            os.kill(pid, signal.SIGINT)
            self.proc.wait(30)
        self.proc = None

    def _sync(self, on: bool) -> None:
        names = "'*'" if on else "''"
        self._sql(self.primary.port, f"ALTER SYSTEM SET synchronous_standby_names = {names}")
        self._sql(self.primary.port, "SELECT pg_reload_conf()")
        if on:
            wait_until(
                lambda: (
                    self._sql(
                        self.primary.port,
                        "SELECT count(*) FROM pg_stat_replication "
                        "WHERE sync_state = 'sync' AND state = 'streaming'",
                    )
                    == 1
                ),
                timeout=30,
                what="the replica to stream synchronously",
            )

    def stop(self) -> None:
        self.stop_replica()
        with contextlib.suppress(OSError, ValueError):  # not running: stop() cleans up
            pid = int((self.primary.folder / "data" / "postmaster.pid").read_text().split()[0])
            os.kill(pid, signal.SIGINT)  # fast shutdown at once (runuser does not pass it on)
            self.primary.proc.wait(30)
        self.primary.stop()


def start_replicated() -> Replicated:
    """initdb + primary (tests/servers.py), then pg_basebackup -R + the replica."""
    primary = start_postgresql()
    try:
        rep = Replicated(primary, primary.folder / "replica", free_port())
        rep._sql(primary.port, "ALTER SYSTEM SET synchronous_commit = 'remote_apply'")
        rep._sql(primary.port, "SELECT pg_reload_conf()")
        env = {**os.environ, "PGPASSWORD": primary.superpassword}
        subprocess.run(
            _as_postgres([str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(primary.port),
                          "-U", "postgres", "-D", str(rep.data), "-R", "-X", "stream",
                          "-c", "fast", "--no-sync"]),
            check=True, capture_output=True, env=env,
        )  # fmt: skip
        rep.start_replica()
    except BaseException:
        primary.stop()
        raise
    return rep


@pytest.fixture(scope="session")
def pg_replicated() -> Iterator[Replicated]:
    """A primary and its streaming replica for the whole session."""
    rep = start_replicated()
    try:
        yield rep
    finally:
        rep.stop()
