"""The rules of print-time questions: when to ask, what an answer means, which
client is on the job's host."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pagetally.config import load_config
from pagetally.core.dialogs import (
    billing_code_value,
    clean_text,
    confirm_value,
    parse_confirm,
    same_host,
    wants_confirmation,
)
from pagetally.errors import ConfigError


def test_clientconfirm() -> None:
    assert parse_confirm("no") is None
    assert parse_confirm("yes") == Decimal(0)
    assert parse_confirm(" 2.50 ") == Decimal("2.50")
    assert not wants_confirmation(None, Decimal(100))
    assert wants_confirmation(Decimal("2.50"), Decimal("2.50"))
    assert not wants_confirmation(Decimal("2.50"), Decimal("2.49"))
    for bad in ("maybe", "-1", "NaN"):
        with pytest.raises(ConfigError, match="clientconfirm"):
            parse_confirm(bad)


def test_clientconfirm_in_a_config_file(tmp_path: Path) -> None:
    conf = tmp_path / "p.conf"
    conf.write_text("[global]\nclientconfirm: 1.00\n[lab]\nclientconfirm: often\n")
    with pytest.raises(ConfigError, match=r"clientconfirm.*'often' is not yes, no or an amount"):
        load_config(conf)


def test_answers() -> None:
    assert [confirm_value(t) for t in ("y", "Yes", " ok ", "n", "", "print it")] == [
        "yes",
        "yes",
        "yes",
        "no",
        "no",
        "no",
    ]
    assert billing_code_value(" CHEM ", ("PHYS", "CHEM")) == "CHEM"
    assert billing_code_value("BIO", ("PHYS", "CHEM")) is None
    assert billing_code_value("any-code", ()) == "any-code"
    assert billing_code_value("bad\x1bcode", ()) is None
    assert clean_text("a\x1b[2Jb\nc") == "a?[2Jb\nc"


def test_same_host() -> None:
    here = frozenset({"127.0.0.1"})
    assert same_host("localhost", here) and same_host("::1", here)
    assert not same_host("", here)
    assert same_host("10.0.0.5", frozenset({"10.0.0.5"}))
    assert not same_host("10.0.0.5", frozenset({"10.0.0.6"}))
    assert not same_host("localhost", frozenset({"10.0.0.5"}))  # another machine's client
