"""The notifier hub: `pagetally-client`s register here; backends ask and tell here.

Two listeners on one asyncio loop (its own thread inside `pagetally serve`):

- **clients** (`notifierlisten`, TCP; TLS with `notifiercert`/`notifierkey`,
  required unless the address is a loopback one): a client's first line is
  `{"op": "hello", "token": "ptk_..."}`; the token (webapi's API tokens) names
  the user, and the client's address is its host. From then on the hub pushes
  `notice` and `question` lines, the client sends `answer` and `status` lines.
  The user is never taken from the client: everything routed to a connection
  is its token's user's, so nothing about one user reaches another's client.
- **backends** (`notifierservice`, a Unix socket mode 0600 beside the store
  service's): `{"op": "ask", ...}` waits for the first client answer (or the
  timeout, or at once when the user has no client on the job's host);
  `{"op": "notify", ...}` queues a notice to every client of the user.

Cheap per client: an idle registered client is one socket, one StreamReader/
StreamWriter pair and one small object; no thread (bench/notifier.py measures
a thousand). Bounded everywhere: lines (8 KiB), clients (in all, per user),
failed hellos per address, requests per client (a token bucket), a client's
unsent output (a client that does not read is dropped).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from pagetally.core.dialogs import clean_text, is_loopback, parse_listen, same_host

if TYPE_CHECKING:
    from pagetally.config import Config
    from pagetally.storage.base import Store, TokenStore

log = logging.getLogger("pagetally.notifier")

MAX_LINE = 8192
HELLO_TIMEOUT = 10.0  # seconds a new connection has to say who it is
MAX_PER_USER = 16  # clients of one user at once (several hosts, several sessions)
FAILED_HELLOS = 5  # wrong tokens from one address within FAILED_WINDOW: then refused
FAILED_WINDOW = 60.0
MAX_FAILED_ADDRESSES = 10_000  # addresses remembered before old ones are pruned
REQUESTS_BURST = 20  # a client's requests: a bucket of 20, refilled 2 per second
REQUESTS_PER_S = 2.0
STATUS_EVERY = 1.0  # seconds between two status reads of one client
MAX_UNSENT = 256 * 1024  # bytes waiting for a client: beyond, it is dropped

#: token -> user name (None: not a valid token). May block (a store read).
Verify = Callable[[str], "str | None"]
#: user -> the status view's data (balance, quotas, last jobs). May block.
StatusOf = Callable[[str], Mapping[str, Any]]


@dataclass(frozen=True)
class NotifierSettings:
    listen: tuple[str, int] | None  # None: no client listener (backends get "noclient")
    backend_socket: str | None
    certfile: str | None = None
    keyfile: str | None = None
    max_clients: int = 5000


def tls_context(certfile: str | None, keyfile: str | None) -> ssl.SSLContext | None:
    if not certfile:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile, keyfile or None)
    return context


@dataclass(eq=False)
class _Client:
    user: str
    addresses: frozenset[str]
    writer: asyncio.StreamWriter
    tokens: float = REQUESTS_BURST
    refilled: float = field(default_factory=time.monotonic)
    last_status: float = 0.0
    waiting: dict[str, asyncio.Future[str]] = field(default_factory=dict)

    def allow(self) -> bool:
        """The request bucket: False when the client asks too often."""
        now = time.monotonic()
        self.tokens = min(REQUESTS_BURST, self.tokens + (now - self.refilled) * REQUESTS_PER_S)
        self.refilled = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def send(self, message: Mapping[str, Any]) -> bool:
        if self.writer.is_closing():
            return False
        transport = self.writer.transport
        if transport.get_write_buffer_size() > MAX_UNSENT:
            log.warning("notifier: a client of %s does not read; dropped", self.user)
            self.writer.close()
            return False
        self.writer.write(_line(message))
        return True


def _line(message: Mapping[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), default=str).encode() + b"\n"


class Hub:
    """The registry and the two listeners. `start()` runs them in a thread."""

    def __init__(self, settings: NotifierSettings, verify: Verify, status: StatusOf) -> None:
        self.settings = settings
        self.verify = verify
        self.status = status
        self.clients: dict[str, list[_Client]] = {}
        self.count = 0
        self.failures: dict[str, list[float]] = {}
        self.ids = itertools.count(1)
        self.loop = asyncio.new_event_loop()
        self.thread: threading.Thread | None = None
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.port: int | None = None  # the client port bound (tests listen on port 0)
        self._servers: list[asyncio.Server] = []
        self._ssl = tls_context(settings.certfile, settings.keyfile)
        listen = settings.listen
        if listen is not None and self._ssl is None and not is_loopback(listen[0]):
            raise ValueError(
                "notifierlisten on a network address needs notifiercert and "
                "notifierkey (TLS): tokens must not cross the network in clear"
            )

    # --- life ------------------------------------------------------------------
    def start(self) -> None:
        _room_for(self.settings.max_clients + 256)
        self.thread = threading.Thread(target=self._run, name="notifier", daemon=True)
        self.thread.start()
        self.ready.wait(15)
        if self.error is not None:
            raise self.error

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._open())
        except BaseException as e:  # reported by start()
            self.error = e
            self.ready.set()
            return
        self.ready.set()
        self.loop.run_forever()
        for server in self._servers:
            server.close()
        with contextlib.suppress(Exception):
            self.loop.run_until_complete(asyncio.sleep(0))
        self.loop.close()

    async def _open(self) -> None:
        listen, path = self.settings.listen, self.settings.backend_socket
        if listen is not None:
            server = await asyncio.start_server(
                self._client,
                listen[0],
                listen[1],
                ssl=self._ssl,
                limit=MAX_LINE,
                reuse_address=True,
            )
            self._servers.append(server)
            self.port = server.sockets[0].getsockname()[1]
        if path:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            old = os.umask(0o177)  # born 0600: only root (the backends) may ask
            try:
                self._servers.append(
                    await asyncio.start_unix_server(self._backend, path, limit=MAX_LINE)
                )
            finally:
                os.umask(old)

    def stop(self) -> None:
        if self.thread is None:
            return

        def close_all() -> None:
            for clients in self.clients.values():
                for client in clients:
                    client.writer.close()
            self.loop.stop()

        self.loop.call_soon_threadsafe(close_all)
        self.thread.join(10)
        path = self.settings.backend_socket
        if path:
            with contextlib.suppress(OSError):
                os.unlink(path)

    # --- clients ---------------------------------------------------------------
    def _refused_address(self, address: str) -> bool:
        now = time.monotonic()
        recent = [t for t in self.failures.get(address, ()) if now - t < FAILED_WINDOW]
        if recent:
            self.failures[address] = recent
        else:
            self.failures.pop(address, None)
        return len(recent) >= FAILED_HELLOS

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        keep_alive(writer.get_extra_info("socket"))
        peer = writer.get_extra_info("peername") or ("", 0)
        address = str(peer[0])
        client: _Client | None = None
        try:
            client = await self._hello(reader, writer, address)
            if client is None:
                return
            await self._serve_client(reader, client)
        except (OSError, asyncio.IncompleteReadError, ValueError, ssl.SSLError):
            pass
        finally:
            if client is not None:
                self._forget(client)
            writer.close()

    async def _hello(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, address: str
    ) -> _Client | None:
        def refuse(message: str) -> None:
            writer.write(_line({"op": "error", "message": message}))

        if self._refused_address(address):
            refuse("too many failed registrations from this address: try again later")
            return None
        if self.count >= self.settings.max_clients:
            refuse("the notifier serves as many clients as it may: try again later")
            return None
        try:
            line = await asyncio.wait_for(reader.readline(), HELLO_TIMEOUT)
            hello = json.loads(line)
        except (TimeoutError, ValueError, asyncio.LimitOverrunError):
            refuse("expected a hello line")
            return None
        token = hello.get("token") if isinstance(hello, dict) else None
        user = None
        if isinstance(token, str) and hello.get("op") == "hello":
            user = await self.loop.run_in_executor(None, self.verify, token)
        if user is None:
            if len(self.failures) > MAX_FAILED_ADDRESSES:  # many addresses: forget old ones
                now = time.monotonic()
                self.failures = {
                    a: ts for a, ts in self.failures.items() if now - ts[-1] < FAILED_WINDOW
                }
            self.failures.setdefault(address, []).append(time.monotonic())
            refuse("token refused")
            await writer.drain()
            return None
        mine = self.clients.setdefault(user, [])
        if len(mine) >= MAX_PER_USER:
            refuse(f"at most {MAX_PER_USER} clients per user")
            return None
        client = _Client(user, frozenset({_canonical(address)}), writer)
        mine.append(client)
        self.count += 1
        client.send({"op": "welcome", "user": user, "host": address})
        return client

    def _forget(self, client: _Client) -> None:
        mine = self.clients.get(client.user, [])
        if client in mine:
            mine.remove(client)
            self.count -= 1
        if not mine:
            self.clients.pop(client.user, None)
        for waiting in client.waiting.values():
            if not waiting.done():
                waiting.cancel()

    async def _serve_client(self, reader: asyncio.StreamReader, client: _Client) -> None:
        while True:
            line = await reader.readline()
            if not line:
                return
            try:
                parsed = json.loads(line)
            except ValueError:
                parsed = None
            message: dict[str, Any] = parsed if isinstance(parsed, dict) else {}
            op = message.get("op")
            waiting = client.waiting.get(str(message.get("id"))) if op == "answer" else None
            if waiting is not None:  # an answer the hub asked for: never limited
                if not waiting.done():
                    waiting.set_result(str(message.get("value", ""))[:200])
                continue
            if not client.allow():
                client.send({"op": "error", "message": "too many requests: slow down"})
                continue
            if op == "status":
                await self._send_status(client)
            elif op == "ping":
                client.send({"op": "pong"})

    async def _send_status(self, client: _Client) -> None:
        now = time.monotonic()
        if now - client.last_status < STATUS_EVERY:
            client.send({"op": "error", "message": "status asked too often: slow down"})
            return
        client.last_status = now
        try:
            data = await self.loop.run_in_executor(None, self.status, client.user)
        except Exception as e:  # the store down: the client says so
            log.warning("notifier: status of %s: %s", client.user, e)
            client.send({"op": "error", "message": "the status cannot be read now"})
            return
        client.send({"op": "status", **data})

    # --- backends ------------------------------------------------------------------
    async def _backend(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    request = json.loads(line)
                    reply = await self._answer_backend(request)
                except (ValueError, TypeError, KeyError) as e:
                    reply = {"error": f"bad request: {e}"}
                writer.write(_line(reply))
                await writer.drain()
        except (OSError, ValueError):
            pass
        finally:
            writer.close()

    async def _answer_backend(self, request: dict[str, Any]) -> dict[str, Any]:
        op, user = request["op"], str(request["user"])
        if op == "notify":
            notice = {
                k: clean_text(str(v)) if isinstance(v, str) else v
                for k, v in dict(request["notice"]).items()
            }
            return {"sent": self.notify(user, notice)}
        if op == "ask":
            return await self.ask(user, str(request.get("host") or ""), dict(request["question"]))
        raise ValueError(f"unknown op {op!r}")

    def notify(self, user: str, notice: Mapping[str, Any]) -> int:
        """Send a notice to every client of `user`; how many got it."""
        return sum(c.send({"op": "notice", **notice}) for c in list(self.clients.get(user, ())))

    async def _addresses_of(self, host: str) -> frozenset[str]:
        """The addresses of a job's origin host (itself when it is one)."""
        found = {_canonical(host)}
        if not _is_address(host) and not is_loopback(host):
            with contextlib.suppress(OSError, TimeoutError):
                infos = await asyncio.wait_for(
                    self.loop.getaddrinfo(host, None, type=socket.SOCK_STREAM), 2.0
                )
                found |= {_canonical(str(info[4][0])) for info in infos}
        return frozenset(found)

    async def ask(self, user: str, host: str, question: dict[str, Any]) -> dict[str, Any]:
        """The first answer of the user's clients on `host`, or why there is none."""
        timeout = min(max(float(question.get("timeout", 30)), 0.1), 600.0)
        hosts = await self._addresses_of(host)
        targets = [
            c for c in self.clients.get(user, ()) if any(same_host(h, c.addresses) for h in hosts)
        ]
        if not targets:
            return {"answer": None, "source": "noclient"}
        qid = f"q{next(self.ids)}"
        message = {
            "op": "question",
            "id": qid,
            "kind": str(question.get("kind", "")),
            "text": clean_text(str(question.get("text", ""))),
            "choices": [clean_text(str(c), 64) for c in question.get("choices", ())][:50],
            "timeout": timeout,
        }
        first: asyncio.Future[str] = self.loop.create_future()

        def on_answer(done: asyncio.Future[str]) -> None:
            if not done.cancelled() and not first.done():
                first.set_result(done.result())

        for client in targets:
            waiting: asyncio.Future[str] = self.loop.create_future()
            waiting.add_done_callback(on_answer)
            client.waiting[qid] = waiting
            client.send(message)
        try:
            value = await asyncio.wait_for(first, timeout)
            return {"answer": value, "source": "client"}
        except TimeoutError:
            return {"answer": None, "source": "timeout"}
        finally:
            for client in targets:
                left = client.waiting.pop(qid, None)
                if left is not None and not left.done():
                    left.cancel()
                    client.send({"op": "withdrawn", "id": qid})


def hub_from_config(config: Config, store: Store) -> Hub | None:
    """The hub `pagetally serve` runs, started (None: `notifierlisten: none`)."""
    from pagetally.errors import ConfigError
    from pagetally.service.notifier_store import status_reader, verifier

    def get(name: str) -> str | None:
        value = config.get(name)
        return None if value is None else str(value)

    try:
        listen = parse_listen(get("notifierlisten"))
    except ValueError as e:
        raise ConfigError(str(e), directive="notifierlisten") from None
    if listen is None:
        return None
    backend = get("notifierservice")
    settings = NotifierSettings(
        listen,
        None if backend in (None, "", "none") else backend,
        certfile=get("notifiercert"),
        keyfile=get("notifierkey"),
        max_clients=config.get("notifiermaxclients"),
    )
    if not hasattr(store, "verify_api_token"):
        raise ConfigError(
            "the notifier checks clients' API tokens, which this store does "
            "not keep (an SQL store does)",
            directive="notifierlisten",
        )
    try:
        hub = Hub(
            settings,
            verifier(cast("TokenStore", store)),
            status_reader(store, config.rule_settings().currency),
        )
        hub.start()
    except (ValueError, OSError, ssl.SSLError) as e:
        raise ConfigError(f"the notifier cannot start: {e}", directive="notifierlisten") from None
    log.info("notifier: pagetally-clients on %s:%s", listen[0], hub.port)
    return hub


def keep_alive(sock: Any) -> None:
    """TCP keep-alive on a client's connection: a laptop that left without
    closing is dropped after about 90 s (its questions then get the default at
    once instead of waiting for a client that is gone)."""
    if sock is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)


def _room_for(files: int) -> None:
    """Raise the soft limit of open files to `files` (within the hard limit): a
    registered client is an open socket, and the usual soft limit is 1024."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = files if hard == resource.RLIM_INFINITY else min(files, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def _is_address(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _canonical(address: str) -> str:
    """An address as one spelling (`::ffff:10.0.0.1` is 10.0.0.1)."""
    import ipaddress

    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address.lower()
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return str(ip.ipv4_mapped)
    return str(ip)
