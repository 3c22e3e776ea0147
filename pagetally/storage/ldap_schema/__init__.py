"""The LDAP schema files PageTally ships, for slapd (docs/store.md, "LDAP").

`pykota.schema`: PyKota's object classes and attributes (its OIDs), so that an
existing PyKota directory works unchanged. `pagetally.schema`: PageTally's own
additions (PIN hashes, job identity and dates, payments, counters, allowances,
invoices) under its own OID arc. Both in OpenLDAP's slapd.conf schema format.
"""

from __future__ import annotations

from pathlib import Path

SCHEMA_DIR = Path(__file__).resolve().parent
PYKOTA_SCHEMA = SCHEMA_DIR / "pykota.schema"
PAGETALLY_SCHEMA = SCHEMA_DIR / "pagetally.schema"
