"""One lock per physical printer, so that queues sharing it do not mix their counts.

Hardware accounting reads the printer's life counter before and after a job;
a second queue printing to the same printer in between would be charged to
the first. Every backend process holds `printer_lock(identity.keys)` from the
reading before the job to the reading after it. A lock is an flock(2) on a file
in `lock_dir` (released by the kernel if the process dies). When the printer is
busy with another queue's job, `on_wait` is told once (the backend shows it as
the job's state in CUPS), then the lock is waited for.

What a printer is (`printer_identity`): not the host name as written in the
device URI, nor its port or scheme, but the addresses that name resolves to, so
that `socket://10.0.0.5:9100`, `ipp://printer.example/ipp/print` and
`ipps://[2001:db8::5]/` share a lock when printer.example resolves to those
addresses. A queue holds one lock per address plus one for the lower-cased name
(taken in one global order, so never a deadlock): two queues are kept apart as
soon as they share one. Resolution is bounded in time (a hung resolver does not
hang the job); when it fails, the name alone is the key, and the log says so.
A site can name the physical printer itself (`physicalprinter`), for NAT or
addresses that cannot be matched (an IPv4 and an IPv6 address of one printer).
"""

from __future__ import annotations

import fcntl
import hashlib
import ipaddress
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from pagetally.errors import DeviceError

RESOLVE_TIMEOUT = 2.0  # seconds; a name a printer is known by resolves much faster

Resolver = Callable[[str], Sequence[str]]  # host name -> its addresses, as text


@dataclass(frozen=True, slots=True)
class PrinterIdentity:
    """The locks that stand for one physical printer, and how to name it."""

    keys: tuple[str, ...]  # canonical addresses and/or a lower-cased name, sorted
    name: str  # for messages: the host as written, or the configured name
    fallback: str = ""  # why the printer is known by its name only ("" if resolved)


def system_resolver(host: str) -> list[str]:
    """The host's addresses from the system's resolver (getaddrinfo)."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]


def canonical_address(text: str) -> str | None:
    """`10.0.0.5`, `::FFFF:10.0.0.5` -> 10.0.0.5; `2001:DB8:0::5` -> 2001:db8::5;
    None for a text that is not an address (a host name)."""
    try:
        addr = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return str(addr.ipv4_mapped)
    return str(addr)


def resolve_bounded(host: str, resolver: Resolver, timeout: float) -> list[str]:
    """`resolver(host)` in a daemon thread, waited for at most `timeout` seconds
    (a thread left hanging in the resolver does not keep the process alive).
    Raises OSError (TimeoutError when it took too long)."""
    result: list[Sequence[str]] = []
    failure: list[BaseException] = []
    done = threading.Event()

    def work() -> None:
        try:
            result.append(resolver(host))
        except Exception as e:  # any failure of the resolver means: not resolved
            failure.append(e)
        finally:
            done.set()

    threading.Thread(target=work, name=f"resolve {host}", daemon=True).start()
    if not done.wait(timeout):
        raise TimeoutError(f"no answer from the resolver within {timeout:g} s")
    if failure:
        raise OSError(str(failure[0]) or type(failure[0]).__name__)
    return list(result[0])


def printer_identity(
    host: str | None,
    *,
    device_uri: str = "",
    explicit: str | None = None,
    resolver: Resolver = system_resolver,
    timeout: float = RESOLVE_TIMEOUT,
) -> PrinterIdentity:
    """Who the printer at `host` (from the device URI) is, for its lock.

    `explicit` (the `physicalprinter` directive) wins; a host that is an address
    is that address; a host name is its resolved addresses plus the name; a
    device without a host (usb://...) is its device URI."""
    if explicit and explicit.strip():
        name = explicit.strip()
        return PrinterIdentity((name.lower(),), name)
    if not host:
        return PrinterIdentity((device_uri,), device_uri)
    literal = canonical_address(host)
    if literal is not None:
        return PrinterIdentity((literal,), host)
    name = host.strip().rstrip(".").lower()
    try:
        found = resolve_bounded(name, resolver, timeout)
    except OSError as e:
        return PrinterIdentity((name,), host, f"cannot resolve {host}: {e}")
    addresses = {a for a in map(canonical_address, found) if a is not None}
    if not addresses:
        return PrinterIdentity((name,), host, f"{host} resolves to no address")
    return PrinterIdentity(tuple(sorted(addresses | {name})), host)


def lock_path(lock_dir: Path, key: str) -> Path:
    """The lock file for a printer key (an address or name): readable, collision-free."""
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", key.lower())[:64]
    digest = hashlib.sha256(key.lower().encode()).hexdigest()[:12]
    return lock_dir / f"{safe}-{digest}.lock"


@contextmanager
def printer_lock(
    key: str | Sequence[str],
    lock_dir: Path,
    *,
    timeout: float | None = None,
    poll: float = 0.1,
    on_wait: Callable[[str], None] | None = None,
    name: str | None = None,
) -> Iterator[None]:
    """Hold the printer's lock(s) — one key, or all of a `PrinterIdentity`'s keys,
    taken in one global order; wait at most `timeout` seconds in all (None: for
    ever). `name` says which printer in messages (default: the key)."""
    keys = [key] if isinstance(key, str) else list(key)
    label = name or (keys[0] if keys else "")
    lock_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    paths = sorted({lock_path(lock_dir, k) for k in keys})
    deadline = None if timeout is None else time.monotonic() + timeout
    told = False
    with ExitStack() as held:
        for path in paths:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            held.callback(os.close, fd)  # closing releases the lock
            if _try_lock(fd):
                continue
            if on_wait is not None and not told:
                on_wait(f"printer {label} is busy with another queue's job; waiting for it")
                told = True
            _wait_lock(fd, label, deadline, timeout, poll)
        yield


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _wait_lock(
    fd: int, label: str, deadline: float | None, timeout: float | None, poll: float
) -> None:
    if deadline is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    while not _try_lock(fd):
        if time.monotonic() >= deadline:
            raise DeviceError(
                f"printer {label} is busy with another queue's job for more than {timeout:.0f} s"
            )
        time.sleep(poll)
