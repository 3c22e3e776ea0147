"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-24 15:29:19.369796
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import pagetally.storage.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "allowances",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "target",
            sa.String(length=255)
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mariadb"
            )
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mysql"
            ),
            nullable=False,
        ),
        sa.Column("isgroup", sa.Boolean(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("credit", pagetally.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("cap", pagetally.storage.types.Money(precision=18, scale=6), nullable=True),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("resetcounters", sa.Boolean(), nullable=False),
        sa.Column(
            "printer",
            sa.String(length=255)
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mariadb"
            )
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mysql"
            ),
            nullable=False,
        ),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allowances")),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )
    op.create_table(
        "billingcodes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "billingcode",
            sa.String(length=255)
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mariadb"
            )
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mysql"
            ),
            nullable=False,
        ),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("balance", pagetally.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("pagecounter", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billingcodes")),
        sa.UniqueConstraint("billingcode", name=op.f("uq_billingcodes_billingcode")),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )
    op.create_table(
        "groups",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "groupname",
            sa.String(length=255)
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mariadb"
            )
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mysql"
            ),
            nullable=False,
        ),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("limitby", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_groups")),
        sa.UniqueConstraint("groupname", name=op.f("uq_groups_groupname")),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )
    op.create_table(
        "jobhistory",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("jobdate", pagetally.storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "username",
            sa.String(length=255)
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mariadb"
            )
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mysql"
            ),
            nullable=False,
        ),
        sa.Column(
            "printername",
            sa.String(length=255)
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mariadb"
            )
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mysql"
            ),
            nullable=False,
        ),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("jobsize", sa.Integer(), nullable=False),
        sa.Column("colorpages", sa.Integer(), nullable=False),
        sa.Column("sheets", sa.Integer(), nullable=True),
        sa.Column("copies", sa.Integer(), nullable=False),
        sa.Column("jobprice", pagetally.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=False),
        sa.Column(
            "billingcode",
            sa.String(length=255)
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mariadb"
            )
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mysql"
            ),
            nullable=True,
        ),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("jobsizebytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("options", sa.String(length=400), nullable=False),
        sa.Column("jobid", sa.String(length=64), nullable=False),
        sa.Column("jobuuid", sa.String(length=64), nullable=False),
        sa.Column(
            "jobkey",
            sa.LargeBinary(length=16).with_variant(mysql.BINARY(length=16), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.Column("pagecounter", sa.BigInteger(), nullable=True),
        sa.Column("precomputedjobsize", sa.Integer(), nullable=True),
        sa.Column(
            "precomputedjobprice",
            pagetally.storage.types.Money(precision=18, scale=6),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobhistory")),
        sa.UniqueConstraint("jobkey", name=op.f("uq_jobhistory_jobkey")),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("jobhistory", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_jobhistory_billingcode_jobdate"),
            ["billingcode", "jobdate"],
            unique=False,
            postgresql_where=sa.text("billingcode IS NOT NULL"),
            sqlite_where=sa.text("billingcode IS NOT NULL"),
        )
        batch_op.create_index(
            batch_op.f("ix_jobhistory_hostname_jobdate"), ["hostname", "jobdate"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_jobhistory_jobdate"), ["jobdate"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_jobhistory_printername_jobdate"),
            ["printername", "jobdate"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_jobhistory_username_jobdate"), ["username", "jobdate"], unique=False
        )

    op.create_table(
        "printers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "printername",
            sa.String(length=255)
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mariadb"
            )
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mysql"
            ),
            nullable=False,
        ),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column(
            "priceperpage", pagetally.storage.types.Money(precision=18, scale=6), nullable=False
        ),
        sa.Column(
            "priceperjob", pagetally.storage.types.Money(precision=18, scale=6), nullable=False
        ),
        sa.Column("prices", sa.Text(), nullable=False),
        sa.Column("passthrough", sa.Boolean(), nullable=False),
        sa.Column("maxjobsize", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_printers")),
        sa.UniqueConstraint("printername", name=op.f("uq_printers_printername")),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )
    op.create_table(
        "users",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "username",
            sa.String(length=255)
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mariadb"
            )
            .with_variant(
                mysql.VARCHAR(charset="utf8mb4", collation="utf8mb4_bin", length=255), "mysql"
            ),
            nullable=False,
        ),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("balance", pagetally.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column(
            "lifetimepaid", pagetally.storage.types.Money(precision=18, scale=6), nullable=False
        ),
        sa.Column("limitby", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column(
            "overcharge", pagetally.storage.types.Money(precision=18, scale=6), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )
    op.create_table(
        "allowancegrants",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "allowanceid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("periodkey", sa.String(length=32), nullable=False),
        sa.Column("granted", pagetally.storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["allowanceid"],
            ["allowances.id"],
            name=op.f("fk_allowancegrants_allowanceid_allowances"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allowancegrants")),
        sa.UniqueConstraint(
            "allowanceid", "periodkey", name=op.f("uq_allowancegrants_allowanceid_periodkey")
        ),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )
    op.create_table(
        "grouppquota",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("groupid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "printerid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("softlimit", sa.Integer(), nullable=True),
        sa.Column("hardlimit", sa.Integer(), nullable=True),
        sa.Column("datelimit", pagetally.storage.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("maxjobsize", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["groupid"],
            ["groups.id"],
            name=op.f("fk_grouppquota_groupid_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["printerid"],
            ["printers.id"],
            name=op.f("fk_grouppquota_printerid_printers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grouppquota")),
        sa.UniqueConstraint("groupid", "printerid", name=op.f("uq_grouppquota_groupid_printerid")),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("grouppquota", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grouppquota_printerid"), ["printerid"], unique=False)

    op.create_table(
        "groupsmembers",
        sa.Column("groupid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("userid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["groupid"],
            ["groups.id"],
            name=op.f("fk_groupsmembers_groupid_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["userid"], ["users.id"], name=op.f("fk_groupsmembers_userid_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("groupid", "userid", name=op.f("pk_groupsmembers")),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("groupsmembers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_groupsmembers_userid"), ["userid"], unique=False)

    op.create_table(
        "payments",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("userid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("amount", pagetally.storage.types.Money(precision=18, scale=6), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("date", pagetally.storage.types.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["userid"], ["users.id"], name=op.f("fk_payments_userid_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payments_userid_date"), ["userid", "date"], unique=False
        )

    op.create_table(
        "printergroupsmembers",
        sa.Column("groupid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "printerid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["groupid"],
            ["printers.id"],
            name=op.f("fk_printergroupsmembers_groupid_printers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["printerid"],
            ["printers.id"],
            name=op.f("fk_printergroupsmembers_printerid_printers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("groupid", "printerid", name=op.f("pk_printergroupsmembers")),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("printergroupsmembers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_printergroupsmembers_printerid"), ["printerid"], unique=False
        )

    op.create_table(
        "userpquota",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("userid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "printerid", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("lifepagecounter", sa.BigInteger(), nullable=False),
        sa.Column("pagecounter", sa.BigInteger(), nullable=False),
        sa.Column("softlimit", sa.Integer(), nullable=True),
        sa.Column("hardlimit", sa.Integer(), nullable=True),
        sa.Column("datelimit", pagetally.storage.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("maxjobsize", sa.Integer(), nullable=True),
        sa.Column("warncount", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["printerid"],
            ["printers.id"],
            name=op.f("fk_userpquota_printerid_printers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["userid"], ["users.id"], name=op.f("fk_userpquota_userid_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_userpquota")),
        sa.UniqueConstraint("userid", "printerid", name=op.f("uq_userpquota_userid_printerid")),
        mysql_charset="utf8mb4",
        mysql_engine="InnoDB",
    )
    with op.batch_alter_table("userpquota", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_userpquota_printerid"), ["printerid"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("userpquota", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_userpquota_printerid"))

    op.drop_table("userpquota")
    with op.batch_alter_table("printergroupsmembers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_printergroupsmembers_printerid"))

    op.drop_table("printergroupsmembers")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_userid_date"))

    op.drop_table("payments")
    with op.batch_alter_table("groupsmembers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_groupsmembers_userid"))

    op.drop_table("groupsmembers")
    with op.batch_alter_table("grouppquota", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_grouppquota_printerid"))

    op.drop_table("grouppquota")
    op.drop_table("allowancegrants")
    op.drop_table("users")
    op.drop_table("printers")
    with op.batch_alter_table("jobhistory", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobhistory_username_jobdate"))
        batch_op.drop_index(batch_op.f("ix_jobhistory_printername_jobdate"))
        batch_op.drop_index(batch_op.f("ix_jobhistory_jobdate"))
        batch_op.drop_index(batch_op.f("ix_jobhistory_hostname_jobdate"))
        batch_op.drop_index(batch_op.f("ix_jobhistory_billingcode_jobdate"))

    op.drop_table("jobhistory")
    op.drop_table("groups")
    op.drop_table("billingcodes")
    op.drop_table("allowances")
