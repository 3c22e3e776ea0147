"""The process runner with real processes: a command and everything it started
are gone after a timeout, an output flood, a failing reader, or its own end;
memory and output are bounded; stdin, stdout and stderr flow together.

"Gone" means no live process remains in the command's process group. A killed
grandchild is reparented to PID 1, which in a container may not reap it, so a
zombie (state Z: no memory, no CPU) counts as gone.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from pagetally import proc

PY = sys.executable

#: A grandchild that ignores SIGTERM, takes 50 MB, writes its pid, and waits
#: for ever; its parent (the command) waits too, or exits at once with "exit".
GRANDCHILD = r"""
import os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
hog = bytearray(50 << 20)
with open(sys.argv[1], "w") as f:
    f.write(str(os.getpid()))
while True:
    time.sleep(1)
"""
PARENT = r"""
import os, subprocess, sys, time, signal
signal.signal(signal.SIGTERM, signal.SIG_IGN)
subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]])
while not os.path.exists(sys.argv[2]) or not open(sys.argv[2]).read():
    time.sleep(0.01)
print("started", flush=True)
if sys.argv[3] == "wait":
    while True:
        time.sleep(1)
"""


def _alive(pid: int) -> bool:
    """A live (not zombie) process with this pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _group_alive(pgid: int) -> list[int]:
    """Live processes of the process group `pgid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _gone(pid: int, seconds: float = 2.0) -> bool:
    """Poll: the process (and its group) has no live member left."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not _alive(pid) and not _group_alive(pid):
            return True
        time.sleep(0.02)
    return False


def _grandchild(tmp_path: Path, mode: str) -> tuple[list[str], Path]:
    pidfile = tmp_path / "grandchild.pid"
    return [PY, "-c", PARENT, GRANDCHILD, str(pidfile), mode], pidfile


def _session_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[3])


@pytest.mark.slow
def test_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    argv, pidfile = _grandchild(tmp_path, "wait")
    started = time.monotonic()
    done = proc.run(argv, bounds=proc.Bounds(seconds=3, memory=None))
    assert time.monotonic() - started < 6
    assert done.timed_out and not done.ok
    assert done.stopped == "killed after 3 s without finishing"
    assert done.stdout == b"started\n"
    grandchild = int(pidfile.read_text())
    assert _gone(grandchild), f"the grandchild {grandchild} outlived the timeout"


def test_leftovers_are_killed_when_the_command_ends(tmp_path: Path) -> None:
    """soffice's case: the wrapper exits, the forked worker must not stay."""
    argv, pidfile = _grandchild(tmp_path, "exit")
    started = time.monotonic()
    done = proc.run(argv, bounds=proc.Bounds(seconds=20, memory=None))
    assert time.monotonic() - started < 10
    assert done.ok and done.stdout == b"started\n"
    assert _gone(int(pidfile.read_text()))


def test_leftovers_may_stay_when_asked(tmp_path: Path) -> None:
    """A site hook may start a daemon on purpose (notify's behaviour, unchanged)."""
    argv, pidfile = _grandchild(tmp_path, "exit")
    done = proc.run(argv, bounds=proc.Bounds(seconds=20, memory=None, kill_leftovers=False))
    assert done.ok
    grandchild = int(pidfile.read_text())
    try:
        assert _alive(grandchild)
    finally:
        proc.kill_group(_session_of(grandchild))
    assert _gone(grandchild)


def test_stdout_flood_is_refused_and_the_group_killed(tmp_path: Path) -> None:
    flood = "import sys\nwhile True: sys.stdout.buffer.write(b'x' * 65536)"
    started = time.monotonic()
    done = proc.run([PY, "-c", flood], bounds=proc.Bounds(seconds=30, output=1 << 20))
    assert time.monotonic() - started < 10
    assert done.overflowed and not done.ok
    assert done.stopped == f"wrote more than {1 << 20} bytes on stdout"
    assert len(done.stdout) == 1 << 20
    assert done.returncode < 0


def test_stderr_flood_dropped_when_asked() -> None:
    talk = "import sys\nsys.stderr.write('e' * 3_000_000)\nprint('done')"
    bounds = proc.Bounds(seconds=30, output=1000, overflow="drop")
    done = proc.run([PY, "-c", talk], bounds=bounds)
    assert done.ok and done.truncated and not done.overflowed
    assert done.stderr == b"e" * 1000 and done.stdout == b"done\n"


@pytest.mark.slow
def test_memory_limit_applies_in_the_child() -> None:
    hog = "bytearray(600 << 20); print('allocated')"
    done = proc.run([PY, "-c", hog], bounds=proc.Bounds(seconds=30, memory=400 << 20))
    assert done.returncode != 0 and b"allocated" not in done.stdout
    assert b"MemoryError" in done.stderr
    assert proc.run([PY, "-c", hog], bounds=proc.Bounds(seconds=30, memory=None)).ok


def test_stdin_and_stdout_flow_together() -> None:
    """16 MB through `cat`: written while read, no deadlock, nothing lost."""
    data = os.urandom(1 << 20) * 16
    done = proc.run(["cat"], stdin=data, bounds=proc.Bounds(seconds=30, output=32 << 20))
    assert done.ok and done.stdout == data


def test_stdin_from_a_file_and_a_command_that_reads_none(tmp_path: Path) -> None:
    job = tmp_path / "job"
    job.write_bytes(b"12 pages\n")
    assert proc.run(["cat"], stdin=job).stdout == b"12 pages\n"
    assert proc.run(["true"], stdin=b"x" * (8 << 20)).ok  # it never reads: no EPIPE raised


def test_environment_is_only_what_the_caller_gives() -> None:
    os.environ["PAGETALLY_SECRET_TEST"] = "secret"
    try:
        bare = proc.run(["env"]).stdout.decode()
        given = proc.run(["/usr/bin/env"], env={"A": "1", "B=": "x", "C": "a\0b"}).stdout
    finally:
        del os.environ["PAGETALLY_SECRET_TEST"]
    assert "PAGETALLY_SECRET_TEST" not in bare
    assert sorted(bare.split()) == ["LANG=C.UTF-8", f"PATH={proc.DEFAULT_PATH}"]
    assert given.split() == [b"A=1", b"C=ab"]


def test_a_command_that_cannot_start_raises_oserror() -> None:
    with pytest.raises(OSError):
        proc.run(["/nonexistent/command"])
    with pytest.raises(OSError):
        proc.run([])


def test_stream_reader_failure_kills_the_group(tmp_path: Path) -> None:
    argv, pidfile = _grandchild(tmp_path, "wait")
    with pytest.raises(RuntimeError), proc.stream(argv, bounds=proc.Bounds(memory=None)) as run:
        assert run.stdout.readline() == b"started\n"
        raise RuntimeError("the reader failed")
    assert run.stopped == "stopped: its reader failed"
    assert _gone(int(pidfile.read_text()))


@pytest.mark.slow
def test_stream_stall_and_total_time(tmp_path: Path) -> None:
    argv, pidfile = _grandchild(tmp_path, "wait")
    with proc.stream(argv, bounds=proc.Bounds(seconds=30, memory=None), stall=1) as run:
        assert run.stdout.read() == b"started\n"  # until the stall kill closes it
    assert run.stopped == "produced nothing for 1 s"
    assert run.returncode == -9
    assert _gone(int(pidfile.read_text()))
    with proc.stream(["sleep", "30"], bounds=proc.Bounds(seconds=1)) as run:
        assert run.stdout.read() == b""
    assert run.stopped == "took longer than 1 s in all"


def test_stream_ends_normally_with_stderr_kept() -> None:
    script = "import sys\nsys.stderr.write('warning\\n')\nprint('page')"
    with proc.stream([PY, "-c", script]) as run:
        assert run.stdout.read() == b"page\n"
    assert run.returncode == 0 and run.stopped is None and run.stderr == b"warning\n"
