"""Config's typed accessors: each directive is read as the type its checker
gives (str, bool, int, float, Decimal, dates), mypy sees that type at every call
site, and asking for another kind is a programming error, never a wrong value."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from pagetally.config import DIRECTIVES, Config, load_config

ACCESSORS = ("get_str", "get_bool", "get_int", "get_float", "get_decimal", "get_dates")


def _conf(tmp_path: Path, text: str) -> Config:
    path = tmp_path / "pagetally.conf"
    path.write_text(text)
    return load_config(path, {})


def _fits(cfg: Config, name: str) -> list[str]:
    fits = []
    for acc in ACCESSORS:
        try:
            getattr(cfg, acc)(name)
        except TypeError:
            continue
        fits.append(acc)
    return fits


def test_every_directive_with_a_default_has_exactly_one_accessor(tmp_path: Path) -> None:
    cfg = _conf(tmp_path, "[global]\n")
    for name, d in DIRECTIVES.items():
        if d.default is None:
            assert cfg.get_str_or_none(name) is None, name
            continue
        assert len(_fits(cfg, name)) == 1, (name, _fits(cfg, name))


def test_values_come_typed_per_printer(tmp_path: Path) -> None:
    cfg = _conf(
        tmp_path,
        "[global]\ngracedelay: 3\npoorman: 2.50\ndebug: yes\n"
        "termstarts: 2026-09-01, 2026-02-01\nstriptitle: ^x\n"
        "[lab]\ngracedelay: 9\ndenyduplicates: yes\n"
        "statusstabilizationdelay: 0.5\n",
    )
    got: dict[str, Any] = {
        "grace": (cfg.get_int("gracedelay"), cfg.get_int("gracedelay", "lab")),
        "poorman": cfg.get_decimal("poorman", "lab"),
        "debug": cfg.get_bool("debug"),
        "dups": (cfg.get_bool("denyduplicates"), cfg.get_bool("denyduplicates", "lab")),
        "delay": cfg.get_float("statusstabilizationdelay", "lab"),
        "terms": cfg.get_dates("termstarts"),
        "strip": (cfg.get_str_or_none("striptitle"), cfg.get_str_or_none("prehook")),
        "currency": cfg.get_str("currency"),
    }
    assert got == {
        "grace": (3, 9),
        "poorman": Decimal("2.50"),
        "debug": True,
        "dups": (False, True),
        "delay": 0.5,
        "terms": (date(2026, 2, 1), date(2026, 9, 1)),
        "strip": ("^x", None),
        "currency": "EUR",
    }


def test_another_kind_is_a_programming_error(tmp_path: Path) -> None:
    cfg = _conf(tmp_path, "[global]\n")
    with pytest.raises(TypeError, match="gracedelay is int, not str"):
        cfg.get_str("gracedelay")
    with pytest.raises(TypeError, match="debug is bool, not int"):
        cfg.get_int("debug")  # a bool is an int to Python, not to a directive
    with pytest.raises(TypeError):
        cfg.get_str("prehook")  # not set and no default: get_str_or_none


def _kind_of(directive: str) -> tuple[type, ...]:
    """What `get` may return for `directive`, by its group in config/names.py."""
    import typing

    from pagetally.config import names

    kinds: dict[str, tuple[type, ...]] = {
        "Text": (str,),
        "OptionalText": (str, type(None)),
        "Flag": (bool,),
        "Whole": (int,),
        "OptionalWhole": (int, type(None)),
        "Amount": (Decimal,),
        "Real": (float,),
        "Dates": (tuple,),
        "BoolOrCommand": (bool, str),
    }
    found = [group for group in kinds if directive in typing.get_args(getattr(names, group))]
    assert len(found) == 1, f"{directive} is in config/names.py groups {found}, not in one"
    return kinds[found[0]]


def test_every_directive_has_its_kind_for_mypy(tmp_path: Path) -> None:
    """config/names.py (what mypy sees `get` return) agrees with the table: the
    default's type, and None exactly for directives without a default."""
    cfg = _conf(tmp_path, "[global]\n")
    for name, d in DIRECTIVES.items():
        kind = _kind_of(name)
        value = cfg.get(name)
        assert isinstance(value, kind) and not (
            int in kind and isinstance(value, bool) and bool not in kind
        ), (name, value, kind)
        assert (type(None) in kind) == (d.default is None), name


def test_a_printers_view_reads_its_section_first(tmp_path: Path) -> None:
    cfg = _conf(tmp_path, "[global]\ngracedelay: 7\n[lab]\ngracedelay: 3\n")
    assert cfg.for_printer("lab").get_int("gracedelay") == 3
    assert cfg.for_printer("other").get_int("gracedelay") == 7
    assert cfg.for_printer(None).rule_settings() == cfg.rule_settings()
