"""The simulated printers (see tests/fixtures_devices.py)."""

from tests.fixtures_devices import (  # noqa: F401
    dns_sd,
    ipp_printer,
    pjl_printer,
    snmp_agent,
    snmp_printer,
)
