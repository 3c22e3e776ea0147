"""TIFF, PNG, JPEG, GIF, BMP, WebP and Netpbm counts on images Pillow writes."""

from __future__ import annotations

import io
from typing import Literal

import pytest
from PIL import Image

from pagetally.errors import CorruptData, PdlError, TruncatedData
from pagetally.pdl import analyse
from pagetally.pdl.formats.image import ImageParser, TiffParser
from pagetally.pdl.formats.pnm import PnmParser


def _save(fmt: str, frames: int = 1, mode: str = "RGB", **kw: object) -> bytes:
    colours = ["red", "green", "blue", "white", "black"]
    images = [
        Image.new(mode, (8, 6), colours[i % 5] if mode == "RGB" else i) for i in range(frames)
    ]
    buf = io.BytesIO()
    if frames > 1:
        images[0].save(buf, fmt, save_all=True, append_images=images[1:], **kw)  # type: ignore[arg-type]
    else:
        images[0].save(buf, fmt, **kw)  # type: ignore[arg-type]
    return buf.getvalue()


@pytest.mark.parametrize("frames", [1, 4])
@pytest.mark.parametrize("big", [False, True])
def test_tiff_pages_are_directories(frames: int, big: bool) -> None:
    data = _save("TIFF", frames, big_tiff=big)
    assert TiffParser().detect(data[:64]) > 0.9
    assert TiffParser().count(data).pages == frames


def _handmade_tiff(order: str, pages: int) -> bytes:
    """A TIFF whose directories each hold one (dummy) entry, chained by next-IFD offsets."""
    bo: Literal["little", "big"] = "little" if order == "II" else "big"
    out = bytearray(order.encode() + (42).to_bytes(2, bo) + (8).to_bytes(4, bo))
    for i in range(pages):
        here = len(out)
        nxt = 0 if i == pages - 1 else here + 2 + 12 + 4
        out += (1).to_bytes(2, bo) + (256).to_bytes(2, bo) + (3).to_bytes(2, bo)
        out += (1).to_bytes(4, bo) + (8).to_bytes(4, bo) + nxt.to_bytes(4, bo)
    return bytes(out)


@pytest.mark.parametrize("order", ["II", "MM"])
def test_both_byte_orders(order: str) -> None:
    assert TiffParser().count(_handmade_tiff(order, 5)).pages == 5


def test_tiff_directory_loop_is_corrupt() -> None:
    data = bytearray(_save("TIFF", 1))
    first = int.from_bytes(data[4:8], "little")
    entries = int.from_bytes(data[first : first + 2], "little")
    nxt = first + 2 + entries * 12
    data[nxt : nxt + 4] = first.to_bytes(4, "little")  # next IFD = itself
    with pytest.raises(CorruptData):
        TiffParser().count(bytes(data))


def test_tiff_truncated() -> None:
    data = _save("TIFF", 3)
    with pytest.raises(PdlError):
        TiffParser().count(data[:200])


@pytest.mark.parametrize(
    ("fmt", "frames", "label", "pages"),
    [
        ("PNG", 1, "PNG", 1),
        ("JPEG", 1, "JPEG", 1),
        ("BMP", 1, "BMP", 1),
        ("GIF", 1, "GIF", 1),
        ("GIF", 5, "GIF", 5),
        ("WEBP", 3, "WebP", 3),
    ],
)
def test_single_and_animated_images(fmt: str, frames: int, label: str, pages: int) -> None:
    data = _save(fmt, frames)
    a = analyse(data)
    assert (a.format, a.pages) == (label, pages)
    assert ImageParser().detect(data[:64]) >= 0.8


def test_truncated_gif() -> None:
    data = _save("GIF", 3)
    with pytest.raises(TruncatedData):
        ImageParser().count(data[:40])


def _pnm(fmt: str, mode: str) -> bytes:
    buf = io.BytesIO()
    Image.new(mode, (9, 5), 1 if mode == "1" else 7).save(buf, fmt)
    return buf.getvalue()


def _plain(magic: bytes, w: int, h: int, per_pixel: int) -> bytes:
    head = magic + b"\n# a comment\n%d %d\n" % (w, h) + (b"" if magic == b"P1" else b"255\n")
    if magic == b"P1":  # plain PBM may run pixels together
        return head + b"01" * (w * h // 2) + b"0" * (w * h % 2) + b"\n"
    return head + b" ".join(b"%d" % (i % 256) for i in range(w * h * per_pixel)) + b"\n"


def test_several_images_in_one_netpbm_file() -> None:
    parts = [
        _pnm("PPM", "1"),
        _pnm("PPM", "L"),
        _pnm("PPM", "RGB"),
        _plain(b"P1", 9, 5, 1),
        _plain(b"P2", 9, 5, 1),
        _plain(b"P3", 9, 5, 3),
        _pnm("PPM", "RGB"),
    ]
    data = b"".join(parts)
    assert PnmParser().detect(data[:100]) >= 0.9
    a = analyse(data)
    assert (a.format, a.pages) == ("Netpbm image", 7)


def test_netpbm_cut_short() -> None:
    data = _pnm("PPM", "RGB") + _pnm("PPM", "RGB")
    with pytest.raises(TruncatedData):
        PnmParser().count(data[:-10])
