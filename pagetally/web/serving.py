"""Running the web interface under uvicorn: alone (`pagetally web`) or in a
thread of `pagetally serve` (`webserve: yes`)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import uvicorn

if TYPE_CHECKING:
    from pagetally.config import Config
    from pagetally.storage.base import WebAdminStore


def server(app: Any, host: str, port: int, *, proxy_headers: bool = False) -> uvicorn.Server:
    """A uvicorn server for `app`. Forwarded-for headers are not read (the client
    address must be the TCP peer, which `webproxies` is matched against)."""
    return uvicorn.Server(config(app, host, port, proxy_headers=proxy_headers))


def config(app: Any, host: str, port: int, **more: Any) -> uvicorn.Config:
    """uvicorn's settings for the web interface: quiet, no server header; `more`
    are uvicorn.Config's other arguments (workers, factory)."""
    more.setdefault("proxy_headers", False)
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        access_log=False,
        server_header=False,
        **more,
    )


def start_in_thread(srv: uvicorn.Server) -> threading.Thread:
    """Serve in a daemon thread; stop with `srv.should_exit = True` then join."""
    thread = threading.Thread(target=srv.run, name="pagetally-web", daemon=True)
    thread.start()
    return thread


def address(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


class Beside:
    """The web interface running in a thread of another process (`pagetally serve`
    with `webserve: yes`), over that process's store."""

    def __init__(self, cfg: Config, store: WebAdminStore, *, port: int | None = None) -> None:
        from pagetally.web.app import create_app
        from pagetally.web.settings import web_settings

        settings = web_settings(cfg)
        self.server = server(
            create_app(settings, store, config=cfg),
            settings.host,
            settings.port if port is None else port,
        )
        self.thread = start_in_thread(self.server)

    def wait_started(self, timeout: float = 30.0) -> int:
        """The port it listens on, once it does; RuntimeError if it stopped instead."""
        import time

        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the web interface did not start (port in use?)")
            time.sleep(0.05)
        port: int = self.server.servers[0].sockets[0].getsockname()[1]
        return port

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
