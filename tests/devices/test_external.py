"""The external page-counter command: argument lists, never a shell."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pagetally.devices import counter_after, counter_before
from pagetally.devices.external import ExternalAccounter, expand_argv, parse_counter
from pagetally.errors import DeviceError


def test_expand_argv_is_plain_substitution() -> None:
    argv = ["snmpget", "-c", "public", "{printer}", "x%(printer)s"]
    assert expand_argv(argv, "10.0.0.5") == ["snmpget", "-c", "public", "10.0.0.5", "x10.0.0.5"]


def test_parse_counter() -> None:
    assert parse_counter("\n  1234 \nother\n") == 1234
    for bad in ["", "abc", "-5", "12 pages"]:
        with pytest.raises(DeviceError):
            parse_counter(bad)


def test_reads_the_command_output(tmp_path: Path) -> None:
    acc = ExternalAccounter([sys.executable, "-c", "print(4242)"], printer="p1")
    assert acc.read().counter == 4242
    assert not acc.reports_status


def test_counter_before_and_after_with_a_command(tmp_path: Path) -> None:
    state = tmp_path / "counter"
    state.write_text("100")
    script = "import sys; print(open(sys.argv[1]).read())"
    acc = ExternalAccounter([sys.executable, "-c", script, str(state)])
    before = counter_before(acc)
    state.write_text("107")
    assert counter_after(acc, before).pages == 7


def test_printer_name_with_shell_metacharacters_reaches_argv_untouched(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    host = f"x; touch {marker}; echo 1 $(id)"
    script = "import sys; print(len(sys.argv[1]))"
    acc = ExternalAccounter([sys.executable, "-c", script, "{printer}"], printer=host)
    assert acc.read().counter == len(host)
    assert not marker.exists()


def test_failures_are_device_errors() -> None:
    with pytest.raises(DeviceError, match="exit 3"):
        ExternalAccounter([sys.executable, "-c", "import sys; sys.exit(3)"]).read()
    with pytest.raises(DeviceError, match="no number"):
        ExternalAccounter([sys.executable, "-c", "print('ready')"]).read()
    with pytest.raises(DeviceError):
        ExternalAccounter(["/nonexistent/pagecounter"]).read()
    with pytest.raises(DeviceError, match="did not finish"):
        ExternalAccounter([sys.executable, "-c", "import time; time.sleep(5)"], timeout=0.3).read()
