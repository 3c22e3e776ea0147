"""`pagetally users add/edit --pin | --pin-stdin | --clear-pin`: the PIN is asked
for or read from standard input (never an argv value) and only its salted hash
is stored."""

from __future__ import annotations

from pagetally.cli.main import app
from pagetally.core.pins import verify_pin
from tests.cli.conftest import Cli


def invoke(cli: Cli, *args: str, stdin: str, code: int = 0) -> str:
    result = cli.runner.invoke(app, ["--config", str(cli.conf), *args], input=stdin, obj=cli.env())
    assert result.exit_code == code, (result.stdout, result.stderr)
    return result.stdout + result.stderr


def pin_hash(cli: Cli, name: str) -> str | None:
    store = cli.store()
    try:
        return store.get_user_pin_hash(name)  # type: ignore[no-any-return]
    finally:
        store.close()


def test_add_with_a_pin_from_stdin_stores_only_its_hash(cli: Cli) -> None:
    invoke(cli, "users", "add", "ann", "--pin-stdin", stdin="2580\n")
    stored = pin_hash(cli, "ann")
    assert stored and "2580" not in stored and verify_pin("2580", stored)
    assert "2580" not in cli.db.read_bytes().decode("latin-1")
    assert "2580" not in cli("users", "list", "--format", "json").stdout


def test_edit_prompts_twice_hidden_then_clear(cli: Cli) -> None:
    cli("users", "add", "ben")
    assert pin_hash(cli, "ben") is None
    out = invoke(cli, "users", "edit", "ben", "--pin", stdin="7391\n7391\n")
    assert "PIN for ben" in out and "7391" not in out  # typed input is not echoed
    assert verify_pin("7391", pin_hash(cli, "ben"))
    invoke(cli, "users", "edit", "ben", "--pin", stdin="1111\n2222\n1111\n1111\n")
    assert verify_pin("1111", pin_hash(cli, "ben"))  # a mismatch asks again
    cli("users", "edit", "ben", "--clear-pin")
    assert pin_hash(cli, "ben") is None


def test_bad_pins_and_bad_combinations_change_nothing(cli: Cli) -> None:
    cli("users", "add", "cy", "dee")
    invoke(cli, "users", "edit", "cy", "--pin-stdin", stdin="9876\n")
    before = pin_hash(cli, "cy")
    assert "at least 4" in invoke(cli, "users", "edit", "cy", "--pin-stdin", stdin="12\n", code=2)
    assert "one user at a time" in invoke(
        cli, "users", "edit", "*", "--pin-stdin", stdin="5555\n", code=2
    )
    assert "not both" in invoke(
        cli, "users", "edit", "cy", "--clear-pin", "--pin-stdin", stdin="5555\n", code=2
    )
    assert "one user at a time" in invoke(
        cli, "users", "add", "e1", "e2", "--pin-stdin", stdin="5555\n", code=2
    )
    assert pin_hash(cli, "cy") == before
    assert "--pin" in cli("users", "edit", "--help").stdout
