"""pg one trip: decide-and-charge on PostgreSQL in one statement (scale)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 16:40:00

`pagetally_decide_charge` locks the user's row and their groups' entries on the
printer's chain, renders the account state (what the decision reads, as JSON
text) and compares its md5 with the state the caller decided on: the same, it
charges the caller's decision and returns the state after the charge (the
caller's next decision for this account starts from it); not the same (or no
state given), it changes nothing and returns the current state to decide on.
The decision stays core's, in Python; the server only proves that the state it
was made on is the state the charge applies to, under the locks. One statement
in autocommit mode: no BEGIN, no COMMIT, one round trip (storage/pg_charge.py).

It is made of helpers: `pagetally_chain`, `pagetally_lock_groups`,
`pagetally_account` (0007's snapshot, with every aggregate ordered, so the same
state always renders as the same text) and `pagetally_apply` (0007's charge
body, taken from that migration's text). 0007's two functions stay as they are
for the locked path.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HELPERS = r"""
CREATE OR REPLACE FUNCTION pagetally_chain(p_printer text) RETURNS integer[]
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_chain integer[];
BEGIN
  WITH RECURSIVE up(id) AS (
      SELECT id FROM printers WHERE printername = p_printer
      UNION
      SELECT m.groupid FROM printergroupsmembers m JOIN up ON m.printerid = up.id)
  SELECT array_agg(id ORDER BY id) INTO v_chain FROM up;
  RETURN coalesce(v_chain, '{}');
END
$$;

CREATE OR REPLACE FUNCTION pagetally_lock_groups(p_uid integer, p_chain integer[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF p_uid IS NOT NULL AND cardinality(p_chain) > 0 THEN
    PERFORM 1 FROM grouppquota gq JOIN groupsmembers gm ON gm.groupid = gq.groupid
      WHERE gm.userid = p_uid AND gq.printerid = ANY (p_chain) ORDER BY gq.id FOR UPDATE;
  END IF;
END
$$;

CREATE OR REPLACE FUNCTION pagetally_account(p_uid integer, p_chain integer[], p_code text)
RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN json_build_object(
    'user', (SELECT row_to_json(u) FROM users u WHERE u.id = p_uid),
    'printers', (SELECT json_agg(p ORDER BY p.id) FROM printers p WHERE p.id = ANY (p_chain)),
    'edges', (SELECT json_agg(json_build_array(c.printername, g.printername)
                              ORDER BY c.printername, g.printername)
              FROM printergroupsmembers m JOIN printers c ON c.id = m.printerid
              JOIN printers g ON g.id = m.groupid WHERE m.printerid = ANY (p_chain)),
    'groups', (SELECT json_agg(g ORDER BY g.groupname) FROM groups g
               JOIN groupsmembers gm ON gm.groupid = g.id WHERE gm.userid = p_uid),
    'user_quotas', (SELECT json_agg(x ORDER BY x.id) FROM (
        SELECT q.*, u.username, p.printername FROM userpquota q
        JOIN users u ON u.id = q.userid JOIN printers p ON p.id = q.printerid
        WHERE q.userid = p_uid AND q.printerid = ANY (p_chain)) x),
    'group_quotas', (SELECT json_agg(x ORDER BY x.id) FROM (
        SELECT q.*, g.groupname, p.printername,
          (SELECT coalesce(sum(uq.pagecounter), 0) FROM userpquota uq
           JOIN groupsmembers gm2 ON gm2.userid = uq.userid
           WHERE gm2.groupid = q.groupid AND uq.printerid = q.printerid) AS pc,
          (SELECT coalesce(sum(uq.lifepagecounter), 0) FROM userpquota uq
           JOIN groupsmembers gm2 ON gm2.userid = uq.userid
           WHERE gm2.groupid = q.groupid AND uq.printerid = q.printerid) AS lpc
        FROM grouppquota q JOIN groups g ON g.id = q.groupid
        JOIN printers p ON p.id = q.printerid JOIN groupsmembers gm ON gm.groupid = q.groupid
        WHERE gm.userid = p_uid AND q.printerid = ANY (p_chain)) x),
    'group_balances', (SELECT json_object_agg(gm.groupid, (
        SELECT coalesce(sum(u2.balance), 0) FROM groupsmembers m2
        JOIN users u2 ON u2.id = m2.userid WHERE m2.groupid = gm.groupid) ORDER BY gm.groupid)
        FROM groupsmembers gm WHERE gm.userid = p_uid),
    'code', (SELECT row_to_json(b) FROM billingcodes b WHERE b.billingcode = p_code)
  )::text;
END
$$;
"""

APPLY_HEAD = r"""
CREATE OR REPLACE FUNCTION pagetally_apply(p_uid integer, p_chain integer[], p_printer text,
    p_allowed boolean, p_price numeric, p_pages bigint, p_code text, p_banner boolean,
    p_job json)
RETURNS json LANGUAGE plpgsql AS $$
DECLARE
  v_balance numeric;
  v_counted integer;
  v_cols text;
  v_id bigint;
BEGIN
"""


def _apply() -> str:
    """`pagetally_apply`: the body of 0007's `pagetally_charge` from its user's test
    to its history row, unchanged but for taking the user and chain as arguments
    (a template: the history columns are put in with %)."""
    body: str = _migration("0007_pg_charge.py").CHARGE
    body = body[
        body.index("  IF v_uid IS NOT NULL THEN") : body.index("  RETURN json_build_object")
    ]
    body = body.replace("v_uid", "p_uid").replace("v_chain", "p_chain")
    return (
        APPLY_HEAD + body + "  RETURN json_build_object('id', v_id, 'balance', v_balance, "
        "'known', p_uid IS NOT NULL);\nEND\n$$;\n"
    )


def _migration(name: str) -> ModuleType:
    """An earlier migration's module (its file name is no module name)."""
    path = Path(__file__).with_name(name)
    spec = importlib.util.spec_from_file_location(f"pagetally_migration_{name[:4]}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ENTRIES = r"""
CREATE OR REPLACE FUNCTION pagetally_decide_charge(p_user text, p_printer text, p_code text,
    p_key bytea, p_seen text, p_allowed boolean, p_price numeric, p_pages bigint,
    p_banner boolean, p_job json)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  v_uid integer;
  v_chain integer[];
  v_state text;
  v_done json;
BEGIN
  IF EXISTS (SELECT 1 FROM jobhistory WHERE jobkey = p_key) THEN
    RETURN '{"charged": true}';
  END IF;
  SELECT id INTO v_uid FROM users WHERE username = p_user FOR UPDATE;
  v_chain := pagetally_chain(p_printer);
  PERFORM pagetally_lock_groups(v_uid, v_chain);
  v_state := pagetally_account(v_uid, v_chain, p_code);
  IF p_seen IS NULL OR p_seen <> md5(v_state) THEN
    RETURN E'{}\n' || v_state;  -- decide on this state, then call again
  END IF;
  v_done := pagetally_apply(v_uid, v_chain, p_printer, p_allowed, p_price, p_pages, p_code,
                            p_banner, p_job);
  RETURN v_done::text || E'\n' || pagetally_account(v_uid, v_chain, p_code);
END
$$;
"""

# the history columns storage/accounting.history_values fills (at this revision)
HISTORY_COLUMNS = (
    "printername",
    "jobid",
    "hostname",
    "jobuuid",
    "jobkey",
    "jobdate",
    "username",
    "action",
    "jobsize",
    "colorpages",
    "sheets",
    "copies",
    "jobprice",
    "reason",
    "billingcode",
    "title",
    "filename",
    "jobsizebytes",
    "sha256",
    "options",
    "pagecounter",
    "precomputedjobsize",
    "precomputedjobprice",
    "decisioncode",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    cols = ", ".join(HISTORY_COLUMNS)
    keys = ", ".join(f"'{c}'" for c in HISTORY_COLUMNS)
    op.execute(HELPERS)
    op.execute(_apply() % (keys, cols, cols))
    op.execute(ENTRIES)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "DROP FUNCTION IF EXISTS pagetally_decide_charge(text, text, text, bytea, text, "
        "boolean, numeric, bigint, boolean, json)"
    )
    for name, args in (
        (
            "pagetally_apply",
            "integer, integer[], text, boolean, numeric, bigint, text, boolean, json",
        ),
        ("pagetally_account", "integer, integer[], text"),
        ("pagetally_lock_groups", "integer, integer[]"),
        ("pagetally_chain", "text"),
    ):
        op.execute(f"DROP FUNCTION IF EXISTS {name}({args})")
