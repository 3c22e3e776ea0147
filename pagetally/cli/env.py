"""The command line's environment: streams, configuration, clock, store.

Injected (as Click's `obj`) so that the whole CLI runs in-process in tests:
`CliRunner().invoke(app, args, obj=Env(clock=...))`. Commands never read
`sys.stdout`, `os.environ` or the wall clock directly.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import IO, TYPE_CHECKING

from pagetally.cli import typer_click as click
from pagetally.errors import ReadOnlyStore

if TYPE_CHECKING:  # imported where used: every command pays for this module's imports
    from rich.console import Console

    from pagetally.config import Config
    from pagetally.storage.base import Store

#: Table width when the output is not a terminal.
WIDE = 160


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Env:
    """What a command may touch. Every field has a production default."""

    config_path: str | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    clock: Callable[[], datetime] = _utcnow
    ticks: Callable[[], float] = time.monotonic  # elapsed time (progress bars)
    tz: tzinfo | None = None  # how people's dates are read (None: local time)
    stdout: IO[str] | None = None
    stderr: IO[str] | None = None
    width: int | None = None  # console width for tables (None: the terminal's)
    force_terminal: bool | None = None  # None: ask the stream (tests force progress bars)
    _config: Config | None = field(default=None, repr=False)

    # --- streams -------------------------------------------------------------
    @property
    def out(self) -> IO[str]:
        return self.stdout if self.stdout is not None else sys.stdout

    @property
    def err(self) -> IO[str]:
        return self.stderr if self.stderr is not None else sys.stderr

    def console(self, *, stderr: bool = False) -> Console:
        """A Rich console on stdout (tables) or stderr (progress, notes)."""
        from rich.console import Console

        console = Console(
            file=self.err if stderr else self.out,
            width=self.width,
            highlight=False,
            soft_wrap=False,
            force_terminal=self.force_terminal,
        )
        if self.width is None and not console.is_terminal:
            console.width = WIDE  # piped to a file or pager: do not squeeze tables
        return console

    def surely_no_terminal(self, *, stderr: bool = False) -> bool:
        """Whether `console(stderr=...)` would say it is no terminal, known without
        importing Rich (~50 ms of start-up): nothing forces one and the stream is
        not a tty. False when unsure (then ask the console)."""
        if self.force_terminal is not None:
            return not self.force_terminal
        for environ in (self.environ, os.environ):  # (Rich reads the process's)
            if environ.get("TTY_COMPATIBLE") == "1" or "FORCE_COLOR" in environ:
                return False
        isatty = getattr(self.err if stderr else self.out, "isatty", None)
        try:
            return isatty is None or not isatty()
        except ValueError:  # a closed stream (Rich says no terminal too)
            return True

    def note(self, text: str) -> None:
        """One line for a person on stderr (warnings, what was skipped)."""
        print(text, file=self.err)

    # --- time ----------------------------------------------------------------
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return self.clock().astimezone(UTC)

    def local_tz(self) -> tzinfo:
        tz = self.tz or datetime.now().astimezone().tzinfo
        assert tz is not None
        return tz

    # --- configuration and store --------------------------------------------
    def config(self) -> Config:
        if self._config is None:
            from pagetally.config import load_config

            self._config = load_config(self.config_path, self.environ)
            for line in self._config.warnings:
                self.note(f"warning: {line}")
        return self._config

    def reload_config(self) -> None:
        """Read the configuration again on next use (after a command wrote it)."""
        self._config = None

    @contextmanager
    def store(self, *, write: bool = False, create: bool = False) -> Iterator[Store]:
        """Open the store read-only, or read-write for commands that change it.

        A server database needs the admin credentials (the secrets file) to
        write: without them the write is refused before anything is opened.
        A SQLite file that does not exist is refused (naming its path) unless
        `create` (`db upgrade`, setup): a typo must not make an empty store.
        """
        with no_collection():  # SQLAlchemy's and the store's imports (start-up)
            from pagetally.storage import open_reads, open_store
            from pagetally.storage.engine import sqlite_exists

        cfg = self.config()
        settings = cfg.store_settings()
        if write and settings.backend != "sqlite" and not cfg.is_admin:
            raise ReadOnlyStore(
                "this command changes the store, but only the read-only credentials "
                f"are available (the admin file beside {cfg.path} is missing or "
                "unreadable to you)"
            )
        if not create:
            sqlite_exists(settings, str(cfg.path))
        read = None if write else cfg.read_store_settings()
        with no_collection():
            store = open_store(settings, readonly=False) if write else open_reads(settings, read)
        try:
            yield store
        finally:
            store.close()


@contextmanager
def no_collection(*, freeze: bool | None = None) -> Iterator[None]:
    """No cyclic garbage collection meanwhile, for work that makes many long-lived
    objects none of which is in a cycle: importing SQLAlchemy and the store (the
    collections their allocations trigger cost ~10% of a store command's
    start-up), a large report (each collection would walk its hundreds of
    thousands of tuples again). What is alive at the end is frozen out of the
    collector (`gc.freeze`; reference counting still frees it) when `freeze`, by
    default in a process that runs one command (pagetally.cli.ONE_COMMAND_PROCESS):
    re-enabled, it would otherwise walk all of it again and again (a third of
    dumpykota's time); tests running commands in-process do not freeze theirs."""
    import pagetally.cli

    if freeze is None:
        freeze = pagetally.cli.ONE_COMMAND_PROCESS
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if freeze:
                gc.freeze()
            gc.enable()


def get_env(ctx: click.Context | None = None) -> Env:
    """The Env of the running command (created with defaults when none was given)."""
    ctx = ctx or click.get_current_context()
    env: Env = ctx.ensure_object(Env)
    return env
