"""The LDAP store on what only LDAP has: a PyKota directory read and charged as it
is, the site's own posixAccount entries, and a directory that is down.

The PyKota tree is written as PyKota's ldapstorage wrote it (its sample tree, a
user attached to a posixAccount, decimal text for money, "None" for an unset
date, uuid-named quota and job entries) and loaded with ldapadd (ldap-utils).
"""

from __future__ import annotations

import dataclasses
import subprocess
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path

import ldap3
import pytest

from pagetally.core.models import (
    AccountSnapshot,
    Action,
    ChargeRequest,
    Decision,
    JobFacts,
    LimitBy,
    Printer,
    User,
)
from pagetally.errors import StoreUnavailable
from pagetally.storage import HistoryFilter, StoreSettings, open_store
from pagetally.storage.journal import Journal
from tests.ports import free_port
from tests.slapd import SlapdServer, slapd_server  # noqa: F401

pytestmark = [pytest.mark.slow, pytest.mark.ldap]

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def pykota_ldif(base: str) -> str:
    """A directory PyKota 1.26 made: its sample branches and one of everything."""
    return f"""dn: ou=People,{base}
objectClass: organizationalUnit
ou: People

dn: ou=Groups,{base}
objectClass: organizationalUnit
ou: Groups

dn: ou=PyKota,{base}
objectClass: organizationalUnit
ou: PyKota

dn: ou=Printers,ou=PyKota,{base}
objectClass: organizationalUnit
ou: Printers

dn: ou=UQuotas,ou=PyKota,{base}
objectClass: organizationalUnit
ou: UQuotas

dn: ou=GQuotas,ou=PyKota,{base}
objectClass: organizationalUnit
ou: GQuotas

dn: ou=Jobs,ou=PyKota,{base}
objectClass: organizationalUnit
ou: Jobs

dn: ou=LastJobs,ou=PyKota,{base}
objectClass: organizationalUnit
ou: LastJobs

dn: ou=BillingCodes,ou=PyKota,{base}
objectClass: organizationalUnit
ou: BillingCodes

dn: uid=jdoe,ou=People,{base}
objectClass: inetOrgPerson
objectClass: posixAccount
objectClass: pykotaAccount
objectClass: pykotaAccountBalance
uid: jdoe
cn: John Doe
sn: Doe
uidNumber: 1000
gidNumber: 100
homeDirectory: /home/jdoe
mail: jdoe@example.com
pykotaUserName: jdoe
pykotaLimitBy: balance
description: attached by newuser
pykotaBalance: 12.5
pykotaLifeTimePaid: 20.0
pykotaOverCharge: 1.0
pykotaPayments: 2026-01-02 03:04:05.00 # 20.0 # Y2FzaA==

dn: cn=staff,ou=Groups,{base}
objectClass: posixGroup
objectClass: pykotaGroup
cn: staff
gidNumber: 100
memberUid: jdoe
pykotaGroupName: staff
pykotaLimitBy: quota

dn: cn=lp1,ou=Printers,ou=PyKota,{base}
objectClass: pykotaObject
objectClass: pykotaPrinter
cn: lp1
pykotaPrinterName: lp1
pykotaPassThrough: f
pykotaPricePerPage: 0.05
pykotaPricePerJob: 0.1
description: ground floor

dn: cn=floor,ou=Printers,ou=PyKota,{base}
objectClass: pykotaObject
objectClass: pykotaPrinter
cn: floor
pykotaPrinterName: floor
pykotaPassThrough: f
pykotaPricePerPage: 0.0
pykotaPricePerJob: 0.0
uniqueMember: cn=lp1,ou=Printers,ou=PyKota,{base}

dn: cn=3e2b4c1a-0f1e-4a7b-9b8e-2f6d5c4b3a21,ou=UQuotas,ou=PyKota,{base}
objectClass: pykotaObject
objectClass: pykotaUserPQuota
cn: 3e2b4c1a-0f1e-4a7b-9b8e-2f6d5c4b3a21
pykotaUserName: jdoe
pykotaPrinterName: lp1
pykotaPageCounter: 7
pykotaLifePageCounter: 70
pykotaSoftLimit: 50
pykotaHardLimit: 60
pykotaDateLimit: None
pykotaWarnCount: 0

dn: cn=5a6b7c8d-1111-4222-8333-944455556666,ou=UQuotas,ou=PyKota,{base}
objectClass: pykotaObject
objectClass: pykotaUserPQuota
cn: 5a6b7c8d-1111-4222-8333-944455556666
pykotaUserName: jdoe
pykotaPrinterName: floor
pykotaPageCounter: 7
pykotaLifePageCounter: 70
pykotaSoftLimit: None
pykotaHardLimit: None
pykotaDateLimit: None
pykotaWarnCount: 0

dn: cn=0b1c2d3e-2222-4333-8444-a55566667777,ou=GQuotas,ou=PyKota,{base}
objectClass: pykotaObject
objectClass: pykotaGroupPQuota
cn: 0b1c2d3e-2222-4333-8444-a55566667777
pykotaGroupName: staff
pykotaPrinterName: lp1
pykotaSoftLimit: 500
pykotaHardLimit: 600
pykotaDateLimit: None

dn: cn=9f8e7d6c-3333-4444-8555-b66677778888,ou=Jobs,ou=PyKota,{base}
objectClass: pykotaObject
objectClass: pykotaJob
cn: 9f8e7d6c-3333-4444-8555-b66677778888
pykotaUserName: jdoe
pykotaPrinterName: lp1
pykotaJobId: 41
pykotaPrinterPageCounter: 1234
pykotaAction: ALLOW
pykotaJobSize: 7
pykotaJobPrice: 0.45
pykotaFileName: report.pdf
pykotaTitle: Quarterly report
pykotaCopies: 1
pykotaOptions: None
pykotaHostName: pc1.example.com
pykotaJobSizeBytes: 51234
pykotaBillingCode: PRJ-7

dn: cn=1a57e0b0-5555-4666-8777-d88899990000,ou=LastJobs,ou=PyKota,{base}
objectClass: pykotaObject
objectClass: pykotaLastJob
cn: 1a57e0b0-5555-4666-8777-d88899990000
pykotaPrinterName: lp1
pykotaLastJobIdent: 9f8e7d6c-3333-4444-8555-b66677778888

dn: cn=c0de0000-4444-4555-8666-c77788889999,ou=BillingCodes,ou=PyKota,{base}
objectClass: pykotaObject
objectClass: pykotaBilling
cn: c0de0000-4444-4555-8666-c77788889999
pykotaBillingCode: PRJ-7
pykotaPageCounter: 7
pykotaBalance: 99.55
description: project seven
"""


def _ldapadd(server: SlapdServer, settings: StoreSettings, ldif: str, tmp_path: Path) -> None:
    path = tmp_path / "pykota.ldif"
    path.write_text(ldif)
    subprocess.run(
        ["ldapadd", "-x", "-H", server.uri, "-D", str(settings.admin_user),
         "-w", str(settings.admin_password), "-f", str(path)],
        check=True, capture_output=True,
    )  # fmt: skip


def _allow(snap: AccountSnapshot) -> Decision:
    assert snap.user is not None and snap.printer is not None
    return Decision(Action.ALLOW, price=D("0.25"), pages=3)


def test_a_pykota_directory_is_read_and_charged_as_it_is(
    slapd_server: SlapdServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    settings = slapd_server.new_directory("pk")
    _ldapadd(slapd_server, settings, pykota_ldif(settings.name), tmp_path)
    store = open_store(settings)
    try:
        user = store.get_user("jdoe")
        assert (user.balance, user.lifetime_paid, user.limit_by) == (
            D("12.5"), D("20"), LimitBy.BALANCE
        )  # fmt: skip
        assert user.email == "jdoe@example.com"
        assert [g.name for g in store.groups_of("jdoe")] == ["staff"]
        lp1 = store.get_printer("lp1")
        assert (lp1.prices.per_page, lp1.prices.per_job, lp1.description) == (
            D("0.05"), D("0.1"), "ground floor"
        )  # fmt: skip
        assert [p.name for p in store.printer_chain("lp1")] == ["lp1", "floor"]
        q = store.get_user_quota("jdoe", "lp1")
        assert (q.page_counter, q.life_page_counter, q.soft_limit, q.hard_limit) == (7, 70, 50, 60)
        assert q.date_limit is None
        assert store.get_group_quota("staff", "lp1").page_counter == 7  # members' sum
        (job,) = store.history(HistoryFilter(user="jdoe"))
        assert (job.job_id, job.pages, job.price, job.action) == ("41", 7, D("0.45"), Action.ALLOW)
        assert (job.title, job.host, job.billing_code) == (
            "Quarterly report", "pc1.example.com", "PRJ-7"
        )  # fmt: skip
        assert job.date.tzinfo is not None  # PyKota's job date: the entry's createTimestamp
        assert store.get_billing_code("PRJ-7").balance == D("99.55")
        assert [(p.amount, p.description) for p in store.payments("jdoe")] == [(D("20"), "cash")]

        facts = JobFacts(user="jdoe", printer="lp1", pages=3, job_id="42", job_uuid="urn:uuid:42",
                         host="pc1.example.com", billing_code="PRJ-7")  # fmt: skip
        result = store.decide_and_charge(facts, _allow, T0)
        assert result.balance_after == D("12.25")
        again = store.decide_and_charge(facts, _allow, T0)
        assert again.already_charged and again.balance_after == D("12.25")
    finally:
        store.close()

    # PyKota's own entries changed in place, in PyKota's notation: PyKota reads them
    conn = ldap3.Connection(
        ldap3.Server("127.0.0.1", port=slapd_server.port),
        settings.admin_user, settings.admin_password, auto_bind=True,
    )  # fmt: skip
    conn.search(f"uid=jdoe,ou=People,{settings.name}", "(objectClass=*)", ldap3.BASE,
                attributes=["pykotaBalance", "objectClass", "uidNumber"])  # fmt: skip
    entry = conn.entries[0]
    assert entry.pykotaBalance.value == "12.250000"
    assert {"posixAccount", "pykotaAccount", "pykotaAccountBalance"} <= set(
        entry.objectClass.values
    )
    assert entry.uidNumber.value == 1000
    conn.search(
        f"ou=UQuotas,ou=PyKota,{settings.name}",
        "(pykotaUserName=jdoe)",
        attributes=["pykotaPrinterName", "pykotaPageCounter", "pykotaLifePageCounter"],
    )
    counters = {
        e.pykotaPrinterName.value: (e.pykotaPageCounter.value, e.pykotaLifePageCounter.value)
        for e in conn.entries
    }
    assert counters == {"lp1": (10, 73), "floor": (10, 73)}
    conn.search(
        f"ou=BillingCodes,ou=PyKota,{settings.name}",
        "(pykotaBillingCode=PRJ-7)",
        attributes=["pykotaPageCounter", "pykotaBalance"],
    )
    assert (conn.entries[0].pykotaPageCounter.value, conn.entries[0].pykotaBalance.value) == (
        10, "99.300000"
    )  # fmt: skip
    conn.search(
        f"ou=Jobs,ou=PyKota,{settings.name}",
        "(pykotaJobId=42)",
        attributes=["objectClass", "pykotaAction", "pykotaJobPrice", "pagetallyState"],
    )
    (new,) = conn.entries
    assert "pykotaJob" in new.objectClass.values
    assert (new.pykotaAction.value, new.pykotaJobPrice.value) == ("ALLOW", "0.250000")
    assert new.pagetallyState.value == "done"
    # PyKota's last job of lp1 (its own entry, kept) is job 42 now, found as PyKota finds it
    assert _pykota_last_job(conn, settings.name, "lp1") == (
        "1a57e0b0-5555-4666-8777-d88899990000",
        "42",
        "jdoe",
    )
    conn.unbind()


def _pykota_last_job(conn: ldap3.Connection, base: str, printer: str) -> tuple[str, str, str]:
    """(last-job entry's cn, job id, user) read as PyKota's getPrinterLastJobFromBackend
    reads them: the pykotaLastJob entry by printer name, then the job it names."""
    conn.search(
        f"ou=LastJobs,ou=PyKota,{base}",
        f"(&(objectClass=pykotaLastjob)(|(pykotaPrinterName={printer})(cn={printer})))",
        attributes=["cn", "pykotaLastJobIdent"],
    )
    (last,) = conn.entries
    conn.search(
        f"cn={last.pykotaLastJobIdent.value},ou=Jobs,ou=PyKota,{base}",
        "(objectClass=pykotaJob)",
        ldap3.BASE,
        attributes=["pykotaJobId", "pykotaUserName"],
    )
    (job,) = conn.entries
    return last.cn.value, job.pykotaJobId.value, job.pykotaUserName.value


def test_each_job_becomes_its_printers_last_job_as_pykota_keeps_it(
    slapd_server: SlapdServer,  # noqa: F811
) -> None:
    """A printer without a last-job entry gets one (cn=<printer>) at its first
    job; every later job, refused ones too (PyKota's writeJobNew), replaces
    the job it names."""
    settings = slapd_server.new_directory("lj")
    store = open_store(settings)
    store.upgrade()
    try:
        store.add_user(User("ann", limit_by=LimitBy.BALANCE, balance=D("1")))
        store.add_printer(Printer("lp9"))

        def job(n: int) -> JobFacts:
            return JobFacts(
                user="ann",
                printer="lp9",
                pages=3,
                job_id=str(n),
                job_uuid=f"urn:uuid:{n}",
                host="pc1",
            )

        store.decide_and_charge(job(1), _allow, T0)
        conn = ldap3.Connection(
            ldap3.Server("127.0.0.1", port=slapd_server.port),
            settings.admin_user,
            settings.admin_password,
            auto_bind=True,
        )
        assert _pykota_last_job(conn, settings.name, "lp9") == ("lp9", "1", "ann")
        store.decide_and_charge(job(2), _allow, T0)
        assert _pykota_last_job(conn, settings.name, "lp9") == ("lp9", "2", "ann")
        refused = store.decide_and_charge(job(3), lambda s: Decision(Action.DENY, reason="no"), T0)
        assert refused.job.action is Action.DENY
        assert _pykota_last_job(conn, settings.name, "lp9") == ("lp9", "3", "ann")
        conn.unbind()
    finally:
        store.close()


def test_users_attach_to_the_sites_posix_accounts(
    slapd_server: SlapdServer,  # noqa: F811
) -> None:
    plain = slapd_server.new_directory("px")
    settings = dataclasses.replace(plain, ldap=(("newuser", "attach(posixAccount)"),))
    store = open_store(settings)
    try:
        store.upgrade()
        conn = ldap3.Connection(
            ldap3.Server("127.0.0.1", port=slapd_server.port),
            settings.admin_user, settings.admin_password, auto_bind=True,
        )  # fmt: skip
        dn = f"uid=ann,ou=People,{settings.name}"
        assert conn.add(dn, ["inetOrgPerson", "posixAccount"], {
            "uid": "ann", "cn": "Ann", "sn": "A", "uidNumber": 1001, "gidNumber": 100,
            "homeDirectory": "/home/ann"})  # fmt: skip
        store.add_user(User("ann", balance=D("3")))
        assert store.get_user("ann").balance == D("3")
        with pytest.raises(Exception, match="no posixAccount entry with uid=bob"):
            store.add_user(User("bob"))
        conn.search(dn, "(objectClass=*)", ldap3.BASE, attributes=["objectClass", "uidNumber"])
        assert "pykotaAccount" in conn.entries[0].objectClass.values
        assert conn.entries[0].uidNumber.value == 1001
        conn.unbind()
    finally:
        store.close()


def test_a_directory_that_is_down_is_unavailable_and_the_journal_keeps_the_charge(
    slapd_server: SlapdServer,  # noqa: F811
    tmp_path: Path,
) -> None:
    settings = slapd_server.new_directory("dn")
    up = open_store(settings)
    up.upgrade()
    up.add_user(User("alice", balance=D("5")))
    down = open_store(dataclasses.replace(settings, server=f"ldap://127.0.0.1:{free_port()}"))
    request = ChargeRequest(
        facts=JobFacts(user="alice", printer="lab", pages=2, job_id="7",
                       job_uuid="urn:uuid:7", host="pc1"),
        decision=Decision(Action.ALLOW, "allowed while the store was down", D("0.20"), 2),
        date=T0,
    )  # fmt: skip
    with pytest.raises(StoreUnavailable, match="LDAP directory cannot be reached"):
        down.charge(request)
    journal = Journal(tmp_path / "journal")
    journal.write(request)  # what the backend does with `onstoreerror` allowing the job
    assert journal.replay(down).remaining == 1

    first = journal.replay(up)
    assert (first.charged, first.remaining) == (1, 0)
    journal.write(request)  # a second copy of the same charge: charged once
    assert journal.replay(up).already_charged == 1
    assert up.get_user("alice").balance == D("4.80")
    assert [j.job_id for j in up.history()] == ["7"]
    up.close()
    down.close()


def test_a_charge_whose_writer_died_after_the_commit_is_finished_once(
    slapd_server: SlapdServer,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The writer dies between the commit (balance taken, mark set) and the counters:
    the next charge of that user finishes the dead one's effects, exactly once."""
    from pagetally.core.models import BillingCode, PriceTable, Printer
    from pagetally.storage import ldap_charge

    settings = slapd_server.new_directory("cr")
    store = open_store(settings)
    store.upgrade()
    store.add_user(User("carl", limit_by=LimitBy.BALANCE, balance=D("10")))
    store.add_printer(Printer("lp1", prices=PriceTable(per_page=D("0.25"))))
    store.set_user_quota("carl", "lp1")
    store.add_billing_code(BillingCode("PRJ", balance=D("100")))

    def job(n: int) -> JobFacts:
        return JobFacts(user="carl", printer="lp1", pages=3, job_id=str(n),
                        job_uuid=f"urn:uuid:{n}", host="pc1", billing_code="PRJ")  # fmt: skip

    class Died(Exception):
        pass

    def die(self: object, effects: object, mark: str) -> None:
        raise Died

    with monkeypatch.context() as m:
        m.setattr(ldap_charge.Charger, "_apply_all", die)
        with pytest.raises(Died):
            store.decide_and_charge(job(1), _allow, T0)
    assert store.get_user("carl").balance == D("9.75")  # committed
    assert store.get_user_quota("carl", "lp1").page_counter == 0  # not counted yet
    assert list(store.history()) == []  # pending: not a job yet

    monkeypatch.setattr(ldap_charge, "STALE_SECONDS", 0.0)  # the dead writer's mark is old
    store.decide_and_charge(job(2), _allow, T0)
    store.decide_and_charge(job(2), _allow, T0)  # and a repeat changes nothing
    assert store.get_user("carl").balance == D("9.50")
    assert store.get_user_quota("carl", "lp1").page_counter == 6
    code = store.get_billing_code("PRJ")
    assert (code.page_counter, code.balance) == (6, D("99.50"))
    assert sorted(j.job_id for j in store.history()) == ["1", "2"]
    store.close()


def test_invoice_numbers_never_repeat_with_concurrent_issuers(
    slapd_server: SlapdServer,  # noqa: F811
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    settings = slapd_server.new_directory("inv")
    with open_store(settings) as store:
        store.upgrade()
        assert store.last_invoice_number() == 0

    def issue(worker: int) -> list[int]:
        got: list[int] = []
        with open_store(settings) as st:
            for _ in range(5):
                got += st.issue_numbers("invoice", [(f"u{worker}", D("1"))] * 2, T0)
        return got

    with ThreadPoolExecutor(4) as pool:
        numbers = [n for got in pool.map(issue, range(4)) for n in got]
    assert sorted(numbers) == list(range(1, 41))
    with open_store(settings) as store:
        assert store.last_invoice_number() == 40
        with pytest.raises(Exception, match="invoice number 40 is not free"):
            store.issue_numbers("invoice", [("x", D(1))], T0, first=40)
        assert store.issue_numbers("receipt", [("x", D(1))], T0, first=45) == [45]
        assert store.last_invoice_number() == 45


def test_the_backends_time_is_kept_on_each_job_entry(
    slapd_server: SlapdServer,  # noqa: F811
) -> None:
    """jobhistory.backendms's counterpart: in the job entry's pagetallyData JSON
    (PyKota's schema unchanged), for a charge and for a refusal."""
    import json

    from pagetally.core.models import PriceTable

    settings = slapd_server.new_directory("bt")
    store = open_store(settings)
    store.upgrade()
    store.add_user(User("dora", limit_by=LimitBy.BALANCE, balance=D("10")))
    store.add_printer(Printer("lp1", prices=PriceTable(per_page=D("0.25"))))
    store.set_user_quota("dora", "lp1")
    for n, decision in ((1, Decision(Action.ALLOW, price=D("0.50"), pages=2)),
                        (2, Decision(Action.DENY, reason="no")),
                        (3, Decision(Action.ALLOW, price=D("0.50"), pages=2))):  # fmt: skip
        facts = JobFacts(user="dora", printer="lp1", pages=2, job_id=str(n), job_uuid=f"u{n}")
        ms = None if n == 3 else 40 * n
        store.charge(ChargeRequest(facts, decision, T0, backend_ms=ms))
    conn = ldap3.Connection(
        ldap3.Server(slapd_server.uri), settings.user, settings.password, auto_bind=True
    )
    conn.search(
        settings.name, "(objectClass=pykotaJob)", attributes=["pykotaJobId", "pagetallyData"]
    )
    kept = {
        str(e["attributes"]["pykotaJobId"]): json.loads(e["attributes"]["pagetallyData"] or "{}")
        for e in conn.response
    }
    conn.unbind()
    assert {n: d.get("backendms") for n, d in kept.items()} == {"1": 40, "2": 80, "3": None}
    assert kept["1"]["uuid"] == "u1"  # beside what the charge keeps there
    assert [j.action for j in store.history()] == [Action.ALLOW, Action.DENY, Action.ALLOW]
    store.close()
