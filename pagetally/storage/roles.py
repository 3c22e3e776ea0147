"""The two database roles of a PostgreSQL or MariaDB store, as PyKota had them.

- the admin role (`admin_user`, read-write): owns the database, runs migrations;
- the read-only role (`user`): may connect and SELECT, nothing else.

`role_sql(settings)` gives the SQL for a database administrator to run by hand;
`create_roles(settings, superuser, password)` runs it as a superuser, idempotently
(the test fixtures in tests/servers.py do, and a `pagetally db` command can).
Role and database names must be plain identifiers; passwords are quoted as SQL
literals (DDL takes no bound parameters).
"""

from __future__ import annotations

import re

from sqlalchemy import URL, Connection, create_engine, text
from sqlalchemy.exc import DBAPIError

from pagetally.errors import InvalidInput
from pagetally.storage.base import StoreSettings
from pagetally.storage.engine import _host_port, backend_of, translate

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _ident(what: str, name: str | None) -> str:
    if not name or not _IDENT.match(name):
        raise InvalidInput(
            f"{what} {name!r} must be a plain identifier (letters, digits, underscore)"
        )
    return name


def _pg_literal(value: str) -> str:
    if "\x00" in value:
        raise InvalidInput("a password must not hold NUL characters")
    return "'" + value.replace("'", "''") + "'"


def _my_literal(value: str) -> str:
    if "\x00" in value:
        raise InvalidInput("a password must not hold NUL characters")
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _names(settings: StoreSettings) -> tuple[str, str, str, str, str]:
    db = _ident("database name", settings.name)
    admin = _ident("admin role", settings.admin_user)
    ro = _ident("read-only role", settings.user)
    if admin == ro:
        raise InvalidInput("the admin and read-only roles must differ")
    return db, admin, ro, settings.admin_password or "", settings.password or ""


def role_sql(settings: StoreSettings) -> list[tuple[str, str]]:
    """(database to run it in, statement) pairs; "" means the server's default database.

    PostgreSQL statements before the CREATE DATABASE run outside a transaction.
    """
    backend = backend_of(settings)
    db, admin, ro, admin_pw, ro_pw = _names(settings)
    if backend == "postgresql":
        return [
            ("", f'CREATE ROLE "{admin}" LOGIN PASSWORD {_pg_literal(admin_pw)}'),
            ("", f'CREATE ROLE "{ro}" LOGIN PASSWORD {_pg_literal(ro_pw)}'),
            ("", f'CREATE DATABASE "{db}" OWNER "{admin}" ENCODING \'UTF8\' TEMPLATE template0'),
            ("", f'REVOKE ALL ON DATABASE "{db}" FROM PUBLIC'),
            ("", f'GRANT CONNECT ON DATABASE "{db}" TO "{admin}", "{ro}"'),
            (db, "REVOKE CREATE ON SCHEMA public FROM PUBLIC"),
            (db, f'GRANT USAGE ON SCHEMA public TO "{ro}"'),
            (db, f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{ro}"'),
            (
                db,
                f'ALTER DEFAULT PRIVILEGES FOR ROLE "{admin}" IN SCHEMA public '
                f'GRANT SELECT ON TABLES TO "{ro}"',
            ),
        ]
    if backend == "mysql":
        return [
            ("", f"CREATE DATABASE IF NOT EXISTS `{db}` CHARACTER SET utf8mb4"),
            ("", f"CREATE USER IF NOT EXISTS '{admin}'@'%' IDENTIFIED BY {_my_literal(admin_pw)}"),
            ("", f"CREATE USER IF NOT EXISTS '{ro}'@'%' IDENTIFIED BY {_my_literal(ro_pw)}"),
            ("", f"ALTER USER '{admin}'@'%' IDENTIFIED BY {_my_literal(admin_pw)}"),
            ("", f"ALTER USER '{ro}'@'%' IDENTIFIED BY {_my_literal(ro_pw)}"),
            ("", f"GRANT ALL PRIVILEGES ON `{db}`.* TO '{admin}'@'%'"),
            ("", f"GRANT SELECT ON `{db}`.* TO '{ro}'@'%'"),
        ]
    raise InvalidInput("SQLite has no roles: protect the database file with permissions")


def _super_url(settings: StoreSettings, superuser: str, password: str | None, db: str) -> URL:
    host, port = _host_port(settings.server)
    query: dict[str, str] = {}
    if host and host.startswith("/"):
        query = {"host": host} if backend_of(settings) == "postgresql" else {"unix_socket": host}
        host = None
    if backend_of(settings) == "postgresql":
        return URL.create(
            "postgresql+psycopg", superuser, password, host, port, db or "postgres", query
        )
    return URL.create("mysql+pymysql", superuser, password, host, port, db or None, query)


def create_roles(settings: StoreSettings, superuser: str, password: str | None) -> None:
    """Create the database and both roles as `superuser`. Idempotent: a role that
    exists gets its password reset to the settings', an existing database is kept."""
    pg = backend_of(settings) == "postgresql"
    by_db: dict[str, list[str]] = {}
    for where, stmt in role_sql(settings):
        by_db.setdefault(where, []).append(stmt)
    for where, stmts in by_db.items():
        url = _super_url(settings, superuser, password, where)
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                for stmt in stmts:
                    if pg:
                        stmt = _pg_idempotent(conn, stmt)
                    if stmt:
                        cur = conn.connection.cursor()  # no parameter interpolation
                        try:
                            cur.execute(stmt)
                        finally:
                            cur.close()
        except DBAPIError as err:
            raise translate(err, settings, readonly=False) from None
        finally:
            engine.dispose()


def _pg_idempotent(conn: Connection, stmt: str) -> str:
    """CREATE ROLE of an existing role becomes ALTER ROLE; an existing database is kept."""
    if stmt.startswith("CREATE ROLE"):
        name = stmt.split('"')[1]
        found = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name})
        return "ALTER" + stmt[len("CREATE") :] if found.first() else stmt
    if stmt.startswith("CREATE DATABASE"):
        name = stmt.split('"')[1]
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        return "" if found.first() else stmt
    return stmt
