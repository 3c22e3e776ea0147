"""Raster images: TIFF (one page per directory), PNG, JPEG, GIF, BMP, WebP.

TIFF is counted by walking its chain of image file directories (classic and
BigTIFF, both byte orders) — each directory is a page, as tiffinfo lists them.
GIF counts its frames (image descriptors) as pkpgcounter did; PNG, JPEG and BMP
are one page each, walked to their ends (chunks, segments, the declared size):
a file that goes on after its image (Ghostscript's png/jpeg/bmp devices write a
multi-page job as images one after the other) is refused. WebP frames come from Pillow,
imported only then.
"""

from __future__ import annotations

from pagetally.errors import CorruptData, LimitReached, TruncatedData
from pagetally.pdl import pjl
from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits, Parser
from pagetally.pdl.formats._bufio import BufferStream

_TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_PNG = b"\x89PNG\r\n\x1a\n"


def _tiff_pages(data: Buffer, base: int, limits: Limits) -> int:
    order = "little" if data[base : base + 2] == b"II" else "big"
    big = data[base + 2 : base + 4] in (b"+\x00", b"\x00+")

    def u(at: int, size: int) -> int:
        if at < 0 or base + at + size > len(data):
            raise TruncatedData("TIFF: a directory points past the end of the file")
        return int.from_bytes(data[base + at : base + at + size], order)  # type: ignore[arg-type]

    if big:
        if u(4, 2) != 8:
            raise CorruptData("TIFF: bad BigTIFF header")
        offset = u(8, 8)
        count_size, entry_size, next_size = 8, 20, 8
    else:
        offset = u(4, 4)
        count_size, entry_size, next_size = 2, 12, 4
    pages = 0
    seen: set[int] = set()
    while offset:
        if offset in seen:
            raise CorruptData("TIFF: directories form a loop")
        seen.add(offset)
        entries = u(offset, count_size)
        pages += 1
        if pages > limits.max_pages:
            raise LimitReached(f"TIFF: more than {limits.max_pages} pages")
        offset = u(offset + count_size + entries * entry_size, next_size)
    if pages == 0:
        raise CorruptData("TIFF: no image directory")
    return pages


def _gif_frames(data: Buffer, limits: Limits) -> int:
    """Count image descriptors by walking GIF blocks (sub-blocks skipped by length)."""
    n = len(data)
    if n < 13:
        raise TruncatedData("GIF: header cut short")
    flags = data[10]
    pos = 13 + (3 * (2 << (flags & 7)) if flags & 0x80 else 0)
    frames = 0

    def skip_sub_blocks(at: int) -> int:
        while True:
            if at >= n:
                raise TruncatedData("GIF: data cut short")
            size = data[at]
            at += 1 + size
            if size == 0:
                return at

    while pos < n:
        block = data[pos]
        if block == 0x3B:  # trailer
            break
        if block == 0x21:  # extension: label then sub-blocks
            pos = skip_sub_blocks(pos + 2)
        elif block == 0x2C:  # image descriptor
            if pos + 10 > n:
                raise TruncatedData("GIF: image descriptor cut short")
            local = data[pos + 9]
            pos += 10 + (3 * (2 << (local & 7)) if local & 0x80 else 0)
            pos = skip_sub_blocks(pos + 1)  # LZW minimum code size, then data
            frames += 1
            if frames > limits.max_pages:
                raise LimitReached(f"GIF: more than {limits.max_pages} frames")
        else:
            if frames:
                break  # junk after the last frame: what was read stands
            raise CorruptData(f"GIF: unknown block 0x{block:02x}")
    if frames == 0:
        raise CorruptData("GIF: no image")
    return frames


def _pillow_frames(data: Buffer, base: int, what: str) -> int:
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        return 1
    try:
        with Image.open(BufferStream(data, base)) as img:  # type: ignore[arg-type]
            return int(getattr(img, "n_frames", 1))
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise CorruptData(f"{what}: unreadable ({exc})") from None


def _only_image(data: Buffer, end: int, what: str) -> None:
    """Refuse a file that goes on after its image: Ghostscript writes a multi-page job
    to a PNG, JPEG or BMP file as images one after the other, and whether a printer
    prints the first or all of them is not in the data."""
    rest = bytes(data[end : end + 4096]).strip(b"\x00\r\n\t ")
    if rest:
        raise CorruptData(
            f"{what}: more data after the image's end at offset {end} (images one after "
            "the other print as one page or as many, depending on the printer)"
        )


def _png_end(data: Buffer, base: int) -> int:
    """Where the PNG at `base` ends: its chunks walked by length to IEND."""
    pos = base + len(_PNG)
    n = len(data)
    for _ in range(10_000_000):
        if pos == n or data[pos : pos + 8] == _PNG:
            return pos  # no IEND (Ghostscript's fpng writes none): the image ends here
        if pos + 12 > n:
            raise TruncatedData("PNG: the image ends in the middle of a chunk")
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = bytes(data[pos + 4 : pos + 8])
        pos += 12 + length
        if kind == b"IEND":
            return min(pos, n)
    raise LimitReached("PNG: too many chunks")


_JPEG_MARKER = lazy(rb"\xff+([^\x00\xd0-\xd7\xff])")
_JPEG_BARE = frozenset(range(0xD0, 0xDA)) | {0x01}  # RSTn, SOI, EOI, TEM: no length


def _jpeg_end(data: Buffer, base: int) -> int:
    """Where the JPEG at `base` ends: segments by length, entropy data to the next marker."""
    pos = base + 2
    n = len(data)
    for _ in range(10_000_000):
        m = _JPEG_MARKER.match(data, pos)
        if m is None:
            raise CorruptData(f"JPEG: no marker at offset {pos}")
        marker = m.group(1)[0]
        pos = m.end()
        if marker == 0xD9:
            return pos
        if marker in _JPEG_BARE:
            continue
        if pos + 2 > n:
            raise TruncatedData("JPEG: the image ends inside a segment")
        pos += int.from_bytes(data[pos : pos + 2], "big")
        if marker == 0xDA:  # start of scan: entropy-coded data up to the next marker
            nxt = _JPEG_MARKER.search(data, pos)
            while nxt is not None and 0xD0 <= nxt.group(1)[0] <= 0xD7:
                nxt = _JPEG_MARKER.search(data, nxt.end())
            if nxt is None:
                raise TruncatedData("JPEG: the image ends inside its scan data")
            pos = nxt.start()
    raise LimitReached("JPEG: too many segments")


class TiffParser:
    name = "tiff"
    format = "TIFF"

    def detect(self, head: bytes) -> float:
        return 0.95 if head[:4] in _TIFF_MAGICS else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        base = pjl.read_header(data).offset
        if data[base : base + 4] not in _TIFF_MAGICS:
            raise CorruptData("TIFF: bad header")
        return Analysis(self.format, _tiff_pages(data, base, limits))


class ImageParser:
    """The single-image formats (and GIF/WebP animations)."""

    name = "image"
    format = "image"

    def detect(self, head: bytes) -> float:
        if head.startswith(_PNG) or head[:6] in (b"GIF87a", b"GIF89a"):
            return 1.0
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return 1.0
        if head.startswith(b"\xff\xd8\xff"):
            return 0.95
        if head[:2] == b"BM" and len(head) >= 26 and head[6:10] == b"\x00\x00\x00\x00":
            header = int.from_bytes(head[14:18], "little")
            if header in (12, 40, 52, 56, 64, 108, 124):
                return 0.8
        return 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        base = pjl.read_header(data).offset
        head = bytes(data[base : base + 32])
        if head.startswith(_PNG):
            _only_image(data, _png_end(data, base), "PNG")
            return Analysis("PNG", 1)
        if head[:3] == b"GIF":
            if base:
                raise CorruptData("GIF: unexpected data before the image")
            return Analysis("GIF", _gif_frames(data, limits))
        if head.startswith(b"\xff\xd8\xff"):
            _only_image(data, _jpeg_end(data, base), "JPEG")
            return Analysis("JPEG", 1)
        if head[:2] == b"BM":
            size = int.from_bytes(head[2:6], "little")
            if size:  # 0: the writer did not say; nothing to check against
                if base + size > len(data):
                    raise TruncatedData("BMP: the image is cut short")
                _only_image(data, base + size, "BMP")
            return Analysis("BMP", 1)
        if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
            return Analysis("WebP", _pillow_frames(data, base, "WebP"))
        raise CorruptData("image: unknown header")


PARSERS: list[Parser] = [TiffParser(), ImageParser()]
