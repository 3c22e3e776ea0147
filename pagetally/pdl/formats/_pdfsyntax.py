"""Just enough PDF syntax to read cross-reference data and a few dictionaries.

The page counter in `pdf.py` reads the trailer, the catalog and the page tree
without parsing every object; this module turns bytes at a position into Python
values: dict (keys without the slash), list, int, float, bytes (strings), `Name`,
`Ref`, bool and None. Everything is bounded (nesting, string length); malformed
input raises `PdfSyntaxError`, which the counter treats as "not sure".
"""

from __future__ import annotations

import zlib
from itertools import accumulate
from typing import NamedTuple

from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import Buffer


class PdfSyntaxError(Exception):
    """The bytes are not the PDF syntax expected here (the fast path gives up)."""


class StreamTooLarge(PdfSyntaxError):
    """A stream decompresses past its cap (a zip bomb, or absurdly big)."""


class TooManyItems(PdfSyntaxError):
    """An array or dictionary holds more items than any page count could use
    (a page-tree node with millions of kids): stopped while reading it."""


class Ref(NamedTuple):
    num: int
    gen: int


class Name(str):
    """A PDF name, without its slash."""

    __slots__ = ()


PdfValue = dict[str, "PdfValue"] | list["PdfValue"] | int | float | bytes | Name | Ref | bool | None

WS = b"\x00\t\n\x0c\r "
_TOKEN = lazy(
    rb"(?:[\x00\t\n\x0c\r ]|%[^\r\n]*)*"  # whitespace and comments
    rb"(?:(<<|>>|\[|\]|\{|\})"  # 1: delimiters
    rb"|/([^\x00\t\n\x0c\r ()<>\[\]{}/%]*)"  # 2: name
    rb"|([+-]?(?:\d+\.?\d*|\.\d+))"  # 3: number
    rb"|(\()"  # 4: literal string
    rb"|<([0-9A-Fa-f\x00\t\n\x0c\r ]*)>"  # 5: hex string
    rb"|([A-Za-z_'\"]+))"  # 6: keyword
)
_REF_TAIL = lazy(rb"[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+R(?![A-Za-z])")
# The inside of an array of references only (/Kids): possessive, so that checking
# millions of them keeps no backtracking state.
_REFS_ONLY = lazy(
    rb"(?:[\x00\t\n\x0c\r ]*+\d++[\x00\t\n\x0c\r ]++\d++[\x00\t\n\x0c\r ]++R(?![A-Za-z]))*+"
    rb"[\x00\t\n\x0c\r ]*+"
)
_REF_PAIR = lazy(rb"(\d+)[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+R")
_W = rb"[\x00\t\n\x0c\r ]"
_PLAIN_NAME = rb"/[A-Za-z0-9_.+\-]+"
_FLAT_VALUE = (
    rb"/[A-Za-z0-9_.+\-]+|[+-]?\d+(?:\.\d*)?(?:" + _W + rb"+\d+" + _W + rb"+R(?![A-Za-z]))?"
    rb"|true|false|null"
)
# A dictionary of names, numbers and references only (stream and page-tree
# dictionaries mostly): read with two regular expressions instead of a token loop.
_FLAT_DICT = lazy(
    _W
    + rb"*<<((?:"
    + _W
    + rb"*"
    + _PLAIN_NAME
    + _W
    + rb"*(?:"
    + _FLAT_VALUE
    + rb"))*)"
    + _W
    + rb"*>>"
)
_FLAT_PAIR = lazy(rb"/([A-Za-z0-9_.+\-]+)" + _W + rb"*(" + _FLAT_VALUE + rb")")
_FLAT_REF = lazy(rb"(\d+)" + _W + rb"+(\d+)" + _W + rb"+R")
_NAME_ESC = lazy(rb"#([0-9A-Fa-f]{2})")
_MAX_STRING = 1 << 20


def _name(raw: bytes) -> Name:
    if b"#" in raw:
        raw = _NAME_ESC.sub(lambda m: bytes([int(m.group(1), 16)]), raw)
    return Name(raw.decode("latin-1"))


def _skip_string(buf: Buffer, pos: int) -> int:
    """Position after the literal string whose '(' is at pos - 1."""
    depth = 1
    end = min(len(buf), pos + _MAX_STRING)
    i = pos
    while i < end:
        c = buf[i]
        if c == 0x5C:  # backslash escapes the next byte
            i += 2
            continue
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise PdfSyntaxError("unterminated string")


def _flat_value(raw: bytes) -> PdfValue:
    first = raw[:1]
    if first == b"/":
        return Name(raw[1:].decode("latin-1"))
    if raw == b"true":
        return True
    if raw == b"false":
        return False
    if raw == b"null":
        return None
    if raw.endswith(b"R"):
        m = _FLAT_REF.match(raw)
        if m is not None:
            return Ref(int(m.group(1)), int(m.group(2)))
    return float(raw) if b"." in raw else int(raw)


def parse_value(
    buf: Buffer, pos: int, max_depth: int = 64, max_items: int = 1 << 22
) -> tuple[PdfValue, int]:
    """Parse one value starting at (or after whitespace from) `pos`.

    An array or dictionary of more than `max_items` items raises TooManyItems as
    soon as that is known, before the items are built."""
    flat = _FLAT_DICT.match(buf, pos)
    if flat is not None:
        return {
            k.decode("latin-1"): _flat_value(v) for k, v in _FLAT_PAIR.findall(flat.group(1))
        }, flat.end()
    stack: list[list[PdfValue] | dict[str, PdfValue]] = []
    keys: list[str | None] = []  # a dict's pending key
    token = _TOKEN.match
    while True:
        m = token(buf, pos)
        if m is None:
            raise PdfSyntaxError(f"unexpected byte at {pos}")
        pos = m.end()
        kind = m.lastindex
        raw = m.group(kind)  # type: ignore[arg-type]
        value: PdfValue
        if kind == 2:
            value = _name(raw)
        elif kind == 3:
            if b"." in raw:
                value = float(raw)
            else:
                value = int(raw)
                tail = _REF_TAIL.match(buf, pos)
                if tail is not None and value >= 0:
                    value = Ref(value, int(tail.group(1)))
                    pos = tail.end()
        elif kind == 1:
            if raw == b"<<" or raw == b"[":
                if raw == b"[":  # an array of references (/Kids): one regex, not a loop
                    close = buf.find(b"]", m.end())
                    if close >= 0 and _REFS_ONLY.fullmatch(buf, m.end(), close) is not None:
                        seg = bytes(buf[m.end() : close])
                        if seg.count(b"R") > max_items:
                            raise TooManyItems(f"an array of more than {max_items} items")
                        value = [Ref(int(a), int(b)) for a, b in _REF_PAIR.findall(seg)]
                        pos = close + 1
                        if not stack:
                            return value, pos
                        top = stack[-1]
                        if isinstance(top, list):
                            top.append(value)
                        elif keys[-1] is None:
                            raise PdfSyntaxError("dictionary key is not a name")
                        else:
                            top[keys[-1]] = value
                            keys[-1] = None
                        continue
                    long = close - m.end() > 5 * max_items  # a loop over it would be slow
                    if long and bytes(buf[m.end() : close]).count(b" R") > max_items:
                        raise TooManyItems(f"an array of more than {max_items} items")
                if len(stack) >= max_depth:
                    raise PdfSyntaxError("nesting too deep")
                stack.append({} if raw == b"<<" else [])
                keys.append(None)
                continue
            if raw == b">>" or raw == b"]":
                if not stack:
                    raise PdfSyntaxError("unbalanced " + raw.decode())
                top = stack.pop()
                keys.pop()
                if isinstance(top, dict) != (raw == b">>"):
                    raise PdfSyntaxError("mismatched brackets")
                value = top
            else:  # { } only appear in PostScript calculator functions: not here
                raise PdfSyntaxError("unexpected brace")
        elif kind == 4:
            end = _skip_string(buf, pos)
            value = bytes(buf[pos : end - 1])
            pos = end
        elif kind == 5:
            value = bytes(raw)
        elif raw == b"true":
            value = True
        elif raw == b"false":
            value = False
        elif raw == b"null":
            value = None
        else:
            raise PdfSyntaxError(f"unexpected keyword {raw[:20]!r} at {m.start(6)}")
        if not stack:
            return value, pos
        top = stack[-1]
        if len(top) >= max_items:
            raise TooManyItems(f"an array or dictionary of more than {max_items} items")
        if isinstance(top, list):
            top.append(value)
        elif keys[-1] is None:
            if not isinstance(value, Name):
                raise PdfSyntaxError("dictionary key is not a name")
            keys[-1] = value
        else:
            top[keys[-1]] = value
            keys[-1] = None


_OBJ_HEAD = lazy(rb"[\x00\t\n\x0c\r ]*(\d+)[\x00\t\n\x0c\r ]+(\d+)[\x00\t\n\x0c\r ]+obj")
_STREAM = lazy(rb"[\x00\t\n\x0c\r ]*stream(?:\r\n|\n|\r)")


def object_header(buf: Buffer, pos: int) -> tuple[Ref, int] | None:
    """(`N G`, position after `obj`) when an object starts at pos."""
    m = _OBJ_HEAD.match(buf, pos)
    if m is None:
        return None
    return Ref(int(m.group(1)), int(m.group(2))), m.end()


def stream_start(buf: Buffer, pos: int) -> int | None:
    """Where a stream's data begins, when `stream` follows the dictionary ending at pos."""
    m = _STREAM.match(buf, pos)
    return None if m is None else m.end()


def _png_unpredict(data: bytes, columns: int) -> bytes:
    """Undo PNG row predictors (xref and object streams use mostly Up)."""
    row = columns + 1
    if columns <= 0 or len(data) % row:
        raise PdfSyntaxError("bad predictor data")
    prev = bytearray(columns)
    out = bytearray()
    for start in range(0, len(data), row):
        kind = data[start]
        cur = bytearray(data[start + 1 : start + row])
        if kind == 2:
            cur = bytearray((a + b) & 0xFF for a, b in zip(cur, prev, strict=True))
        elif kind == 1:
            for i in range(1, columns):
                cur[i] = (cur[i] + cur[i - 1]) & 0xFF
        elif kind == 3:
            for i in range(columns):
                left = cur[i - 1] if i else 0
                cur[i] = (cur[i] + ((left + prev[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(columns):
                a = cur[i - 1] if i else 0
                b = prev[i]
                c = prev[i - 1] if i else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                cur[i] = (cur[i] + pred) & 0xFF
        elif kind != 0:
            raise PdfSyntaxError("unknown PNG predictor")
        out += cur
        prev = cur
    return bytes(out)


_BLOCK = 32  # rows between two stored running sums of an 'Up'-predicted column


class _UpColumn:
    """One column of an 'Up'-predicted table: its bytes and running sums every _BLOCK rows.

    Row k's value is the sum of the column's first k+1 bytes mod 256: a stored
    block sum plus at most _BLOCK bytes, summed at C speed.
    """

    __slots__ = ("data", "marks")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.marks = [
            0,
            *accumulate(sum(data[i : i + _BLOCK]) for i in range(0, len(data), _BLOCK)),
        ]

    def __getitem__(self, k: int) -> int:
        block = k // _BLOCK
        return (self.marks[block] + sum(self.data[block * _BLOCK : k + 1])) & 0xFF


class Rows:
    """A decoded table of fixed-size rows (an xref stream), read row by row.

    With the PNG 'Up' predictor on every row (what writers use) each column is a
    running sum, worked out only for the rows asked for instead of decoding the
    whole table.
    """

    def __init__(self, data: bytes, columns: int, up: list[_UpColumn] | None = None):
        self._data = data
        self._columns = columns
        self._up = up
        self.count = len(up[0].data) if up else (len(data) // columns if columns else 0)

    def fields(self, k: int, widths: tuple[int, int, int]) -> tuple[int, int, int]:
        """Row k read as three big-endian numbers of the given widths (an xref entry).

        A zero-width first field defaults to 1 (type 1: in use), as the PDF spec says.
        """
        if not 0 <= k < self.count:
            raise PdfSyntaxError("row out of range")
        out = [0, 0, 0]
        col = 0
        if self._up is not None:
            block = k // _BLOCK
            lo = block * _BLOCK
            values = [(c.marks[block] + sum(c.data[lo : k + 1])) & 0xFF for c in self._up]
            for f, w in enumerate(widths):
                v = 0
                for byte in values[col : col + w]:
                    v = (v << 8) | byte
                col += w
                out[f] = v
        else:
            row = self._data[k * self._columns : (k + 1) * self._columns]
            for f, w in enumerate(widths):
                out[f] = int.from_bytes(row[col : col + w], "big")
                col += w
        if widths[0] == 0:
            out[0] = 1
        return out[0], out[1], out[2]

    def row(self, k: int) -> bytes:
        if not 0 <= k < self.count:
            raise PdfSyntaxError("row out of range")
        if self._up is not None:
            return bytes(col[k] for col in self._up)
        return self._data[k * self._columns : (k + 1) * self._columns]


def _up_columns(data: bytes, columns: int) -> list[_UpColumn] | None:
    """The columns, when every row uses the 'Up' predictor; else None."""
    row = columns + 1
    if columns <= 0 or len(data) % row or not data:
        return None
    rows = len(data) // row
    if data[0::row] != b"\x02" * rows:
        return None
    return [_UpColumn(data[1 + j :: row]) for j in range(columns)]


def _inflate(raw: bytes, stream_dict: dict[str, PdfValue], max_size: int) -> tuple[bytes, int]:
    """(decompressed data, PNG predictor columns or 0)."""
    filters = stream_dict.get("Filter")
    parms = stream_dict.get("DecodeParms")
    if isinstance(filters, Name):
        filters = [filters]
        parms = [parms]
    if filters is None:
        return raw, 0
    if not isinstance(filters, list) or len(filters) != 1 or filters[0] != "FlateDecode":
        raise PdfSyntaxError(f"unsupported stream filter {filters!r}")
    d = zlib.decompressobj()
    try:
        data = d.decompress(raw, max_size)
    except zlib.error as exc:
        raise PdfSyntaxError(f"bad compressed stream: {exc}") from None
    if d.unconsumed_tail:
        raise StreamTooLarge("a stream decompresses to too much data")
    parm = parms[0] if isinstance(parms, list) and parms else None
    if isinstance(parm, dict):
        predictor = parm.get("Predictor", 1)
        if isinstance(predictor, int) and predictor >= 10:
            columns = parm.get("Columns", 1)
            if not isinstance(columns, int) or not 0 < columns < 1 << 16:
                raise PdfSyntaxError("bad predictor columns")
            if parm.get("Colors", 1) != 1 or parm.get("BitsPerComponent", 8) != 8:
                raise PdfSyntaxError("unsupported predictor parameters")
            return data, columns
        if predictor not in (1, None):
            raise PdfSyntaxError("unsupported predictor")
    return data, 0


def decode_stream(raw: bytes, stream_dict: dict[str, PdfValue], max_size: int) -> bytes:
    """Apply the stream's filters (only FlateDecode and PNG predictors are supported)."""
    data, columns = _inflate(raw, stream_dict, max_size)
    return _png_unpredict(data, columns) if columns else data


def decode_rows(raw: bytes, stream_dict: dict[str, PdfValue], max_size: int, row_size: int) -> Rows:
    """A stream of `row_size`-byte rows (an xref stream), decoded lazily where it can be."""
    data, columns = _inflate(raw, stream_dict, max_size)
    if columns:
        if columns != row_size:
            raise PdfSyntaxError("predictor columns differ from the row size")
        up = _up_columns(data, columns)
        if up is not None:
            return Rows(b"", columns, up)
        data = _png_unpredict(data, columns)
    return Rows(data, row_size)
