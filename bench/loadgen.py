"""A light closed-loop HTTP/1.1 load generator for the web benchmarks.

Each client is its own keep-alive TCP connection with its own credentials (a
bearer token or a session cookie) and sends its next request only when the
last answer has been read whole. Clients are spread over `processes` worker
processes, each running its clients on one asyncio loop with raw streams: a
request is a few prebuilt bytes and an answer is read by its Content-Length
(or its chunks), so the client costs far less CPU per request than httpx in
threads (which the benches keep as `--client httpx`, to compare).

`run(...)` returns each path's latencies (seconds, as the client saw them) and
the CPU time the client processes used.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import re
import resource
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: a "next page" step: its first request's answer gives the URL of the second
NextOf = Callable[[bytes], str | None]


@dataclass(frozen=True)
class Step:
    """One request of a client's round, timed under `label`: `path` as it is, or
    with `next_of` the path that `next_of` finds in the answer to `path` (asked
    first, not timed). An HTML `page` is asked with the session cookie, else with
    the bearer token; an `admin` step with the admin's."""

    label: str
    path: str
    admin: bool = False
    page: bool = False
    next_of: NextOf | None = None


@dataclass(frozen=True)
class Client:
    """One connection's credentials, each a header line."""

    token: str
    admin_token: str
    cookie: str
    admin_cookie: str

    def header(self, step: Step) -> str:
        if step.page:
            return self.admin_cookie if step.admin else self.cookie
        return self.admin_token if step.admin else self.token


_CL = re.compile(rb"\r\ncontent-length: *(\d+)", re.I)


async def _answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    m = _CL.search(head)
    if m is not None:
        return status, await reader.readexactly(int(m.group(1)))
    if b"chunked" not in head.lower():
        raise RuntimeError("an answer with neither length nor chunks")
    body = bytearray()
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, bytes(body)
        body += chunk[:-2]


def _request(path: str, header: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{header}\r\n\r\n".encode()


async def _client(
    port: int, who: Client, steps: Sequence[Step], start: float, end: float
) -> dict[str, list[float]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    times: dict[str, list[float]] = {s.label: [] for s in steps}
    fixed = {s.label: _request(s.path, who.header(s)) for s in steps if s.next_of is None}
    perf = time.perf_counter
    await asyncio.sleep(max(0.0, start - time.time()))
    try:
        while time.time() < end:
            for s in steps:
                header = who.header(s)
                if s.next_of is None:
                    data = fixed[s.label]
                else:  # the page before it first (not timed)
                    writer.write(_request(s.path, header))
                    status, body = await _answer(reader)
                    url = s.next_of(body)
                    if url is None:
                        continue
                    data = _request(url, header)
                t = perf()
                writer.write(data)
                status, body = await _answer(reader)
                times[s.label].append(perf() - t)
                if status != 200:
                    raise RuntimeError(f"{s.label}: HTTP {status}: {body[:200]!r}")
    finally:
        writer.close()
    return times


def _worker(
    port: int,
    clients: Sequence[Client],
    steps: Sequence[Step],
    start: float,
    end: float,
    out: object,
) -> None:
    async def main() -> list[dict[str, list[float]]]:
        return await asyncio.gather(*(_client(port, c, steps, start, end) for c in clients))

    try:
        results = asyncio.run(main())
    except Exception as exc:
        out.send(f"{type(exc).__name__}: {exc}")  # type: ignore[attr-defined]
        return
    merged: dict[str, list[float]] = {s.label: [] for s in steps}
    for r in results:
        for k, v in r.items():
            merged[k] += v
    use = resource.getrusage(resource.RUSAGE_SELF)
    out.send((merged, use.ru_utime + use.ru_stime))  # type: ignore[attr-defined]
    out.close()  # type: ignore[attr-defined]


def run(
    port: int,
    clients: Sequence[Client],
    steps: Sequence[Step],
    seconds: float,
    processes: int | None = None,
) -> tuple[dict[str, list[float]], float]:
    """Every client's latencies by step label, and the client processes' CPU seconds."""
    n = processes or min(len(clients), max(1, (os.cpu_count() or 2) * 2))
    ctx = multiprocessing.get_context("fork")
    start = time.time() + 0.5 + 0.05 * n
    end = start + seconds
    pipes, procs = [], []
    for k in range(n):
        mine = list(clients[k::n])
        if not mine:
            continue
        recv, send = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_worker, args=(port, mine, steps, start, end, send))
        p.start()
        pipes.append(recv)
        procs.append(p)
    times: dict[str, list[float]] = {s.label: [] for s in steps}
    cpu = 0.0
    for recv, p in zip(pipes, procs, strict=True):
        answer = recv.recv() if recv.poll(end - time.time() + 120) else "no answer"
        p.join()
        if isinstance(answer, str) or p.exitcode:
            raise SystemExit(
                f"a client process failed: {answer if isinstance(answer, str) else p.exitcode}"
            )
        got, used = answer
        cpu += used
        for k, v in got.items():
            times[k] += v
    return times, cpu
