"""How the PostScript counter reads Ghostscript's raster: the same pages whichever
way the pixels leave the pipe (spliced to /dev/null, or read and dropped where
splice is missing or refused). Splice failing cannot be provoked on this kernel,
so those two cases replace `_Splice` behaviour in the test (fault injection)."""

from __future__ import annotations

import shutil

import pytest

from pagetally.pdl.formats import postscript

# every test runs Ghostscript (a third-party program): slow
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("gs") is None, reason="needs Ghostscript"),
]

JOB = b"%!PS\n/Helvetica findfont 12 scalefont setfont\n" + b"".join(
    b"72 700 moveto (page %d) show << /NumCopies %d >> setpagedevice showpage\n" % (n, n % 3 + 1)
    for n in range(1, 8)
)
COPIES = [n % 3 + 1 for n in range(1, 8)]


def _copies() -> list[int]:
    return postscript.interpret(JOB, 0, len(JOB), postscript.DEFAULT_LIMITS)


def test_spliced_raster_gives_every_page_and_its_copies() -> None:
    assert _copies() == COPIES


def test_without_splice_the_raster_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    real = postscript._Splice.__init__

    def no_splice(self: postscript._Splice, fd: int) -> None:
        real(self, fd)
        self.close()
        self.usable = False

    monkeypatch.setattr(postscript._Splice, "__init__", no_splice)
    assert _copies() == COPIES


def test_a_refused_splice_falls_back_to_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(self: postscript._Splice, n: int) -> int:
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(postscript._Splice, "skip", refused)
    assert _copies() == COPIES
