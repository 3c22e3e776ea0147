"""What registered pagetally-clients cost the notifier, and how long a question waits.

    .venv/bin/python bench/notifier.py [--clients 1000] [--asks 300] [--idle 5]

The hub runs in its own process (`--serve`, as inside `pagetally serve`: a real
SQLite store, webapi's API tokens, the real token check and status reads), so
that its memory (VmRSS) and CPU time (utime+stime from /proc) are its own. This
process plays the clients (asyncio, one TCP connection each, each with its own
user and token, on 127.0.0.1) and the backends (cups/dialogs.Dialogs, the code
the backend runs), and prints a Markdown table:

- memory: the hub's RSS with no client, then with N registered clients;
- registration: wall time and hub CPU to register N clients (token check each);
- idle: hub CPU over `--idle` seconds with N clients connected and nothing sent;
- notices: one notice to each of the N users (each reaching its user's client),
  hub CPU per notice and wall time until every client has its notice;
- a question answered at once by the client: the time the backend waits
  (Dialogs.ask round trip), p50/p99 over `--asks` questions, with N clients
  registered; and a question for a user with no client (answered by the default
  without waiting).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def serve(db: str, sock: str) -> None:
    """The hub's process: prints its port, runs until stdin closes."""
    from pagetally.service.notifier import Hub, NotifierSettings
    from pagetally.service.notifier_store import status_reader, verifier
    from pagetally.storage import StoreSettings, open_store

    store = open_store(StoreSettings(backend="sqlite", name=db))
    hub = Hub(
        NotifierSettings(("127.0.0.1", 0), sock, max_clients=100_000),
        verifier(store),
        status_reader(store, "EUR"),
    )
    hub.start()
    print(hub.port, flush=True)
    sys.stdin.read()
    hub.stop()


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def make_store(db: Path, n: int) -> dict[str, str]:
    from decimal import Decimal

    from pagetally.core.models import LimitBy, User
    from pagetally.core.tokens import TokenRole
    from pagetally.storage import StoreSettings, open_store
    from tests.sqlite_store import migrated_sqlite

    migrated_sqlite(db)
    store = open_store(StoreSettings(backend="sqlite", name=str(db)))
    names = [f"u{i:05d}" for i in range(n + 1)]
    store.add_users([User(u, limit_by=LimitBy.BALANCE, balance=Decimal(10)) for u in names])
    now = datetime.now(UTC)
    tokens = {u: store.add_api_token(u, TokenRole.USER, now)[1] for u in names}
    store.close()
    return tokens


class Clients:
    def __init__(self) -> None:
        self.notices = 0
        self.all_noticed = asyncio.Event()
        self.expected = 0
        self.writers: list[asyncio.StreamWriter] = []

    async def connect(self, port: int, token: str, answer: bool) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(json.dumps({"op": "hello", "token": token}).encode() + b"\n")
        welcome = json.loads(await reader.readline())
        assert welcome["op"] == "welcome", welcome
        self.writers.append(writer)
        asyncio.get_running_loop().create_task(self._listen(reader, writer, answer))

    async def _listen(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, answer: bool
    ) -> None:
        while line := await reader.readline():
            message = json.loads(line)
            if message["op"] == "notice":
                self.notices += 1
                if self.notices >= self.expected:
                    self.all_noticed.set()
            elif message["op"] == "question" and answer:
                writer.write(
                    json.dumps({"op": "answer", "id": message["id"], "value": "yes"}).encode()
                    + b"\n"
                )


def notify_all(sock: str, users: list[str]) -> None:
    from pagetally.cups.dialogs import Dialogs

    for user in users:
        Dialogs(sock, user, "localhost").notify(
            "printed", "Printed on lab", "1 page(s), 0.10 EUR; balance left 9.90 EUR"
        )


def ask_times(sock: str, user: str, n: int) -> list[float]:
    from pagetally.core.dialogs import Kind, Question
    from pagetally.cups.dialogs import Dialogs

    question = Question(
        Kind.CONFIRM, "'report.pdf' on lab: 3 page(s), 0.30 EUR. Print it?", ("yes", "no"), 30
    )
    times = []
    for _ in range(n):
        dialogs = Dialogs(sock, user, "127.0.0.1")
        started = time.perf_counter()
        value, source = dialogs.ask(question)
        times.append(time.perf_counter() - started)
        assert value == "yes", (value, source)
    return times


async def bench(args: argparse.Namespace) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="ptn-") as tmp:
        db, sock = Path(tmp) / "p.db", str(Path(tmp) / "n.sock")
        tokens = make_store(db, args.clients)
        users = sorted(tokens)[: args.clients]
        hub = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(db), sock],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert hub.stdout is not None
            port = int(hub.stdout.readline())
            await asyncio.sleep(0.5)
            rss0, cpu0 = rss_kib(hub.pid), cpu_s(hub.pid)
            rows.append(("hub RSS, no client", f"{rss0 / 1024:.1f} MiB"))
            clients = Clients()
            started = time.perf_counter()
            for i in range(0, len(users), 50):  # 50 at a time, as logins come
                await asyncio.gather(
                    *(clients.connect(port, tokens[u], answer=True) for u in users[i : i + 50])
                )
            wall = time.perf_counter() - started
            cpu1 = cpu_s(hub.pid)
            await asyncio.sleep(0.5)
            rss1 = rss_kib(hub.pid)
            n = len(users)
            rows.append(
                (
                    f"hub RSS, {n} clients",
                    f"{rss1 / 1024:.1f} MiB (+{(rss1 - rss0) / n:.1f} KiB a client)",
                )
            )
            rows.append(
                (
                    f"registering {n} clients",
                    f"{wall:.2f} s wall, hub CPU {(cpu1 - cpu0) * 1000 / n:.2f} ms a client",
                )
            )
            cpu2 = cpu_s(hub.pid)
            await asyncio.sleep(args.idle)
            rows.append(
                (
                    f"idle, {n} clients",
                    f"hub CPU {(cpu_s(hub.pid) - cpu2) * 1000:.0f} ms over {args.idle:g} s",
                )
            )
            clients.expected = n
            cpu3, started = cpu_s(hub.pid), time.perf_counter()
            await asyncio.get_running_loop().run_in_executor(None, notify_all, sock, users)
            await asyncio.wait_for(clients.all_noticed.wait(), 60)
            wall = time.perf_counter() - started
            cpu4 = cpu_s(hub.pid)
            rows.append(
                (
                    f"a notice to each of {n} users",
                    f"{wall:.2f} s until all "
                    f"{n} clients had theirs; hub CPU {(cpu4 - cpu3) * 1e6 / n:.0f} µs "
                    "a notice",
                )
            )
            times = await asyncio.get_running_loop().run_in_executor(
                None, ask_times, sock, users[0], args.asks
            )
            times.sort()
            p50 = statistics.median(times) * 1000
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))] * 1000
            rows.append(
                (
                    "question answered at once: backend waits",
                    f"p50 {p50:.2f} ms, p99 {p99:.2f} ms ({len(times)} questions)",
                )
            )
            none_user = sorted(tokens)[-1]  # registered no client
            from pagetally.core.dialogs import Kind, Question
            from pagetally.cups.dialogs import Dialogs

            waits = []
            for _ in range(50):
                started = time.perf_counter()
                Dialogs(sock, none_user, "127.0.0.1").ask(Question(Kind.CONFIRM, "?", (), 30))
                waits.append(time.perf_counter() - started)
            rows.append(
                (
                    "question, user without a client (default at once)",
                    f"p50 {statistics.median(waits) * 1000:.2f} ms (50 questions)",
                )
            )
            for writer in clients.writers:
                writer.close()
        finally:
            assert hub.stdin is not None
            hub.stdin.close()
            hub.wait(30)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--asks", type=int, default=300)
    parser.add_argument("--idle", type=float, default=5.0)
    parser.add_argument("--serve", nargs=2, metavar=("DB", "SOCKET"))
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve)
        return
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.clients)), hard))
    rows = asyncio.run(bench(args))
    load = os.getloadavg()[0]
    print(f"\n| notifier, {args.clients} clients (load {load:.2f}) | figure |\n|---|---|")
    for what, figure in rows:
        print(f"| {what} | {figure} |")


if __name__ == "__main__":
    main()
