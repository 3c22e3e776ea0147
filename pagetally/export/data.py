"""What `pagetally dump` and the API's exports extract: PyKota's dumpykota data types, as rows.

Column names are PyKota's (`username`, `jobsize`, `jobprice`, ...) so that sites'
scripts reading dumpykota output keep working, plus PageTally's own columns
(`colorpages`, `sheets`, `reason`, `jobuuid`, `kind`) at the end of a row.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from pagetally.errors import InvalidInput

if TYPE_CHECKING:  # annotations only: the store's modules load when a command runs
    from pagetally.storage.base import Store

Row = dict[str, Any]
FILTER_KEYS = (
    "username",
    "groupname",
    "printername",
    "pgroupname",
    "hostname",
    "billingcode",
    "jobid",
    "start",
    "end",
)

COLUMNS: dict[str, tuple[str, ...]] = {
    "users": (
        "id",
        "username",
        "email",
        "balance",
        "lifetimepaid",
        "limitby",
        "overcharge",
        "description",
    ),
    "groups": ("id", "groupname", "limitby", "balance", "lifetimepaid", "description"),
    "printers": (
        "id",
        "printername",
        "description",
        "priceperpage",
        "priceperjob",
        "pricepercolorpage",
        "pricepersheet",
        "maxjobsize",
        "passthrough",
    ),
    "upquotas": (
        "username",
        "printername",
        "pagecounter",
        "lifepagecounter",
        "softlimit",
        "hardlimit",
        "datelimit",
        "maxjobsize",
        "warncount",
    ),
    "gpquotas": (
        "groupname",
        "printername",
        "pagecounter",
        "lifepagecounter",
        "softlimit",
        "hardlimit",
        "datelimit",
        "maxjobsize",
    ),
    "history": (
        "id",
        "jobid",
        "username",
        "printername",
        "pagecounter",
        "jobsizebytes",
        "jobsize",
        "jobprice",
        "action",
        "filename",
        "title",
        "copies",
        "options",
        "hostname",
        "md5sum",
        "billingcode",
        "precomputedjobsize",
        "precomputedjobprice",
        "jobdate",
        "colorpages",
        "sheets",
        "reason",
        "jobuuid",
    ),
    "payments": ("id", "username", "amount", "description", "date", "kind"),
    "billingcodes": ("id", "billingcode", "description", "balance", "pagecounter"),
    "umembers": ("groupname", "username"),
    "pmembers": ("pgroupname", "printername"),
}
DATATYPES = (*COLUMNS, "all")
#: Which filters each data type honours (others are refused, not ignored).
ACCEPTS: dict[str, tuple[str, ...]] = {
    "users": ("username",),
    "groups": ("groupname",),
    "printers": ("printername",),
    "upquotas": ("username", "printername"),
    "gpquotas": ("groupname", "printername"),
    "history": ("username", "printername", "hostname", "billingcode", "jobid", "start", "end"),
    "payments": ("username", "start", "end"),
    "billingcodes": ("billingcode",),
    "umembers": ("groupname", "username"),
    "pmembers": ("pgroupname", "printername"),
}


@dataclass(frozen=True)
class Filters:
    """dumpykota's `key=value` filters; names may hold wildcards."""

    values: Mapping[str, str]
    start: datetime | None = None
    end: datetime | None = None

    def pattern(self, key: str) -> list[str]:
        return [self.values[key]] if key in self.values else ["*"]

    def ok(self, key: str, value: str | None) -> bool:
        return key not in self.values or fnmatchcase(value or "", self.values[key])

    def in_range(self, when: datetime | None) -> bool:
        if self.start is None and self.end is None:
            return True
        if when is None:
            return False
        return (self.start is None or when >= self.start) and (self.end is None or when < self.end)


def check_filters(datatype: str, flt: Filters) -> None:
    allowed = FILTER_KEYS if datatype == "all" else ACCEPTS[datatype]
    for key in flt.values:
        if key not in allowed:
            raise InvalidInput(
                f"filter {key}= does not apply to {datatype} "
                f"(it accepts: {', '.join(allowed) or 'none'})"
            )


def _users(store: Store, f: Filters) -> Iterator[Row]:
    for u in store.find_users(f.pattern("username")):
        yield {
            "id": u.id,
            "username": u.name,
            "email": u.email,
            "balance": u.balance,
            "lifetimepaid": u.lifetime_paid,
            "limitby": u.limit_by,
            "overcharge": u.overcharge,
            "description": u.description,
        }


def _groups(store: Store, f: Filters) -> Iterator[Row]:
    for g in store.find_groups(f.pattern("groupname")):
        balance, paid = store.group_balance(g.name)
        yield {
            "id": g.id,
            "groupname": g.name,
            "limitby": g.limit_by,
            "balance": balance,
            "lifetimepaid": paid,
            "description": g.description,
        }


def _printers(store: Store, f: Filters) -> Iterator[Row]:
    for p in store.find_printers(f.pattern("printername")):
        yield {
            "id": p.id,
            "printername": p.name,
            "description": p.description,
            "priceperpage": p.prices.per_page,
            "priceperjob": p.prices.per_job,
            "pricepercolorpage": p.prices.per_color_page,
            "pricepersheet": p.prices.per_sheet,
            "maxjobsize": p.max_job_size,
            "passthrough": p.passthrough,
        }


def _upquotas(store: Store, f: Filters) -> Iterator[Row]:
    for q in store.user_quotas(f.pattern("printername"), f.pattern("username")):
        yield {
            "username": q.user,
            "printername": q.printer,
            "pagecounter": q.page_counter,
            "lifepagecounter": q.life_page_counter,
            "softlimit": q.soft_limit,
            "hardlimit": q.hard_limit,
            "datelimit": q.date_limit,
            "maxjobsize": q.max_job_size,
            "warncount": q.warn_count,
        }


def _gpquotas(store: Store, f: Filters) -> Iterator[Row]:
    for q in store.group_quotas(f.pattern("printername"), f.pattern("groupname")):
        yield {
            "groupname": q.group,
            "printername": q.printer,
            "pagecounter": q.page_counter,
            "lifepagecounter": q.life_page_counter,
            "softlimit": q.soft_limit,
            "hardlimit": q.hard_limit,
            "datelimit": q.date_limit,
            "maxjobsize": q.max_job_size,
        }


def _exact(f: Filters, key: str) -> str | None:
    from pagetally.storage.patterns import has_wildcards  # SQLAlchemy: only when reading

    value = f.values.get(key)
    return None if value is None or has_wildcards(value) else value


def _history(store: Store, f: Filters) -> Iterator[Row]:
    from pagetally.storage.base import HistoryFilter

    hf = HistoryFilter(
        user=_exact(f, "username"),
        printer=_exact(f, "printername"),
        host=_exact(f, "hostname"),
        billing_code=_exact(f, "billingcode"),
        since=f.start,
        until=f.end,
    )
    for j in store.history(hf):
        if not (
            f.ok("username", j.user)
            and f.ok("printername", j.printer)
            and f.ok("hostname", j.host)
            and f.ok("billingcode", j.billing_code)
            and f.ok("jobid", j.job_id)
        ):
            continue
        yield {
            "id": j.id,
            "jobid": j.job_id,
            "username": j.user,
            "printername": j.printer,
            "pagecounter": j.printer_counter,
            "jobsizebytes": j.size_bytes,
            "jobsize": j.pages,
            "jobprice": j.price,
            "action": j.action,
            "filename": j.filename,
            "title": j.title,
            "copies": j.copies,
            "options": j.options,
            "hostname": j.host,
            "md5sum": j.sha256,
            "billingcode": j.billing_code,
            "precomputedjobsize": j.precomputed_pages,
            "precomputedjobprice": j.precomputed_price,
            "jobdate": j.date,
            "colorpages": j.color_pages,
            "sheets": j.sheets,
            "reason": j.reason,
            "jobuuid": j.job_uuid,
        }


def _payments(store: Store, f: Filters) -> Iterator[Row]:
    user = _exact(f, "username")
    for p in store.payments(user):
        if f.ok("username", p.user) and f.in_range(p.date):
            yield {
                "id": p.id,
                "username": p.user,
                "amount": p.amount,
                "description": p.description,
                "date": p.date,
                "kind": p.kind,
            }


def _billingcodes(store: Store, f: Filters) -> Iterator[Row]:
    for c in store.find_billing_codes(f.pattern("billingcode")):
        yield {
            "id": c.id,
            "billingcode": c.code,
            "description": c.description,
            "balance": c.balance,
            "pagecounter": c.page_counter,
        }


def _umembers(store: Store, f: Filters) -> Iterator[Row]:
    for g in store.find_groups(f.pattern("groupname")):
        for u in store.members(g.name):
            if f.ok("username", u.name):
                yield {"groupname": g.name, "username": u.name}


def _pmembers(store: Store, f: Filters) -> Iterator[Row]:
    for p in store.find_printers(f.pattern("pgroupname")):
        for m in store.printer_group_members(p.name):
            if f.ok("printername", m.name):
                yield {"pgroupname": p.name, "printername": m.name}


EXTRACT: dict[str, Callable[[Store, Filters], Iterator[Row]]] = {
    "users": _users,
    "groups": _groups,
    "printers": _printers,
    "upquotas": _upquotas,
    "gpquotas": _gpquotas,
    "history": _history,
    "payments": _payments,
    "billingcodes": _billingcodes,
    "umembers": _umembers,
    "pmembers": _pmembers,
}


def order_rows(rows: Iterable[Row], datatype: str, spec: str) -> list[Row]:
    """dumpykota's `-O '-username,+printername'`: sorted by those columns, `-`
    descending, `+` (or nothing) ascending; a column the data type lacks is refused."""
    keys: list[tuple[str, bool]] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        name, descending = part.lstrip("+-").strip().lower(), part.startswith("-")
        if name not in COLUMNS[datatype]:
            raise InvalidInput(
                f"--orderby {part!r}: {datatype} has no column {name!r} "
                f"(it has: {', '.join(COLUMNS[datatype])})"
            )
        keys.append((name, descending))
    out = list(rows)
    for name, descending in reversed(keys):  # stable sorts, last key first
        out.sort(key=functools.partial(_sort_key, name), reverse=descending)
    return out


def _sort_key(name: str, row: Row) -> tuple[bool, Any]:
    value = row.get(name)
    return (value is None, value if value is not None else "")


#: What dumpykota's --sum adds up, per data type, and which filters group the rows.
SUMMED = {
    "payments": (("amount",), ("username",)),
    "history": (
        ("jobsize", "jobprice", "jobsizebytes", "precomputedjobsize", "precomputedjobprice"),
        ("username", "printername", "hostname", "billingcode"),
    ),
}


def summarize(rows: Iterable[Row], datatype: str, flt: Filters) -> list[Row]:
    """dumpykota's --sum: one row per group with totals, '*' in the other columns.
    Payments are grouped by user; history by the filters given among username,
    printername, hostname and billingcode (none given: one total row)."""
    if datatype not in SUMMED:
        raise InvalidInput(f"--sum is for history and payments, not {datatype}")
    totals, group_keys = SUMMED[datatype]
    keys = group_keys if datatype == "payments" else tuple(k for k in group_keys if k in flt.values)
    groups: dict[tuple[str, ...], Row] = {}
    for r in rows:
        ident = tuple(str(r.get(k) or "") for k in keys)
        if ident not in groups:
            groups[ident] = {c: "*" for c in COLUMNS[datatype]}
            groups[ident].update({k: r.get(k) for k in keys})
            groups[ident].update({t: 0 for t in totals})
        for t in totals:
            groups[ident][t] += r.get(t) or 0
    return [groups[k] for k in sorted(groups)]


def extract(store: Store, datatype: str, flt: Filters) -> Iterator[Row]:
    """The rows of one data type that pass the filters its type accepts."""
    accepted = ACCEPTS[datatype]
    own = Filters(
        {k: v for k, v in flt.values.items() if k in accepted},
        flt.start if "start" in accepted else None,
        flt.end if "end" in accepted else None,
    )
    return EXTRACT[datatype](store, own)
