"""The one INI reader (pagetally/ini.py): what config/ and the thin backend
both read, so the two can never disagree on a file again."""

from __future__ import annotations

from pathlib import Path

import pytest

from pagetally.ini import Entry, IniError, declared_charset, parse_ini
from pagetally.service.thin import service_socket

TEXT = """# comment
[Global]
storagename = /var/lib/x.db
accountingservice: /run/pt.sock\t
hardwarn: a long
  message, continued
; another comment
[lab]
gracedelay:9
url: http://host:631/a=b
"""


def test_sections_values_and_lines() -> None:
    got = parse_ini(TEXT, "f.conf")
    assert got["global"] == {
        "storagename": Entry("/var/lib/x.db", "f.conf", 3),
        "accountingservice": Entry("/run/pt.sock", "f.conf", 4),
        "hardwarn": Entry("a long\nmessage, continued", "f.conf", 5),
    }
    assert got["lab"]["gracedelay"].value == "9"
    assert got["lab"]["url"].value == "http://host:631/a=b"  # the first : or = splits


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("[global\n", 1, "bad section header"),
        ("[global]\n[global]\n", 2, "appears twice"),
        ("[global]\nno value here\n", 2, "expected 'directive: value'"),
        ("[global]\nbad name: 1\n", 2, "expected 'directive: value'"),
        ("x: 1\n", 1, "before any section"),
        ("[global]\nx: 1\nX = 2\n", 3, "set twice"),
    ],
)
def test_what_is_not_ini(text: str, line: int, says: str) -> None:
    with pytest.raises(IniError, match=says) as got:
        parse_ini(text, "f.conf")
    assert got.value.line == line


def test_charset_as_pykota_names_it() -> None:
    assert declared_charset(b"[global]\nconfig_charset: ISO-8859-15  # Latin-9\n") == "ISO-8859-15"
    assert declared_charset(b"[global]\nstoragename: x\n") is None


def test_the_thin_backend_reads_the_same(tmp_path: Path) -> None:
    conf = tmp_path / "pagetally.conf"
    conf.write_text(TEXT)
    assert service_socket(str(conf), {}) == "/run/pt.sock"
    conf.write_text("[global]\naccountingservice = none\n")
    assert service_socket(str(conf), {}) is None
    conf.write_bytes(b"[global]\nconfig_charset: latin-1\nadmin: J\xe9r\xf4me\n")
    assert service_socket(str(conf), {}) == "/run/pagetally/pagetally.sock"  # the default
    conf.write_text("[global\n")  # broken: the full backend, run in place, says why
    assert service_socket(str(conf), {}) is None
