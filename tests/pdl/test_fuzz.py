"""Fuzzing every parser the registry lists: hostile jobs raise PdlError, and nothing else.

Seeds are real print files: the third-party corpus when it has been built
(`corpus/*/manifest.json`), small jobs rendered here by Ghostscript's printer
devices, and a few hand-made fragments. Hypothesis mutates them (truncation, bit
flips, inserted/deleted/duplicated chunks, splices, absurd numbers) or draws raw
bytes, and each example is fed to `parser.count` directly. For every example:

- the only exception that escapes is `pagetally.errors.PdlError` (a subclass);
- no hang: an alarm fails the example after HANG_SECONDS of wall time (beyond the
  timeouts parsers put on the converters they run, LibreOffice's 180 s), and the
  CPU time this process spends must stay within a bound that grows with the
  input's size (time spent waiting for a converter is the converter's);
- no unbounded memory: the tracemalloc peak stays below a bound.

Parsers are found at collection time, so a new format module is fuzzed without
touching this file. PAGETALLY_FUZZ_EXAMPLES raises the number of examples (the
default keeps the run short).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import signal
import subprocess
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pagetally.errors import PdlError
from pagetally.pdl import analyse, registry
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Limits, Parser

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MAX_COPIES = 65535  # the largest copies a format's parser reads (PCL XL's uint16)
EXAMPLES = int(os.environ.get("PAGETALLY_FUZZ_EXAMPLES", "40"))
SEED_HEAD = 24 * 1024  # seeds are cut to this (plus a tail): fuzzing wants small inputs
SEED_TAIL = 4 * 1024
HANG_SECONDS = 200.0
BASE_SECONDS = 3.0  # CPU seconds allowed per example (tracemalloc slows parsing down)
EXAMPLE_BUDGET = 0.25  # parsers that run converters get fewer examples: see _examples
MEMORY_BASE = 128 << 20  # bytes, plus MEMORY_PER_BYTE × input size
MEMORY_PER_BYTE = 32
TIGHT = Limits(max_pages=5, max_objects=2_000, max_depth=8)

FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,  # our own, size-scaled deadline below
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)

# Hand-made fragments: the starts of structures every parser family looks for.
FRAGMENTS = [
    b"",
    b"\x00",
    b"%PDF-1.7\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[2 0 R]"
    b"/Count 99999999999>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF",
    b"%PDF-1.5\nxref\n0 4294967295\n0000000000 65535 f \ntrailer<</Size 1/Prev 9>>\n"
    b"startxref\n9\n%%EOF",
    b"%!PS-Adobe-3.0\n%%Pages: 3\n%%Page: 1 1\nshowpage\n%%Page: 2 2\n/#copies 4 def showpage\n",
    b"%!PS\n<< /NumCopies 2147483648 >> setpagedevice showpage\n%%EOF\n",
    b"\xc5\xd0\xd3\xc6\x20\x00\x00\x00\xff\xff\xff\x7f",
    b"\x1b%-12345X@PJL SET COPIES=3\r\n@PJL ENTER LANGUAGE=PCL\r\n\x1bE\x1b&l2X\x0c\x1bE",
    b"\x1bE\x1b*r1A\x1b*b99999999W\x1b*rB\x0c",
    b") HP-PCL XL;2;0\r\n\xc0\x01\xf8\x86\x43\xc1\x01\x00\xf8\x2a\x44\xc0\x00\xf8\x25\x49",
    b"\x1b@\x1b(G\x01\x00\x01\x1b.\x01\x0a\x0a\x01\xff\xff\x0c",
    b"II*\x00\x08\x00\x00\x00\xff\xff",
    b"P4\n99999 99999\n\x00",
    b"JZJZ\x00\x00\x00\x10\x00\x00\x00\x00ZZJZ",
    b"\xf7\x02\x01\x83\x92\xc0\x1c;\x00\x00\x00\x00",
]

GS_DEVICES = [
    "pdfwrite",
    "ps2write",
    "pxlmono",
    "pxlcolor",
    "ljet4",
    "ljet4pjl",
    "deskjet",
    "epson",
    "escp",
    "bj10e",
    "bjc600",
    "escpage",
    "lips4",
    "cfax",
    "tiffg4",
    "pnmraw",
]
GS_JOB = b"""%!PS
/Helvetica findfont 20 scalefont setfont
1 1 3 { << /PageSize [144 144] >> setpagedevice
  dup 0.3 mul 0 0 setrgbcolor 10 60 moveto (Page) show 20 20 40 20 rectfill
  pop showpage } for
"""


def _gs_seed(device: str) -> bytes:
    try:
        done = subprocess.run(
            ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", f"-sDEVICE={device}", "-r50",
             "-sOutputFile=-", "-sstdout=%stderr", "-"],
            input=GS_JOB, capture_output=True, timeout=60, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return b""
    return done.stdout if done.returncode == 0 else b""


def _cut(data: bytes) -> list[bytes]:
    """A small seed from a file: whole when small, else its head, and head + tail."""
    if len(data) <= SEED_HEAD + SEED_TAIL:
        return [data]
    return [data[:SEED_HEAD], data[:SEED_HEAD] + data[-SEED_TAIL:]]


def _corpus_files() -> list[Path]:
    """Files of the third-party corpus, as far as it has been built (never built here)."""
    found: list[Path] = []
    for manifest in sorted((ROOT / "corpus").glob("*/manifest.json")):
        try:
            rows = json.loads(manifest.read_text())["files"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        found.extend(Path(str(r["path"])) for r in rows if isinstance(r, dict) and "path" in r)
    return found


@functools.cache
def seeds() -> tuple[bytes, ...]:
    out: list[bytes] = list(FRAGMENTS)
    rendered = [_gs_seed(d) for d in GS_DEVICES]
    for data in rendered:
        out.extend(_cut(data))
    per_format: dict[str, int] = {}
    for path in _corpus_files():
        key = path.parent.name + path.suffix
        if per_format.get(key, 0) >= 3 or not path.is_file():
            continue
        per_format[key] = per_format.get(key, 0) + 1
        with contextlib.suppress(OSError), path.open("rb") as fh:
            head = fh.read(SEED_HEAD)
            fh.seek(max(len(head), path.stat().st_size - SEED_TAIL))
            out.extend(_cut(head + fh.read(SEED_TAIL)))
    return tuple(dict.fromkeys(s for s in out))  # unique, in order


@functools.cache
def seeds_for(name: str) -> tuple[bytes, ...]:
    """Seeds this parser recognises (all seeds when it recognises none)."""
    parser = registry.get(name)
    mine = tuple(s for s in seeds() if _confidence(parser, s) >= 0.3)
    return mine or seeds()


def _confidence(parser: Parser, data: bytes) -> float:
    try:
        return float(parser.detect(data[:65536]))
    except Exception:
        return 0.0


# --- mutations -----------------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, pool: tuple[bytes, ...]) -> bytes:
    """A seed changed by a few random edits."""
    data = bytearray(draw(st.sampled_from(pool)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        op = draw(
            st.sampled_from(
                ["truncate", "flip", "insert", "delete", "duplicate", "splice", "number"]
            )
        )
        n = len(data)
        at = draw(st.integers(min_value=0, max_value=n))
        if op == "truncate":
            del data[at:]
        elif op == "flip" and n:
            pos = min(at, n - 1)
            data[pos] ^= 1 << draw(st.integers(min_value=0, max_value=7))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif op == "delete":
            del data[at : at + draw(st.integers(min_value=1, max_value=4096))]
        elif op == "duplicate":
            size = draw(st.integers(min_value=1, max_value=2048))
            chunk = data[at : at + size]
            data[at:at] = chunk * draw(st.integers(min_value=1, max_value=8))
        elif op == "splice":
            other = draw(st.sampled_from(pool))
            data[at:] = other[draw(st.integers(min_value=0, max_value=len(other))) :]
        elif op == "number":
            big = draw(st.sampled_from([b"0", b"-1", b"4294967295", b"99999999999999999999"]))
            digits = next((i for i in range(at, min(n, at + 256)) if 48 <= data[i] <= 57), None)
            if digits is not None:
                end = digits
                while end < n and 48 <= data[end] <= 57:
                    end += 1
                data[digits:end] = big
    return bytes(data)


def inputs(pool: tuple[bytes, ...]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        mutated(pool),
        mutated(seeds()),
        st.sampled_from(pool),
        st.binary(max_size=2048),
    )


# --- the guards ----------------------------------------------------------------------------


class Hang(BaseException):
    """Raised by the alarm; a BaseException so that no parser's `except Exception` eats it."""


@contextlib.contextmanager
def alarm(seconds: float) -> Iterator[None]:
    def _ring(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"no answer after {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, _ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_hostile(call: object, data: bytes, what: str, limits: Limits = DEFAULT_LIMITS) -> None:
    """Run `call(data)`: PdlError or a result, in bounded time and memory.

    A refusal is a PdlError that says why; a count stays within the
    limits (`max_pages` pages, each at most MAX_COPIES times); a detection
    score is between 0 and 1.
    """
    assert callable(call)
    mb = len(data) / 1e6
    tracemalloc.start()
    started = time.process_time()
    result: object = None
    try:
        with alarm(HANG_SECONDS + 10 * limits.max_seconds_per_mb * mb):
            result = call(data)
    except PdlError as exc:
        assert str(exc), f"{what}: a PdlError without a message"
    except Hang:
        pytest.fail(f"{what} hangs on {len(data)} bytes starting {data[:32]!r}")
    except Exception as exc:
        pytest.fail(
            f"{what} raised {type(exc).__name__}: {exc} on {len(data)} bytes starting {data[:32]!r}"
        )
    finally:
        elapsed = time.process_time() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    allowed = BASE_SECONDS + 4 * limits.max_seconds_per_mb * mb
    assert elapsed <= allowed, f"{what}: {elapsed:.2f} CPU s on {len(data)} bytes (bound {allowed})"
    bound = MEMORY_BASE + MEMORY_PER_BYTE * len(data)
    assert peak <= bound, f"{what}: {peak / 1e6:.1f} MB peak on {len(data)} bytes"
    if isinstance(result, Analysis):
        assert 1 <= result.copies <= MAX_COPIES, f"{what}: {result}"
        assert 0 <= result.pages <= result.copies * limits.max_pages, f"{what}: {result}"
    elif isinstance(result, float):
        assert 0.0 <= result <= 1.0, f"{what}: detection score {result}"


# --- the tests -----------------------------------------------------------------------------

PARSER_NAMES = registry.names()


def test_every_listed_parser_is_fuzzed() -> None:
    assert PARSER_NAMES, "the registry lists no parser"
    assert registry.load_errors() == []
    assert len(seeds()) > len(FRAGMENTS)  # Ghostscript made seeds


def _examples(parser: Parser, pool: tuple[bytes, ...]) -> int:
    """EXAMPLES, fewer for a parser that needs seconds a job (LibreOffice, Ghostscript)."""
    started = time.perf_counter()
    with contextlib.suppress(Exception):
        parser.count(pool[0])
    took = time.perf_counter() - started
    return max(5, min(EXAMPLES, int(EXAMPLES * EXAMPLE_BUDGET / max(took, 1e-3))))


@pytest.mark.parametrize("name", PARSER_NAMES)
def test_parser_raises_only_pdl_errors(name: str) -> None:
    parser = registry.get(name)
    pool = seeds_for(name)

    @settings(FUZZ_SETTINGS, max_examples=_examples(parser, pool))
    @given(data=inputs(pool), tight=st.booleans())
    def run(data: bytes, tight: bool) -> None:
        limits = TIGHT if tight else DEFAULT_LIMITS
        check_hostile(lambda d: parser.count(d, limits), data, f"{name}.count", limits)
        check_hostile(parser.detect, data[:65536], f"{name}.detect")

    run()


def test_parser_counts_its_own_seeds_or_says_why() -> None:
    """Unmutated seeds through every parser that claims them: a count or a PdlError."""
    for name in PARSER_NAMES:
        parser = registry.get(name)
        for seed in seeds_for(name):
            check_hostile(lambda d, p=parser: p.count(d), seed, f"{name}.count")


@FUZZ_SETTINGS
@given(data=st.deferred(lambda: inputs(seeds())))  # seeds made when run, not collected
def test_analyse_raises_only_pdl_errors(data: bytes) -> None:
    check_hostile(analyse, data, "analyse")


def test_memory_mapped_jobs_count_as_bytes_do(tmp_path: Path) -> None:
    """Files reach parsers memory-mapped: same answer (or same error) as from bytes."""
    import mmap

    for name in PARSER_NAMES:
        parser = registry.get(name)
        for i, seed in enumerate(seeds_for(name)[:2]):
            if not seed:
                continue
            path = tmp_path / f"{name}-{i}"
            path.write_bytes(seed)
            outcomes = []
            started = time.perf_counter()
            with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
                for data in (seed, mm):
                    try:
                        outcomes.append(parser.count(data))
                    except PdlError as exc:
                        outcomes.append(type(exc).__name__)
            assert outcomes[0] == outcomes[1], f"{name} on seed {i}: bytes ≠ mmap"
            if time.perf_counter() - started > 1.0:
                break  # a converter runs (LibreOffice): one seed says enough


# --- the ink side: the Netpbm reader and the image route read hostile files too -----------


def _pnm_seeds() -> tuple[bytes, ...]:
    cmyk = b"P7\nWIDTH 2\nHEIGHT 2\nDEPTH 4\nMAXVAL 255\nTUPLTYPE CMYK\nENDHDR\n"
    return (
        b"P6 3 2 255\n" + bytes(range(18)),
        b"P5\n# c\n3 2\n65535\n" + bytes(12),
        b"P4 9 2\n" + b"\xff\x80\x00\x00",
        b"P1 4 2\n0101 1 1 0 0\nP3 1 1 255 0 0 255\n",
        b"P2 2 2 15 0 15 7 8\n",
        cmyk + bytes([128] * 16) + b"P6 1 1 255\n\xff\x00\x00",
    )


@functools.cache
def _image_seeds() -> tuple[bytes, ...]:
    import io

    from PIL import Image

    out = []
    for fmt, mode, frames in (
        ("PNG", "RGBA", 1),
        ("GIF", "P", 2),
        ("TIFF", "RGB", 2),
        ("JPEG", "L", 1),
        ("BMP", "RGB", 1),
        ("TIFF", "CMYK", 1),
    ):
        images = [Image.new(mode, (12, 9), color=None) for _ in range(frames)]
        buf = io.BytesIO()
        images[0].save(buf, fmt, save_all=frames > 1, append_images=images[1:])
        out.append(buf.getvalue())
    return tuple(out)


@FUZZ_SETTINGS
@given(data=st.one_of(mutated(_pnm_seeds()), st.binary(max_size=512)))
def test_netpbm_reader_raises_only_pdl_errors(data: bytes) -> None:
    import io

    from pagetally.pdl.raster import iter_pnm

    check_hostile(lambda d: list(iter_pnm(io.BytesIO(d))), data, "raster.iter_pnm")


@FUZZ_SETTINGS
@given(data=mutated(_image_seeds()))
def test_image_ink_raises_only_pdl_errors(data: bytes) -> None:
    import tempfile

    from pagetally.pdl.ink import page_inks

    with tempfile.TemporaryDirectory(prefix="pagetally-fuzz-") as tmp:
        path = Path(tmp) / "job"
        path.write_bytes(data)
        check_hostile(lambda _d: page_inks(path, "image", colorspace="CMYK"), data, "ink(image)")
