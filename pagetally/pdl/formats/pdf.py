"""PDF: pages from the page tree, read through the cross-reference data.

The fast path reads `startxref`, the cross-reference tables or streams (PDF 1.5
xref streams and object streams included — pkpgcounter counted 0 there), every
incremental update through /Prev, then walks /Root /Pages counting leaves. It
loads only the catalog and the page-tree nodes; a leaf is recognised by the
absence of /Kids without being parsed. Where the walk and /Count disagree the
walk wins (it is what qpdf and the renderers see; a forged /Count must not make
a job cheaper). When the fast path is unsure (damaged file, unusual filter,
encryption with objects in object streams) pikepdf (qpdf) decides, imported
only then. Encrypted files that need a password raise EncryptedData.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from pagetally.errors import CorruptData, EncryptedData, LimitReached, PdlError, TruncatedData
from pagetally.pdl import pjl
from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits, Parser
from pagetally.pdl.formats._bufio import BufferStream
from pagetally.pdl.formats._pdfsyntax import (
    PdfValue,
    Ref,
    Rows,
    StreamTooLarge,
    TooManyItems,
    decode_rows,
    decode_stream,
    object_header,
    parse_value,
    stream_start,
)

_HEADER = lazy(rb"%PDF-(\d)\.(\d)")
_TAIL = 1 << 20  # where to look for the last startxref
_MAX_STREAM = 64 << 20  # one decompressed xref or object stream
_MAX_INFLATED = 256 << 20  # all object streams held at once (zip bombs)
_XREF_SUB = lazy(rb"[\x00\t\n\x0c\r ]*(\d+)[ \t]+(\d+)[ \t]*(?:\r\n|\n|\r)")
_XREF_ENTRY = lazy(rb"(\d{10})[ ](\d{5})[ ]([nf])")
# What may make an object a page-tree node: /Kids, or a name written with #xx
# escapes (/K#69ds is /Kids too). A string may hide an "endobj" that would cut the
# object short, so it makes an object read from the file suspect as well. Suspect
# objects are parsed; the others are pages. Literal searches first: they run at
# gigabytes per second, the regular expression only where a '#' is.
_ESCAPED_NAME = lazy(rb"/[^\x00\t\n\x0c\r ()<>\[\]{}/%]*#[0-9A-Fa-f]{2}")


def _suspect(data: Buffer, start: int, end: int, strings: bool = False) -> bool:
    if data.find(b"/Kids", start, end) >= 0:
        return True
    if strings and data.find(b"(", start, end) >= 0:
        return True
    return data.find(b"#", start, end) >= 0 and _ESCAPED_NAME.search(data, start, end) is not None


class _Unsure(Exception):
    """The fast path cannot vouch for an answer; pikepdf decides."""


class _Ranges:
    """Object-number ranges (first, count) of an xref section, found by bisection.

    A hostile file may declare thousands of one-object subsections; a linear scan
    per lookup would then make counting quadratic.
    """

    def __init__(self, ranges: list[tuple[int, int, int]]) -> None:  # (first, count, payload)
        ranges = sorted(ranges, key=lambda r: r[0])
        self._firsts = [r[0] for r in ranges]
        self._ranges = ranges

    def find(self, num: int) -> tuple[int, int] | None:
        """(offset of num within its range, payload) or None."""
        i = bisect_right(self._firsts, num) - 1
        if i < 0:
            return None
        first, count, payload = self._ranges[i]
        return (num - first, payload) if num < first + count else None


class _XrefTable:
    """One classic `xref` section: subsections located, entries read on demand."""

    def __init__(self, subsections: list[tuple[int, int, int, int]]) -> None:
        # (first, count, position, entry size)
        self.sizes = [size for _, _, _, size in subsections]
        self.positions = [pos for _, _, pos, _ in subsections]
        self.ranges = _Ranges([(f, c, i) for i, (f, c, _, _) in enumerate(subsections)])

    def lookup(self, buf: Buffer, num: int) -> tuple[int, int] | None:
        hit = self.ranges.find(num)
        if hit is None:
            return None
        k, i = hit
        m = _XREF_ENTRY.match(buf, self.positions[i] + k * self.sizes[i])
        if m is None:
            raise _Unsure("bad xref entry")
        if m.group(3) == b"f":
            return (0, 0)
        return (1, int(m.group(1)))


class _XrefStream:
    """One cross-reference stream, decoded row by row on demand."""

    def __init__(self, rows: Rows, widths: tuple[int, int, int], index: list[tuple[int, int]]):
        self.rows = rows
        self.widths = widths
        bases: list[tuple[int, int, int]] = []
        base = 0
        for first, count in index:
            bases.append((first, count, base))
            base += count
        self.ranges = _Ranges(bases)

    def lookup(self, buf: Buffer, num: int) -> tuple[int, int] | None:
        hit = self.ranges.find(num)
        if hit is None:
            return None
        k = hit[1] + hit[0]
        if k >= self.rows.count:
            raise _Unsure("xref stream shorter than its /Index")
        kind, f2, f3 = self.rows.fields(k, self.widths)
        if kind == 1:
            return (1, f2)
        if kind == 2:
            return (2, (f2 << 20) | f3)  # object stream number, index
        return (0, 0)


class _Hybrid:
    """A hybrid-reference section: its classic table, and the /XRefStm stream that
    holds what the table leaves free or out. An object the table has in use is the
    table's, whatever the stream says: what qpdf and Ghostscript read (a stream
    disagreeing with the table must not hide pages from the count)."""

    def __init__(self, table: _XrefTable, stream: _Section) -> None:
        self.table = table
        self.stream = stream

    def lookup(self, buf: Buffer, num: int) -> tuple[int, int] | None:
        hit = self.table.lookup(buf, num)
        if hit is not None and hit[0] != 0:
            return hit
        return self.stream.lookup(buf, num) or hit


_Section = _XrefTable | _XrefStream | _Hybrid


class _Doc:
    def __init__(self, buf: Buffer, base: int, limits: Limits) -> None:
        self.buf = buf
        self.base = base  # where %PDF starts: offsets count from there
        self.limits = limits
        self.sections: list[_Section] = []
        self.trailer: dict[str, PdfValue] = {}
        self.objstm_cache: dict[int, tuple[bytes, list[bytes], int]] = {}
        self.loads = 0
        self.inflated = 0
        self.kids_in_objstm: set[int] = set()
        self.leaves: dict[int, bool] = {}

    # -- locating objects ---------------------------------------------------------

    def where(self, num: int) -> tuple[int, int]:
        for section in self.sections:
            hit = section.lookup(self.buf, num)
            if hit is not None:
                return hit
        return (0, 0)

    def _at(self, num: int, offset: int) -> int:
        """Position of `num 0 obj` at offset (from %PDF, or absolute)."""
        for pos in (self.base + offset, offset):
            head = object_header(self.buf, pos)
            if head is not None and head[0].num == num:
                return head[1]
        raise _Unsure(f"object {num} is not where the xref says")

    def _objstm(self, num: int) -> tuple[bytes, list[bytes], int]:
        """(decompressed data, header tokens, /First) of object stream `num`, cached.

        Header offsets are converted only for the objects asked for.
        """
        cached = self.objstm_cache.get(num)
        if cached is not None:
            return cached
        value, data = self._stream_object(num)
        n, first = value.get("N"), value.get("First")
        if not isinstance(n, int) or not isinstance(first, int) or not 0 <= n < 1 << 22:
            raise _Unsure("bad object stream")
        nums = data[:first].split()
        if len(nums) < 2 * n or first > len(data):
            raise _Unsure("short object stream header")
        del nums[2 * n :]
        self.inflated += len(data)
        if self.inflated > _MAX_INFLATED:
            raise LimitReached("PDF: object streams decompress to too much data")
        self.objstm_cache[num] = (data, nums, first)
        if _suspect(data, first, len(data)):
            self.kids_in_objstm.add(num)
        return data, nums, first

    def _count_load(self) -> None:
        self.loads += 1
        if self.loads > self.limits.max_objects:
            raise LimitReached("PDF: too many objects read")

    def raw(self, ref: Ref | int) -> tuple[Buffer, int, int]:
        """(buffer, start, end hint) of an object's value, without parsing it."""
        self._count_load()
        num = ref.num if isinstance(ref, Ref) else ref
        kind, where = self.where(num)
        if kind == 1:
            start = self._at(num, where)
            return self.buf, start, len(self.buf)
        if kind == 2:
            stm, index = where >> 20, where & 0xFFFFF
            data, nums, first = self._objstm(stm)
            if 2 * index + 1 >= len(nums):
                raise _Unsure("object stream index out of range")
            start = first + int(nums[2 * index + 1])
            end = first + int(nums[2 * index + 3]) if 2 * index + 3 < len(nums) else len(data)
            if not first <= start <= end <= len(data):
                raise _Unsure("object stream offsets out of order")
            return data, start, end
        raise _Unsure(f"object {num} is missing")

    def get(self, ref: PdfValue, depth: int = 0) -> PdfValue:
        """Resolve a reference (values pass through)."""
        if not isinstance(ref, Ref):
            return ref
        if depth > 8:
            raise _Unsure("reference chain too long")
        buf, start, _ = self.raw(ref)
        value, _ = parse_value(buf, start, self.limits.max_depth, self.limits.max_pages + 1)
        return self.get(value, depth + 1)

    def _stream_object(self, num: int) -> tuple[dict[str, PdfValue], bytes]:
        kind, where = self.where(num)
        if kind != 1:
            raise _Unsure("stream object not at a file offset")
        start = self._at(num, where)
        return self.stream_at(start)

    def stream_at(self, start: int) -> tuple[dict[str, PdfValue], bytes]:
        value, raw = self.raw_stream_at(start)
        return value, decode_stream(raw, value, _MAX_STREAM)

    def raw_stream_at(self, start: int) -> tuple[dict[str, PdfValue], bytes]:
        value, end = parse_value(self.buf, start, self.limits.max_depth)
        if not isinstance(value, dict):
            raise _Unsure("stream without dictionary")
        data_start = stream_start(self.buf, end)
        if data_start is None:
            raise _Unsure("no stream keyword")
        length = value.get("Length")
        if isinstance(length, Ref):
            length = self.get(length)
        if not isinstance(length, int) or length < 0 or data_start + length > len(self.buf):
            raise _Unsure("bad stream /Length")
        tail = bytes(self.buf[data_start + length : data_start + length + 32]).lstrip()
        if not tail.startswith(b"endstream"):
            raise _Unsure("stream /Length does not reach endstream")
        return value, bytes(self.buf[data_start : data_start + length])

    # -- cross-reference chain -------------------------------------------------------

    def read_xref_chain(self, offset: int) -> None:
        seen: set[int] = set()
        pending: list[int] = [offset]
        first = True
        while pending:
            off = pending.pop(0)
            if off in seen:
                raise _Unsure("xref /Prev loop")
            seen.add(off)
            if len(seen) > 10_000:
                raise LimitReached("PDF: too many incremental updates")
            trailer, prev, xrefstm = self._read_section(off)
            if first:
                self.trailer = trailer
                first = False
            if xrefstm is not None:
                # A hybrid file: its table lists the objects hidden in object streams
                # as free or not at all; the /XRefStm stream has them.
                table = self.sections.pop()
                self._read_section(xrefstm, stream_only=True)
                stream = self.sections.pop()
                assert isinstance(table, _XrefTable)
                self.sections.append(_Hybrid(table, stream))
            if prev is not None:
                pending.append(prev)

    def _read_section(
        self, off: int, stream_only: bool = False
    ) -> tuple[dict[str, PdfValue], int | None, int | None]:
        for pos in (self.base + off, off):
            if not 0 <= pos < len(self.buf):
                continue
            chunk = bytes(self.buf[pos : pos + 4])
            if chunk == b"xref" and not stream_only:
                return self._read_table(pos + 4)
            head = object_header(self.buf, pos)
            if head is not None:
                value, raw = self.raw_stream_at(head[1])
                return self._read_stream(value, raw)
        raise _Unsure("startxref/Prev points at no cross-reference section")

    def _read_table(self, pos: int) -> tuple[dict[str, PdfValue], int | None, int | None]:
        subsections: list[tuple[int, int, int, int]] = []
        total = 0
        while True:
            m = _XREF_SUB.match(self.buf, pos)
            if m is None:
                break
            first, count = int(m.group(1)), int(m.group(2))
            entry_pos = m.end()
            # Entries are 20 bytes; some writers use a one-byte end of line (19).
            probe = bytes(self.buf[entry_pos : entry_pos + 21])
            size = 20
            if count:
                if probe[18:20] in (b" \r", b" \n", b"\r\n"):
                    size = 20
                elif probe[18:19] in (b"\r", b"\n"):
                    size = 19
                else:
                    raise _Unsure("malformed xref entry")
            subsections.append((first, count, entry_pos, size))
            total += count
            if total > self.limits.max_objects:
                raise LimitReached("PDF: xref too large")
            pos = entry_pos + count * size
            if pos > len(self.buf):
                raise _Unsure("xref runs past the end")
        rest = bytes(self.buf[pos : pos + 64]).lstrip(b"\x00\t\n\x0c\r ")
        if not rest.startswith(b"trailer"):
            raise _Unsure("no trailer after xref")
        tpos = self.buf.find(b"trailer", pos) + len(b"trailer")
        trailer, _ = parse_value(self.buf, tpos, self.limits.max_depth)
        if not isinstance(trailer, dict):
            raise _Unsure("trailer is not a dictionary")
        self.sections.append(_XrefTable(subsections))
        return trailer, _int_or_none(trailer.get("Prev")), _int_or_none(trailer.get("XRefStm"))

    def _read_stream(
        self, value: dict[str, PdfValue], raw: bytes
    ) -> tuple[dict[str, PdfValue], int | None, int | None]:
        if value.get("Type") != "XRef":
            raise _Unsure("startxref points at an object that is not an xref stream")
        w = value.get("W")
        size = value.get("Size")
        if (
            not isinstance(w, list)
            or len(w) != 3
            or not all(isinstance(x, int) and 0 <= x <= 8 for x in w)
            or not isinstance(size, int)
        ):
            raise _Unsure("bad xref stream /W or /Size")
        index_v = value.get("Index", [0, size])
        if not isinstance(index_v, list) or len(index_v) % 2:
            raise _Unsure("bad xref stream /Index")
        index: list[tuple[int, int]] = []
        for i in range(0, len(index_v), 2):
            a, b = index_v[i], index_v[i + 1]
            if not isinstance(a, int) or not isinstance(b, int) or a < 0 or b < 0:
                raise _Unsure("bad xref stream /Index")
            index.append((a, b))
        widths = (int(w[0]), int(w[1]), int(w[2]))  # type: ignore[arg-type]
        rows = decode_rows(raw, value, _MAX_STREAM, sum(widths))
        self.sections.append(_XrefStream(rows, widths, index))
        return value, _int_or_none(value.get("Prev")), None

    # -- the page tree ---------------------------------------------------------------

    def is_leaf(self, ref: Ref) -> bool:
        """A page (leaf) has no /Kids: decided without parsing the page object, where
        the bytes prove it, and remembered (a page may be listed many times).

        An object stream without the word /Kids anywhere holds only leaves: one
        search per stream instead of one per page.
        """
        known = self.leaves.get(ref.num)
        if known is not None:
            self._count_load()
            return known
        leaf = self._is_leaf(ref)
        self.leaves[ref.num] = leaf
        return leaf

    def _is_leaf(self, ref: Ref) -> bool:
        kind, where = self.where(ref.num)
        if kind == 2:
            stm = where >> 20
            self._objstm(stm)
            if stm not in self.kids_in_objstm:
                self._count_load()
                return True
        buf, start, end = self.raw(ref)
        if buf is not self.buf:  # inside an object stream: its header gives the end
            return not _suspect(buf, start, end)
        stop = buf.find(b"endobj", start, min(end, start + (1 << 16)))
        if stop < 0:
            return False  # no end in sight: let the full parse decide
        return _plain_dict(bytes(buf[start:stop]))

    def count_pages(self, node_ref: PdfValue) -> int:
        pages = 0
        seen: set[int] = set()
        stack: list[tuple[PdfValue, int]] = [(node_ref, 0)]
        cap = self.limits.max_pages
        while stack:
            ref, depth = stack.pop()
            if depth > self.limits.max_depth:
                raise LimitReached("PDF: page tree too deep")
            if isinstance(ref, Ref):
                if ref.num in seen:
                    raise _Unsure("page tree loop")
                seen.add(ref.num)
            node = self.get(ref)
            if not isinstance(node, dict):
                raise _Unsure("page tree node is not a dictionary")
            kids = self.get(node.get("Kids"))
            if not isinstance(kids, list):
                if node.get("Type") == "Pages":
                    raise _Unsure("/Pages node without /Kids")
                pages += 1
                if pages > cap:
                    raise LimitReached(f"PDF: more than {cap} pages")
                continue
            if len(kids) + pages > cap:
                raise LimitReached(f"PDF: a page tree node of {len(kids)} kids: more than {cap}")
            for kid in kids:
                if isinstance(kid, Ref) and kid.num not in seen and self.is_leaf(kid):
                    pages += 1
                elif isinstance(kid, Ref | dict):
                    stack.append((kid, depth + 1))
                elif kid is not None:
                    raise _Unsure("page tree kid is not a reference")
                if pages > cap:
                    raise LimitReached(f"PDF: more than {cap} pages")
        return pages


_UNPLAIN = lazy(rb"/Kids|[(%#]")


def _plain_dict(body: bytes) -> bool:
    """Whether an object's bytes up to its first `endobj` are provably one dictionary
    without /Kids: no string, comment or #-escaped name (where `endobj` or `/Kids`
    could hide, or an `endobj` could be a name's or string's), the dictionary closed
    right before `endobj`, its << and >> balanced. Anything else is parsed."""
    if _UNPLAIN.search(body) is not None:
        return False
    text = body.strip(b"\x00\t\n\x0c\r ")
    return text[:2] == b"<<" and text[-2:] == b">>" and text.count(b"<<") == text.count(b">>")


def _int_or_none(value: PdfValue) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _startxref(buf: Buffer) -> int:
    lo = max(0, len(buf) - _TAIL)
    pos = buf.rfind(b"startxref", lo)
    if pos < 0:
        raise _Unsure("no startxref")
    m = re.match(rb"startxref[\x00\t\n\x0c\r ]+(\d+)", bytes(buf[pos : pos + 40]))
    if m is None:
        raise _Unsure("startxref without offset")
    return int(m.group(1))


def _fast_count(buf: Buffer, base: int, limits: Limits) -> tuple[int, list[str]]:
    doc = _Doc(buf, base, limits)
    doc.read_xref_chain(_startxref(buf))
    notes: list[str] = []
    if "Encrypt" in doc.trailer:
        raise _Unsure("encrypted")
    root = doc.get(doc.trailer.get("Root"))
    if not isinstance(root, dict):
        raise _Unsure("no /Root catalog")
    pages_ref = root.get("Pages")
    pages_node = doc.get(pages_ref)
    if not isinstance(pages_node, dict):
        raise _Unsure("no /Pages")
    declared = doc.get(pages_node.get("Count"))
    pages = doc.count_pages(pages_ref)
    if pages == 0:
        raise _Unsure("no pages found")
    if declared != pages:
        notes.append(f"/Count says {declared!r}, the page tree holds {pages}")
    return pages, notes


def _pikepdf_count(buf: Buffer, limits: Limits) -> tuple[int, list[str]]:
    try:
        import pikepdf
    except ImportError:
        raise CorruptData("PDF: damaged, and pikepdf is not installed to repair it") from None
    try:
        with pikepdf.open(BufferStream(buf)) as pdf:  # type: ignore[arg-type]
            pages = len(pdf.pages)
    except pikepdf.PasswordError:
        raise EncryptedData("PDF: encrypted, a password is needed to read it") from None
    except pikepdf.PdfError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "unreadable"
        raise CorruptData(f"PDF: {first}") from None
    except Exception as exc:  # qpdf's other complaints about hostile files
        raise CorruptData(f"PDF: unreadable ({type(exc).__name__}: {exc})") from None
    if pages > limits.max_pages:
        raise LimitReached(f"PDF: more than {limits.max_pages} pages")
    if pages == 0:
        raise CorruptData("PDF: no pages")
    return pages, []


class PdfParser:
    name = "pdf"
    format = "PDF"

    def detect(self, head: bytes) -> float:
        pos = head.find(b"%PDF-", 0, 1024)
        if pos == 0:
            return 0.98 if b"\n%PCLm" in head[:64] else 1.0  # pclm.py is surer
        if pos > 0:
            return 0.9
        return 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        offset = pjl.read_header(data).offset  # any PJL header, of any length
        base = data.find(b"%PDF-", offset, offset + (1 << 20))
        if base < 0:
            raise CorruptData("PDF: no %PDF header")
        if data.rfind(b"%%EOF", max(0, len(data) - _TAIL)) < 0 and data.rfind(b"startxref") < 0:
            raise TruncatedData("PDF: the file ends before its cross-reference data")
        method = "parsed"
        try:
            pages, notes = _fast_count(data, base, limits)
        except PdlError:
            raise
        except (StreamTooLarge, TooManyItems) as exc:  # not qpdf's job either: too big
            raise LimitReached(f"PDF: {exc}") from None
        except Exception as exc:  # the fast path is unsure: qpdf decides
            pages, notes = _pikepdf_count(data, limits)
            method = "pikepdf"
            if str(exc) != "encrypted":
                notes = [f"fast path unsure ({exc}); counted by qpdf", *notes]
        return Analysis(format=self.format, pages=pages, method=method, notes=tuple(notes))


PARSERS: list[Parser] = [PdfParser()]
