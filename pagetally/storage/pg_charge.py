"""Decide-and-charge on PostgreSQL in one round trip (two when the state moved).

The statement-by-statement path (accounting.py) makes a dozen round trips per
job, each costing the client and the server their share of two cores; with 16
writers that, not the locks, is what the throughput fell on. Here the server
runs them, in functions of migrations 0007 and 0010:
- `decide_and_charge_once` (the usual path): core's rule decides on the account
  state the store's last charge of that account left, and
  `pagetally_decide_charge` charges that decision only if the state under its
  locks is exactly the one decided on; else it returns the current state and the
  rule decides again. One statement, its own transaction (autocommit): no BEGIN,
  no COMMIT, no pipeline, one message each way.
- `decide_and_charge` (the locked path, when the state keeps moving):
  `pagetally_snapshot` locks the user's row, then their groups' entries on the
  printer's chain (the same order as accounting.py), and returns what the
  decision reads as JSON; the rule decides in Python, as everywhere;
  `pagetally_charge` applies the decision and inserts the history row, with the
  COMMIT in the same trip. The locks are held from the snapshot to the commit.
Either way the outcome is the one of a serial run.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, StatementError

from pagetally.core.models import (
    AccountSnapshot,
    ChargeRequest,
    ChargeResult,
    Decision,
    GroupQuota,
    JobFacts,
    Printer,
    UserQuota,
)
from pagetally.core.printergroups import ancestors
from pagetally.storage import quotas, rows
from pagetally.storage.accounting import (
    AlreadyCharged,
    apply_date_limits,
    history_values,
    identity,
    printer_chain,
)
from pagetally.storage.types import to_money

#: PAGETALLY_PG_FUNCTIONS=0 takes the statement-by-statement path on PostgreSQL
#: too (bench/scale.py's "before"; a way around the functions should one misbehave)
ENABLED = os.environ.get("PAGETALLY_PG_FUNCTIONS", "1") != "0"
#: PAGETALLY_PG_ONE_TRIP=0 keeps migration 0007's two round trips (bench/scale.py's
#: "two trips"): decide_and_charge locks and reads, then charges, in a transaction
ONE_TRIP = os.environ.get("PAGETALLY_PG_ONE_TRIP", "1") != "0"

_SNAPSHOT = "SELECT pagetally_snapshot(%(user)s, %(printer)s, %(code)s, %(key)s, %(lock)s)"
_CHARGE = (
    "SELECT pagetally_charge(%(user)s, %(printer)s, %(allowed)s, %(price)s, %(pages)s, "
    "%(code)s, %(banner)s, %(job)s)"
)
_DECIDE_CHARGE = (
    "SELECT pagetally_decide_charge(%(user)s, %(printer)s, %(code)s, %(key)s, %(seen)s, "
    "%(allowed)s, %(price)s, %(pages)s, %(banner)s, %(job)s)"
)
_MONEY = frozenset({"balance", "lifetimepaid", "overcharge", "priceperpage", "priceperjob"})
_DATES = frozenset({"datelimit"})


class _JsonRow:
    """A JSON object standing in for a result row (`row._mapping`, `row.column`)."""

    def __init__(self, data: dict[str, Any]) -> None:
        for key in _MONEY.intersection(data):
            if data[key] is not None:
                data[key] = to_money(Decimal(data[key]))
        for key in _DATES.intersection(data):
            if data[key] is not None:
                data[key] = datetime.fromisoformat(data[key]).astimezone(UTC)
        self._mapping = data

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None


def _row(data: dict[str, Any]) -> Any:
    return cast(Any, _JsonRow(data))


def _chain(data: dict[str, Any], printer: str) -> list[Printer]:
    by_name = {p["printername"]: rows.printer_of(_row(p)) for p in data["printers"] or ()}
    if printer not in by_name:
        return []
    parents: dict[str, set[str]] = {}
    for child, parent in data["edges"] or ():
        parents.setdefault(child, set()).add(parent)
    return [by_name[printer]] + [by_name[n] for n in ancestors(parents, printer) if n in by_name]


def snapshot_of(data: dict[str, Any], printer: str) -> AccountSnapshot:
    """The AccountSnapshot from `pagetally_snapshot`'s JSON (see accounting.snapshot)."""
    chain = _chain(data, printer)
    code = None if data["code"] is None else rows.billing_code_of(_row(data["code"]))
    first = chain[0] if chain else None
    if data["user"] is None:
        return AccountSnapshot(user=None, printer=first, printers=tuple(chain), billing_code=code)
    groups = tuple(rows.group_of(_row(g)) for g in data["groups"] or ())
    uq: dict[str, UserQuota] = {}
    for q in data["user_quotas"] or ():
        uq[q["printername"]] = quotas.user_quota_of(_row(q)._mapping)
    gq: dict[tuple[str, str], GroupQuota] = {}
    for q in data["group_quotas"] or ():
        gq[(q["groupname"], q["printername"])] = quotas.group_quota_of(_row(q)._mapping)
    balances = {int(k): to_money(Decimal(v)) for k, v in (data["group_balances"] or {}).items()}
    return AccountSnapshot(
        user=rows.user_of(_row(data["user"])),
        printer=first,
        printers=tuple(chain),
        groups=groups,
        user_quotas=uq,
        group_quotas=gq,
        group_balances={g.name: balances.get(int(g.id or 0), to_money(0)) for g in groups},
        billing_code=code,
    )


def snapshot(
    conn: Connection, user: str, printer: str, billing_code: str | None
) -> AccountSnapshot:
    """Store.snapshot in one round trip (a read: nothing locked)."""
    params = {
        "user": user,
        "printer": printer,
        "code": billing_code or None,
        "key": None,
        "lock": False,
    }
    found = conn.exec_driver_sql(_SNAPSHOT, params).scalar_one()
    return snapshot_of(json.loads(found, parse_float=Decimal), printer)


def _job_json(values: dict[str, Any]) -> str:
    def plain(v: Any) -> Any:
        if isinstance(v, bytes):
            return "\\x" + v.hex()
        if isinstance(v, datetime):
            return v.isoformat()
        if isinstance(v, Decimal):
            return str(v)
        return v

    return json.dumps({k: plain(v) for k, v in values.items()})


def _driver_error(
    conn: Connection, raw: Any, sql: str, params: dict[str, Any], err: Exception
) -> StatementError:
    """The driver's own error, as SQLAlchemy would have raised it: the unit of
    work retries a deadlock, a unique violation means "charged already", a lost
    connection leaves the pool and is StoreUnavailable (engine.translate)."""
    import psycopg

    gone = bool(raw.broken or raw.closed)
    if gone:
        conn.invalidate()
    return DBAPIError.instance(sql, params, err, psycopg.Error, connection_invalidated=gone)


def _pipelined(conn: Connection, sql: str, params: dict[str, Any], *, commit: bool) -> str:
    """Run `sql` (one value back) in psycopg's pipeline mode: the BEGIN psycopg
    puts before a transaction's first statement, or the COMMIT after it, travels
    with the statement instead of taking a round trip of its own. SQLAlchemy's
    commit then finds the transaction closed and sends nothing (psycopg commits
    only an open transaction)."""
    import psycopg

    raw = conn.connection.driver_connection
    assert raw is not None
    try:
        with raw.pipeline():
            cur = raw.cursor()
            cur.execute(sql, params)
            if commit:
                raw.cursor().execute("COMMIT")  # queued behind the statement, one Sync
            found = cur.fetchone()
    except psycopg.Error as err:
        raise _driver_error(conn, raw, sql, params, err) from err
    assert found is not None
    return str(found[0])


def _idle(conn: Connection) -> bool:
    """No transaction open on the driver's connection (nothing sent since the last end)."""
    from psycopg.pq import TransactionStatus

    raw = conn.connection.driver_connection
    return raw is not None and raw.info.transaction_status == TransactionStatus.IDLE


def _alone(conn: Connection, sql: str, params: dict[str, Any]) -> str:
    """Run `sql` (one value back) as a transaction of its own: autocommit, so
    the server begins and commits around the one statement, and the client
    sends one message and reads one answer (no BEGIN, no COMMIT, no pipeline).
    SQLAlchemy's commit afterwards finds no transaction open and sends nothing."""
    import psycopg

    raw = conn.connection.driver_connection
    assert raw is not None
    raw.autocommit = True
    try:
        found = raw.execute(sql, params, prepare=True).fetchone()
    except psycopg.Error as err:
        raise _driver_error(conn, raw, sql, params, err) from err
    finally:
        if not (raw.broken or raw.closed):
            raw.autocommit = False
    assert found is not None
    return str(found[0])


def _charge_params(request: ChargeRequest, values: dict[str, Any]) -> dict[str, Any]:
    facts, decision = request.facts, request.decision
    return {
        "user": facts.user, "printer": facts.printer, "allowed": decision.allowed,
        "price": to_money(decision.price), "pages": decision.pages,
        "code": facts.billing_code or None, "banner": bool(request.deny_banner),
        "job": _job_json(values),
    }  # fmt: skip


def charge(
    conn: Connection,
    request: ChargeRequest,
    ident: dict[str, Any],
    chain: list[Printer] | None = None,
    *,
    commit: bool = False,
) -> ChargeResult:
    """accounting.charge in one round trip (date limits, rare, take their own).
    `commit`: commit in the same trip (the caller's unit of work ends here)."""
    facts, decision = request.facts, request.decision
    values = history_values(request, ident)
    params = _charge_params(request, values)
    dated = decision.user_date_limits or decision.group_date_limits
    if commit and not dated and ONE_TRIP and _idle(conn):  # its own transaction, one trip
        out = json.loads(_alone(conn, _CHARGE, params), parse_float=Decimal)
    elif commit and not dated:  # the locks taken before it are held: COMMIT in the same trip
        out = json.loads(_pipelined(conn, _CHARGE, params, commit=True), parse_float=Decimal)
    else:
        out = json.loads(conn.exec_driver_sql(_CHARGE, params).scalar_one(), parse_float=Decimal)
    balance = None if out["balance"] is None else to_money(Decimal(out["balance"]))
    if decision.allowed and dated:
        if chain is None:
            chain = printer_chain(conn, facts.printer)
        uid = None
        if out["known"]:
            uid = conn.exec_driver_sql(
                "SELECT id FROM users WHERE username = %(u)s", {"u": facts.user}
            ).scalar()
        apply_date_limits(conn, decision, uid, {p.name: int(p.id) for p in chain if p.id})
    job = rows.job_of_values(int(out["id"]), values)
    return ChargeResult(job=job, balance_after=balance)


def decide_and_charge(
    conn: Connection,
    facts: JobFacts,
    rule: Callable[[AccountSnapshot], Decision],
    date: datetime,
) -> ChargeResult:
    """accounting.decide_and_charge: lock and read in one trip, decide, charge in one."""
    ident = identity(facts)
    params = {"user": facts.user, "printer": facts.printer,
              "code": facts.billing_code or None, "key": ident["jobkey"], "lock": True}  # fmt: skip
    data = json.loads(_pipelined(conn, _SNAPSHOT, params, commit=False), parse_float=Decimal)
    if data.get("charged"):
        raise AlreadyCharged
    snap = snapshot_of(data, facts.printer)
    decision = rule(snap)
    request = ChargeRequest(facts=facts, decision=decision, date=date)
    return charge(conn, request, ident, list(snap.printers), commit=True)


#: a decide-and-charge whose state kept changing under it this many times takes
#: the locked path (decide_and_charge: the state cannot change while it decides)
OPTIMISTIC_TRIES = 3
#: account states kept per store (the oldest goes first)
STATES_KEPT = 4096

States = dict[tuple[str, str, str | None], str]


def decide_and_charge_once(
    conn: Connection,
    facts: JobFacts,
    rule: Callable[[AccountSnapshot], Decision],
    date: datetime,
    states: States,
) -> ChargeResult:
    """decide_and_charge in one round trip when `states` holds the account's state
    as the last charge left it (the usual case: one print server charging one
    account after another): core's `rule` decides on that state, and
    `pagetally_decide_charge` (migration 0010) charges the decision only if the
    state under its locks is still exactly that one (md5 of the same JSON text),
    in one statement that is its own transaction. Otherwise nothing is changed,
    the current state comes back, and the rule decides again on it: a decision
    is always made on the state it is charged against, as on the locked path.
    A state that keeps changing (many writers on one account), or a decision
    with date limits (their own statements), takes the locked path."""
    ident = identity(facts)
    where = (facts.user, facts.printer, facts.billing_code or None)
    state = states.get(where)
    values: dict[str, Any] = {}
    for _ in range(OPTIMISTIC_TRIES):
        if state is None:
            params = {"seen": None, "allowed": False, "price": 0, "pages": 0, "banner": False,
                      "job": "{}"}  # fmt: skip
        else:
            snap = snapshot_of(json.loads(state, parse_float=Decimal), facts.printer)
            decision = rule(snap)
            if decision.allowed and (decision.user_date_limits or decision.group_date_limits):
                break
            request = ChargeRequest(facts=facts, decision=decision, date=date)
            values = history_values(request, ident)
            params = {**_charge_params(request, values), "seen": _md5(state)}
        params.update(user=facts.user, printer=facts.printer, code=where[2], key=ident["jobkey"])
        head, _, state = _alone(conn, _DECIDE_CHARGE, params).partition("\n")
        if not state:  # {"charged": true}: the key exists
            states.pop(where, None)
            raise AlreadyCharged
        _keep(states, where, state)
        out = json.loads(head, parse_float=Decimal)
        if "id" in out:
            balance = None if out["balance"] is None else to_money(Decimal(out["balance"]))
            return ChargeResult(
                job=rows.job_of_values(int(out["id"]), values), balance_after=balance
            )
    states.pop(where, None)
    return decide_and_charge(conn, facts, rule, date)


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _keep(states: States, where: tuple[str, str, str | None], state: str) -> None:
    states.pop(where, None)
    if len(states) >= STATES_KEPT:
        states.pop(next(iter(states)), None)
    states[where] = state
