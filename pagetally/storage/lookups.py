"""Small reads shared by the SQL store's modules: ids by name, printer-group edges."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, select

from pagetally.core.models import Printer
from pagetally.core.printergroups import ancestors
from pagetally.errors import NotFound
from pagetally.storage import rows
from pagetally.storage.schema import groups, printergroupsmembers, printers, users


def user_id(conn: Connection, name: str, *, lock: bool = False) -> int:
    stmt = select(users.c.id).where(users.c.username == name)
    if lock:
        stmt = stmt.with_for_update()
    found = conn.execute(stmt).scalar()
    if found is None:
        raise NotFound("user", name)
    return int(found)


def group_id(conn: Connection, name: str) -> int:
    found = conn.execute(select(groups.c.id).where(groups.c.groupname == name)).scalar()
    if found is None:
        raise NotFound("group", name)
    return int(found)


def printer_id(conn: Connection, name: str) -> int:
    found = conn.execute(select(printers.c.id).where(printers.c.printername == name)).scalar()
    if found is None:
        raise NotFound("printer", name)
    return int(found)


def printer_ids(conn: Connection, names: Sequence[str]) -> dict[str, int]:
    """Ids of the named printers; NotFound for the first missing one."""
    found = {
        r.printername: int(r.id)
        for r in conn.execute(
            select(printers.c.id, printers.c.printername).where(
                printers.c.printername.in_(list(names))
            )
        )
    }
    for name in names:
        if name not in found:
            raise NotFound("printer", name)
    return found


_CHILD = printers.alias("child")
_PARENT = printers.alias("parent")
_EDGES = (
    select(_CHILD.c.printername, _PARENT.c.printername)
    .select_from(printergroupsmembers)
    .join(_CHILD, _CHILD.c.id == printergroupsmembers.c.printerid)
    .join(_PARENT, _PARENT.c.id == printergroupsmembers.c.groupid)
)
_PRINTER = select(printers).where(printers.c.printername == bindparam("name"))
_PRINTERS = select(printers).where(printers.c.printername.in_(bindparam("names", expanding=True)))


def parents_map(conn: Connection) -> dict[str, set[str]]:
    """Every printer's direct printer groups, by name."""
    out: dict[str, set[str]] = {}
    for c, p in conn.execute(_EDGES):
        out.setdefault(c, set()).add(p)
    return out


def chain(conn: Connection, printer: str) -> list[Printer]:
    """The printer, then every printer group above it, nearest first; [] if unknown."""
    row = conn.execute(_PRINTER, {"name": printer}).first()
    if row is None:
        return []
    above = ancestors(parents_map(conn), printer)
    if not above:
        return [rows.printer_of(row)]
    by_name = {r.printername: rows.printer_of(r) for r in conn.execute(_PRINTERS, {"names": above})}
    return [rows.printer_of(row)] + [by_name[n] for n in above if n in by_name]
