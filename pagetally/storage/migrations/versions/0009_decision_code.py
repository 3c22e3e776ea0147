"""jobhistory.decisioncode: the rules' machine code of each job's decision

Rules that read the history back (the PIN lockout counts failed checks) match
this code, never the reason text written for people.

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-03 13:40:00
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _pg_charge() -> ModuleType:
    """Migration 0007 (PostgreSQL's charge function), whose file name is no module name."""
    path = Path(__file__).with_name("0007_pg_charge.py")
    spec = importlib.util.spec_from_file_location("pagetally_migration_0007", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _charge_function(columns: Sequence[str]) -> None:
    """PostgreSQL's pagetally_charge re-made to insert these history columns directly
    (a column it does not know takes its slower dynamic insert)."""
    if op.get_bind().dialect.name != "postgresql":
        return
    cols = ", ".join(columns)
    keys = ", ".join(f"'{c}'" for c in columns)
    op.execute(_pg_charge().CHARGE % (keys, cols, cols))


def upgrade() -> None:
    op.add_column("jobhistory", sa.Column("decisioncode", sa.String(length=32), nullable=True))
    _charge_function((*_pg_charge().HISTORY_COLUMNS, "decisioncode"))


def downgrade() -> None:
    _charge_function(_pg_charge().HISTORY_COLUMNS)
    with op.batch_alter_table("jobhistory") as batch:
        batch.drop_column("decisioncode")
