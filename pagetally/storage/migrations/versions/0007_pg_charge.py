"""pg charge: PostgreSQL functions for decide-and-charge in two round trips (scale)

Revision ID: 0007
Revises: 0003_invoices
Create Date: 2026-12-03 13:30:00

`pagetally_snapshot` (with `p_lock`) locks the user's row and their groups'
entries on the printer's chain, and returns everything the decision reads, as
JSON text (without `p_lock`: the same read, no lock: Store.snapshot);
`pagetally_charge` applies an allowed (or refused) job and inserts its history row.
Both run inside the caller's transaction; storage/pg_charge.py calls them. SQLite
and MariaDB keep the statement-by-statement path (accounting.py): nothing here.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SNAPSHOT = r"""
CREATE OR REPLACE FUNCTION pagetally_snapshot(p_user text, p_printer text, p_code text,
                                              p_key bytea, p_lock boolean)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  v_uid integer;
  v_chain integer[];
BEGIN
  IF p_key IS NOT NULL AND EXISTS (SELECT 1 FROM jobhistory WHERE jobkey = p_key) THEN
    RETURN '{"charged": true}';
  END IF;
  IF p_lock THEN
    SELECT id INTO v_uid FROM users WHERE username = p_user FOR UPDATE;
  ELSE  -- a plain read (Store.snapshot): no lock, no write right needed, a replica can
    SELECT id INTO v_uid FROM users WHERE username = p_user;
  END IF;
  WITH RECURSIVE up(id) AS (
      SELECT id FROM printers WHERE printername = p_printer
      UNION
      SELECT m.groupid FROM printergroupsmembers m JOIN up ON m.printerid = up.id)
  SELECT array_agg(id) INTO v_chain FROM up;
  v_chain := coalesce(v_chain, '{}');
  IF p_lock AND v_uid IS NOT NULL AND cardinality(v_chain) > 0 THEN
    PERFORM 1 FROM grouppquota gq JOIN groupsmembers gm ON gm.groupid = gq.groupid
      WHERE gm.userid = v_uid AND gq.printerid = ANY (v_chain) ORDER BY gq.id FOR UPDATE;
  END IF;
  RETURN json_build_object(
    'user', (SELECT row_to_json(u) FROM users u WHERE u.id = v_uid),
    'printers', (SELECT json_agg(p) FROM printers p WHERE p.id = ANY (v_chain)),
    'edges', (SELECT json_agg(json_build_array(c.printername, g.printername))
              FROM printergroupsmembers m JOIN printers c ON c.id = m.printerid
              JOIN printers g ON g.id = m.groupid WHERE m.printerid = ANY (v_chain)),
    'groups', (SELECT json_agg(g ORDER BY g.groupname) FROM groups g
               JOIN groupsmembers gm ON gm.groupid = g.id WHERE gm.userid = v_uid),
    'user_quotas', (SELECT json_agg(x) FROM (
        SELECT q.*, u.username, p.printername FROM userpquota q
        JOIN users u ON u.id = q.userid JOIN printers p ON p.id = q.printerid
        WHERE q.userid = v_uid AND q.printerid = ANY (v_chain)) x),
    'group_quotas', (SELECT json_agg(x) FROM (
        SELECT q.*, g.groupname, p.printername,
          (SELECT coalesce(sum(uq.pagecounter), 0) FROM userpquota uq
           JOIN groupsmembers gm2 ON gm2.userid = uq.userid
           WHERE gm2.groupid = q.groupid AND uq.printerid = q.printerid) AS pc,
          (SELECT coalesce(sum(uq.lifepagecounter), 0) FROM userpquota uq
           JOIN groupsmembers gm2 ON gm2.userid = uq.userid
           WHERE gm2.groupid = q.groupid AND uq.printerid = q.printerid) AS lpc
        FROM grouppquota q JOIN groups g ON g.id = q.groupid
        JOIN printers p ON p.id = q.printerid JOIN groupsmembers gm ON gm.groupid = q.groupid
        WHERE gm.userid = v_uid AND q.printerid = ANY (v_chain)) x),
    'group_balances', (SELECT json_object_agg(gm.groupid, (
        SELECT coalesce(sum(u2.balance), 0) FROM groupsmembers m2
        JOIN users u2 ON u2.id = m2.userid WHERE m2.groupid = gm.groupid))
        FROM groupsmembers gm WHERE gm.userid = v_uid),
    'code', (SELECT row_to_json(b) FROM billingcodes b WHERE b.billingcode = p_code)
  )::text;
END
$$
"""

CHARGE = r"""
CREATE OR REPLACE FUNCTION pagetally_charge(p_user text, p_printer text,
    p_allowed boolean, p_price numeric, p_pages bigint, p_code text, p_banner boolean,
    p_job json)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  v_uid integer;
  v_chain integer[];
  v_balance numeric;
  v_counted integer;
  v_cols text;
  v_id bigint;
BEGIN
  SELECT id INTO v_uid FROM users WHERE username = p_user FOR UPDATE;
  WITH RECURSIVE up(id) AS (
      SELECT id FROM printers WHERE printername = p_printer
      UNION
      SELECT m.groupid FROM printergroupsmembers m JOIN up ON m.printerid = up.id)
  SELECT array_agg(id) INTO v_chain FROM up;
  v_chain := coalesce(v_chain, '{}');
  IF v_uid IS NOT NULL THEN
    IF p_allowed AND p_price <> 0 THEN
      UPDATE users SET balance = balance - p_price WHERE id = v_uid RETURNING balance
        INTO v_balance;
    ELSE
      SELECT balance INTO v_balance FROM users WHERE id = v_uid;
    END IF;
    IF p_allowed AND p_pages <> 0 AND cardinality(v_chain) > 0 THEN
      UPDATE userpquota SET pagecounter = pagecounter + p_pages,
                            lifepagecounter = lifepagecounter + p_pages
        WHERE userid = v_uid AND printerid = ANY (v_chain);
      GET DIAGNOSTICS v_counted = ROW_COUNT;
      IF v_counted < cardinality(v_chain) THEN
        -- a group's entry without the user's own: the user's (limitless) entry
        -- is made, so that the group's sum counts this job
        INSERT INTO userpquota (userid, printerid, pagecounter, lifepagecounter, warncount)
        SELECT v_uid, e.printerid, p_pages, p_pages, 0 FROM (
          SELECT DISTINCT gq.printerid FROM grouppquota gq
          JOIN groupsmembers gm ON gm.groupid = gq.groupid
          WHERE gm.userid = v_uid AND gq.printerid = ANY (v_chain)) e
        WHERE NOT EXISTS (SELECT 1 FROM userpquota q
                          WHERE q.userid = v_uid AND q.printerid = e.printerid)
        ORDER BY e.printerid;
      END IF;
    END IF;
  END IF;
  IF p_allowed AND p_code IS NOT NULL AND p_code <> '' THEN
    UPDATE billingcodes SET pagecounter = pagecounter + p_pages, balance = balance - p_price
      WHERE billingcode = p_code;
  END IF;
  IF p_banner AND v_uid IS NOT NULL THEN
    UPDATE userpquota SET warncount = warncount + 1
      WHERE userid = v_uid AND printerid = (SELECT id FROM printers WHERE printername = p_printer);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM json_object_keys(p_job) k WHERE k <> ALL (ARRAY[%s])) THEN
    -- the columns charge() fills today: a statement planned once per session
    INSERT INTO jobhistory (%s) SELECT %s FROM json_populate_record(NULL::jobhistory, p_job)
      RETURNING id INTO v_id;
  ELSE  -- a column added since (a later migration's): named by the row itself
    SELECT string_agg(quote_ident(k), ', ') INTO v_cols FROM json_object_keys(p_job) k;
    EXECUTE format('INSERT INTO jobhistory (%%s) SELECT %%s FROM json_populate_record('
                   'NULL::jobhistory, $1) RETURNING id', v_cols, v_cols)
      USING p_job INTO v_id;
  END IF;
  RETURN json_build_object('id', v_id, 'balance', v_balance, 'known', v_uid IS NOT NULL)::text;
END
$$
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
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    cols = ", ".join(HISTORY_COLUMNS)
    keys = ", ".join(f"'{c}'" for c in HISTORY_COLUMNS)
    op.execute(SNAPSHOT)
    op.execute(CHARGE % (keys, cols, cols))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "DROP FUNCTION IF EXISTS pagetally_charge(text, text, boolean, numeric, bigint, "
        "text, boolean, json)"
    )
    op.execute("DROP FUNCTION IF EXISTS pagetally_snapshot(text, text, text, bytea, boolean)")
