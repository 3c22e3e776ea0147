"""jobhistory.backendms: the backend's time on each job, for /metrics

Milliseconds from the backend's start on a job to its charge (NULL where not
measured: refused jobs, jobs from before, imports). The web's /metrics reads
them back as the `pagetally_backend_seconds` histogram.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 17:00:00
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _migration(name: str) -> ModuleType:
    """An earlier migration's module (their file names are no module names)."""
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(f"pagetally_migration_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _columns() -> tuple[str, ...]:
    """The history columns PostgreSQL's pagetally_charge inserted before (0009)."""
    return (*_migration("0007_pg_charge.py").HISTORY_COLUMNS, "decisioncode")


def _apply_function(columns: Sequence[str]) -> None:
    """0010's one-trip `pagetally_apply` re-made to insert these history columns."""
    if op.get_bind().dialect.name != "postgresql":
        return
    cols = ", ".join(columns)
    keys = ", ".join(f"'{c}'" for c in columns)
    op.execute(_migration("0010_pg_one_trip.py")._apply() % (keys, cols, cols))


def upgrade() -> None:
    op.add_column("jobhistory", sa.Column("backendms", sa.Integer(), nullable=True))
    # PostgreSQL's charge functions insert the new column directly (a column they
    # do not know takes their slower dynamic insert)
    _migration("0009_decision_code.py")._charge_function((*_columns(), "backendms"))
    _apply_function((*_migration("0010_pg_one_trip.py").HISTORY_COLUMNS, "backendms"))


def downgrade() -> None:
    _migration("0009_decision_code.py")._charge_function(_columns())
    _apply_function(_migration("0010_pg_one_trip.py").HISTORY_COLUMNS)
    with op.batch_alter_table("jobhistory") as batch:
        batch.drop_column("backendms")
