"""pykota.conf and pykotadmin.conf read as they are: every directive of PyKota
1.27's pykota.conf.sample is understood, mapped, or accepted with one warning
line naming what PageTally does instead (tests/data holds the sample's lines)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pagetally.config import PYKOTA_ONLY, load_config
from pagetally.errors import ConfigError

DATA = Path(__file__).resolve().parent / "data"
EXAMPLES = [
    line for line in (DATA / "pykota-examples.txt").read_text().splitlines() if line.strip()
]
#: Example lines of the sample that are placeholders or a store PageTally does not keep.
NOT_VALUES = {
    "preaccounter: ink(colorspace, resolution)",  # the sample's syntax line, not a value
    "accounter: ink(colorspace, resolution)",
}


def test_the_sample_is_read_as_it_is(tmp_path: Path) -> None:
    conf = tmp_path / "pykota.conf"
    conf.write_text((DATA / "pykota.conf").read_text())
    admin = tmp_path / "pykotadmin.conf"  # PyKota's admin file name, beside it
    admin.write_text("[global]\nstorageadmin : pykotaadmin\nstorageadminpw : readwritepw\n")
    admin.chmod(0o640)
    cfg = load_config(conf)
    s = cfg.store_settings()
    assert (s.backend, s.server, s.name, s.user) == (
        "postgresql",
        "127.0.0.1",
        "pykota",
        "pykotauser",
    )
    assert (cfg.admin_path, s.admin_user, s.admin_password) == (
        str(admin),
        "pykotaadmin",
        "readwritepw",
    )
    assert [w.split(": ")[1] for w in cfg.warnings] == ["storagecaching", "logourl", "logolink"]
    assert all(str(conf) in w and "(ignored)" in w for w in cfg.warnings)
    assert cfg.get("enforcement") == "strict" and cfg.get("gracedelay") == 7
    assert cfg.get("hardwarn").startswith("Your Print Quota Hard Limit is reached.")


@pytest.mark.parametrize("line", [e for e in EXAMPLES if e not in NOT_VALUES])
def test_every_example_of_the_sample_is_accepted(tmp_path: Path, line: str) -> None:
    conf = tmp_path / "p.conf"
    conf.write_text(f"[global]\n{line}\n")
    cfg = load_config(conf)
    key = line.split(":")[0].strip()
    if key in PYKOTA_ONLY:
        assert len(cfg.warnings) == 1 and f": {key}: " in cfg.warnings[0]
    else:
        assert cfg.warnings == ()


def test_config_charset_is_honoured(tmp_path: Path) -> None:
    conf = tmp_path / "p.conf"
    conf.write_bytes(
        "[global]\nconfig_charset: ISO-8859-15\nadmin: Jérôme €\n".encode("iso-8859-15")
    )
    assert load_config(conf).get("admin") == "Jérôme €"
    conf.write_bytes(b"[global]\nconfig_charset: klingon\n")
    with pytest.raises(ConfigError, match="not a known character set"):
        load_config(conf)


def test_pykotas_ldap_store_settings_open_the_ldap_store(tmp_path: Path) -> None:
    conf = tmp_path / "p.conf"
    conf.write_text(
        "[global]\nstoragebackend: ldapstorage\nstorageserver: ldap://ldap.example.com\n"
        "storagename: dc=example,dc=com\nuserbase: ou=People,dc=example,dc=com\n"
        "userrdn: uid\nnewuser: attach(posixAccount, warn)\ngroupmembers: memberUid\n"
    )
    s = load_config(conf).store_settings()
    assert (s.backend, s.server, s.name) == ("ldap", "ldap://ldap.example.com", "dc=example,dc=com")
    assert dict(s.ldap) == {
        "userbase": "ou=People,dc=example,dc=com",
        "userrdn": "uid",
        "newuser": "attach(posixAccount, warn)",
        "groupmembers": "memberUid",
    }


def test_a_config_anyone_may_write_is_refused(tmp_path: Path) -> None:
    conf = tmp_path / "p.conf"
    conf.write_text("[global]\n")
    conf.chmod(0o666)
    with pytest.raises(ConfigError, match=r"anyone may write this file \(mode 0666\).*chmod o-w"):
        load_config(conf)
