"""Fixtures for the print path: a private cupsd and the simulated printers."""

from tests.cups.cupsd import cupsd  # noqa: F401
from tests.fixtures_devices import dns_sd, ipp_printer, snmp_agent, snmp_printer  # noqa: F401
from tests.service.conftest import served  # noqa: F401  (the accounting service)
