"""Building a hardware accounter from configuration, as PyKota's directives read.

PyKota's `accounter: hardware(...)` argument, kept:
- `snmp`, `snmp:COMMUNITY` or `snmp:COMMUNITY:PORT` — SNMP (v2c unless
  `snmp_version` says "1"), community "public" and port 161 by default (a port
  for an agent or proxy elsewhere; `snmp::PORT` keeps the default community);
- `pjl` or `pjl:PORT` — PJL over TCP (9100 by default);
- anything else is a command line, split like a shell would split words
  (`shlex`) but never run by a shell; `{printer}` / `%(printer)s` in an
  argument becomes the printer's host name.
The printer's host comes from the real device URI (`host_from_device_uri`).
"""

from __future__ import annotations

import shlex
import urllib.parse

from pagetally.devices.base import HardwareAccounter
from pagetally.devices.external import ExternalAccounter
from pagetally.devices.pjl import PjlAccounter
from pagetally.devices.snmp import DEFAULT_ERROR_MASK, SnmpAccounter, SnmpTarget
from pagetally.errors import ConfigError

_LOCAL_SCHEMES = frozenset({"usb", "parallel", "serial", "file", "cups-pdf", "cups-brf"})


def host_from_device_uri(uri: str) -> str | None:
    """The printer's network host in a CUPS device URI (None for local devices).

    socket://10.0.0.5:9100 -> 10.0.0.5; ipp://user@host:631/x -> host;
    hp:/net/Model?ip=10.0.0.5 -> 10.0.0.5; usb://HP/LaserJet -> None.
    """
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme.lower() in _LOCAL_SCHEMES:
        return None
    query = urllib.parse.parse_qs(parts.query)
    for key in ("ip", "hostname", "host"):
        if query.get(key):
            return query[key][0]
    return parts.hostname or None


def snmp_community_port(arg: str) -> tuple[str, int]:
    """`COMMUNITY[:PORT]` → (community, port); a last part that is not a number
    belongs to the community (which may hold colons)."""
    community, sep, port = arg.strip().rpartition(":")
    if not sep or not port.strip().isdigit():
        return arg.strip() or "public", 161
    number = int(port)
    if not 0 < number < 65536:
        raise ConfigError(f"hardware(snmp:{arg}): bad SNMP port {number}", directive="accounter")
    return community.strip() or "public", number


def accounter_from_directive(
    spec: str,
    host: str | None,
    *,
    timeout: float = 5.0,
    snmp_version: str = "2c",
    error_mask: int = DEFAULT_ERROR_MASK,
) -> HardwareAccounter:
    """The accounter a `hardware(spec)` directive names, for the printer at `host`."""
    text = spec.strip()
    kind, _, arg = text.partition(":")
    kind = kind.strip().lower()
    if kind in ("snmp", "pjl"):
        if not host:
            raise ConfigError(
                f"hardware({text}) needs a network printer; its device URI has no host",
                directive="accounter",
            )
        if kind == "snmp":
            community, port = snmp_community_port(arg)
            target = SnmpTarget(
                host, port, community=community, version=snmp_version, timeout=timeout
            )
            return SnmpAccounter(target, error_mask=error_mask)
        try:
            port = int(arg) if arg.strip() else 9100
        except ValueError:
            raise ConfigError(f"hardware({text}): bad PJL port", directive="accounter") from None
        return PjlAccounter(host, port, timeout=timeout)
    try:
        argv = shlex.split(text)
    except ValueError as exc:
        raise ConfigError(f"hardware({text}): {exc}", directive="accounter") from None
    if not argv:
        raise ConfigError("hardware() names no counter source", directive="accounter")
    if not host and any("{printer}" in a or "%(printer)s" in a for a in argv):
        raise ConfigError(
            f"hardware({text}) uses the printer's host, but its device URI has none",
            directive="accounter",
        )
    return ExternalAccounter(argv, printer=host or "", timeout=max(timeout, 60.0))
