"""Running the real backend: argv, environment, stdin and stderr relaying.

The "real backend" here is a small script in a temporary CUPS_SERVERBIN: it
records what it was given, as a real one would see it."""

import io
import os
import stat
from pathlib import Path

import pytest

from pagetally.cups.realbackend_process import RealBackendMissing, run_real_backend
from pagetally.cups.spool import spool_file, spool_stream
from pagetally.cups.ticket import parse_ticket

SCRIPT = """#!/bin/sh
printf '%s\\n' "$0" "$@" > "{out}/argv"
echo "$DEVICE_URI" > "{out}/uri"
cat > "{out}/data"
echo "INFO: sending" >&2
echo "PAGE: total 7" >&2
exit {code}
"""


def make_backend(tmp_path: Path, code: int = 0) -> Path:
    serverbin = tmp_path / "serverbin"
    (serverbin / "backend").mkdir(parents=True)
    script = serverbin / "backend" / "socket"
    script.write_text(SCRIPT.format(out=tmp_path, code=code))
    script.chmod(stat.S_IRWXU)
    return serverbin


def test_real_backend_gets_stripped_uri_same_argv_and_the_data(tmp_path: Path) -> None:
    serverbin = make_backend(tmp_path)
    env = {
        "DEVICE_URI": "pagetally:socket://127.0.0.1:9100",
        "CUPS_SERVERBIN": str(serverbin),
        "PATH": os.environ["PATH"],
    }
    ticket = parse_ticket(["x", "5", "bob", "it's; rm -rf /", "1", "job-name='a b'"], env)
    spooled = spool_stream(io.BytesIO(b"%PDF-1.4 data"), str(tmp_path))
    lines: list[str] = []
    run = run_real_backend(ticket, spooled.path, lines.append)
    assert run.exit_code == 0 and run.page_total == 7
    assert lines == ["INFO: sending\n", "PAGE: total 7\n"]
    assert (tmp_path / "uri").read_text().strip() == "socket://127.0.0.1:9100"
    argv = (tmp_path / "argv").read_text().splitlines()
    assert argv[1:6] == ["5", "bob", "it's; rm -rf /", "1", "job-name='a b'"]
    assert (tmp_path / "data").read_bytes() == b"%PDF-1.4 data"
    assert spooled.size == 13 and len(spooled.sha256) == 64
    assert oct(os.stat(spooled.path).st_mode & 0o777) == "0o600"
    spooled.remove()
    assert not os.path.exists(spooled.path)


def test_exit_code_passes_through(tmp_path: Path) -> None:
    serverbin = make_backend(tmp_path, code=4)
    env = {"DEVICE_URI": "pagetally:socket://h", "CUPS_SERVERBIN": str(serverbin)}
    data = tmp_path / "job"
    data.write_bytes(b"x")
    ticket = parse_ticket(["x", "5", "bob", "t", "2", "", str(data)], env)
    assert spool_file(str(data)).temporary is False
    assert run_real_backend(ticket, str(data), lambda _l: None).exit_code == 4
    assert (tmp_path / "argv").read_text().splitlines()[-1] == str(data)


def test_missing_backend_is_a_clear_error(tmp_path: Path) -> None:
    env = {"DEVICE_URI": "pagetally:nosuch://h", "CUPS_SERVERBIN": str(tmp_path)}
    ticket = parse_ticket(["x", "5", "bob", "t", "1", ""], env)
    with pytest.raises(RealBackendMissing, match="no CUPS backend for 'nosuch'"):
        run_real_backend(ticket, "/dev/null", lambda _l: None)
