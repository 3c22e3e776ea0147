"""A printer's page counter and state over SNMP (Printer MIB, Host Resources MIB).

Reads, in one GET, prtMarkerLifeCount (RFC 3805), hrPrinterStatus,
hrDeviceStatus and hrPrinterDetectedErrorState (RFC 2790). The state is PyKota's
reading of them: idle is hrPrinterStatus idle(3), or other(1) with hrDeviceStatus
running(2) (standby/power save); printing is printing(4) or warmup(5); an error
is any hrPrinterDetectedErrorState bit in `snmperrormask` (default 0x4FCC, see
`DEFAULT_ERROR_MASK`) or hrDeviceStatus down(5).

pysnmp (7.x, asyncio) is imported on the first query only: it costs ~0.2 s and
the backend is a new process per job. The API here is synchronous; each call
runs its own short event loop, so do not call it from inside a running loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pagetally.devices.base import CounterNotSupported, PrinterState, Reading
from pagetally.errors import DeviceError

PAGE_COUNTER_OID = "1.3.6.1.2.1.43.10.2.1.4.1.1"  # prtMarkerLifeCount.1.1
HR_PRINTER_STATUS_OID = "1.3.6.1.2.1.25.3.5.1.1.1"  # hrPrinterStatus.1
HR_DEVICE_STATUS_OID = "1.3.6.1.2.1.25.3.2.1.5.1"  # hrDeviceStatus.1
HR_ERROR_STATE_OID = "1.3.6.1.2.1.25.3.5.1.2.1"  # hrPrinterDetectedErrorState.1

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


async def _request(target: SnmpTarget, oids: Sequence[str], setting: Any | None) -> list[Any]:
    from pysnmp.hlapi.v1arch.asyncio import (
        CommunityData,
        SnmpDispatcher,
        UdpTransportTarget,
        get_cmd,
        set_cmd,
    )
    from pysnmp.proto.rfc1902 import Null

    dispatcher = SnmpDispatcher()
    try:
        transport = await UdpTransportTarget.create(
            (target.host, target.port), timeout=target.timeout, retries=target.retries
        )
        auth = CommunityData(target.community, mpModel=0 if target.version == "1" else 1)
        if setting is None:
            varbinds = [(oid, Null()) for oid in oids]
            result = await get_cmd(dispatcher, auth, transport, *varbinds)
        else:
            result = await set_cmd(dispatcher, auth, transport, (oids[0], setting))
    finally:
        dispatcher.transport_dispatcher.close_dispatcher()
    error_indication, error_status, error_index, answer = result
    where = f"{target.host}:{target.port}"
    if error_indication:
        raise DeviceError(f"SNMP {where}: {error_indication}")
    if int(error_status):
        index = int(error_index)
        oid = oids[index - 1] if 0 < index <= len(oids) else "?"
        raise DeviceError(f"SNMP {where}: {error_status.prettyPrint()} at {oid}")
    return [value for _oid, value in answer]


def _run(target: SnmpTarget, oids: Sequence[str], setting: Any | None) -> list[Any]:
    import asyncio

    limit = target.timeout * (target.retries + 1) + 2.0
    try:
        return asyncio.run(asyncio.wait_for(_request(target, oids, setting), limit))
    except TimeoutError:
        raise DeviceError(f"SNMP {target.host}:{target.port}: no answer in {limit:.0f} s") from None
    except OSError as exc:
        raise DeviceError(f"SNMP {target.host}:{target.port}: {exc}") from exc
    except DeviceError:
        raise
    except Exception as exc:  # pysnmp raises its own PySnmpError family
        raise DeviceError(f"SNMP {target.host}:{target.port}: {exc}") from exc


def snmp_get(target: SnmpTarget, oids: Sequence[str]) -> dict[str, SnmpValue]:
    """GET the given OIDs in one request: {oid: int | bytes | None}."""
    values = _run(target, oids, None)
    if len(values) != len(oids):
        raise DeviceError(f"SNMP {target.host}: {len(values)} answers to {len(oids)} questions")
    return {oid: _convert(value) for oid, value in zip(oids, values, strict=True)}


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
    _run(target, [oid], types[kind](value))


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
