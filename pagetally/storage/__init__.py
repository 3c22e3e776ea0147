"""The store: one interface (base.Store), implemented over SQL and later LDAP.

`open_store(settings, readonly=...)` is the one way in; it imports only what the
chosen backend needs (SQLAlchemy, not Alembic: migrating imports that on demand).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pagetally.storage.base import HistoryFilter, Store, StoreSettings

if TYPE_CHECKING:
    from pagetally.storage.ldap import LdapStore
    from pagetally.storage.sql import SqlStore

__all__ = ["HistoryFilter", "Store", "StoreSettings", "open_reads", "open_split", "open_store"]


def open_store(settings: StoreSettings, *, readonly: bool = False) -> SqlStore | LdapStore:
    """The store `settings` describe.

    `readonly` connects with the read-only credentials (`user`/`password`) and
    refuses every write with ReadOnlyStore; otherwise the admin credentials
    (`admin_user`/`admin_password`) are used. A SQLite file is created and
    migrated on first use; on PostgreSQL/MariaDB an old schema raises
    SchemaOutOfDate ("run `pagetally db upgrade`") at the first operation, so
    that `open_store(...).upgrade()` works on an empty database.
    Raises StorageError for an unknown backend. `backend` ldap opens the LDAP
    store (storage/ldap.py: ldap3, PyKota's schema); its `upgrade()` makes the
    branches of its layout.
    """
    if settings.backend == "ldap":
        from pagetally.storage.ldap import LdapStore

        return LdapStore(settings, readonly=readonly)
    from pagetally.storage.sql import SqlStore

    return SqlStore(settings, readonly=readonly)


def open_reads(settings: StoreSettings, read: StoreSettings | None) -> Store:
    """A read-only store for reports, listings and web pages: the read store
    (`read`, e.g. a streaming replica; any kind) with the primary (`settings`,
    read-only credentials) taking over while it is unreachable; without `read`,
    the primary alone. Print jobs and writes use `open_store` (the primary)."""
    if read is None:
        return open_store(settings, readonly=True)
    from typing import cast

    from pagetally.storage.split import SplitStore

    split = SplitStore(open_store(read, readonly=True), lambda: open_store(settings, readonly=True))
    return cast(Store, split)  # every Store method, through __getattr__


def open_split(settings: StoreSettings, read: StoreSettings) -> Store:
    """Reads from `read`, writes (and decisions) to the primary `settings` with
    the admin credentials: see storage/split.py."""
    from typing import cast

    from pagetally.storage.split import SplitStore

    return cast(Store, SplitStore(open_store(read, readonly=True), lambda: open_store(settings)))
