"""webthrottle: the web's login and quote rate limits, shared by its processes

`pagetally web --workers N` runs several processes: a limit kept in one
process's memory would let N times as many attempts through. Each limited key
(a SHA-256 of its kind and key) has one row with the times of its recent
attempts; the row is locked while it is read and changed.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 19:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import pagetally.storage.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webthrottle",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("times", sa.String(length=4000), nullable=False),
        sa.Column("updated", pagetally.storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_webthrottle")),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )
    op.create_index(op.f("ix_webthrottle_kind_updated"), "webthrottle", ["kind", "updated"])


def downgrade() -> None:
    op.drop_index(op.f("ix_webthrottle_kind_updated"), table_name="webthrottle")
    op.drop_table("webthrottle")
