"""Running the web interface under uvicorn: alone (`pagetally web`) or in a
thread of `pagetally serve` (`webserve: yes`)."""

from __future__ import annotations

import threading
from typing import Any

import uvicorn


def server(app: Any, host: str, port: int, *, proxy_headers: bool = False) -> uvicorn.Server:
    """A uvicorn server for `app`. Forwarded-for headers are not read (the client
    address must be the TCP peer, which `webproxies` is matched against)."""
    config = uvicorn.Config(app, host=host, port=port, proxy_headers=proxy_headers,
                            log_level="warning", access_log=False, server_header=False)
    return uvicorn.Server(config)


def start_in_thread(srv: uvicorn.Server) -> threading.Thread:
    """Serve in a daemon thread; stop with `srv.should_exit = True` then join."""
    thread = threading.Thread(target=srv.run, name="pagetally-web", daemon=True)
    thread.start()
    return thread


def address(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"
