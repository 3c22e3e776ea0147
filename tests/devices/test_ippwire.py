"""IPP encoding/decoding (RFC 8010) and the job counts read from it."""

from __future__ import annotations

import struct
from datetime import UTC, datetime

import pytest

from pagetally.devices import ippwire as w
from pagetally.devices.ipp import JobCounts, http_url
from pagetally.errors import DeviceError


def item(tag: int, name: str, value: bytes) -> bytes:
    """One attribute item, built by hand from RFC 8010 section 3.1."""
    raw = name.encode()
    return bytes([tag]) + struct.pack(">H", len(raw)) + raw + struct.pack(">H", len(value)) + value


def test_encode_request_bytes() -> None:
    body = w.encode(
        0x0009,
        7,
        [
            (
                w.OPERATION_GROUP,
                [
                    (w.CHARSET, "attributes-charset", ["utf-8"]),
                    (w.INTEGER, "job-id", [42]),
                    (w.KEYWORD, "requested-attributes", ["job-state", "job-id"]),
                ],
            )
        ],
    )
    expected = (
        b"\x02\x00\x00\x09\x00\x00\x00\x07\x01"
        + item(0x47, "attributes-charset", b"utf-8")
        + item(0x21, "job-id", b"\x00\x00\x00\x2a")
        + item(0x44, "requested-attributes", b"job-state")
        + item(0x44, "", b"job-id")
        + b"\x03"
    )
    assert body == expected


def job_response() -> bytes:
    """A Get-Job-Attributes answer as a PWG 5100.7 printer would send it."""
    col = (
        item(w.BEG_COLLECTION, "job-impressions-completed-col", b"")
        + item(w.MEMBER_ATTR_NAME, "", b"full-color")
        + item(w.INTEGER, "", struct.pack(">i", 3))
        + item(w.MEMBER_ATTR_NAME, "", b"monochrome")
        + item(w.INTEGER, "", struct.pack(">i", 7))
        + item(w.MEMBER_ATTR_NAME, "", b"monochrome-two-sided")
        + item(w.INTEGER, "", struct.pack(">i", 4))
        + item(w.END_COLLECTION, "", b"")
    )
    date = struct.pack(">HBBBBBBcBB", 2026, 11, 24, 17, 30, 5, 0, b"+", 2, 0)
    return (
        b"\x02\x00\x00\x00\x00\x00\x00\x01"
        + b"\x01"
        + item(w.CHARSET, "attributes-charset", b"utf-8")
        + item(w.TEXT, "status-message", b"successful-ok")
        + b"\x02"
        + item(w.INTEGER, "job-id", struct.pack(">i", 12))
        + item(w.ENUM, "job-state", struct.pack(">i", 9))
        + item(w.KEYWORD, "job-state-reasons", b"job-completed-successfully")
        + item(w.INTEGER, "job-impressions-completed", struct.pack(">i", 10))
        + item(w.INTEGER, "job-media-sheets-completed", struct.pack(">i", 6))
        + col
        + item(w.DATE_TIME, "date-time-at-completed", date)
        + item(w.RANGE_OF_INTEGER, "copies-supported", struct.pack(">ii", 1, 99))
        + item(w.BOOLEAN, "color-supported", b"\x01")
        + item(w.NO_VALUE, "job-pages-completed", b"")
        + item(w.TEXT_WITH_LANGUAGE, "job-name", b"\x00\x02en\x00\x05Hello")
        + b"\x03"
    )


def test_decode_job_response() -> None:
    message = w.decode(job_response())
    assert message.code == 0 and message.request_id == 1
    job = message.group(w.JOB_GROUP)
    assert job["job-impressions-completed"] == [10]
    assert job["job-impressions-completed-col"] == [
        {"full-color": [3], "monochrome": [7], "monochrome-two-sided": [4]}
    ]
    assert job["date-time-at-completed"] == [datetime(2026, 11, 24, 15, 30, 5, tzinfo=UTC)]
    assert job["copies-supported"] == [(1, 99)]
    assert job["color-supported"] == [True]
    assert job["job-pages-completed"] == [None]
    assert job["job-name"] == ["Hello"]


def test_job_counts_from_a_pwg_5100_7_printer() -> None:
    counts = JobCounts.from_attributes(12, w.decode(job_response()).group(w.JOB_GROUP))
    assert counts.finished and counts.state_name == "completed"
    assert (counts.impressions, counts.media_sheets, counts.pages) == (10, 6, None)
    assert counts.colour_impressions == 3
    assert counts.mono_impressions == 7
    assert counts.two_sided_impressions == 4
    assert counts.state_reasons == ("job-completed-successfully",)


def test_job_counts_without_breakdown() -> None:
    counts = JobCounts.from_attributes(5, {"job-state": [5], "job-impressions-completed": [2]})
    assert not counts.finished
    assert counts.impressions == 2
    assert counts.colour_impressions is None and counts.two_sided_impressions is None


def test_roundtrip_nested_collection() -> None:
    media_col = {
        "media-size": [{"x-dimension": [21000], "y-dimension": [29700]}],
        "media-type": ["stationery"],
    }
    body = w.encode(2, 3, [(w.JOB_GROUP, [(w.BEG_COLLECTION, "media-col", [media_col])])])
    assert w.decode(body).group(w.JOB_GROUP)["media-col"] == [media_col]


def test_truncated_and_malformed_input_raise_device_errors() -> None:
    data = job_response()
    for cut in (3, 9, 40, len(data) // 2, len(data) - 1):
        with pytest.raises(DeviceError):
            w.decode(data[:cut])
    with pytest.raises(DeviceError, match="outside any group"):
        w.decode(b"\x02\x00\x00\x00\x00\x00\x00\x01" + item(w.INTEGER, "x", b"\0\0\0\1") + b"\x03")


def test_collection_nesting_is_capped() -> None:
    deep = b"".join(
        item(w.BEG_COLLECTION, "c" if i == 0 else "", b"") + item(w.MEMBER_ATTR_NAME, "", b"m")
        for i in range(w.MAX_DEPTH + 2)
    )
    with pytest.raises(DeviceError, match="too deep"):
        w.decode(b"\x02\x00\x00\x00\x00\x00\x00\x01\x02" + deep)


@pytest.mark.parametrize(
    ("uri", "parts"),
    [
        ("ipp://printer/ipp/print", ("http", "printer", 631, "/ipp/print")),
        ("ipps://printer:8443/ipp/print", ("https", "printer", 8443, "/ipp/print")),
        ("ipp://127.0.0.1:8631/ipp/print", ("http", "127.0.0.1", 8631, "/ipp/print")),
        ("http://h/x", ("http", "h", 80, "/x")),
    ],
)
def test_http_url(uri: str, parts: tuple[str, str, int, str]) -> None:
    assert http_url(uri) == parts


@pytest.mark.parametrize("uri", ["socket://h:9100", "ipp:///nohost"])
def test_http_url_refuses(uri: str) -> None:
    with pytest.raises(DeviceError):
        http_url(uri)
