"""`pagetally tokens`: a token shown once, stored as a hash, listed, revoked;
its role never above its user's."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

from pagetally.core.tokens import TokenRole, token_hash
from tests.cli.conftest import NOW, Cli


def test_add_shows_once_stores_hash_and_verifies(cli: Cli) -> None:
    cli("users", "add", "alice")
    out = cli("tokens", "add", "alice", "--label", "backup script")
    secret = out.stdout.strip()
    assert secret.startswith("ptk_") and len(secret) > 40
    assert "shown only now" in out.stderr
    # only the hash is in the database, never the secret
    con = sqlite3.connect(cli.db)
    stored = con.execute("SELECT tokenhash, role, label FROM apitokens").fetchall()
    con.close()
    assert stored == [(token_hash(secret), "user", "backup script")]
    assert secret.encode() not in cli.db.read_bytes()
    with cli.store() as store:
        token = store.verify_api_token(secret, NOW)
        assert token is not None and token.user == "alice" and token.role is TokenRole.USER
        assert store.verify_api_token(secret + "x", NOW) is None
        assert store.verify_api_token("not a token", NOW) is None
    listed = cli.json("tokens", "list")
    assert [(t["id"], t["user"], t["role"], t["label"], t["state"]) for t in listed] == [
        (1, "alice", "user", "backup script", "valid")
    ]
    assert secret not in cli("tokens", "list").stdout


def test_revoke_and_expiry(cli: Cli) -> None:
    cli("users", "add", "alice", "bob")
    first = cli("tokens", "add", "alice").stdout.strip()
    second = cli("tokens", "add", "bob", "--expires", "2026-11-30").stdout.strip()
    out = cli("tokens", "revoke", "1")
    assert "token 1 of alice revoked" in out.stderr
    with cli.store() as store:
        assert store.verify_api_token(first, NOW) is None
        assert store.verify_api_token(second, NOW) is not None
        assert store.verify_api_token(second, NOW + timedelta(days=7)) is None
    states = {t["user"]: t["state"] for t in cli.json("tokens", "list")}
    assert states == {"alice": "revoked", "bob": "valid"}
    assert [t["user"] for t in cli.json("tokens", "list", "bob")] == ["bob"]
    cli("users", "delete", "bob")  # a token goes with its user
    assert [t["user"] for t in cli.json("tokens", "list")] == ["alice"]


def test_bad_input_is_refused_cleanly(cli: Cli) -> None:
    cli("users", "add", "alice")
    err = cli("tokens", "add", "nobody", code=5).stderr
    assert "user 'nobody' does not exist" in err
    err = cli("tokens", "add", "alice", "--expires", "2020-01-01", code=2).stderr
    assert "not in the future" in err
    err = cli("tokens", "revoke", "99", code=5).stderr
    assert "token '99' does not exist" in err
    # a plain user's token cannot be an admin's
    err = cli("tokens", "add", "alice", "--role", "admin", code=2).stderr
    assert "cannot have role admin" in err
    assert cli.json("tokens", "list") == []


def test_role_no_greater_than_the_users(cli: Cli) -> None:
    cli.conf.write_text(
        cli.conf.read_text() + "webadmins: root, @staff\nwebreadonlyadmins: audrey\n"
    )
    cli("users", "add", "root", "audrey", "carl", "dora")
    cli("groups", "add", "staff")
    cli("groups", "add-members", "staff", "carl")
    cli("tokens", "add", "root", "--role", "admin")
    cli("tokens", "add", "carl", "--role", "admin")  # an admin through @staff
    cli("tokens", "add", "audrey", "--role", "readonly-admin")
    err = cli("tokens", "add", "audrey", "--role", "admin", code=2).stderr
    assert "audrey's own role is readonly-admin" in err
    err = cli("tokens", "add", "dora", "--role", "readonly-admin", code=2).stderr
    assert "dora's own role is user" in err
    assert [(t["user"], t["role"]) for t in cli.json("tokens", "list")] == [
        ("root", "admin"),
        ("carl", "admin"),
        ("audrey", "readonly-admin"),
    ]
