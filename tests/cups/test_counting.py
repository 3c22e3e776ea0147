"""The pure billing-count rules of the print path: ink forms, trustjobsize,
onbackenderror's retries, and the software(command) page counter."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pagetally.cups.counting import (
    BackendErrorPolicy,
    InkForm,
    TrustJobSize,
    count_with_command,
    inked,
    parse_backend_error,
    parse_ink,
    parse_trust,
)
from pagetally.errors import ConfigError, DeviceError
from pagetally.pdl.base import Analysis, PageInk


def test_ink_forms() -> None:
    assert parse_ink("") == InkForm("CMYK", 72)
    assert parse_ink("rgb, 150") == InkForm("RGB", 150)
    for bad in ("hsv", "cmyk,5", "cmyk,abc", "cmyk,72,1"):
        with pytest.raises(ConfigError):
            parse_ink(bad)


def test_inked_sums_pages_and_copies() -> None:
    analysis = Analysis(
        "PDF",
        pages=4,
        copies=2,
        page_inks=(PageInk(True, {"C": 10.0, "K": 5.0}), PageInk(False, {"K": 20.0})),
    )
    got = inked(analysis, factor=3)
    assert got.color_pages == 1 * 2 * 3
    assert got.ink == {"C": 60.0, "K": 150.0}
    assert inked(Analysis("PDF", pages=2), 1).ink is None


def test_trustjobsize() -> None:
    assert parse_trust("yes").apply(500, 3) == (500, "")
    assert parse_trust("no").apply(5, 3)[0] == 3
    trust = parse_trust(">50:precomputed")
    assert trust == TrustJobSize(50, None)
    assert trust.apply(50, 3) == (50, "")
    pages, note = trust.apply(1000, 3)
    assert pages == 3 and "exceed trustjobsize's 50" in note
    assert parse_trust(">10:25").apply(11, 3)[0] == 25
    for bad in ("maybe", ">x:1", ">10", "<10:1"):
        with pytest.raises(ConfigError):
            parse_trust(bad)


def test_onbackenderror() -> None:
    assert parse_backend_error("nocharge") == BackendErrorPolicy(False, None, 0)
    assert parse_backend_error("charge,retry:3:10") == BackendErrorPolicy(True, 3, 10)
    with pytest.raises(ConfigError):
        parse_backend_error("charge,sometimes")


def test_software_command(tmp_path: Path) -> None:
    job = tmp_path / "job"
    job.write_bytes(b"page\fpage\fpage\f")
    counter = tmp_path / "count.py"
    counter.write_text(
        "import sys\nprint('counting')\nprint(sys.stdin.buffer.read().count(b'\\f'))\n"
    )
    assert count_with_command(f"{sys.executable} {counter}", job, {}) == 3
    silent = tmp_path / "silent.py"
    silent.write_text("print('no idea')\n")
    with pytest.raises(DeviceError, match="no page count"):
        count_with_command(f"{sys.executable} {silent}", job, {})
    with pytest.raises(DeviceError, match="failed"):
        count_with_command(str(tmp_path / "missing"), job, {})


def test_retries_until_the_device_works() -> None:
    import io

    from pagetally.cups.printing import send_with_retries
    from pagetally.cups.realbackend_process import BackendRun
    from pagetally.cups.status import Messages

    codes = iter([1, 1, 0])
    waits: list[float] = []

    def attempt() -> BackendRun:
        return BackendRun(next(codes), None, 0)

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        return False

    err = io.StringIO()
    run = send_with_retries(attempt, parse_backend_error("nocharge,retry:5:2"), Messages(err), wait)
    assert run.exit_code == 0 and waits == [2, 2]
    assert "retry 2 in 2 s" in err.getvalue()

    codes = iter([1, 1, 1, 0])
    run = send_with_retries(attempt, parse_backend_error("retry:2:0"), Messages(err), wait)
    assert run.exit_code == 1  # two retries, then the failure stands
    codes = iter([1, 0])
    run = send_with_retries(
        attempt, parse_backend_error("retry:0:1"), Messages(err), lambda s: True
    )  # cancelled while waiting
    assert run.cancelled and run.exit_code == 1
    codes = iter([1])
    assert send_with_retries(attempt, parse_backend_error("charge"), Messages(err)).exit_code == 1
