"""pagetally.conf: lookup order, checked values, per-printer overrides, secrets file."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from pagetally.config import ADMIN_FILE_NAME, DIRECTIVES, ENV_VAR, config_path, load_config
from pagetally.errors import ConfigError

DOCS = Path(__file__).resolve().parent.parent / "docs" / "config.md"


def write(path: Path, text: str, mode: int = 0o644) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_minimal_file_is_a_working_setup(tmp_path: Path) -> None:
    conf = write(
        tmp_path / "pagetally.conf",
        f"[global]\nstoragebackend: sqlite\nstoragename: {tmp_path}/pagetally.db\n",
    )
    cfg = load_config(conf)
    s = cfg.store_settings()
    assert (s.backend, s.name, s.admin_user) == ("sqlite", f"{tmp_path}/pagetally.db", None)
    assert cfg.get("gracedelay") == 7
    assert cfg.get("policy") == "deny"
    assert cfg.get("enforcement") == "laxist"
    assert cfg.get("balancezero") == Decimal("0.0")
    assert not cfg.is_admin


def test_lookup_order(tmp_path: Path) -> None:
    assert config_path("/x.conf", {ENV_VAR: "/y.conf"}) == Path("/x.conf")
    assert config_path(None, {ENV_VAR: "/y.conf"}) == Path("/y.conf")
    assert config_path(None, {}) == Path("/etc/pagetally/pagetally.conf")


def test_printer_section_overrides_global(tmp_path: Path) -> None:
    conf = write(
        tmp_path / "p.conf",
        "[global]\ngracedelay = 7\npolicy: deny\ncoefficient_cyan: 1.5\n\n"
        "[color1]\ngracedelay: 3\npolicy: allow\ncoefficient_cyan: 2\n",
    )
    cfg = load_config(conf)
    assert cfg.get("gracedelay", "color1") == 3
    assert cfg.get("gracedelay", "other") == 7
    assert cfg.get("policy", "color1") == "allow"
    assert cfg.coefficients("color1") == {"cyan": Decimal("2")}
    assert cfg.coefficients() == {"cyan": Decimal("1.5")}


def test_pykota_backend_names_are_accepted(tmp_path: Path) -> None:
    conf = write(tmp_path / "p.conf", "[global]\nstoragebackend: pgstorage\nstorageserver: db\n")
    s = load_config(conf).store_settings()
    assert (s.backend, s.name, s.server) == ("postgresql", "pagetally", "db")


def test_continuation_lines(tmp_path: Path) -> None:
    conf = write(tmp_path / "p.conf", "[global]\nhardwarn: first line\n  second line\n")
    assert load_config(conf).get("hardwarn") == "first line\nsecond line"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[global]\ngracedelai: 3\n",
            r"p\.conf:2 \[gracedelai\]: unknown directive "
            r"\(did you mean 'gracedelay'\?\)",
        ),
        ("[global]\n\ngracedelay: soon\n", r"p\.conf:3 \[gracedelay\]: expected a whole number"),
        ("[global]\npolicy: maybe\n", r":2 \[policy\]: expected one of deny, allow, external"),
        ("[global]\nbalancezero: lots\n", r":2 \[balancezero\]: expected an amount"),
        ("[global]\nstoragebackend: oracle\n", r"expected sqlite, postgresql, mysql or ldap"),
        ("[global]\ncurrency: euro\n", r"ISO 4217"),
        ("[global]\n[lp1]\nstoragename: x\n", r":3 \[storagename\]: may only be set in \[global\]"),
        ("[global]\nstorageadminpw: secret\n", r":2 \[storageadminpw\]: a secret"),
        ("gracedelay: 3\n", r":1 \[gracedelay\]: directive before any section"),
        ("[lp1]\ngracedelay: 3\n", r"no \[global\] section"),
        ("[global]\njust words\n", r":2: expected 'directive: value'"),
        ("[global]\n[global]\n", r":2: section \[global\] appears twice"),
        ("[global]\ngracedelay: 1\ngracedelay: 2\n", r":3 \[gracedelay\]: directive set twice"),
        ("[global]\n[lp]\naccounter: hardwar(snmp)\n", r":3 \[accounter\]: 'hardwar\(snmp\)'"),
        ("[global]\naccounter: ink(hsv)\n", r"\[accounter\]: ink colour space 'hsv'"),
        ("[global]\npreaccounter: ipp\n", r"\[preaccounter\]: ipp counts what was printed"),
        ("[global]\ntrustjobsize: >5:x\n", r"\[trustjobsize\]: '>5:x' is not yes, no"),
    ],
)
def test_bad_files_name_file_line_and_directive(tmp_path: Path, text: str, expected: str) -> None:
    conf = write(tmp_path / "p.conf", text)
    with pytest.raises(ConfigError, match=expected) as info:
        load_config(conf)
    assert str(conf) in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "nope.conf")


def test_secrets_file_beside_main_file(tmp_path: Path) -> None:
    conf = write(tmp_path / "p.conf", "[global]\nstoragebackend: postgresql\nstorageuser: ro\n")
    write(tmp_path / ADMIN_FILE_NAME, "[global]\nstorageadmin: rw\nstorageadminpw: s3cret\n", 0o640)
    cfg = load_config(conf)
    assert cfg.is_admin
    s = cfg.store_settings()
    assert (s.user, s.admin_user, s.admin_password) == ("ro", "rw", "s3cret")


def test_world_readable_secrets_file_is_refused(tmp_path: Path) -> None:
    conf = write(tmp_path / "p.conf", "[global]\n")
    write(tmp_path / ADMIN_FILE_NAME, "[global]\nstorageadminpw: s3cret\n", 0o644)
    with pytest.raises(ConfigError, match="world-readable"):
        load_config(conf)


def test_secrets_file_holds_only_secrets(tmp_path: Path) -> None:
    conf = write(tmp_path / "p.conf", "[global]\n")
    write(tmp_path / ADMIN_FILE_NAME, "[global]\ngracedelay: 3\n", 0o600)
    with pytest.raises(ConfigError, match=r"\[gracedelay\]: only storageadmin"):
        load_config(conf)


def test_every_directive_is_documented() -> None:
    documented = set(re.findall(r"^### `([a-z_<>]+)`", DOCS.read_text(), flags=re.MULTILINE))
    missing = set(DIRECTIVES) - documented
    assert not missing, f"undocumented in docs/config.md: {sorted(missing)}"
    assert "coefficient_<ink>" in documented
    stale = documented - set(DIRECTIVES) - {"coefficient_<ink>"}
    assert not stale, f"documented but unknown: {sorted(stale)}"


def test_defaults_pass_their_own_checks() -> None:
    for d in DIRECTIVES.values():
        if d.default is not None:
            d.check(d.default)


def test_rule_settings_per_printer(tmp_path: Path) -> None:
    from datetime import date

    from pagetally.core.models import Enforcement, Policy
    from pagetally.core.settings import UnknownBillingCode

    conf = write(
        tmp_path / "p.conf",
        "[global]\nenforcement: strict\npoorman: 2.5\ncurrency: usd\n"
        "termstarts: 2027-01-04, 2026-09-01\nunknown_billingcode: deny(/bin/true)\n"
        "[lp1]\npolicy: external(/usr/bin/addme)\ngracedelay: 2\ncoefficient_black: 0.5\n",
    )
    cfg = load_config(conf)
    r = cfg.rule_settings("lp1")
    assert r.enforcement is Enforcement.STRICT
    assert r.policy is Policy.EXTERNAL
    assert r.grace_delay_days == 2
    assert r.poorman == Decimal("2.5")
    assert r.currency == "USD"
    assert r.coefficient("black") == Decimal("0.5")
    assert r.term_starts == (date(2026, 9, 1), date(2027, 1, 4))
    assert r.unknown_billing_code is UnknownBillingCode.DENY
    other = cfg.rule_settings("lp2")
    assert (other.policy, other.grace_delay_days) == (Policy.DENY, 7)
    assert (
        load_config(write(tmp_path / "q.conf", "[global]\n")).rule_settings().unknown_billing_code
        is UnknownBillingCode.CREATE
    )
