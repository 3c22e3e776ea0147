"""A PyKota store for tests: PyKota's schema and generated data, on any engine.

The DDL is ours, written from the facts of PyKota 1.27's initscripts
(joselitosn/pykota: initscripts/{postgresql,mysql,sqlite}/pykota-*.sql, read with
the search tool): the same tables, columns and column types per engine (money as
FLOAT: double on PostgreSQL and SQLite, single precision on MySQL; dates as
TIMESTAMP, or TEXT for SQLite's datelimit; passthrough BOOLEAN, ENUM('t','f') on
MySQL). The data is generated, seeded, with floats as PyKota computed them
(0.1 + 0.2, pages x 0.05, ...).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, text

_TYPES = {
    "sqlite": {
        "ID": "INTEGER PRIMARY KEY NOT NULL",
        "FLOAT": "FLOAT",
        "TS": "TIMESTAMP",
        "DL": "TEXT",
        "BOOL": "BOOLEAN DEFAULT FALSE",
        "T": "TEXT",
        "N": "TEXT",
        "END": "",
    },
    "postgresql": {
        "ID": "SERIAL PRIMARY KEY NOT NULL",
        "FLOAT": "FLOAT",
        "TS": "TIMESTAMP",
        "DL": "TIMESTAMP",
        "BOOL": "BOOLEAN DEFAULT FALSE",
        "T": "TEXT",
        "N": "TEXT",
        "END": "",
    },
    "mysql": {
        "ID": "INT4 PRIMARY KEY NOT NULL AUTO_INCREMENT",
        "FLOAT": "FLOAT",
        "TS": "TIMESTAMP NULL",
        "DL": "TIMESTAMP NULL",
        "BOOL": "ENUM('t','f') DEFAULT 'f'",
        "T": "TEXT",
        "N": "VARCHAR(255)",
        "END": " ENGINE=InnoDB",
    },
}

_DDL = """
CREATE TABLE users (id {ID}, username {N} UNIQUE NOT NULL, email {T},
  balance {FLOAT} DEFAULT 0.0, lifetimepaid {FLOAT} DEFAULT 0.0,
  limitby VARCHAR(30) DEFAULT 'quota', description {T},
  overcharge {FLOAT} NOT NULL DEFAULT 1.0){END};
CREATE TABLE `groups` (id {ID}, groupname {N} UNIQUE NOT NULL, description {T},
  limitby VARCHAR(30) DEFAULT 'quota'){END};
CREATE TABLE printers (id {ID}, printername {N} UNIQUE NOT NULL, description {T},
  priceperpage {FLOAT} DEFAULT 0.0, priceperjob {FLOAT} DEFAULT 0.0,
  passthrough {BOOL}, maxjobsize INT4){END};
CREATE TABLE userpquota (id {ID}, userid INT4, printerid INT4,
  lifepagecounter INT4 DEFAULT 0, pagecounter INT4 DEFAULT 0, softlimit INT4,
  hardlimit INT4, datelimit {DL}, maxjobsize INT4, warncount INT4 DEFAULT 0){END};
CREATE UNIQUE INDEX userpquota_up_id_ix ON userpquota (userid, printerid);
CREATE TABLE jobhistory (id {ID}, jobid {T}, userid INT4, printerid INT4,
  pagecounter INT4 DEFAULT 0, jobsizebytes INT8, jobsize INT4, jobprice {FLOAT},
  action {T}, filename {T}, title {T}, copies INT4, options {T}, hostname {N},
  md5sum {T}, pages {T}, billingcode {T}, precomputedjobsize INT4,
  precomputedjobprice {FLOAT}, jobdate {TS}){END};
CREATE INDEX jobhistory_u_id_ix ON jobhistory (userid);
CREATE INDEX jobhistory_pd_id_ix ON jobhistory (printerid, jobdate);
CREATE TABLE grouppquota (id {ID}, groupid INT4, printerid INT4, softlimit INT4,
  hardlimit INT4, maxjobsize INT4, datelimit {DL}){END};
CREATE TABLE groupsmembers (groupid INT4, userid INT4, PRIMARY KEY (groupid, userid)){END};
CREATE TABLE printergroupsmembers (groupid INT4, printerid INT4,
  PRIMARY KEY (groupid, printerid)){END};
CREATE TABLE payments (id {ID}, userid INT4, amount {FLOAT}, description {T},
  date {TS}){END};
CREATE TABLE coefficients (id {ID}, printerid INT4 NOT NULL, label {N} NOT NULL,
  coefficient {FLOAT} DEFAULT 1.0){END};
CREATE TABLE billingcodes (id {ID}, billingcode {N} UNIQUE NOT NULL, description {T},
  balance {FLOAT} DEFAULT 0.0, pagecounter INT4 DEFAULT 0){END};
"""

START = datetime(2019, 9, 1, 8, 0, 0)  # naive, as PyKota stored dates


def create_schema(engine: Engine) -> None:
    name = engine.dialect.name
    ddl = _DDL.format(**_TYPES["mysql" if name in ("mysql", "mariadb") else name])
    if name != "mysql":
        ddl = ddl.replace("`groups`", "groups")
    with engine.begin() as conn:
        for stmt in ddl.split(";"):
            if stmt.strip():
                conn.execute(text(stmt))


@dataclass
class Filled:
    """What was put in: the figures an import must reproduce."""

    users: int
    jobs: int
    pages: int
    payments: int
    balance: Decimal  # sums of the shortest decimals of the floats written
    job_prices: Decimal
    job_prices_kept: Decimal  # each rounded to 6 places, as the store keeps them


def _d(value: float) -> Decimal:
    return Decimal(repr(value))


def fill(
    engine: Engine, *, jobs: int = 10_000, users: int = 40, seed: int = 11, chunk: int = 20_000
) -> Filled:
    """Generated PyKota data; `jobs` history rows."""
    rnd = random.Random(seed)
    name = engine.dialect.name
    mysql = name in ("mysql", "mariadb")

    def when(d: datetime) -> Any:
        return d.strftime("%Y-%m-%d %H:%M:%S") if name == "sqlite" else d

    def flag(b: bool) -> Any:
        return ("t" if b else "f") if mysql else b

    odd = [0.1 + 0.2, 1 / 3, 10.0000005, 1e-7, -0.7 - 0.1]  # 0.30000000000000004, ...
    u_rows = []
    for i in range(1, users + 1):
        bal = odd[i - 1] if i <= len(odd) else round(rnd.uniform(-5, 50), 2)
        u_rows.append(
            {
                "id": i,
                "username": f"user{i:03d}" if i != 7 else "Émile",
                "email": f"u{i}@example.org" if i % 3 else None,
                "balance": bal,
                "lifetimepaid": round(rnd.uniform(0, 100), 2),
                "limitby": ["quota", "balance", "noquota", "nochange", "noprint"][i % 5],
                "description": f"user {i}",
                "overcharge": 1.0 if i % 4 else 1.5,
            }
        )
    g_rows = [
        {
            "id": g,
            "groupname": f"group{g}",
            "description": None,
            "limitby": "quota" if g % 2 else "balance",
        }
        for g in range(1, 6)
    ]
    gm = sorted({(rnd.randint(1, 5), rnd.randint(1, users)) for _ in range(users * 2)})
    p_rows = [
        {
            "id": p,
            "printername": f"lp{p}",
            "description": f"printer {p}",
            "priceperpage": [0.05, 0.1, 0.0125, 0.0, 0.07][p - 1],
            "priceperjob": 0.01 * p,
            "passthrough": flag(p == 4),
            "maxjobsize": 100 if p == 2 else None,
        }
        for p in range(1, 6)
    ]
    p_rows += [
        {
            "id": 6,
            "printername": "floor1",
            "description": "group",
            "priceperpage": 0.0,
            "priceperjob": 0.0,
            "passthrough": flag(False),
            "maxjobsize": None,
        }
    ]
    pgm = [{"groupid": 6, "printerid": 1}, {"groupid": 6, "printerid": 2}]
    coeffs = [{"id": 1, "printerid": 1, "label": "a3", "coefficient": 2.0}]
    uq = []
    for u in range(1, users + 1):
        for p in (1, 2, 3):
            pc = rnd.randint(0, 400)
            uq.append(
                {
                    "id": len(uq) + 1,
                    "userid": u,
                    "printerid": p,
                    "pagecounter": pc,
                    "lifepagecounter": pc + rnd.randint(0, 5000),
                    "softlimit": 200 if u % 2 else None,
                    "hardlimit": 300 if u % 2 else None,
                    "datelimit": when(START + timedelta(days=u)) if pc > 200 else None,
                    "maxjobsize": None,
                    "warncount": u % 3,
                }
            )
    gq = [
        {
            "id": g,
            "groupid": g,
            "printerid": 1,
            "softlimit": 1000,
            "hardlimit": 1200,
            "maxjobsize": None,
            "datelimit": when(START) if g == 1 else None,
        }
        for g in range(1, 6)
    ]
    codes = [
        {
            "id": b,
            "billingcode": f"proj{b}",
            "description": "project",
            "balance": 0.1 * b + 0.2,
            "pagecounter": 10 * b,
        }
        for b in range(1, 4)
    ]
    pay = []
    for k in range(1, 301):
        amount = rnd.choice([10.0, 5.5, 0.1 + 0.2, 20.0, -2.5])
        pay.append(
            {
                "id": k,
                "userid": rnd.randint(1, users),
                "amount": amount,
                "description": "cash" if k % 2 else "",
                "date": when(START + timedelta(hours=k)),
            }
        )
    pay.append(dict(pay[0], id=301))  # the same payment twice: both stay
    with engine.begin() as conn:

        def put(tbl: str, rows: list[dict[str, Any]]) -> None:
            if not rows:
                return
            cols = list(rows[0])
            q = "`groups`" if tbl == "groups" and mysql else tbl
            conn.execute(
                text(
                    f"INSERT INTO {q} ({', '.join(cols)}) VALUES "
                    f"({', '.join(':' + c for c in cols)})"
                ),
                rows,
            )

        put("users", u_rows)
        put("groups", g_rows)
        put("groupsmembers", [{"groupid": g, "userid": u} for g, u in gm])
        put("printers", p_rows)
        put("printergroupsmembers", pgm)
        put("coefficients", coeffs)
        put("userpquota", uq)
        put("grouppquota", gq)
        put("billingcodes", codes)
        put("payments", pay)
    pages = 0
    price_sum = Decimal(0)
    kept_sum = Decimal(0)
    actions = ["ALLOW"] * 8 + ["WARN", "DENY", "CANCEL", "PROBLEM", "REFUND"]
    batch: list[dict[str, Any]] = []
    for j in range(1, jobs + 1):
        p = rnd.randint(1, 5)
        size = rnd.randint(0, 40)
        price = size * [0.05, 0.1, 0.0125, 0.0, 0.07][p - 1] + 0.01 * p
        pages += size
        price_sum += _d(price)
        kept_sum += _d(price).quantize(Decimal("0.000001"))
        batch.append(
            {
                "id": j,
                "jobid": str(1000 + j % 5000),
                "userid": rnd.randint(1, users),
                "printerid": p,
                "pagecounter": j * 3,
                "jobsizebytes": rnd.randint(1000, 10**7),
                "jobsize": size,
                "jobprice": price,
                "action": rnd.choice(actions),
                "filename": f"/home/u/doc{j}.pdf",
                "copies": 1 + j % 3,
                "title": ("Relevé n°" + str(j)) if j % 97 else "x" * 300,
                "options": "sides=two-sided-long-edge" if j % 2 else "",
                "hostname": f"ws{j % 17}.example.org" if j % 11 else None,
                "md5sum": "d41d8cd98f00b204e9800998ecf8427e",
                "pages": None,
                "billingcode": f"proj{1 + j % 3}" if j % 7 == 0 else None,
                "precomputedjobsize": size,
                "precomputedjobprice": price if j % 5 else None,
                "jobdate": when(START + timedelta(minutes=j)),
            }
        )
        if len(batch) >= chunk:
            _jobs(engine, batch)
            batch = []
    if batch:
        _jobs(engine, batch)
    return Filled(
        users=users,
        jobs=jobs,
        pages=pages,
        payments=len(pay),
        balance=sum((_d(r["balance"]) for r in u_rows), Decimal(0)),
        job_prices=price_sum,
        job_prices_kept=kept_sum,
    )


def _jobs(engine: Engine, rows: list[dict[str, Any]]) -> None:
    cols = list(rows[0])
    with engine.begin() as conn:
        conn.execute(
            text(
                f"INSERT INTO jobhistory ({', '.join(cols)}) VALUES "
                f"({', '.join(':' + c for c in cols)})"
            ),
            rows,
        )
