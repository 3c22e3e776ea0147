"""A PJL printer on 127.0.0.1: answers INFO STATUS / INFO PAGECOUNT, 'prints' slowly.

Nothing in Debian simulates a PJL printer, so this is ours. It listens on a TCP
port like a JetDirect port 9100 and behaves as the printers PyKota met:
- `@PJL INFO STATUS` is answered `CODE=...`, `DISPLAY=...`, `ONLINE=...` and a form
  feed; `@PJL INFO PAGECOUNT` with `PAGECOUNT=N` (or, with `bare_pagecount`, the
  number alone on the next line); `@PJL USTATUS DEVICE=ON` gets an unsolicited
  `@PJL USTATUS DEVICE` status block first;
- anything else received on a connection is job data: when the connection
  closes, the job goes into the printer's buffer (any number of jobs, from any
  number of connections at once, as a printer with a print queue takes a
  second job while printing the first) and its pages (form feeds, at least one;
  or what `pages_for` says) are 'printed' one by one, `seconds_per_page` apart,
  after `warmup` seconds in code 10003; the status is 10023 while printing or
  holding jobs and 10001 when idle;
- quirks on demand: `lies_idle` (says 10001 while warming up, printing or
  holding jobs, as some printers do), `paper_out()` (code 41002 'LOAD PAPER',
  printing pauses), `load_paper(n)` (n sheets: the printer says LOAD PAPER when it
  needs sheet n + 1, as printers notice at pick time; 0: an empty tray),
  `pause()` / `resume()` (the engine stops between pages and jobs, the buffer
  still takes jobs), `power_cycle()` (HP NVRAM: the counter falls back to the
  last multiple of 10), `set_counter()`.

Tests synchronise on events, not sleeps: `wait_jobs(n)` returns once n jobs have
been received, `wait_idle()` once the buffer is printed, `wait_paper_needed()`
once the engine stops for want of paper.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

UEL = b"\x1b%-12345X"
READY, WARMUP, PRINTING, LOAD_PAPER = 10001, 10003, 10023, 41002
DISPLAYS = {READY: "READY", WARMUP: "WARMING UP", PRINTING: "PRINTING", LOAD_PAPER: "LOAD PAPER"}


def count_form_feeds(data: bytes) -> int:
    """Default page count of a job: its form feeds, at least one."""
    return max(1, data.count(b"\x0c"))


class PjlSim:
    """The simulated printer. Use as a context manager or start()/stop()."""

    def __init__(
        self,
        counter: int = 1000,
        *,
        seconds_per_page: float = 0.1,
        warmup: float = 0.0,
        lies_idle: bool = False,
        bare_pagecount: bool = False,
        pages_for: Callable[[bytes], int] = count_form_feeds,
    ) -> None:
        self.seconds_per_page = seconds_per_page
        self.warmup = warmup
        self.lies_idle = lies_idle
        self.bare_pagecount = bare_pagecount
        self.pages_for = pages_for
        self._counter = counter
        self._lock = threading.Lock()
        self._busy = False
        self._warming = False
        self._paper = threading.Event()
        self._paper.set()
        self._sheets: int | None = None  # None: a bottomless tray
        self._paper_needed = threading.Event()  # the engine waits for paper
        self._running = threading.Event()  # cleared by pause()
        self._running.set()
        self._queue: list[int] = []
        self._wake = threading.Condition(self._lock)
        self._stop = threading.Event()
        self.jobs: list[bytes] = []
        self.queries = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.host, self.port = self._listener.getsockname()[:2]
        self._threads: list[threading.Thread] = []

    # --- control --------------------------------------------------------------

    @property
    def counter(self) -> int:
        with self._lock:
            return self._counter

    def set_counter(self, value: int) -> None:
        with self._lock:
            self._counter = value

    @property
    def code(self) -> int:
        with self._lock:
            if not self._paper.is_set():
                return LOAD_PAPER
            if (self._busy or self._queue) and not self.lies_idle:
                return WARMUP if self._warming else PRINTING
            return READY

    def print_pages(self, pages: int) -> None:
        """Queue a job of `pages` pages, as if received over the network."""
        with self._wake:
            self._queue.append(pages)
            self._wake.notify_all()

    def paper_out(self, out: bool = True) -> None:
        """Remove (or put back) the paper: printing pauses, status 41002 at once."""
        with self._lock:
            self._sheets = 0 if out else None
        if out:
            self._paper.clear()
        else:
            self._paper_needed.clear()
            self._paper.set()

    def load_paper(self, sheets: int) -> None:
        """Leave `sheets` sheets in the tray (status ready until one more is needed)."""
        with self._lock:
            self._sheets = sheets
        self._paper_needed.clear()
        self._paper.set()

    def wait_paper_needed(self, timeout: float = 30.0) -> bool:
        """Wait until the engine stops for want of paper."""
        return self._paper_needed.wait(timeout)

    def pause(self) -> None:
        """Stop the engine before its next page; jobs still go into the buffer."""
        self._running.clear()

    def resume(self) -> None:
        """Let the engine print again."""
        self._running.set()

    def power_cycle(self) -> None:
        """HP NVRAM: the counter falls back to the last multiple of 10 saved."""
        with self._lock:
            self._counter -= self._counter % 10

    def wait_jobs(self, count: int, timeout: float = 30.0) -> bool:
        """Wait until `count` jobs have been received over the network."""
        with self._wake:
            return self._wake.wait_for(lambda: len(self.jobs) >= count, timeout)

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Block until every queued job is printed."""
        with self._wake:
            if not self._wake.wait_for(lambda: not self._busy and not self._queue, timeout):
                raise TimeoutError("the PJL simulator is still printing")

    # --- lifecycle ------------------------------------------------------------

    def start(self) -> PjlSim:
        for target in (self._accept_loop, self._engine):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._paper.set()
        self._running.set()
        with self._wake:
            self._wake.notify_all()
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> PjlSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- the network side -----------------------------------------------------

    def _accept_loop(self) -> None:
        self._listener.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _status_block(self, header: bytes) -> bytes:
        code = self.code
        online = b"FALSE" if code == LOAD_PAPER else b"TRUE"
        display = DISPLAYS.get(code, "").encode()
        return header + b'\r\nCODE=%d\r\nDISPLAY="%s"\r\nONLINE=%s\r\n\x0c' % (
            code,
            display,
            online,
        )

    def _answer(self, command: bytes) -> bytes:
        words = command.upper().split()
        if words[:3] == [b"@PJL", b"INFO", b"STATUS"]:
            self.queries += 1
            return self._status_block(b"@PJL INFO STATUS")
        if words[:3] == [b"@PJL", b"INFO", b"PAGECOUNT"]:
            if self.bare_pagecount:
                return b"@PJL INFO PAGECOUNT\r\n%d\r\n\x0c" % self.counter
            return b"@PJL INFO PAGECOUNT\r\nPAGECOUNT=%d\r\n\x0c" % self.counter
        if words[:3] == [b"@PJL", b"USTATUS", b"DEVICE=ON"]:
            return self._status_block(b"@PJL USTATUS DEVICE")
        return b""

    def _serve(self, conn: socket.socket) -> None:
        job = bytearray()
        pending = b""
        with conn:
            conn.settimeout(10)
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    text = line.replace(UEL, b"").strip()
                    if text.upper().startswith(b"@PJL"):
                        reply = self._answer(text)
                        if reply:
                            with contextlib.suppress(OSError):
                                conn.sendall(reply)
                    else:
                        job += line + b"\n"
            job += pending.replace(UEL, b"")
        if job.strip():
            pages = self.pages_for(bytes(job))
            with self._wake:
                self.jobs.append(bytes(job))
                self._queue.append(pages)
                self._wake.notify_all()

    # --- the print engine -----------------------------------------------------

    def _engine(self) -> None:
        while not self._stop.is_set():
            with self._wake:
                while not self._queue and not self._stop.is_set():
                    self._wake.wait(0.2)
                if self._stop.is_set():
                    return
                pages = self._queue.pop(0)
                self._busy = True
                self._warming = self.warmup > 0
            if self.warmup > 0 and self._stop.wait(self.warmup):
                return
            with self._lock:
                self._warming = False
            for _ in range(pages):
                if not self._ready_for_a_page() or self._stop.wait(self.seconds_per_page):
                    return
                if not self._ready_for_a_page():
                    return
                with self._lock:
                    self._counter += 1
                    if self._sheets is not None:
                        self._sheets -= 1
            with self._wake:
                self._busy = False
                self._wake.notify_all()

    def _ready_for_a_page(self) -> bool:
        """Wait for paper and for the engine to run; False once stopped."""
        with self._lock:
            if self._sheets == 0:
                self._paper.clear()  # noticed when picking the sheet
        if not self._paper.is_set():
            self._paper_needed.set()
        self._paper.wait()
        self._running.wait()
        return not self._stop.is_set()
