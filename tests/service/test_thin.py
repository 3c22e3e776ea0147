"""The thin backend and the job runner: whole jobs as cupsd would start them
(separate processes, the job on standard input), through `pagetally serve`."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from pagetally.core.models import Action
from pagetally.service import jobs_socket
from pagetally.service.jobs import KILL_DELAY, sample_pdf
from pagetally.service.thin import backend_script, decode_request, encode_request, service_socket
from pagetally.storage import StoreSettings, open_store
from tests.polling import wait_until
from tests.service.conftest import populate, short_dir

PDF = Path("/usr/share/cups/data/default-testpage.pdf")  # 1 page
DEVICE = """#!/bin/sh
echo $$ > "{out}/device.pid"
readlink /proc/$$/fd/4 > "{out}/side-channel"
cat > "{out}/printed-$1"
echo "INFO: device saw PRINTER=$PRINTER MARK=$PT_MARK" >&2
if [ -n "$PT_IGNORE_TERM" ]; then trap '' TERM; fi
exec sleep "${{PT_SLEEP:-0}}"
"""


@dataclass
class Site:
    dir: Path
    config: Path
    socket: str
    thin: Path
    db: Path

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "DEVICE_URI": "pagetally:socket://127.0.0.1:9100",
            "PRINTER": "lab",
            "CUPS_SERVERBIN": str(self.dir / "serverbin"),
            "TMPDIR": str(self.dir),
            "PATH": "/usr/bin:/bin",
            "PT_MARK": "from-the-job",
            **extra,
        }

    def job(
        self, job_id: str, user: str = "alice", *, channels: bool = False, **extra: str
    ) -> subprocess.CompletedProcess[bytes]:
        """Run the thin backend as cupsd would; with `channels`, with fds 3 and 4
        open (cupsd's back and side channels: here /dev/null and a socket)."""
        argv = [
            "pagetally:socket://127.0.0.1:9100",
            job_id,
            user,
            "t; $(x)",
            "1",
            f"job-uuid=urn:uuid:{job_id}",
        ]
        ours, side = socket.socketpair()
        back = os.open(os.devnull, os.O_RDWR)

        def as_cupsd() -> None:
            os.dup2(back, 3)
            os.dup2(side.fileno(), 4)

        try:
            return subprocess.run(
                argv,
                executable=str(self.thin),
                input=PDF.read_bytes(),
                env=self.env(**extra),
                capture_output=True,
                timeout=120,
                preexec_fn=as_cupsd if channels else None,
                close_fds=not channels,
            )
        finally:
            self.side_inode = os.fstat(side.fileno()).st_ino
            ours.close()
            side.close()
            os.close(back)


def make_site(*, service: str | None = None) -> Site:
    base = short_dir()
    db = base / "pagetally.db"
    sock = service or str(base / "run" / "pagetally.sock")
    config = base / "pagetally.conf"
    config.write_text(
        f"[global]\nstoragebackend: sqlite\nstoragename: {db}\n"
        f"directory: {base / 'spool'}\naccountingservice: {sock}\n"
        "logger: stderr\n"
    )
    (base / "serverbin" / "backend").mkdir(parents=True)
    dev = base / "serverbin" / "backend" / "socket"
    dev.write_text(DEVICE.format(out=base))
    dev.chmod(0o700)
    thin = base / "pagetally"
    thin.write_text(backend_script(str(config)))
    thin.chmod(0o700)
    store = open_store(StoreSettings(backend="sqlite", name=str(db)))
    populate(store)
    store.close()
    return Site(base, config, sock, thin, db)


def wait_for(*paths: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    def listening() -> bool:
        assert proc.poll() is None, "pagetally serve exited"
        return all(os.path.exists(p) for p in paths)

    wait_until(listening, "pagetally serve listens", timeout=timeout)


@pytest.fixture
def served_site() -> Iterator[tuple[Site, subprocess.Popen[bytes]]]:
    site = make_site()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pagetally.cli.main", "-C", str(site.config), "serve"],
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(site.socket, jobs_socket(site.socket), proc=proc)
        yield site, proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(30)


def balance(site: Site) -> Decimal:
    store = open_store(StoreSettings(backend="sqlite", name=str(site.db)))
    try:
        return store.get_user("alice").balance
    finally:
        store.close()


@pytest.mark.slow
def test_thin_backend_job_through_the_runner(
    served_site: tuple[Site, subprocess.Popen[bytes]],
) -> None:
    site, serve = served_site
    done = site.job("1", channels=True)
    err = done.stderr.decode()
    assert done.returncode == 0, err
    # cupsd's side channel reached the real backend (fd 4: the very same socket)
    assert (site.dir / "side-channel").read_text().strip() == f"socket:[{site.side_inode}]"
    assert (site.dir / "printed-1").read_bytes() == PDF.read_bytes()
    # the real backend got this job's environment, not the service's
    assert "INFO: device saw PRINTER=lab MARK=from-the-job" in err
    assert "PAGE: total 1" in err and "Traceback" not in err
    assert balance(site) == Decimal("99.90")
    # a refused job's exit code (5: cancel) comes back through the runner
    refused = site.job("2", user="mallory")
    assert refused.returncode == 5
    assert "PageTally refused the job" in refused.stderr.decode()
    assert not (site.dir / "printed-2").exists()
    store = open_store(StoreSettings(backend="sqlite", name=str(site.db)))
    assert sorted((j.job_id, j.action) for j in store.history()) == [
        ("1", Action.ALLOW),
        ("2", Action.DENY),
    ]
    store.close()
    assert set(backend_times(site)) == {"1", "2"}  # the refused job's time is kept too
    # SIGTERM: the service stops, both sockets go away, exit code 0
    serve.send_signal(signal.SIGTERM)
    assert serve.wait(30) == 0
    assert not os.path.exists(site.socket) and not os.path.exists(jobs_socket(site.socket))


@pytest.mark.slow
def test_thin_backend_without_service_runs_the_job_itself() -> None:
    site = make_site()  # nothing listens on its sockets
    done = site.job("3")
    assert done.returncode == 0, done.stderr.decode()
    assert (site.dir / "printed-3").exists()
    assert balance(site) == Decimal("99.90")
    assert site.job("4", user="mallory").returncode == 5
    assert set(backend_times(site)) == {"3", "4"}


def backend_times(site: Site) -> dict[str, int]:
    """The backend's time kept with each job (CUPS job id: ms), those measured."""
    from sqlalchemy import select

    from pagetally.storage.schema import jobhistory

    store = open_store(StoreSettings(backend="sqlite", name=str(site.db)))
    try:
        with store._engine.connect() as conn:  # type: ignore[attr-defined]
            rows = conn.execute(select(jobhistory.c.jobid, jobhistory.c.backendms))
            return {r.jobid: r.backendms for r in rows if r.backendms is not None}
    finally:
        store.close()


@pytest.mark.slow
def test_sigterm_reaches_the_jobs_process(
    served_site: tuple[Site, subprocess.Popen[bytes]],
) -> None:
    site, _serve = served_site
    thin, device = start_slow_job(site, "4", PT_SLEEP="30")
    thin.send_signal(signal.SIGTERM)  # as cupsd cancelling the job
    try:
        assert thin.wait(20) != 0  # the job did not end well: cupsd is told so
        # the cancel reached the job's own real backend
        wait_until(lambda: not _alive(device), "the device backend has ended", timeout=10)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(device, signal.SIGKILL)  # the device script we made, if still there


def start_slow_job(site: Site, job_id: str, **extra: str) -> tuple[subprocess.Popen[bytes], int]:
    """The thin backend running a job whose device script is still printing: the
    thin backend's process and the device script's pid."""
    argv = [
        "pagetally:socket://127.0.0.1:9100",
        job_id,
        "alice",
        "t",
        "1",
        f"job-uuid=urn:uuid:{job_id}",
    ]
    thin = subprocess.Popen(
        argv,
        executable=str(site.thin),
        stdin=PDF.open("rb"),
        stderr=subprocess.DEVNULL,
        env=site.env(**extra),
    )
    pid_file = site.dir / "device.pid"

    def device_pid() -> str:
        assert thin.poll() is None, "the thin backend exited"
        return pid_file.read_text().strip() if pid_file.exists() else ""

    return thin, int(wait_until(device_pid, "the device script has started", timeout=60))


@pytest.mark.slow
@pytest.mark.parametrize("stubborn", [False, True])
def test_a_killed_thin_backend_ends_its_job(
    served_site: tuple[Site, subprocess.Popen[bytes]],
    stubborn: bool,
) -> None:
    """cupsd cancels (SIGTERM, passed on to the job's real backend), then SIGKILLs
    a backend that outlived its cancel: with the thin backend gone, the runner's
    child ends the cancelled job and, if its real backend ignores SIGTERM, kills
    it after KILL_DELAY seconds. (A thin backend killed without a cancel does
    not end its job: tests/faults.)"""
    site, _serve = served_site
    job_id = "6" if stubborn else "5"
    extra = {"PT_SLEEP": "60", **({"PT_IGNORE_TERM": "1"} if stubborn else {})}
    thin, device = start_slow_job(site, job_id, **extra)
    thin.send_signal(signal.SIGTERM)  # the cancel
    time.sleep(0.5)
    thin.kill()  # what cupsd does after JobKillDelay
    thin.wait(10)
    try:
        wait_until(
            lambda: not _alive(device),
            "the device backend has ended with its job",
            timeout=KILL_DELAY + 10 if stubborn else 10,
        )
        if not stubborn:  # the cancel path ran: the job is recorded, not charged
            store = open_store(StoreSettings(backend="sqlite", name=str(site.db)))
            rows = wait_until(
                lambda: [j for j in store.history() if j.job_id == job_id],
                "the job has a history row",
                timeout=10,
            )
            store.close()
            assert rows[0].action == Action.CANCEL
            assert balance(site) == Decimal("100")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(device, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_runner_refuses_a_request_without_streams(
    served_site: tuple[Site, subprocess.Popen[bytes]],
) -> None:
    site, _serve = served_site
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(20)
        sock.connect(jobs_socket(site.socket))
        sock.sendall(encode_request(["x"], {b"A": b"1"}, None, 0o22))
        answer = sock.makefile("rb").readline()
    assert answer == b"error expected 3 or 5 descriptors, got 0\n"
    assert balance(site) == Decimal("100.00")


@pytest.mark.slow
def test_runner_closes_the_streams_of_a_request_it_refuses(
    served_site: tuple[Site, subprocess.Popen[bytes]],
) -> None:
    """A refused hand-off (here: an older JSON one) must not keep the job's streams
    open in the runner: whoever reads the job's stderr would wait for ever."""
    site, _serve = served_site
    read_end, write_end = os.pipe()
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(20)
            sock.connect(jobs_socket(site.socket))
            socket.send_fds(
                sock, [b'{"argv": ["x"], "environ": {}}\n'], [write_end, write_end, write_end]
            )
            answer = sock.makefile("rb").readline()
        assert answer.startswith(b"error not a PageTally job hand-off")
        os.close(write_end)
        write_end = -1
        os.set_blocking(read_end, False)

        def at_eof() -> bool:  # once no process holds the write end any more
            try:
                assert os.read(read_end, 100) == b""
            except BlockingIOError:
                return False
            return True

        wait_until(at_eof, "the runner has closed the job's stderr", timeout=10)
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


@contextlib.contextmanager
def _take_request(listener: socket.socket) -> Iterator[socket.socket]:
    """As a runner would: accept the thin backend's hand-off and take its streams
    (closed here: this fake runs no job)."""
    conn, _ = listener.accept()
    with conn:
        _msg, fds, _flags, _addr = socket.recv_fds(conn, 1 << 16, 5)
        for fd in fds:
            os.close(fd)
        yield conn


def _fake_runner(site: Site) -> tuple[socket.socket, subprocess.Popen[bytes]]:
    """A listener on the site's runner socket, and the thin backend connected to
    it (its hand-off read), to play the runner's part by hand."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(jobs_socket(site.socket))
    listener.listen(1)
    listener.settimeout(60)
    argv = ["pagetally:socket://127.0.0.1:9100", "9", "alice", "t", "1", "job-uuid=urn:uuid:9"]
    thin = subprocess.Popen(
        argv,
        executable=str(site.thin),
        stdin=PDF.open("rb"),
        stderr=subprocess.PIPE,
        env=site.env(),
    )
    return listener, thin


@pytest.mark.slow
def test_a_cancel_before_the_runner_answers_reaches_the_job_once_it_starts() -> None:
    site = make_site()
    (Path(site.socket).parent).mkdir(parents=True)
    listener, thin = _fake_runner(site)
    job = subprocess.Popen(["sleep", "60"])  # stands for the job's process
    try:
        with _take_request(listener) as conn:
            thin.send_signal(signal.SIGTERM)  # cupsd cancels: the job's pid is not known yet
            time.sleep(0.3)
            assert thin.poll() is None  # the thin backend waits for it
            conn.sendall(b"pid %d\n" % job.pid)
            assert job.wait(10) == -signal.SIGTERM  # passed on as soon as it was known
            conn.sendall(b"exit 5\n")
        assert thin.wait(10) == 5
    finally:
        job.kill()
        job.wait()
        thin.kill()
        thin.wait()
        listener.close()
    assert not (site.dir / "printed-9").exists()


@pytest.mark.slow
def test_a_cancel_before_a_refusal_ends_the_thin_backend_without_printing() -> None:
    site = make_site()
    (Path(site.socket).parent).mkdir(parents=True)
    listener, thin = _fake_runner(site)
    try:
        with _take_request(listener) as conn:
            thin.send_signal(signal.SIGTERM)
            time.sleep(0.3)
            conn.sendall(b"error busy\n")
        assert thin.wait(20) == -signal.SIGTERM  # cancelled, as a backend killed by it
    finally:
        thin.kill()
        thin.wait()
        listener.close()
    assert not (site.dir / "printed-9").exists()  # it did not run the job itself
    assert balance(site) == Decimal("100.00")


def _runner(site: Site, max_children: int) -> subprocess.Popen[bytes]:
    """The job runner alone (no store service: jobs open the store themselves)."""
    code = (
        "import sys; from pagetally.service.jobs import JobRunner, preload; preload(); "
        "JobRunner(sys.argv[1], max_children=int(sys.argv[2])).serve()"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, jobs_socket(site.socket), str(max_children)]
    )
    wait_for(jobs_socket(site.socket), proc=proc)
    return proc


def _children(pid: int) -> set[int]:
    text = " ".join(p.read_text() for p in Path(f"/proc/{pid}/task").glob("*/children"))
    return {int(c) for c in text.split()}


def _running(pid: int) -> bool:
    """Alive and not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_every_child_busy_means_the_thin_backend_runs_the_job_itself() -> None:
    site = make_site()
    runner = _runner(site, max_children=1)
    try:
        argv = [
            "pagetally:socket://127.0.0.1:9100",
            "10",
            "alice",
            "t",
            "1",
            "job-uuid=urn:uuid:10",
        ]
        first = subprocess.Popen(
            argv,
            executable=str(site.thin),
            stdin=PDF.open("rb"),
            stderr=subprocess.PIPE,
            env=site.env(PT_SLEEP="3"),
        )

        def printing() -> bool:
            assert first.poll() is None, "the first job ended"
            return (site.dir / "device.pid").exists()

        wait_until(printing, "the only child is printing", timeout=60)
        second = site.job("11")  # no child free: runs in the thin backend's process
        assert second.returncode == 0, second.stderr.decode()
        assert first.wait(60) == 0
        assert (site.dir / "printed-10").exists() and (site.dir / "printed-11").exists()
        assert balance(site) == Decimal("99.80")
    finally:
        runner.terminate()
        runner.wait(30)


@pytest.mark.slow
def test_runner_keeps_spares_and_ends_the_idle_ones_when_stopped() -> None:
    site = make_site()
    runner = _runner(site, max_children=8)
    try:
        wait_until(lambda: len(_children(runner.pid)) >= 2, "spare children wait for jobs")
        before = _children(runner.pid)
        done = site.job("12")
        assert done.returncode == 0, done.stderr.decode()
        wait_until(lambda: _children(runner.pid) - before, "the spare taken is replaced")
        spares = _children(runner.pid)
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(30) == 0
        wait_until(
            lambda: not any(_running(pid) for pid in spares),
            "the idle spares have ended with the runner",
            timeout=10,
        )
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
    assert balance(site) == Decimal("99.90")


def test_service_socket_from_config(tmp_path: Path) -> None:
    conf = tmp_path / "c.conf"
    conf.write_text("[global]\n# accountingservice: /commented\nstoragebackend: sqlite\n")
    assert service_socket(str(conf), {}) == "/run/pagetally/pagetally.sock"
    conf.write_text(
        "[lab]\naccountingservice: /not/global\n[global]\nAccountingService = /srv/pt.sock\n"
    )
    assert service_socket(str(conf), {}) == "/srv/pt.sock"
    conf.write_text("[global]\naccountingservice: none\n")
    assert service_socket(None, {"PAGETALLY_CONFIG": str(conf)}) is None
    assert service_socket(str(tmp_path / "missing.conf"), {}) is None


def test_jobs_socket_name() -> None:
    assert jobs_socket("/run/pagetally/pagetally.sock") == "/run/pagetally/pagetally-jobs.sock"
    assert jobs_socket("/srv/pt") == "/srv/pt-jobs.sock"


def test_thin_backend_and_client_stay_lean() -> None:
    """What each job's process loads: the thin backend only built-in modules (not
    even os, socket, json or signal: each costs milliseconds per job), the store
    client no database layer."""
    folder = str(Path(__file__).resolve().parents[2])
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import pagetally.service.thin; "
        "print(' '.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pagetally', 'sqlalchemy', 'typing', 'dataclasses', 'decimal', 'json', "
        "'socket', 'signal', 'enum', 're', 'os'))))"
    )
    out = subprocess.run(
        [sys.executable, "-S", "-c", code, folder], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["pagetally", "pagetally.service", "pagetally.service.thin"]
    code = (
        "import pagetally.service.client, sys; "
        "print('sqlalchemy' in sys.modules, 'pagetally.storage.sql' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "False"]


def test_hand_off_keeps_arguments_and_environment_byte_for_byte() -> None:
    """What the thin backend sends is what the job's child gets: bytes that are not
    UTF-8, '=' inside values, empty values and arguments, spaces, newlines."""
    argv = ["pagetally:socket://10.0.0.5", "7", "jos\udce9", "", "a b\nc", "1"]
    environ = {b"PATH": b"/usr/bin", b"TITLE": b"x=y=z", b"EMPTY": b"", b"L": b"\xe9t\xe9"}
    data = encode_request(argv, environ, "/etc/pt.conf", 0o22)
    header, _, body = data.partition(b"\n")
    got_argv, got_env, config, umask = decode_request(header, body)
    assert got_argv == [os.fsencode(a) for a in argv]
    assert got_env == environ and config == "/etc/pt.conf" and umask == 0o22
    _, _, body = encode_request(["x"], {}, None, 0o77).partition(b"\n")
    assert decode_request(b"PTJOB1 %d" % len(body), body) == ([b"x"], {}, None, 0o77)


@pytest.mark.parametrize(
    "header, body, why",
    [
        (b"PTJOB1 9", b"\x000\x001\x00x", "not a PageTally job hand-off"),  # wrong length
        (b'{"argv": []}', b"", "not a PageTally job hand-off"),  # the old JSON hand-off
        (None, b"\x000\x000\x00", "argc"),  # no argv
        (None, b"\x000\x002\x00x", "argc"),  # fewer arguments than argc
        (None, b"\x000\x001\x00x\x00NOEQ", "environment"),  # an entry without '='
        (None, b"\x00-1\x001\x00x", "malformed"),  # umask not a number
    ],
)
def test_malformed_hand_off_is_refused(header: bytes | None, body: bytes, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        decode_request(header or b"PTJOB1 %d" % len(body), body)


def test_hand_off_refuses_a_nul_inside_a_field() -> None:
    with pytest.raises(ValueError, match="NUL"):
        encode_request(["x"], {}, "/etc/a\0b", 0)


def test_warm_up_sample_is_a_one_page_pdf() -> None:
    from pagetally import pdl

    analysis = pdl.analyse(sample_pdf())
    assert (analysis.format, analysis.pages, analysis.method) == ("PDF", 1, "parsed")
