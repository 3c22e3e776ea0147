"""The PIN lockout counts failed checks by their decision code, stored with
each job (jobhistory.decisioncode), never by the reason text written for people:
rewording a message cannot switch a security check off, and a row that only
reads like a failure (an imported or hand-made one) is not counted. A real
SQLite store; the rule itself, in-process (the backend's way through it is in
test_auth_lockout.py)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pagetally.core.models import (
    Action,
    ChargeRequest,
    Decision,
    DecisionCode,
    JobFacts,
    Printer,
    User,
)
from pagetally.cups import auth
from pagetally.cups.auth import Credential, PrintAuth, authenticate
from pagetally.cups.status import Messages
from pagetally.storage import StoreSettings, open_store
from pagetally.storage.sql import SqlStore
from tests.cups.test_auth import stored_pin
from tests.sqlite_store import migrated_sqlite

T0 = datetime(2026, 11, 24, 12, tzinfo=UTC)
PIN = "4711-x"
AUTH = PrintAuth("pin", max_failures=3, lockout=900)


@pytest.fixture
def store(tmp_path: Path) -> SqlStore:
    db = migrated_sqlite(tmp_path / "s.db")
    st = open_store(StoreSettings(backend="sqlite", name=str(db)))
    st.add_printer(Printer("lab"))
    st.add_user(User("alice"))
    st.set_user_pin_hash("alice", stored_pin(PIN, set_at=T0 - timedelta(days=1)))
    return st


def _refused(store: SqlStore, n: int, reason: str, code: str) -> None:
    for i in range(n):
        facts = JobFacts("alice", "lab", pages=0, job_id=f"{code}-{i}")
        store.charge(
            ChargeRequest(
                facts, Decision(Action.DENY, reason, code=code), T0 + timedelta(seconds=i)
            )
        )


def _check(store: SqlStore, pin: str) -> Decision | None:
    return authenticate(
        AUTH,
        store,
        "alice",
        Credential(pin),
        Messages(io.StringIO()),
        {},
        T0 + timedelta(minutes=1),
    )


def test_the_history_keeps_each_refusals_code(store: SqlStore) -> None:
    refused = _check(store, "0000")
    assert refused is not None and refused.code == DecisionCode.AUTH_FAILED
    facts = JobFacts("alice", "lab", pages=0, job_id="1")
    store.charge(ChargeRequest(facts, refused, T0))
    (row,) = store.history()
    assert (row.reason, row.code) == ("wrong PIN", "auth_failed")


def test_failures_are_counted_by_code_whatever_their_text(store: SqlStore) -> None:
    _refused(store, 3, "le code PIN est faux", DecisionCode.AUTH_FAILED)
    locked = _check(store, PIN)
    assert locked is not None and locked.code == DecisionCode.AUTH_LOCKED
    assert locked.reason.startswith("too many wrong PINs")


def test_a_row_that_only_reads_like_a_failure_is_not_counted(store: SqlStore) -> None:
    _refused(store, 3, auth.WRONG_PIN, DecisionCode.NOPRINT)
    _refused(store, 3, auth.PIN_MISSING, DecisionCode.AUTH_MISSING)
    _refused(store, 3, auth.CHECK_BROKEN, DecisionCode.AUTH_UNAVAILABLE)
    assert _check(store, PIN) is None


def test_every_refusal_has_its_own_code(store: SqlStore) -> None:
    msgs = Messages(io.StringIO())
    now = T0 + timedelta(minutes=1)
    got = {
        "missing": authenticate(AUTH, store, "alice", None, msgs, {}, now),
        "hashed": authenticate(AUTH, store, "alice", Credential(PIN, "sha2-256"), msgs, {}, now),
        "down": authenticate(AUTH, None, "alice", Credential(PIN), msgs, {}, now),
        "unknown": authenticate(PrintAuth("known"), store, "zoe", None, msgs, {}, now),
        "wrong": authenticate(AUTH, store, "alice", Credential("1"), msgs, {}, now),
    }
    assert {k: d.code if d else None for k, d in got.items()} == {
        "missing": "auth_missing",
        "hashed": "auth_missing",
        "down": "auth_unavailable",
        "unknown": "auth_unknown",
        "wrong": "auth_failed",
    }
