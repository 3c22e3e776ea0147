"""What the PageTally backend adds to a print job, with and without `pagetally serve`.

    .venv/bin/python bench/backend.py [--jobs 500] [--budget 90] [--pages 10]
        [--no-postgresql] [--cups-jobs 40] [--no-cups] [--paths direct,service,thin]
        [--baseline DIR] [--no-channels]

Per-job cost: CUPS would run the device's backend itself; with PageTally it runs
the wrapper, which runs that backend. A trivial real backend (a shell script that
reads the job from standard input) is run alone and through the wrapper, in
turns, as separate processes exactly as cupsd starts them (with fds 3 and 4 open,
the back and side channels, unless `--no-channels`); the time added is the
difference of each pair. p50 and p99 over `--jobs` pairs (fewer when a scenario's
`--budget` seconds run out), for SQLite and PostgreSQL, on three paths:

- direct: the backend (`pagetally.cups.backend`) opens the store itself;
- service: the same backend, its store calls answered by `pagetally serve`;
- thin: the thin backend (`pagetally.service.thin`) hands the whole job to the
  service's job runner, one of whose warm children runs it.

`--baseline DIR` runs each path first with the `pagetally` package found in DIR
(another checkout of the same schema, e.g. `git archive OLD pagetally | tar -x -C
DIR`), then with this one, in the same run: before/after figures that saw the
same machine. Each row ends with the load average when it finished.

`cpu` is the CPU time added per job (wrapper minus the backend alone, plus the
service's and its job runner's CPU shared out over the jobs): less noisy than
wall time on a busy machine. Every job is a `--pages`-page PDF in software mode,
charged to a user with a balance.

Throughput: `--cups-jobs` jobs submitted with `lp` to a private cupsd with 4
queues (one ippeveprinter each), all at once; jobs per minute until the last
completes, on each path.

The machine is shared, so expect noise, above all in p99. Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import itertools
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pagetally.core.models import LimitBy, PriceTable, Printer, User  # noqa: E402
from pagetally.service.thin import backend_script  # noqa: E402
from pagetally.storage import open_store  # noqa: E402
from pagetally.storage.base import StoreSettings  # noqa: E402

if TYPE_CHECKING:
    from tests.cups.cupsd import Cupsd

TESTPAGE = Path("/usr/share/cups/data/default-testpage.pdf")
DEVICE = "#!/bin/sh\ncat > /dev/null\n"
WRAPPER = "#!{python}\n{path}from pagetally.cups.backend import main\nmain({config!r})\n"
PATHS = ("direct", "service", "thin")
INSTANT = "#!/bin/sh\nexit 0\n"  # ippeveprinter's print command
PYTHON = sys.executable


@dataclass
class Site:
    """A config, a store with one printer and one user, a trivial real backend."""

    dir: Path
    config: Path
    settings: StoreSettings
    device: Path
    wrapper: Path
    thin: Path
    socket: Path
    tree: Path | None = None  # another checkout's pagetally (--baseline), else this one

    def environ(self) -> dict[str, str]:
        return {
            "DEVICE_URI": "pagetally:socket://127.0.0.1:9100",
            "PRINTER": "lab",
            "CUPS_SERVERBIN": str(self.dir / "serverbin"),
            "TMPDIR": str(self.dir / "tmp"),
            "PATH": "/usr/bin:/bin",
            "LANG": "C",
        }


def make_pdf(pages: int, out: Path) -> Path:
    subprocess.run(
        ["qpdf", "--empty", "--pages", *[str(TESTPAGE)] * pages, "--", str(out)], check=True
    )
    return out


def wrapper_script(config: Path, tree: Path | None) -> str:
    """The full backend as an installed script, from `tree` when given."""
    path = f"import sys\nsys.path.insert(0, {str(tree)!r})\n" if tree else ""
    return WRAPPER.format(python=PYTHON, path=path, config=str(config))


def make_site(base: Path, settings: StoreSettings, tree: Path | None = None) -> Site:
    base.mkdir(mode=0o700, parents=True)
    (base / "tmp").mkdir()
    serverbin = base / "serverbin" / "backend"
    serverbin.mkdir(parents=True)
    device = serverbin / "socket"
    device.write_text(DEVICE)
    device.chmod(0o700)
    config = base / "pagetally.conf"
    lines = [
        "[global]",
        f"storagebackend: {settings.backend}",
        f"storagename: {settings.name}",
        f"directory: {base / 'spool'}",
        "logger: stderr",
    ]
    if settings.server:
        lines += [
            f"storageserver: {settings.server}",
            f"storageuser: {settings.user}",
            f"storageuserpw: {settings.password}",
        ]
        admin = base / "pagetally-admin.conf"
        admin.write_text(
            f"[global]\nstorageadmin: {settings.admin_user}\n"
            f"storageadminpw: {settings.admin_password}\n"
        )
        admin.chmod(0o600)
    config.write_text("\n".join(lines) + "\n")
    wrapper = base / "pagetally"
    wrapper.write_text(wrapper_script(config, tree))
    wrapper.chmod(0o700)
    thin = base / "pagetally-thin"
    thin.write_text(backend_script(str(config), PYTHON, folder=str(tree) if tree else None))
    thin.chmod(0o700)
    store = open_store(settings)
    if settings.server:
        store.upgrade()
    store.add_printer(Printer("lab", prices=PriceTable(per_page=Decimal("0.05"))))
    store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("1000000")))
    store.set_user_quota("alice", "lab")
    store.close()
    return Site(
        base, config, settings, device, wrapper, thin, base / "run" / "pagetally.sock", tree
    )


def set_service(config: Path, socket: str) -> None:
    """Point `accountingservice` at `socket` ("none": the backend opens the store)."""
    lines = [
        ln for ln in config.read_text().splitlines() if not ln.startswith("accountingservice:")
    ]
    config.write_text("\n".join([*lines, f"accountingservice: {socket}"]) + "\n")


@contextlib.contextmanager
def service(site: Site) -> Iterator[int]:
    """`pagetally serve` on the site's socket, for the block's duration; its pid."""
    set_service(site.config, str(site.socket))
    log = (site.dir / "serve.log").open("wb")
    env = dict(os.environ, PYTHONPATH=str(site.tree)) if site.tree else None
    # `-m` puts the working folder first on the path: not this checkout's, for a tree
    proc = subprocess.Popen(
        [PYTHON, "-m", "pagetally.cli.main", "-C", str(site.config), "serve"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=site.tree,
    )
    try:
        deadline = time.monotonic() + 60
        runner = site.socket.with_name("pagetally-jobs.sock")
        while not (site.socket.exists() and runner.exists()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((site.dir / "serve.log").read_text()[-2000:])
            time.sleep(0.05)
        yield proc.pid
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()
        set_service(site.config, "none")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its descendants (reaped or running), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = " ".join(p.read_text() for p in Path(f"/proc/{pid}/task").glob("*/children"))
    except OSError:
        return 0.0
    own = sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return own + sum(tree_cpu(int(c)) for c in children.split())


class Channels:
    """Back and side channels for each backend started (fds 3 and 4), as cupsd opens
    them for every backend: /dev/null and one end of a quiet socket pair. The thin
    backend then hands them to the job runner, and the real backend inherits them."""

    def __init__(self) -> None:
        self.ours, side = socket.socketpair()
        self.back = fcntl.fcntl(os.open(os.devnull, os.O_RDWR), fcntl.F_DUPFD_CLOEXEC, 10)
        self.side = fcntl.fcntl(side.detach(), fcntl.F_DUPFD_CLOEXEC, 10)

    def setup(self) -> None:
        """In the started process, before exec (dup2 clears close-on-exec)."""
        os.dup2(self.back, 3)
        os.dup2(self.side, 4)

    def close(self) -> None:
        os.close(self.back)
        os.close(self.side)
        self.ours.close()


CHANNELS: Channels | None = None  # set by main() unless --no-channels


def timed(
    argv: list[str], executable: Path, job: bytes, environ: dict[str, str]
) -> tuple[float, float]:
    """(wall, CPU) seconds of one backend process and its children."""
    cpu = children_cpu()
    started = time.perf_counter()
    proc = subprocess.run(
        argv,
        executable=str(executable),
        input=job,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
        preexec_fn=CHANNELS.setup if CHANNELS else None,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"{executable} exited {proc.returncode}: {proc.stderr[-2000:]!r}")
    return elapsed, children_cpu() - cpu


def added_ms(
    site: Site, wrapper: Path, job: bytes, jobs: int, budget: float, tag: str, server: int | None
) -> tuple[list[float], float]:
    """Per pair: wrapper's wall time minus the real backend's alone, in ms; and the
    mean CPU ms added per job (the service's share included)."""
    env = site.environ()
    out: list[float] = []
    cpu_added = 0.0
    deadline = time.monotonic() + budget
    for i in range(jobs + 3):  # 3 warm-up pairs, not counted
        argv = [
            "socket://127.0.0.1:9100",
            f"{tag}{i}",
            "alice",
            "bench",
            "1",
            f"job-uuid=urn:uuid:{tag}-{i}",
        ]
        if i == 3:
            server_cpu = tree_cpu(server) if server else 0.0
        direct, direct_cpu = timed(argv, site.device, job, env)
        wrapped, wrapped_cpu = timed(
            ["pagetally:socket://127.0.0.1:9100", *argv[1:]], wrapper, job, env
        )
        if i >= 3:
            out.append(1000 * (wrapped - direct))
            cpu_added += wrapped_cpu - direct_cpu
        if time.monotonic() > deadline:
            break
    if server:
        cpu_added += tree_cpu(server) - server_cpu
    return out, 1000 * cpu_added / max(1, len(out))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def check_charged(site: Site, expected: int) -> None:
    store = open_store(site.settings)
    try:
        jobs = sum(1 for _ in store.history())
        if jobs != expected:
            raise RuntimeError(f"{expected} jobs run but {jobs} in the history")
    finally:
        store.close()


def per_job(args: argparse.Namespace, base: Path, job: bytes) -> list[str]:
    rows = []
    stores: list[tuple[str, Callable[[str], StoreSettings]]] = [
        ("SQLite", lambda n: StoreSettings(backend="sqlite", name=str(base / f"{n}.db")))
    ]
    pg = None
    if not args.no_postgresql:
        from tests.servers import start_postgresql

        pg = start_postgresql(durable=True)
        stores.append(("PostgreSQL", lambda _n: pg.new_database()))
    try:
        trees: list[tuple[str, Path | None]] = [("", None)]
        if args.baseline:
            trees.insert(0, (" (before)", args.baseline))
        for label, make in stores:
            for path, (tag, tree) in itertools.product(args.paths, trees):
                name = f"{label.lower()}-{path}{'-before' if tree else ''}"
                site = make_site(base / name, make(name), tree)
                set_service(site.config, "none")
                ctx = service(site) if path != "direct" else contextlib.nullcontext(None)
                wrapper = site.thin if path == "thin" else site.wrapper
                with ctx as server:
                    t0 = time.monotonic()
                    values, cpu = added_ms(site, wrapper, job, args.jobs, args.budget, name, server)
                    took = time.monotonic() - t0
                check_charged(site, len(values) + 3)
                rows.append(
                    f"| {label} | {path}{tag} | {len(values)} | {pct(values, 0.5):.1f} | "
                    f"{pct(values, 0.99):.1f} | {statistics.fmean(values):.1f} | "
                    f"{cpu:.1f} | {took:.0f} | {os.getloadavg()[0]:.2f} |"
                )
                print(rows[-1], file=sys.stderr, flush=True)
    finally:
        if pg is not None:
            pg.stop()
    return rows


def throughput(args: argparse.Namespace, base: Path, job_path: Path) -> list[str]:
    """Jobs per minute through a real cupsd, 4 queues at once."""
    from tests.cups.cupsd import start_cupsd
    from tests.fixtures_devices import dns_sd, start_ippeveprinter

    site = make_site(base / "cups", StoreSettings(backend="sqlite", name=str(base / "cups.db")))
    os.chmod(site.dir, 0o755)  # cupsd's filters run as lp and need to reach the spool
    set_service(site.config, "none")
    rows = []
    with contextlib.contextmanager(dns_sd.__wrapped__)():
        # a print command that returns at once: without one, ippeveprinter spends
        # seconds per job pretending to print
        printers = [
            start_ippeveprinter(base / f"ipp{i}", f"bench{i}", command=INSTANT) for i in range(4)
        ]
        cupsd = start_cupsd(base / "cupsd", site.config)
        try:
            store = open_store(site.settings)
            for i, printer in enumerate(printers):
                uri = f"pagetally:{printer.uri}" + ("?waitjob=false" if args.no_wait else "")
                for attempt in range(5):  # a busy cupsd may refuse once
                    if (
                        cupsd.run(
                            "lpadmin",
                            "-p",
                            f"q{i}",
                            "-E",
                            "-v",
                            uri,
                            "-m",
                            "raw",
                            check=attempt == 4,
                        ).returncode
                        == 0
                    ):
                        break
                    time.sleep(1)
                store.add_printer(Printer(f"q{i}", prices=PriceTable(per_page=Decimal("0.05"))))
                store.set_user_quota("alice", f"q{i}")
            store.close()
            installed = cupsd.root / "bin" / "backend" / "pagetally"
            trees: list[tuple[str, Path | None]] = [("", None)]
            if args.baseline:
                trees.insert(0, (" (before)", args.baseline))
            for path, (tag, tree) in itertools.product(args.paths, trees):
                folder = str(tree) if tree else None
                installed.write_text(
                    backend_script(str(site.config), PYTHON, folder=folder)
                    if path == "thin"
                    else wrapper_script(site.config, tree)
                )
                site.tree = tree
                ctx = service(site) if path != "direct" else contextlib.nullcontext(None)
                with ctx:
                    rate = _cups_run(cupsd, job_path, args.cups_jobs)
                rows.append(f"| {path}{tag} | {args.cups_jobs} | {rate:.0f} |")
                print(rows[-1], file=sys.stderr, flush=True)
            check_charged(site, len(args.paths) * len(trees) * args.cups_jobs)
        finally:
            cupsd.stop()
            for p in printers:
                p.stop()
    return rows


def _cups_run(cupsd: Cupsd, job_path: Path, jobs: int) -> float:
    run = cupsd.run
    started = time.monotonic()
    for i in range(jobs):
        run("lp", "-d", f"q{i % 4}", "-U", "alice", "-t", f"bench {i}", str(job_path))
    deadline = started + 600
    while run("lpstat", "-o", check=False).stdout.strip():
        if time.monotonic() > deadline:
            states = run("lpstat", "-l", "-o", "-p", check=False).stdout[-3000:]
            raise RuntimeError(f"cupsd did not finish the jobs in 10 minutes:\n{states}")
        time.sleep(0.2)
    return jobs / ((time.monotonic() - started) / 60)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--jobs", type=int, default=500, help="jobs per scenario (default 500)")
    p.add_argument(
        "--budget", type=float, default=90.0, help="seconds per scenario at most (default 90)"
    )
    p.add_argument("--pages", type=int, default=10, help="pages of the PDF job (default 10)")
    p.add_argument("--no-postgresql", action="store_true")
    p.add_argument("--cups-jobs", type=int, default=40, help="jobs through cupsd per run")
    p.add_argument("--no-cups", action="store_true")
    p.add_argument(
        "--no-wait",
        action="store_true",
        help="CUPS' ipp backend does not wait for the printer to finish each job",
    )
    p.add_argument(
        "--baseline",
        type=Path,
        metavar="DIR",
        help="also run each path with the pagetally package found in DIR (an "
        "older version, same schema), just before this one's, for comparison",
    )
    p.add_argument(
        "--no-channels",
        action="store_true",
        help="start backends without fds 3 and 4 (cupsd always opens them)",
    )
    p.add_argument(
        "--paths", default=",".join(PATHS), help="which of direct,service,thin to run (default all)"
    )
    args = p.parse_args()
    args.paths = [x for x in args.paths.split(",") if x]
    if not set(args.paths) <= set(PATHS):
        p.error(f"--paths: choose among {', '.join(PATHS)}")
    global CHANNELS
    CHANNELS = None if args.no_channels else Channels()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="pt-bench-backend-") as tmp:
        base = Path(tmp)
        job_path = make_pdf(args.pages, base / "job.pdf")
        job = job_path.read_bytes()
        rows = per_job(args, base, job)
        print(
            f"\nTime the wrapper adds per job ({args.pages}-page PDF, software mode; "
            "ms; wrapper minus the real backend alone; "
            f"{'no fds 3-4' if args.no_channels else 'fds 3-4 open as cupsd does'}; "
            f"{os.cpu_count()} CPUs, load average {load:.2f} at the start):\n"
        )
        print("| store | path | jobs | p50 | p99 | mean | cpu | s | load |")
        print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        print("\n".join(rows))
        if not args.no_cups:
            cups_rows = throughput(args, base, job_path)
            print("\nThrough a real cupsd, 4 queues at once (SQLite):\n")
            print("| path | jobs | jobs/min |")
            print("|---|---:|---:|")
            print("\n".join(cups_rows))


if __name__ == "__main__":
    main()
