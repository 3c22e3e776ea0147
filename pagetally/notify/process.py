"""Running a site command (hook, ticket rewriter, external mailer) safely.

The command line is the administrator's text from the config, split with
`shlex` into an argument list: no shell ever sees it. Facts about the job reach
the command only through its environment (and, for the external mailer, its
standard input). It runs through pagetally.proc, in its own process group, so
that a timeout kills it and everything it started. Output is kept up to a
bound, the rest read and dropped; nothing here raises on a failing command: the
result says what happened. A site command may leave a daemon behind on purpose,
and has no memory limit (the site chose the program); converters get both.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pagetally import proc
from pagetally.proc import clean_env_value

__all__ = ["CommandResult", "clean_env_value", "first_line", "run_command", "split_command"]

#: Default seconds a site command may run before it is killed.
DEFAULT_TIMEOUT = 30.0
#: Bytes of a command's standard output kept (the rest is read and dropped).
MAX_OUTPUT = 64 * 1024


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What a site command did. `error` is a one-line reason when it did not run
    to completion (cannot be parsed or started, timed out); None otherwise."""

    argv: tuple[str, ...]
    returncode: int | None = None
    stdout: bytes = b""
    stderr: bytes = b""
    timed_out: bool = False
    error: str | None = None
    truncated: bool = False

    @property
    def ok(self) -> bool:
        """Ran, finished in time and exited 0."""
        return self.error is None and self.returncode == 0

    def describe(self) -> str:
        """One line for the log: how it ended."""
        if self.error is not None:
            return self.error
        if self.returncode is not None and self.returncode < 0:
            return f"killed by signal {-self.returncode}"
        return f"exit status {self.returncode}"


def split_command(command: str) -> list[str]:
    """The admin's command text as an argument list; ValueError on bad quoting."""
    argv = shlex.split(command, comments=False, posix=True)
    if not argv:
        raise ValueError("the command is empty")
    return argv


def fill_placeholders(argv: Sequence[str], values: Mapping[str, str]) -> list[str]:
    """PyKota's `%(name)s` placeholders replaced inside each argument of an admin's
    command (never splitting or adding arguments). ValueError when a value from a
    job would start an argument with '-' (a user named `-rf`): the command would
    read it as an option, so it is not run."""
    out: list[str] = []
    for arg in argv:
        filled = arg
        for key, value in values.items():
            filled = filled.replace(f"%({key})s", value)
        if filled.startswith("-") and not arg.startswith("-"):
            raise ValueError(
                f"the value {filled!r} from the job would be read as an option by the "
                "command: not run"
            )
        out.append(filled)
    return out


def run_command(
    command: str | Sequence[str],
    env: Mapping[str, str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    stdin: bytes | None = None,
    max_output: int = MAX_OUTPUT,
) -> CommandResult:
    """Run `command` (admin's text, or an argument list) with exactly `env` as
    its environment. Standard input is `stdin` (or empty); the first `max_output`
    bytes of stdout and of stderr are kept, the rest read and dropped.
    Never raises for the command's own failures."""
    try:
        argv = split_command(command) if isinstance(command, str) else list(command)
    except ValueError as exc:
        shown = command if isinstance(command, str) else " ".join(command)
        return CommandResult((), error=f"cannot parse command {shown!r}: {exc}")
    if not argv:
        return CommandResult((), error="the command is empty")
    args = tuple(argv)
    bounds = proc.Bounds(
        seconds=timeout, output=max_output, memory=None, overflow="drop", kill_leftovers=False
    )
    try:
        done = proc.run(argv, env=env, stdin=stdin or None, bounds=bounds)
    except OSError as exc:
        return CommandResult(args, error=f"cannot run {argv[0]!r}: {exc.strerror or exc}")
    return CommandResult(
        args,
        done.returncode,
        done.stdout,
        done.stderr,
        timed_out=done.timed_out,
        error=f"killed after {timeout:g} s without finishing" if done.timed_out else None,
        truncated=done.truncated,
    )


def first_line(data: bytes, limit: int = 200) -> str:
    """The first non-empty line of a command's output, for a log line."""
    for line in data.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line:
            return "".join(ch if ch.isprintable() else "?" for ch in line[:limit])
    return ""
