"""What only MariaDB's and PostgreSQL's DDL say is added when such a store is
opened (schema.for_dialect), so that a SQLite command never loads their dialects
(~50 ms of every command's start-up), and is there when it matters."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import Dialect, create_mock_engine
from sqlalchemy.dialects import mysql
from sqlalchemy.schema import CreateIndex, CreateTable

from pagetally.storage import schema
from pagetally.storage.types import name_type


def test_mariadb_tables_keep_their_options_and_binary_names() -> None:
    schema.for_dialect("mariadb")
    ddl = str(CreateTable(schema.users).compile(dialect=mysql.dialect(is_mariadb=True)))
    assert "username VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" in ddl
    assert "CHARSET=utf8mb4" in ddl and "ENGINE=InnoDB" in ddl
    assert "jobkey BINARY(16)" in str(
        CreateTable(schema.jobhistory).compile(dialect=mysql.dialect())
    )
    # a migration's name column, made after a MariaDB store was opened
    assert "utf8mb4_bin" in str(name_type().compile(dialect=mysql.dialect()))


def test_postgresql_keeps_the_partial_index() -> None:
    schema.for_dialect("postgresql")
    index = next(
        i
        for i in schema.jobhistory.indexes
        if [c.name for c in i.columns] == ["billingcode", "jobdate"]
    )
    ddl = str(CreateIndex(index).compile(dialect=_pg_dialect()))
    assert ddl.endswith("WHERE billingcode IS NOT NULL")


def test_the_schema_loads_no_server_dialect() -> None:
    code = (
        "import sys; import pagetally.storage.sql; "
        "print(' '.join(m for m in sys.modules if m.startswith('sqlalchemy.dialects.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert not {m.split(".")[2] for m in loaded} - {"sqlite", "_typing"}, loaded


def _pg_dialect() -> Dialect:
    return create_mock_engine("postgresql+psycopg://", lambda *_: None).dialect
