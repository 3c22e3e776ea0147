"""The IPP message encoding (RFC 8010): requests out, responses in.

An IPP message is: version (2 bytes), operation-id or status-code (2),
request-id (4), attribute groups each opened by a delimiter tag, an
end-of-attributes tag, then document data. An attribute is a value tag, a
2-byte name length, the name, a 2-byte value length and the value; further
values of the same attribute repeat with an empty name. Collections (RFC 8010
3.1.6) open with begCollection, list members as memberAttrName + value, and
close with endCollection.

Decoded values are plain Python: int (integer, enum), bool, str (text, name,
keyword, uri, charset, ...), bytes (octetString and unknown tags), tuples for
rangeOfInteger (low, high) and resolution (x, y, units), datetime for dateTime,
dict for collections (member -> list of values), None for out-of-band values
(unsupported, unknown, no-value). A reply is hostile input: lengths are checked
and nesting depth is capped.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Union

from pagetally.errors import DeviceError

# Delimiter tags.
OPERATION_GROUP = 0x01
JOB_GROUP = 0x02
END_OF_ATTRIBUTES = 0x03
PRINTER_GROUP = 0x04
UNSUPPORTED_GROUP = 0x05

# Value tags.
UNSUPPORTED = 0x10
UNKNOWN = 0x12
NO_VALUE = 0x13
INTEGER = 0x21
BOOLEAN = 0x22
ENUM = 0x23
OCTET_STRING = 0x30
DATE_TIME = 0x31
RESOLUTION = 0x32
RANGE_OF_INTEGER = 0x33
BEG_COLLECTION = 0x34
TEXT_WITH_LANGUAGE = 0x35
NAME_WITH_LANGUAGE = 0x36
END_COLLECTION = 0x37
TEXT = 0x41
NAME = 0x42
KEYWORD = 0x44
URI = 0x45
URI_SCHEME = 0x46
CHARSET = 0x47
NATURAL_LANGUAGE = 0x48
MIME_MEDIA_TYPE = 0x49
MEMBER_ATTR_NAME = 0x4A

_STRING_TAGS = frozenset(range(0x40, 0x60)) - {MEMBER_ATTR_NAME}
MAX_DEPTH = 16

IppValue = Union[  # noqa: UP007 (recursive alias)
    int,
    bool,
    str,
    bytes,
    None,
    datetime,
    tuple[int, ...],
    dict[str, list["IppValue"]],
]
Attributes = dict[str, list[IppValue]]


@dataclass(slots=True)
class IppMessage:
    """A decoded IPP message: `code` is the operation-id or status-code."""

    version: tuple[int, int]
    code: int
    request_id: int
    groups: list[tuple[int, Attributes]] = field(default_factory=list)
    data: bytes = b""

    def group(self, tag: int) -> Attributes:
        """The first group with this delimiter tag (empty if absent)."""
        for gtag, attrs in self.groups:
            if gtag == tag:
                return attrs
        return {}

    def all_groups(self, tag: int) -> list[Attributes]:
        """Every group with this delimiter tag (Get-Jobs answers one per job)."""
        return [attrs for gtag, attrs in self.groups if gtag == tag]


# --- encoding -------------------------------------------------------------------


def _attr(tag: int, name: str, payload: bytes) -> bytes:
    raw = name.encode("utf-8")
    return struct.pack(">BH", tag, len(raw)) + raw + struct.pack(">H", len(payload)) + payload


def encode_value(tag: int, name: str, value: IppValue) -> bytes:
    """One value of one attribute (pass name '' for additional values)."""
    if tag in (INTEGER, ENUM):
        assert isinstance(value, int)
        return _attr(tag, name, struct.pack(">i", value))
    if tag == BOOLEAN:
        return _attr(tag, name, b"\x01" if value else b"\x00")
    if tag in (UNSUPPORTED, UNKNOWN, NO_VALUE):
        return _attr(tag, name, b"")
    if tag == RANGE_OF_INTEGER:
        assert isinstance(value, tuple)
        return _attr(tag, name, struct.pack(">ii", *value))
    if tag == BEG_COLLECTION:
        assert isinstance(value, dict)
        out = _attr(BEG_COLLECTION, name, b"")
        for member, values in value.items():
            out += _attr(MEMBER_ATTR_NAME, "", member.encode("utf-8"))
            for v in values:
                out += encode_value(_guess_tag(v), "", v)
        return out + _attr(END_COLLECTION, "", b"")
    if isinstance(value, str):
        return _attr(tag, name, value.encode("utf-8"))
    if isinstance(value, bytes):
        return _attr(tag, name, value)
    raise ValueError(f"cannot encode {value!r} with IPP tag 0x{tag:02x}")


def _guess_tag(value: IppValue) -> int:
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, int):
        return INTEGER
    if isinstance(value, dict):
        return BEG_COLLECTION
    if isinstance(value, tuple):
        return RANGE_OF_INTEGER
    if isinstance(value, bytes):
        return OCTET_STRING
    return KEYWORD


def encode(
    code: int,
    request_id: int,
    groups: list[tuple[int, list[tuple[int, str, list[IppValue]]]]],
    data: bytes = b"",
    version: tuple[int, int] = (2, 0),
) -> bytes:
    """A whole message: groups of (value tag, name, values)."""
    out = struct.pack(">BBHI", version[0], version[1], code, request_id)
    for group_tag, attrs in groups:
        out += bytes([group_tag])
        for tag, name, values in attrs:
            for index, value in enumerate(values):
                out += encode_value(tag, name if index == 0 else "", value)
    return out + bytes([END_OF_ATTRIBUTES]) + data


# --- decoding -------------------------------------------------------------------


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise DeviceError("IPP: truncated message")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def short(self) -> int:
        value: int = struct.unpack(">H", self.take(2))[0]
        return value

    def item(self) -> tuple[int, str, bytes]:
        """tag, name, raw value of the next attribute item."""
        tag = self.byte()
        name = self.take(self.short()).decode("utf-8", "replace")
        return tag, name, self.take(self.short())


def _decode_plain(tag: int, raw: bytes) -> IppValue:
    if tag in (INTEGER, ENUM):
        if len(raw) != 4:
            raise DeviceError("IPP: bad integer length")
        value: int = struct.unpack(">i", raw)[0]
        return value
    if tag == BOOLEAN:
        return raw != b"\x00"
    if tag in (UNSUPPORTED, UNKNOWN, NO_VALUE):
        return None
    if tag == RANGE_OF_INTEGER and len(raw) == 8:
        return tuple(struct.unpack(">ii", raw))
    if tag == RESOLUTION and len(raw) == 9:
        return tuple(struct.unpack(">iib", raw))
    if tag == DATE_TIME and len(raw) == 11:
        return _decode_date(raw)
    if tag in (TEXT_WITH_LANGUAGE, NAME_WITH_LANGUAGE) and len(raw) >= 4:
        lang_len = struct.unpack(">H", raw[:2])[0]
        rest = raw[2 + lang_len :]
        text_len = struct.unpack(">H", rest[:2])[0] if len(rest) >= 2 else 0
        return rest[2 : 2 + text_len].decode("utf-8", "replace")
    if tag in _STRING_TAGS:
        return raw.decode("utf-8", "replace")
    return raw


def _decode_date(raw: bytes) -> datetime | None:
    year, month, day, hour, minute, second, decis, sign, hours, minutes = struct.unpack(
        ">HBBBBBBcBB", raw
    )
    try:
        offset = timedelta(hours=hours, minutes=minutes)
        tz = timezone(-offset if sign == b"-" else offset)
        stamp = datetime(year, month, day, hour, minute, second, decis * 100_000, tzinfo=tz)
    except ValueError:
        return None
    return stamp.astimezone(UTC)


def _decode_collection(reader: _Reader, depth: int) -> dict[str, list[IppValue]]:
    if depth > MAX_DEPTH:
        raise DeviceError("IPP: collections nested too deep")
    members: dict[str, list[IppValue]] = {}
    current: str | None = None
    while True:
        tag, _name, raw = reader.item()
        if tag == END_COLLECTION:
            return members
        if tag == MEMBER_ATTR_NAME:
            current = raw.decode("utf-8", "replace")
            members.setdefault(current, [])
            continue
        if current is None:
            raise DeviceError("IPP: collection value without a member name")
        if tag == BEG_COLLECTION:
            members[current].append(_decode_collection(reader, depth + 1))
        else:
            members[current].append(_decode_plain(tag, raw))


def decode(data: bytes) -> IppMessage:
    """Decode a whole IPP message (raises DeviceError on malformed input)."""
    reader = _Reader(data)
    major, minor = reader.byte(), reader.byte()
    code = reader.short()
    request_id: int = struct.unpack(">I", reader.take(4))[0]
    message = IppMessage((major, minor), code, request_id)
    attrs: Attributes | None = None
    last: str | None = None
    while True:
        tag = reader.byte()
        if tag == END_OF_ATTRIBUTES:
            break
        if tag < 0x10:  # a delimiter: a new group
            attrs = {}
            message.groups.append((tag, attrs))
            last = None
            continue
        reader.pos -= 1
        tag, name, raw = reader.item()
        if attrs is None:
            raise DeviceError("IPP: attribute outside any group")
        if name:
            last = name
            attrs[name] = []
        elif last is None:
            raise DeviceError("IPP: additional value without an attribute")
        if tag == BEG_COLLECTION:
            attrs[last].append(_decode_collection(reader, 1))
        else:
            attrs[last].append(_decode_plain(tag, raw))
    message.data = data[reader.pos :]
    return message
