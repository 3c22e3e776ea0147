"""`pagetally web --workers N`: the web interface in N uvicorn worker processes
sharing one listening socket (one process runs Python on one core at a time).

What a process would otherwise keep for itself is shared: the login and quote
limits are kept in the store (web/ratelimit.py, table `webthrottle`), logouts
too (`webrevoked`), and every worker signs cookies and CSRF tokens with the
same key: `websecret`, or when it is unset a random key made by the parent
process for this run and handed to the workers in a file only its owner may
read (mode 0600, in a private folder removed when the server stops).
Each worker reads the configuration itself (the parent passes its path).
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pagetally.config import Config

#: The configuration file (and admin file) a worker reads, and the key's file.
ENV_CONFIG = "PAGETALLY_WEB_CONFIG"
ENV_ADMIN = "PAGETALLY_WEB_ADMIN"
ENV_SECRET_FILE = "PAGETALLY_WEB_SECRET_FILE"  # noqa: S105 - a variable's name


def default_workers() -> int:
    """One per core, at most 4 (each holds its own imports and connections)."""
    return max(1, min(os.cpu_count() or 1, 4))


def worker_app() -> Any:
    """The application of one worker process (uvicorn's factory)."""
    from pagetally.config import load_config
    from pagetally.web.app import create_app_from_config

    cfg = load_config(os.environ[ENV_CONFIG], admin_path=os.environ.get(ENV_ADMIN) or None)
    key_file = os.environ.get(ENV_SECRET_FILE)
    secret = Path(key_file).read_text().strip() if key_file else None
    return create_app_from_config(cfg, secret=secret)


def serve_workers(cfg: Config, host: str, port: int, workers: int) -> None:
    """Serve with `workers` processes until interrupted."""
    folder = None
    os.environ[ENV_CONFIG] = cfg.path
    os.environ[ENV_ADMIN] = cfg.admin_path or ""
    if not cfg.get("websecret"):
        folder = tempfile.mkdtemp(prefix="pagetally-web-")  # mode 0700
        key = Path(folder) / "websecret"
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(32))
        os.environ[ENV_SECRET_FILE] = str(key)
    try:
        serve_processes("pagetally.web.workers:worker_app", host, port, workers)
    finally:
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


def serve_processes(factory: str, host: str, port: int, workers: int) -> None:
    """uvicorn's supervisor of `workers` processes, each serving the application
    the import string `factory` makes, on one listening socket."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from pagetally.web.serving import config

    settings = config(factory, host, port, factory=True, workers=workers)
    sock = listening_socket(host, port)
    Multiprocess(settings, target=uvicorn.Server(settings).run, sockets=[sock]).run()


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) that worker processes inherit. Made as
    IPPROTO_TCP: asyncio sets TCP_NODELAY only on connections accepted from such
    a socket (uvicorn's own `bind_socket` makes it with protocol 0, and each
    answer's body then waited for the client's delayed ACK of its headers: 40 ms)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock
