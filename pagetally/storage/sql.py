"""SqlStore: the Store protocol over SQLAlchemy Core (SQLite, PostgreSQL, MariaDB).

Each public method is one unit of work (`_read` or `_write`): it commits whole or
not at all, is retried whole on a deadlock or busy database, and turns driver
errors into PageTally's (StoreUnavailable naming the server, ReadOnlyStore, ...).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from pagetally.core.models import (
    AccountSnapshot,
    Allowance,
    ChargeRequest,
    ChargeResult,
    Decision,
    Group,
    GroupQuota,
    JobFacts,
    JobRecord,
    LimitBy,
    Payment,
    PaymentKind,
    User,
    UserQuota,
)
from pagetally.errors import (
    AlreadyExists,
    InvalidInput,
    NotFound,
    StorageError,
)
from pagetally.storage import accounting, grants, lookups, pg_charge, quotas, rows
from pagetally.storage import patterns as pat
from pagetally.storage.answers import AnswerMethods
from pagetally.storage.base import HistoryFilter, Store
from pagetally.storage.engine import (
    is_unique_violation,
    translate,
)
from pagetally.storage.history import history_select
from pagetally.storage.invoices import InvoiceMethods
from pagetally.storage.refunds import RefundMethods
from pagetally.storage.reports import ReportMethods
from pagetally.storage.schema import (
    groups,
    groupsmembers,
    payments,
    users,
)
from pagetally.storage.sql_catalog import CatalogMethods
from pagetally.storage.tokens import TokenMethods
from pagetally.storage.webdata import WebMethods
from pagetally.storage.webqueries import WebQueryMethods
from pagetally.storage.webthrottle import ThrottleMethods

_ALL_JOBS = HistoryFilter()


class SqlStore(
    CatalogMethods,
    RefundMethods,
    InvoiceMethods,
    WebMethods,
    TokenMethods,
    ThrottleMethods,
    ReportMethods,
    WebQueryMethods,
    AnswerMethods,
):
    """The SQL store. Build it with `pagetally.storage.open_store`."""

    # --- users -----------------------------------------------------------------
    def add_user(self, user: User, *, opening: str = "") -> User:
        rows.check_name("user", user.name)
        balance = rows.check_money("balance", user.balance)
        paid = rows.check_money("lifetime paid", user.lifetime_paid)
        over = rows.check_money("overcharge factor", user.overcharge)

        def work(conn: Connection) -> User:
            if conn.execute(select(users.c.id).where(users.c.username == user.name)).first():
                raise AlreadyExists("user", user.name)
            stmt = insert(users).values(
                username=user.name,
                email=user.email,
                balance=balance,
                lifetimepaid=paid,
                limitby=LimitBy(user.limit_by).value,
                description=user.description,
                overcharge=over,
            )
            self._insert(conn, stmt, "user", user.name)
            if opening:
                _opening_payments(conn, [user.name], balance, opening)
            return self._get_user(conn, user.name)

        return self._write(work)

    def add_users(self, new: Sequence[User], *, opening: str = "") -> int:
        """Create many users in one transaction (all or none): `users add` with
        30,000 names. AlreadyExists names one that exists."""
        values: list[dict[str, object]] = [
            {
                "username": rows.check_name("user", u.name),
                "email": u.email,
                "balance": rows.check_money("balance", u.balance),
                "lifetimepaid": rows.check_money("lifetime paid", u.lifetime_paid),
                "limitby": LimitBy(u.limit_by).value,
                "description": u.description,
                "overcharge": rows.check_money("overcharge factor", u.overcharge),
            }
            for u in new
        ]

        def work(conn: Connection) -> int:
            for chunk in pat.in_chunks([u.name for u in new]):
                taken = conn.execute(
                    select(users.c.username).where(users.c.username.in_(chunk))
                ).first()
                if taken is not None:
                    raise AlreadyExists("user", taken[0])
            if values:
                try:
                    conn.execute(insert(users), values)
                except IntegrityError as err:
                    if is_unique_violation(err):
                        raise AlreadyExists("user", "(one of the names, added meanwhile)") from None
                    raise
            if opening:  # a directory's users all start with one balance: one query
                by_balance: dict[Decimal, list[str]] = {}
                for u in new:
                    by_balance.setdefault(Decimal(u.balance), []).append(u.name)
                for balance, names in by_balance.items():
                    _opening_payments(conn, names, balance, opening)
            return len(values)

        return self._write(work)

    @staticmethod
    def _get_user(conn: Connection, name: str) -> User:
        row = conn.execute(select(users).where(users.c.username == name)).first()
        if row is None:
            raise NotFound("user", name)
        return rows.user_of(row)

    def get_user(self, name: str) -> User:
        return self._read(lambda c: self._get_user(c, name))

    def find_users(self, patterns: Sequence[str] = ("*",)) -> list[User]:
        def work(c: Connection) -> list[User]:
            parts = []
            for chunk in pat.in_chunks(patterns):
                stmt = select(users).where(pat.where_names(users.c.username, chunk))
                parts.append(
                    [
                        rows.user_of(r)
                        for r in c.execute(stmt.order_by(users.c.username))
                        if pat.matches(r.username, chunk)
                    ]
                )
            return pat.merged(parts, lambda u: u.name)

        return self._read(work)

    def edit_user(
        self,
        name: str,
        *,
        limit_by: LimitBy | None = None,
        overcharge: Decimal | None = None,
        email: str | None = None,
        description: str | None = None,
    ) -> User:
        values: dict[str, Any] = {}
        if limit_by is not None:
            values["limitby"] = LimitBy(limit_by).value
        if overcharge is not None:
            values["overcharge"] = rows.check_money("overcharge factor", overcharge)
        if email is not None:
            values["email"] = email or None
        if description is not None:
            values["description"] = description

        def work(conn: Connection) -> User:
            uid = lookups.user_id(conn, name)
            if values:
                conn.execute(update(users).where(users.c.id == uid).values(**values))
            return self._get_user(conn, name)

        return self._write(work)

    def delete_user(self, name: str) -> None:
        def work(conn: Connection) -> None:
            uid = lookups.user_id(conn, name)
            from pagetally.storage.schema import userpquota

            conn.execute(delete(userpquota).where(userpquota.c.userid == uid))
            conn.execute(delete(groupsmembers).where(groupsmembers.c.userid == uid))
            conn.execute(delete(payments).where(payments.c.userid == uid))
            conn.execute(delete(users).where(users.c.id == uid))

        self._write(work)

    # --- money -----------------------------------------------------------------
    def add_payment(self, payment: Payment) -> User:
        amount = rows.check_money("amount", payment.amount)
        kind = PaymentKind(payment.kind)
        date = payment.date or datetime.now(UTC)

        def work(conn: Connection) -> User:
            uid = lookups.user_id(conn, payment.user, lock=True)
            values: dict[str, Any] = {"balance": users.c.balance + amount}
            if kind is PaymentKind.CREDIT:
                values["lifetimepaid"] = users.c.lifetimepaid + amount
            conn.execute(update(users).where(users.c.id == uid).values(**values))
            conn.execute(
                insert(payments).values(
                    userid=uid,
                    amount=amount,
                    kind=kind.value,
                    description=payment.description[:255],
                    date=date,
                )
            )
            return self._get_user(conn, payment.user)

        return self._write(work)

    def payments(self, user: str | None = None) -> list[Payment]:
        def work(conn: Connection) -> list[Payment]:
            stmt = select(payments, users.c.username).join(users, users.c.id == payments.c.userid)
            if user is not None:
                stmt = stmt.where(payments.c.userid == lookups.user_id(conn, user))
            stmt = stmt.order_by(payments.c.date, payments.c.id)
            return [rows.payment_of(r) for r in conn.execute(stmt)]

        return self._read(work)

    # --- groups ----------------------------------------------------------------
    def add_group(self, group: Group) -> Group:
        rows.check_name("group", group.name)

        def work(conn: Connection) -> Group:
            if conn.execute(select(groups.c.id).where(groups.c.groupname == group.name)).first():
                raise AlreadyExists("group", group.name)
            stmt = insert(groups).values(
                groupname=group.name,
                description=group.description,
                limitby=LimitBy(group.limit_by).value,
            )
            self._insert(conn, stmt, "group", group.name)
            return self._get_group(conn, group.name)

        return self._write(work)

    @staticmethod
    def _get_group(conn: Connection, name: str) -> Group:
        row = conn.execute(select(groups).where(groups.c.groupname == name)).first()
        if row is None:
            raise NotFound("group", name)
        return rows.group_of(row)

    def get_group(self, name: str) -> Group:
        return self._read(lambda c: self._get_group(c, name))

    def find_groups(self, patterns: Sequence[str] = ("*",)) -> list[Group]:
        if len(pat.in_chunks(patterns)) > 1:
            parts = [self.find_groups(chunk) for chunk in pat.in_chunks(patterns)]
            return pat.merged(parts, lambda g: g.name)
        stmt = select(groups).where(pat.where_names(groups.c.groupname, patterns))
        return self._read(
            lambda c: [
                rows.group_of(r)
                for r in c.execute(stmt.order_by(groups.c.groupname))
                if pat.matches(r.groupname, patterns)
            ]
        )

    def edit_group(
        self, name: str, *, limit_by: LimitBy | None = None, description: str | None = None
    ) -> Group:
        values: dict[str, Any] = {}
        if limit_by is not None:
            values["limitby"] = LimitBy(limit_by).value
        if description is not None:
            values["description"] = description

        def work(conn: Connection) -> Group:
            gid = lookups.group_id(conn, name)
            if values:
                conn.execute(update(groups).where(groups.c.id == gid).values(**values))
            return self._get_group(conn, name)

        return self._write(work)

    def delete_group(self, name: str) -> None:
        def work(conn: Connection) -> None:
            gid = lookups.group_id(conn, name)
            from pagetally.storage.schema import grouppquota

            conn.execute(delete(grouppquota).where(grouppquota.c.groupid == gid))
            conn.execute(delete(groupsmembers).where(groupsmembers.c.groupid == gid))
            conn.execute(delete(groups).where(groups.c.id == gid))

        self._write(work)

    def add_members(self, group: str, users: Sequence[str]) -> None:
        def work(conn: Connection) -> None:
            gid = lookups.group_id(conn, group)
            uids = [lookups.user_id(conn, u) for u in users]
            have = set(
                conn.execute(
                    select(groupsmembers.c.userid).where(groupsmembers.c.groupid == gid)
                ).scalars()
            )
            for uid in dict.fromkeys(uids):
                if uid not in have:
                    conn.execute(insert(groupsmembers).values(groupid=gid, userid=uid))

        self._write(work)

    def remove_members(self, group: str, users: Sequence[str]) -> None:
        def work(conn: Connection) -> None:
            gid = lookups.group_id(conn, group)
            uids = [lookups.user_id(conn, u) for u in users]
            conn.execute(
                delete(groupsmembers).where(
                    groupsmembers.c.groupid == gid, groupsmembers.c.userid.in_(uids)
                )
            )

        self._write(work)

    def members(self, group: str) -> list[User]:
        def work(conn: Connection) -> list[User]:
            gid = lookups.group_id(conn, group)
            stmt = (
                select(users)
                .join(groupsmembers, groupsmembers.c.userid == users.c.id)
                .where(groupsmembers.c.groupid == gid)
                .order_by(users.c.username)
            )
            return [rows.user_of(r) for r in conn.execute(stmt)]

        return self._read(work)

    def groups_of(self, user: str) -> list[Group]:
        def work(conn: Connection) -> list[Group]:
            uid = lookups.user_id(conn, user)
            stmt = (
                select(groups)
                .join(groupsmembers, groupsmembers.c.groupid == groups.c.id)
                .where(groupsmembers.c.userid == uid)
                .order_by(groups.c.groupname)
            )
            return [rows.group_of(r) for r in conn.execute(stmt)]

        return self._read(work)

    def group_balance(self, group: str) -> tuple[Decimal, Decimal]:
        def work(conn: Connection) -> tuple[Decimal, Decimal]:
            gid = lookups.group_id(conn, group)
            stmt = (
                select(func.sum(users.c.balance), func.sum(users.c.lifetimepaid))
                .join(groupsmembers, groupsmembers.c.userid == users.c.id)
                .where(groupsmembers.c.groupid == gid)
            )
            bal, paid = conn.execute(stmt).one()
            zero = Decimal("0.000000")
            return (bal if bal is not None else zero, paid if paid is not None else zero)

        return self._read(work)

    # --- quotas ----------------------------------------------------------------
    def set_user_quota(
        self,
        user: str,
        printer: str,
        *,
        soft_limit: int | None = None,
        hard_limit: int | None = None,
        max_job_size: int | None = None,
    ) -> UserQuota:
        return self._write(
            self._upsert(
                lambda c: quotas.set_user_quota(
                    c, user, printer, soft_limit, hard_limit, max_job_size
                )
            )
        )

    def set_group_quota(
        self,
        group: str,
        printer: str,
        *,
        soft_limit: int | None = None,
        hard_limit: int | None = None,
        max_job_size: int | None = None,
    ) -> GroupQuota:
        return self._write(
            self._upsert(
                lambda c: quotas.set_group_quota(
                    c, group, printer, soft_limit, hard_limit, max_job_size
                )
            )
        )

    def set_quotas(self, entries: Sequence[quotas.LimitsRow], *, group: bool = False) -> int:
        """Create or replace the limits of many entries in one transaction."""
        return self._write(self._upsert(lambda c: quotas.set_quotas(c, entries, group)))

    def reset_quotas(self, entries: Sequence[tuple[str, str, int, int | None]]) -> int:
        """Set the counters of many user entries in one transaction."""
        return self._write(lambda c: quotas.reset_quotas(c, entries))

    def get_user_quota(self, user: str, printer: str) -> UserQuota:
        return self._read(lambda c: quotas.get_user_quota(c, user, printer))

    def get_group_quota(self, group: str, printer: str) -> GroupQuota:
        return self._read(lambda c: quotas.get_group_quota(c, group, printer))

    def user_quotas(
        self, printers: Sequence[str] = ("*",), users: Sequence[str] = ("*",)
    ) -> list[UserQuota]:
        return self._read(lambda c: quotas.user_quotas(c, printers, users))

    def group_quotas(
        self, printers: Sequence[str] = ("*",), groups: Sequence[str] = ("*",)
    ) -> list[GroupQuota]:
        return self._read(lambda c: quotas.group_quotas(c, printers, groups))

    def delete_user_quota(self, user: str, printer: str) -> None:
        self._write(lambda c: quotas.delete_user_quota(c, user, printer))

    def delete_group_quota(self, group: str, printer: str) -> None:
        self._write(lambda c: quotas.delete_group_quota(c, group, printer))

    def reset_user_quota(
        self,
        user: str,
        printer: str,
        *,
        page_counter: int = 0,
        lifetime: bool = False,
        life_page_counter: int | None = None,
    ) -> UserQuota:
        life = page_counter if lifetime and life_page_counter is None else life_page_counter
        return self._write(lambda c: quotas.reset_user_quota(c, user, printer, page_counter, life))

    # --- jobs ------------------------------------------------------------------
    def snapshot(self, user: str, printer: str, billing_code: str | None = None) -> AccountSnapshot:
        if self.backend == "postgresql" and pg_charge.ENABLED:  # one trip
            return self._read(lambda c: pg_charge.snapshot(c, user, printer, billing_code))
        return self._read(lambda c: accounting.snapshot(c, user, printer, billing_code))

    def charge(self, request: ChargeRequest) -> ChargeResult:
        ident = accounting.request_identity(request)
        if self.backend == "postgresql" and pg_charge.ENABLED:  # one trip: the server runs them
            return self._charging(
                lambda c: pg_charge.charge(c, request, ident, commit=True), request.facts, ident
            )
        return self._charging(
            lambda c: accounting.charge(c, request, checked=ident), request.facts, ident
        )

    def decide_and_charge(
        self,
        facts: JobFacts,
        rule: Callable[[AccountSnapshot], Decision],
        date: datetime,
    ) -> ChargeResult:
        if self.backend == "postgresql" and pg_charge.ENABLED and pg_charge.ONE_TRIP:
            states = self._pg_states
            return self._charging(
                lambda c: pg_charge.decide_and_charge_once(c, facts, rule, date, states),
                facts,
                accounting.identity(facts),
            )  # usually one trip
        if self.backend == "postgresql" and pg_charge.ENABLED:  # lock+read: one trip, charge: one
            return self._charging(
                lambda c: pg_charge.decide_and_charge(c, facts, rule, date),
                facts,
                accounting.identity(facts),
            )
        return self._charging(
            lambda c: accounting.decide_and_charge(c, facts, rule, date),
            facts,
            accounting.identity(facts),
        )

    def _charging(
        self, fn: Callable[[Connection], ChargeResult], facts: JobFacts, ident: dict[str, Any]
    ) -> ChargeResult:
        """Run a charge; a job whose identity exists (or turns up concurrently) comes
        back as already charged, with nothing changed.

        The charge does not look for the identity first: the history's unique job
        key refuses a second row, and that unique violation rolls the whole unit
        back. Only then is the existing job read. A unique violation with no such
        job (another table's, from a concurrent writer) runs the charge again."""

        def work(conn: Connection) -> ChargeResult:
            try:
                return fn(conn)
            except IntegrityError as err:
                if is_unique_violation(err) and (facts.job_id or facts.job_uuid):
                    raise accounting.AlreadyCharged from None
                raise

        def existing(conn: Connection) -> ChargeResult | None:
            job = accounting.find_job(conn, ident)
            if job is None:
                return None
            balance = accounting.balance_of(conn, facts.user)
            return ChargeResult(job=job, already_charged=True, balance_after=balance)

        for _attempt in range(5):
            try:
                return self._write(work)
            except accounting.AlreadyCharged:
                pass
            found = self._read(existing)
            if found is not None:
                return found
        raise StorageError("a charge kept conflicting with concurrent writers, gave up")

    def history(self, flt: HistoryFilter = _ALL_JOBS) -> Iterator[JobRecord]:
        if flt.limit is not None and flt.limit < 0:
            raise InvalidInput("history limit must be >= 0")
        if self.backend == "sqlite":
            self._same_file()
        if not self._schema_ok:
            self._check_schema()
        stmt, post = history_select(flt)
        try:
            with self._engine.connect() as conn:
                result = conn.execution_options(yield_per=2000).execute(stmt)
                for row in result:
                    job = rows.job_of(row)
                    if post(job):
                        yield job
        except DBAPIError as err:
            raise translate(err, self.settings, readonly=self.readonly) from None

    # --- allowances -------------------------------------------------------------
    def add_allowance(self, allowance: Allowance) -> Allowance:
        return self._write(lambda c: grants.add(c, allowance))

    def allowances(self) -> list[Allowance]:
        return self._read(grants.listing)

    def delete_allowance(self, allowance_id: int) -> None:
        self._write(lambda c: grants.delete(c, allowance_id))

    def apply_allowance(self, allowance: Allowance, period_key: str, date: datetime) -> bool:
        try:
            self._write(lambda c: grants.apply(c, allowance, period_key, date))
        except grants.AlreadyGranted:
            return False
        return True


def _opening_payments(
    conn: Connection, names: Sequence[str], balance: Decimal, description: str
) -> None:
    """A credit payment of `balance` for each of the new users `names` (their
    starting balance, already in their row), in the caller's transaction."""
    if not balance:
        return
    date = datetime.now(UTC)
    for chunk in pat.in_chunks(list(names)):
        ids = conn.execute(select(users.c.id).where(users.c.username.in_(chunk))).scalars()
        conn.execute(
            insert(payments),
            [
                {
                    "userid": uid,
                    "amount": balance,
                    "kind": PaymentKind.CREDIT.value,
                    "description": description[:255],
                    "date": date,
                }
                for uid in ids
            ],
        )


if TYPE_CHECKING:  # mypy proves that SqlStore implements the Store protocol
    _implements: type[Store] = SqlStore

__all__ = ["SqlStore"]
