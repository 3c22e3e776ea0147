"""`pagetally serve`: run the resident accounting service (see docs/service.md)."""

from __future__ import annotations

import logging
import logging.handlers
import subprocess
import sys
from typing import TYPE_CHECKING, Annotated

import typer

from pagetally.cli.env import get_env

if TYPE_CHECKING:
    from pagetally.config import Config
    from pagetally.storage.base import Store
    from pagetally.web.serving import Beside


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    socket_path: Annotated[
        str | None,
        typer.Option(
            "--socket",
            metavar="PATH",
            help="Socket to listen on (else the accountingservice directive).",
        ),
    ] = None,
    max_clients: Annotated[
        int, typer.Option("--max-clients", min=1, help="Backends served at once.")
    ] = 64,
    jobs: Annotated[
        bool, typer.Option("--jobs/--no-jobs", help="Also run the job runner for the thin backend.")
    ] = True,
) -> None:
    """Serve the store to CUPS backends on a Unix socket, until SIGTERM.

    The backend then skips loading the database layer for every job, and the
    database's read-write credentials stay in this process. Run it as root (the
    socket is mode 0600: only root, which runs the backends, may connect).
    """
    from pagetally.errors import ConfigError
    from pagetally.service import jobs_socket
    from pagetally.service.jobs import start_runner
    from pagetally.service.server import AccountingService, prepare_socket_path
    from pagetally.storage import open_store
    from pagetally.storage.engine import describe

    env = get_env()
    config = env.config()
    path = socket_path or config.get_str("accountingservice")
    if not path or path == "none":
        raise ConfigError(
            "no socket to listen on: accountingservice is none", directive="accountingservice"
        )
    _setup_logging(config.get_str("logger"), config.get_bool("debug"))
    prepare_socket_path(path)  # another service listening: refused before anything starts
    runner = start_runner(jobs_socket(path)) if jobs else None
    settings = config.store_settings()
    store = open_store(settings, readonly=False)
    from pagetally.service.notifier import hub_from_config

    hub = None
    web = None
    try:
        hub = hub_from_config(config, store)  # pagetally-clients (notifierlisten)
        web = _start_web(config, store)
        service = AccountingService(
            store, path, describe=describe(settings), max_clients=max_clients
        )
        service.run_until_signalled()
    finally:
        if hub is not None:
            hub.stop()
        if web is not None:
            web.stop()
        store.close()
        if runner is not None:
            _stop_runner(runner)


def _start_web(config: Config, store: Store) -> Beside | None:
    """The web interface beside the service when `webserve` says so, started."""
    if not config.get("webserve"):
        return None
    from pagetally.web.app import web_store
    from pagetally.web.serving import Beside, address

    web = Beside(config, web_store(store, config))
    port = web.wait_started()
    logging.getLogger("pagetally").info("web interface on %s", address(config.get("webhost"), port))
    return web


def _stop_runner(runner: subprocess.Popen[bytes]) -> None:
    runner.terminate()
    try:
        runner.wait(30)
    except subprocess.TimeoutExpired:
        runner.kill()
        runner.wait()


def _setup_logging(logger: str, debug: bool) -> None:
    """stderr (systemd's journal keeps it) or the system log, as `logger` says."""
    handler: logging.Handler
    if logger == "system":
        try:
            handler = logging.handlers.SysLogHandler(address="/dev/log")
            handler.setFormatter(logging.Formatter("pagetally-serve: %(message)s"))
        except OSError:
            handler = logging.StreamHandler(sys.stderr)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger("pagetally")
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if debug else logging.INFO)
