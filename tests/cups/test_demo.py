"""The demo's printing part (scripts/demo-print.sh) against a cupsd with Debian
12's stock configuration (tests/cups/debian12-cupsd.conf): `Require user @OWNER
@SYSTEM`, on which cupsd 2.4.2-3+deb12u10 segfaults when Send-Document comes from
a user name that is no local account — and the demo's users (dora, ed) are none.
The demo must leave that cupsd running, show each job's pages, price or reason
on the job, and nobody's balance on the printer."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cups.cupsd import Cupsd, private_cupsd, stock_cupsd_conf

pytestmark = [pytest.mark.slow, pytest.mark.cups]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture()
def stock_cupsd() -> Iterator[Cupsd]:
    # the backend's config is the demo's own (DEMO_DIR/pagetally.conf): this one is unused
    with private_cupsd(
        "pagetally-stock-cupsd-", lambda base: "[global]\n", cupsd_conf=stock_cupsd_conf
    ) as server:
        yield server


def run_demo(
    script: str, cupsd: Cupsd, demo_dir: Path, **more: str
) -> subprocess.CompletedProcess[str]:
    """scripts/`script` with the demo's folder, printing through `cupsd`."""
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "DEMO_DIR": str(demo_dir),
        "DEMO_CUPS_SOCKET": str(cupsd.socket),
        "DEMO_CUPS_IPP": cupsd.server,
        "DEMO_SERVERBIN": str(cupsd.root / "bin"),
        "DEMO_CUPS_SERVERROOT": str(cupsd.root / "etc"),
        "PAGETALLY": str(Path(sys.executable).with_name("pagetally")),
        **more,
    }
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def run_demo_print(cupsd: Cupsd, demo_dir: Path) -> subprocess.CompletedProcess[str]:
    return run_demo("demo-print.sh", cupsd, demo_dir)


def test_demo_print_on_stock_debian_cupsd(stock_cupsd: Cupsd, tmp_path: Path) -> None:
    demo_dir = Path(tmp_path.parent) / f"{tmp_path.name}-demo"  # reachable by user lp
    demo_dir.mkdir(mode=0o755)
    done = run_demo_print(stock_cupsd, demo_dir)
    alive = stock_cupsd.process.poll() is None
    assert alive, f"cupsd died (exit {stock_cupsd.process.returncode}): {done.stdout[-2000:]}"
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    # each job's Status in lpstat -l: pages and price, or the refusal's reason
    assert "Status: PageTally: printed 3 page(s), 0.15 EUR" in out
    assert (
        "Status: PageTally refused the job: Print quota exceeded on printer demo-laser: "
        "3 of 3 pages used, this job has 1"
    ) in out
    assert (
        "Status: PageTally refused the job: Balance too low: 0.10 EUR, this job costs 0.15 EUR"
    ) in out
    # setup cups saw the stock policy of this cupsd (the warning needs its version too)
    assert "to each JobPrivateValues line of cupsd.conf" in done.stderr
    # every job went through pagetally serve's job runner (the thin backend's hand-off)
    assert out.count("a thin backend handed a job to child") == 3
    # another user who looks at the printer sees no one's accounting (the demo
    # itself fails when the whole `lpstat -U eve -l -p` shows any)
    view = out.split("sees of the printer", 1)[1].split("what ed sees", 1)[0]
    assert "printer demo-laser is idle" in view
    for private in ("EUR", "Balance", "refused", "quota", "dora", " ed"):
        assert private not in view, view
    # the cupsd is still there, the demo's queue gone, and nothing of the demo
    # runs any more (no socket of pagetally serve remains)
    assert "is running" in stock_cupsd.run("lpstat", "-r").stdout
    assert "demo-laser" not in stock_cupsd.run("lpstat", "-v", check=False).stdout
    assert not list((demo_dir / "run").glob("*.sock"))


def test_whole_demo_ends_with_its_web_interface(stock_cupsd: Cupsd, tmp_path: Path) -> None:
    """README command 1 to its end (the installed .venv): the command-line story,
    the printing, then the web interface it leaves running, which answers."""
    import urllib.request

    from tests.ports import free_port

    demo_dir = Path(tmp_path.parent) / f"{tmp_path.name}-whole"  # reachable by user lp
    demo_dir.mkdir(mode=0o755)
    port = free_port()
    try:
        done = run_demo("demo.sh", stock_cupsd, demo_dir, SKIP_INSTALL="1", WEB_PORT=str(port))
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert f"PageTally web interface: http://127.0.0.1:{port}/" in done.stdout
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10) as page:
            assert page.status == 200
            assert "PageTally" in page.read().decode()
    finally:
        pid = demo_dir / "web.pid"
        if pid.exists():
            subprocess.run(["kill", pid.read_text().strip()], check=False)
