"""A printer's page counter and state over SNMP (Printer MIB, Host Resources MIB).

Reads, in one GET, prtMarkerLifeCount (RFC 3805), hrPrinterStatus,
hrDeviceStatus and hrPrinterDetectedErrorState (RFC 2790). The state is PyKota's
reading of them: idle is hrPrinterStatus idle(3), or other(1) with hrDeviceStatus
running(2) (standby/power save); printing is printing(4) or warmup(5); an error
is any hrPrinterDetectedErrorState bit in `snmperrormask` (default 0x4FCC, see
`DEFAULT_ERROR_MASK`) or hrDeviceStatus down(5).

pysnmp 7 (its message layer only, for BER encoding) is imported on the first
query: the backend is a new process per job. The API is synchronous, over a
plain UDP socket with a per-try timeout and retries; SNMP v1 or v2c.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pagetally.devices.base import CounterNotSupported, PrinterState, Reading
from pagetally.errors import DeviceError

PAGE_COUNTER_OID = "1.3.6.1.2.1.43.10.2.1.4.1.1"  # prtMarkerLifeCount.1.1
HR_PRINTER_STATUS_OID = "1.3.6.1.2.1.25.3.5.1.1.1"  # hrPrinterStatus.1
HR_DEVICE_STATUS_OID = "1.3.6.1.2.1.25.3.2.1.5.1"  # hrDeviceStatus.1
HR_ERROR_STATE_OID = "1.3.6.1.2.1.25.3.5.1.2.1"  # hrPrinterDetectedErrorState.1

ERROR_STATUS = {  # SNMP PDU error-status values (RFC 3416)
    1: "tooBig",
    2: "noSuchName",
    3: "badValue",
    4: "readOnly",
    5: "genErr",
    6: "noAccess",
    7: "wrongType",
    11: "noCreation",
    16: "authorizationError",
    17: "notWritable",
}
PRINTER_STATUS = {1: "other", 2: "unknown", 3: "idle", 4: "printing", 5: "warmup"}
DEVICE_STATUS = {1: "unknown", 2: "running", 3: "warning", 4: "testing", 5: "down"}

# hrPrinterDetectedErrorState bits, as a 16-bit number: the first octet is the
# high byte (its bit 7 is 'low paper'), the second octet the low byte (RFC 3805).
ERROR_STATE_BITS: dict[int, str] = {
    0x8000: "Low Paper",
    0x4000: "No Paper",
    0x2000: "Low Toner",
    0x1000: "No Toner",
    0x0800: "Door Open",
    0x0400: "Jammed",
    0x0200: "Offline",
    0x0100: "Service Requested",
    0x0080: "Input Tray Missing",
    0x0040: "Output Tray Missing",
    0x0020: "Marker Supply Missing",
    0x0010: "Output Near Full",
    0x0008: "Output Full",
    0x0004: "Input Tray Empty",
    0x0002: "Overdue Preventive Maintenance",
    0x0001: "Not Assigned in RFC 3805",
}

# PyKota's snmperrormask default: No Paper, Door Open, Jammed, Offline, Service
# Requested, Input Tray Missing, Output Tray Missing, Output Full, Input Tray Empty.
# Low paper/toner and 'No Toner' do not stop accounting.
DEFAULT_ERROR_MASK = 0x4FCC


def parse_error_mask(text: str) -> int:
    """`snmperrormask` as PyKota read it: 0x... hex, 0... octal, else decimal; 16 bits."""
    value = text.strip().lower()
    try:
        if value.startswith("0x"):
            mask = int(value, 16)
        elif value.startswith("0") and len(value) > 1:
            mask = int(value, 8)
        else:
            mask = int(value)
    except ValueError:
        raise ValueError(f"snmperrormask {text!r} is not a number") from None
    if not 0 <= mask < 0x10000:
        raise ValueError(f"snmperrormask {text!r} is not a 16-bit value")
    return mask


def error_bits(octets: bytes) -> int:
    """hrPrinterDetectedErrorState as a 16-bit number (missing octets are 0)."""
    padded = (octets + b"\0\0")[:2]
    return int.from_bytes(padded, "big")


def error_states(octets: bytes) -> list[str]:
    """The names of the error bits set, most significant first."""
    bits = error_bits(octets)
    return [name for bit, name in ERROR_STATE_BITS.items() if bits & bit]


def classify(
    printer_status: int | None,
    device_status: int | None,
    error_octets: bytes,
    mask: int = DEFAULT_ERROR_MASK,
) -> tuple[PrinterState, str]:
    """The printer's state from the three status objects, and a detail for logs."""
    blocking = [
        name for bit, name in ERROR_STATE_BITS.items() if error_bits(error_octets) & bit & mask
    ]
    pstatus = PRINTER_STATUS.get(printer_status or 0, f"status {printer_status}")
    dstatus = DEVICE_STATUS.get(device_status or 0, f"status {device_status}")
    detail = f"printer {pstatus}, device {dstatus}"
    if blocking:
        return PrinterState.ERROR, ", ".join(blocking)
    if device_status == 5:
        return PrinterState.ERROR, "device down"
    if printer_status in (4, 5):
        return PrinterState.PRINTING, detail
    if printer_status == 3 or (printer_status == 1 and device_status == 2):
        return PrinterState.IDLE, detail
    if printer_status is None and device_status is None:
        return PrinterState.UNKNOWN, "no hrPrinterStatus nor hrDeviceStatus"
    return PrinterState.BUSY, detail


@dataclass(frozen=True, slots=True)
class SnmpTarget:
    """Where and how to ask: SNMP v1 or v2c with a community string."""

    host: str
    port: int = 161
    community: str = "public"
    version: str = "2c"  # "1" or "2c"
    timeout: float = 2.0  # seconds per try
    retries: int = 1

    def __post_init__(self) -> None:
        if self.version not in ("1", "2c"):
            raise ValueError(f"SNMP version {self.version!r}: use '1' or '2c'")


SnmpValue = int | bytes | None  # None: the agent has no such object


def _convert(value: Any) -> SnmpValue:
    """A pysnmp value as a plain int or bytes; None for noSuch*/endOfMibView."""
    from pysnmp.proto import rfc1905

    if isinstance(value, rfc1905.NoSuchObject | rfc1905.NoSuchInstance | rfc1905.EndOfMibView):
        return None
    if hasattr(value, "asOctets"):
        return bytes(value.asOctets())
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DeviceError(f"unexpected SNMP value {value!r}") from None


def _request(target: SnmpTarget, oids: Sequence[str], setting: Any | None) -> list[Any]:
    """One GET (or SET of oids[0]) over a UDP socket; pysnmp encodes and decodes.

    pysnmp's message layer (pysnmp.proto.api) costs ~70 ms to import where its
    asyncio hlapi costs ~0.5 s more (it loads the MIB compiler), and a blocking
    socket with a deadline is all a synchronous caller needs.
    """
    from pyasn1.codec.ber import decoder
    from pyasn1.error import PyAsn1Error
    from pysnmp.proto import api

    proto = api.PROTOCOL_MODULES[
        api.SNMP_VERSION_1 if target.version == "1" else api.SNMP_VERSION_2C
    ]
    request, request_id = _encode(proto, target.community, oids, setting)
    where = f"{target.host}:{target.port}"
    try:
        family, kind, _, _, address = socket.getaddrinfo(
            target.host, target.port, type=socket.SOCK_DGRAM
        )[0]
    except OSError as exc:
        raise DeviceError(f"SNMP {where}: {exc}") from exc
    with socket.socket(family, kind) as sock:
        for _attempt in range(target.retries + 1):
            try:
                sock.sendto(request, address)
            except OSError as exc:
                raise DeviceError(f"SNMP {where}: {exc}") from exc
            deadline = time.monotonic() + target.timeout
            while (left := deadline - time.monotonic()) > 0:
                sock.settimeout(left)
                try:
                    answer, _peer = sock.recvfrom(65535)
                except TimeoutError:
                    break
                except OSError as exc:  # e.g. ICMP port unreachable
                    raise DeviceError(f"SNMP {where}: {exc}") from exc
                try:
                    reply, _rest = decoder.decode(answer, asn1Spec=proto.Message())
                    reply_pdu = proto.apiMessage.get_pdu(reply)
                    if proto.apiPDU.get_request_id(reply_pdu) != request_id:
                        continue  # a late answer to an earlier try
                    status = int(proto.apiPDU.get_error_status(reply_pdu))
                    index = int(proto.apiPDU.get_error_index(reply_pdu))
                    values = [value for _oid, value in proto.apiPDU.get_varbinds(reply_pdu)]
                except PyAsn1Error as exc:
                    raise DeviceError(f"SNMP {where}: malformed answer ({exc})") from None
                if status:
                    oid = oids[index - 1] if 0 < index <= len(oids) else "?"
                    name = ERROR_STATUS.get(status, f"error {status}")
                    if status == 2 and 0 < index <= len(oids):
                        raise NoSuchName(f"SNMP {where}: {name} at {oid}", index=index)
                    raise DeviceError(f"SNMP {where}: {name} at {oid}")
                return values
    tries = target.retries + 1
    raise DeviceError(f"SNMP {where}: no answer ({tries} x {target.timeout:g} s)")


def _encode(
    proto: Any, community: str, oids: Sequence[str], setting: Any | None
) -> tuple[bytes, Any]:
    """The GET (or SET of oids[0]) message as bytes, and its request id."""
    from pyasn1.codec.ber import encoder

    pdu = proto.GetRequestPDU() if setting is None else proto.SetRequestPDU()
    proto.apiPDU.set_defaults(pdu)
    if setting is None:
        proto.apiPDU.set_varbinds(pdu, [(oid, proto.Null("")) for oid in oids])
    else:
        proto.apiPDU.set_varbinds(pdu, [(oids[0], setting)])
    message = proto.Message()
    proto.apiMessage.set_defaults(message)
    proto.apiMessage.set_community(message, community)
    proto.apiMessage.set_pdu(message, pdu)
    return encoder.encode(message), proto.apiPDU.get_request_id(pdu)


class NoSuchName(DeviceError):
    """SNMPv1's answer when one object of a GET does not exist (`index` is 1-based)."""

    def __init__(self, message: str, *, index: int) -> None:
        super().__init__(message)
        self.index = index


def snmp_get(target: SnmpTarget, oids: Sequence[str]) -> dict[str, SnmpValue]:
    """GET the given OIDs: {oid: int | bytes | None}, None for a missing object.

    SNMPv1 fails a whole GET with noSuchName when one object is missing; the
    GET is then asked again without it, so v1 and v2c answer alike.
    """
    asked = list(oids)
    values: list[Any] = []
    while asked:
        try:
            values = _request(target, asked, None)
            break
        except NoSuchName as exc:
            if target.version != "1":
                raise
            del asked[exc.index - 1]
    if len(values) != len(asked):
        raise DeviceError(f"SNMP {target.host}: {len(values)} answers to {len(asked)} questions")
    found = {oid: _convert(value) for oid, value in zip(asked, values, strict=True)}
    return {oid: found.get(oid) for oid in oids}


def snmp_set(target: SnmpTarget, oid: str, value: int | bytes, kind: str = "integer") -> None:
    """SET one object; `kind` is integer, counter32, gauge32 or octets (tests, tools)."""
    from pysnmp.proto import rfc1902

    types: dict[str, Any] = {
        "integer": rfc1902.Integer32,
        "counter32": rfc1902.Counter32,
        "gauge32": rfc1902.Gauge32,
        "octets": rfc1902.OctetString,
    }
    if kind not in types:
        raise ValueError(f"SNMP value kind {kind!r}: use one of {', '.join(types)}")
    _request(target, [oid], types[kind](value))


STATUS_OIDS = (PAGE_COUNTER_OID, HR_PRINTER_STATUS_OID, HR_DEVICE_STATUS_OID, HR_ERROR_STATE_OID)


class SnmpAccounter:
    """A `HardwareAccounter` over SNMP."""

    reports_status = True

    def __init__(
        self,
        target: SnmpTarget,
        *,
        error_mask: int = DEFAULT_ERROR_MASK,
        counter_oid: str = PAGE_COUNTER_OID,
    ) -> None:
        self.target = target
        self.error_mask = error_mask
        self.counter_oid = counter_oid  # another marker's or a vendor's life counter
        self.oids = (counter_oid, *STATUS_OIDS[1:])

    @property
    def name(self) -> str:
        return f"snmp://{self.target.host}:{self.target.port}"

    def read(self) -> Reading:
        values = snmp_get(self.target, self.oids)
        counter = values[self.counter_oid]
        if not isinstance(counter, int):
            raise CounterNotSupported(
                f"printer {self.name} has no page counter at {self.counter_oid}"
            )
        pstatus = values[HR_PRINTER_STATUS_OID]
        dstatus = values[HR_DEVICE_STATUS_OID]
        octets = values[HR_ERROR_STATE_OID]
        state, detail = classify(
            pstatus if isinstance(pstatus, int) else None,
            dstatus if isinstance(dstatus, int) else None,
            octets if isinstance(octets, bytes) else b"",
            self.error_mask,
        )
        return Reading(counter, state, detail)
