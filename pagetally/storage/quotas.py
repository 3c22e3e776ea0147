"""Quota entries (userpquota, grouppquota) over one connection.

A group's page counters are not stored: they are the sum of its members' entries
on that printer, as in PyKota, so resetting a member lowers the group's usage too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, Select, bindparam, func, insert, select, update

from pagetally.core.models import GroupQuota, UserQuota
from pagetally.errors import NotFound
from pagetally.storage import lookups, patterns
from pagetally.storage.rows import LIMIT_MAX, check_count
from pagetally.storage.schema import (
    grouppquota,
    groups,
    groupsmembers,
    printers,
    userpquota,
    users,
)

USER_SELECT: Select[Any] = (
    select(userpquota, users.c.username, printers.c.printername)
    .join(users, users.c.id == userpquota.c.userid)
    .join(printers, printers.c.id == userpquota.c.printerid)
)


def _user_select() -> Select[Any]:
    return USER_SELECT


def user_quota_of(m: Any) -> UserQuota:
    return UserQuota(
        user=m["username"],
        printer=m["printername"],
        page_counter=int(m["pagecounter"]),
        life_page_counter=int(m["lifepagecounter"]),
        soft_limit=m["softlimit"],
        hard_limit=m["hardlimit"],
        date_limit=m["datelimit"],
        max_job_size=m["maxjobsize"],
        warn_count=int(m["warncount"]),
    )


def _member_sum(column: Any, label: str) -> Any:
    """The sum of `column` over the group's members' entries on the same printer
    (a correlated subquery: it reads only that group's members, through indexes)."""
    return (
        select(func.coalesce(func.sum(column), 0))
        .select_from(userpquota)
        .join(groupsmembers, groupsmembers.c.userid == userpquota.c.userid)
        .where(
            groupsmembers.c.groupid == grouppquota.c.groupid,
            userpquota.c.printerid == grouppquota.c.printerid,
        )
        .correlate(grouppquota)
        .scalar_subquery()
        .label(label)
    )


GROUP_SELECT: Select[Any] = (
    select(
        grouppquota,
        groups.c.groupname,
        printers.c.printername,
        _member_sum(userpquota.c.pagecounter, "pc"),
        _member_sum(userpquota.c.lifepagecounter, "lpc"),
    )
    .join(groups, groups.c.id == grouppquota.c.groupid)
    .join(printers, printers.c.id == grouppquota.c.printerid)
)


def _group_select() -> Select[Any]:
    return GROUP_SELECT


def group_quota_of(m: Any) -> GroupQuota:
    return GroupQuota(
        group=m["groupname"],
        printer=m["printername"],
        page_counter=int(m["pc"]),
        life_page_counter=int(m["lpc"]),
        soft_limit=m["softlimit"],
        hard_limit=m["hardlimit"],
        date_limit=m["datelimit"],
        max_job_size=m["maxjobsize"],
    )


def get_user_quota(conn: Connection, user: str, printer: str) -> UserQuota:
    row = conn.execute(
        _user_select().where(users.c.username == user, printers.c.printername == printer)
    ).first()
    if row is None:
        lookups.user_id(conn, user)
        lookups.printer_id(conn, printer)
        raise NotFound("quota entry", f"{user} on {printer}")
    return user_quota_of(row._mapping)


def get_group_quota(conn: Connection, group: str, printer: str) -> GroupQuota:
    row = conn.execute(
        _group_select().where(groups.c.groupname == group, printers.c.printername == printer)
    ).first()
    if row is None:
        lookups.group_id(conn, group)
        lookups.printer_id(conn, printer)
        raise NotFound("group quota entry", f"{group} on {printer}")
    return group_quota_of(row._mapping)


def _limits(
    soft_limit: int | None, hard_limit: int | None, max_job_size: int | None
) -> dict[str, int | None]:
    return {
        "softlimit": check_count("soft limit", soft_limit, LIMIT_MAX),
        "hardlimit": check_count("hard limit", hard_limit, LIMIT_MAX),
        "maxjobsize": check_count("max job size", max_job_size, LIMIT_MAX),
    }


def set_user_quota(
    conn: Connection,
    user: str,
    printer: str,
    soft_limit: int | None,
    hard_limit: int | None,
    max_job_size: int | None,
) -> UserQuota:
    values = _limits(soft_limit, hard_limit, max_job_size)
    uid = lookups.user_id(conn, user)
    pid = lookups.printer_id(conn, printer)
    done = conn.execute(
        update(userpquota)
        .where(userpquota.c.userid == uid, userpquota.c.printerid == pid)
        .values(**values)
    )
    if not done.rowcount:
        conn.execute(
            insert(userpquota).values(
                userid=uid, printerid=pid, pagecounter=0, lifepagecounter=0, warncount=0, **values
            )
        )
    return get_user_quota(conn, user, printer)


def set_group_quota(
    conn: Connection,
    group: str,
    printer: str,
    soft_limit: int | None,
    hard_limit: int | None,
    max_job_size: int | None,
) -> GroupQuota:
    values = _limits(soft_limit, hard_limit, max_job_size)
    gid = lookups.group_id(conn, group)
    pid = lookups.printer_id(conn, printer)
    done = conn.execute(
        update(grouppquota)
        .where(grouppquota.c.groupid == gid, grouppquota.c.printerid == pid)
        .values(**values)
    )
    if not done.rowcount:
        conn.execute(insert(grouppquota).values(groupid=gid, printerid=pid, **values))
    return get_group_quota(conn, group, printer)


Q = TypeVar("Q", UserQuota, GroupQuota)


def _too_many(printer_patterns: Sequence[str], name_patterns: Sequence[str]) -> bool:
    return (
        len(patterns.in_chunks(printer_patterns)) > 1 or len(patterns.in_chunks(name_patterns)) > 1
    )


def _chunked(
    read: Callable[[Connection, Sequence[str], Sequence[str]], list[Q]],
    conn: Connection,
    printer_patterns: Sequence[str],
    name_patterns: Sequence[str],
    name_of: Callable[[Q], str],
) -> list[Q]:
    """`read` over chunks of long pattern lists, merged as one query would give."""
    found = {
        (q.printer, name_of(q)): q
        for pc in patterns.in_chunks(printer_patterns)
        for nc in patterns.in_chunks(name_patterns)
        for q in read(conn, pc, nc)
    }
    return [found[k] for k in sorted(found)]


def user_quotas(
    conn: Connection, printer_patterns: Sequence[str], user_patterns: Sequence[str]
) -> list[UserQuota]:
    if _too_many(printer_patterns, user_patterns):
        return _chunked(user_quotas, conn, printer_patterns, user_patterns, lambda q: q.user)
    stmt = (
        _user_select()
        .where(patterns.where_names(printers.c.printername, printer_patterns))
        .where(patterns.where_names(users.c.username, user_patterns))
        .order_by(printers.c.printername, users.c.username)
    )
    return [
        user_quota_of(r._mapping)
        for r in conn.execute(stmt).all()
        if patterns.matches(r.printername, printer_patterns)
        and patterns.matches(r.username, user_patterns)
    ]


def first_user_quotas(
    conn: Connection, user_patterns: Sequence[str], limit: int
) -> tuple[list[UserQuota], int]:
    """The first `limit` of user_quotas(conn, ("*",), user_patterns) and how many
    there are in all (the admin's quota page): objects for those only, the rest
    counted in SQL when SQL alone decides the names ("*", plain names)."""
    if _too_many(("*",), user_patterns):
        every = user_quotas(conn, ("*",), user_patterns)
        return every[:limit], len(every)
    where = patterns.where_names(users.c.username, user_patterns)
    stmt = _user_select().where(where).order_by(printers.c.printername, users.c.username)
    if patterns.sql_is_exact(user_patterns):
        count = (
            select(func.count())
            .select_from(userpquota)
            .join(users, users.c.id == userpquota.c.userid)
            .where(where)
        )
        first = [user_quota_of(r._mapping) for r in conn.execute(stmt.limit(limit))]
        return first, int(conn.execute(count).scalar_one())
    # a search (LIKE narrowed the rows): its rows are read, objects made for the first
    found = [r for r in conn.execute(stmt) if patterns.matches(r.username, user_patterns)]
    return [user_quota_of(r._mapping) for r in found[:limit]], len(found)


def group_quotas(
    conn: Connection, printer_patterns: Sequence[str], group_patterns: Sequence[str]
) -> list[GroupQuota]:
    if _too_many(printer_patterns, group_patterns):
        return _chunked(group_quotas, conn, printer_patterns, group_patterns, lambda q: q.group)
    stmt = (
        _group_select()
        .where(patterns.where_names(printers.c.printername, printer_patterns))
        .where(patterns.where_names(groups.c.groupname, group_patterns))
        .order_by(printers.c.printername, groups.c.groupname)
    )
    return [
        group_quota_of(r._mapping)
        for r in conn.execute(stmt).all()
        if patterns.matches(r.printername, printer_patterns)
        and patterns.matches(r.groupname, group_patterns)
    ]


def delete_user_quota(conn: Connection, user: str, printer: str) -> None:
    uid = lookups.user_id(conn, user)
    pid = lookups.printer_id(conn, printer)
    done = conn.execute(
        userpquota.delete().where(userpquota.c.userid == uid, userpquota.c.printerid == pid)
    )
    if not done.rowcount:
        raise NotFound("quota entry", f"{user} on {printer}")


def delete_group_quota(conn: Connection, group: str, printer: str) -> None:
    gid = lookups.group_id(conn, group)
    pid = lookups.printer_id(conn, printer)
    done = conn.execute(
        grouppquota.delete().where(grouppquota.c.groupid == gid, grouppquota.c.printerid == pid)
    )
    if not done.rowcount:
        raise NotFound("group quota entry", f"{group} on {printer}")


def reset_user_quota(
    conn: Connection, user: str, printer: str, page_counter: int, life_page_counter: int | None
) -> UserQuota:
    """Set the page counter, and the lifetime counter when one is given."""
    check_count("page counter", page_counter)
    check_count("lifetime page counter", life_page_counter)
    get_user_quota(conn, user, printer)  # NotFound with the right name
    uid = lookups.user_id(conn, user)
    pid = lookups.printer_id(conn, printer)
    values: dict[str, Any] = {"pagecounter": page_counter, "datelimit": None, "warncount": 0}
    if life_page_counter is not None:
        values["lifepagecounter"] = life_page_counter
    conn.execute(
        update(userpquota)
        .where(userpquota.c.userid == uid, userpquota.c.printerid == pid)
        .values(**values)
    )
    return get_user_quota(conn, user, printer)


#: One quota entry's limits, for the bulk writers: (name, printer, soft, hard, max job size).
LimitsRow = tuple[str, str, int | None, int | None, int | None]


def _ids(
    conn: Connection, column: Any, id_column: Any, names: Sequence[str], kind: str
) -> dict[str, int]:
    """Ids of many names, read in chunks; NotFound for the first missing one."""
    found: dict[str, int] = {}
    wanted = list(dict.fromkeys(names))
    for chunk in patterns.in_chunks(wanted):
        for r in conn.execute(select(column, id_column).where(column.in_(chunk))):
            found[r[0]] = int(r[1])
    for name in wanted:
        if name not in found:
            raise NotFound(kind, name)
    return found


def set_quotas(conn: Connection, entries: Sequence[LimitsRow], group: bool) -> int:
    """Create or replace the limits of many entries in one transaction (counters kept)."""
    table = grouppquota if group else userpquota
    owner = table.c.groupid if group else table.c.userid
    who = (
        _ids(conn, groups.c.groupname, groups.c.id, [e[0] for e in entries], "group")
        if group
        else _ids(conn, users.c.username, users.c.id, [e[0] for e in entries], "user")
    )
    where = _ids(conn, printers.c.printername, printers.c.id, [e[1] for e in entries], "printer")
    rows = [(who[n], where[p], _limits(s, h, m)) for n, p, s, h, m in entries]
    existing: set[tuple[int, int]] = set()
    for chunk in patterns.in_chunks(sorted({str(oid) for oid, _, _ in rows})):
        found = conn.execute(
            select(owner, table.c.printerid).where(owner.in_([int(x) for x in chunk]))
        )
        existing |= {(int(a), int(b)) for a, b in found}
    updates = [
        {"o": oid, "p": pid, **values} for oid, pid, values in rows if (oid, pid) in existing
    ]
    inserts = [
        {owner.name: oid, "printerid": pid, **values}
        for oid, pid, values in rows
        if (oid, pid) not in existing
    ]
    if updates:  # one statement, many parameter sets
        conn.execute(
            update(table)
            .where(owner == bindparam("o"), table.c.printerid == bindparam("p"))
            .values(
                softlimit=bindparam("softlimit"),
                hardlimit=bindparam("hardlimit"),
                maxjobsize=bindparam("maxjobsize"),
            ),
            updates,
        )
    if inserts:
        extra = {} if group else {"pagecounter": 0, "lifepagecounter": 0, "warncount": 0}
        conn.execute(insert(table), [{**extra, **row} for row in inserts])
    return len(entries)


def reset_quotas(conn: Connection, entries: Sequence[tuple[str, str, int, int | None]]) -> int:
    """Set the counters of many existing user entries (user, printer, counter,
    lifetime counter or None) in one transaction; grace deadlines cleared."""
    who = _ids(conn, users.c.username, users.c.id, [e[0] for e in entries], "user")
    where = _ids(conn, printers.c.printername, printers.c.id, [e[1] for e in entries], "printer")
    for _, _, counter, life in entries:
        check_count("page counter", counter)
        check_count("lifetime page counter", life)
    # one statement per shape (with or without the lifetime counter), many parameter sets
    for with_life in (False, True):
        params = [
            {"u": who[user], "p": where[printer], "pc": counter, "lpc": life}
            for user, printer, counter, life in entries
            if (life is not None) == with_life
        ]
        if not params:
            continue
        values: dict[str, Any] = {"pagecounter": bindparam("pc"), "datelimit": None, "warncount": 0}
        if with_life:
            values["lifepagecounter"] = bindparam("lpc")
        done = conn.execute(
            update(userpquota)
            .where(userpquota.c.userid == bindparam("u"), userpquota.c.printerid == bindparam("p"))
            .values(**values),
            params,
        )
        if done.rowcount >= 0 and done.rowcount != len(params):
            raise NotFound("quota entry", "one of the entries to reset (deleted meanwhile)")
    return len(entries)
