"""Running a site command (hook, ticket rewriter, external mailer) safely.

The command line is the administrator's text from the config, split with
`shlex` into an argument list: no shell ever sees it. Facts about the job reach
the command only through its environment (and, for the external mailer, its
standard input). The command runs in its own session so that a timeout kills
it and everything it started. Output is captured up to a bound; nothing here
raises on a failing command: the result says what happened.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO

#: Default seconds a site command may run before it is killed.
DEFAULT_TIMEOUT = 30.0
#: Bytes of a command's standard output kept (the rest is read and dropped).
MAX_OUTPUT = 64 * 1024
#: Characters kept of one environment value (Linux refuses strings over 128 KiB).
MAX_ENV_VALUE = 32 * 1024


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
                "command: not run")
        out.append(filled)
    return out


def clean_env_value(value: str) -> str:
    """A value an environment can hold: no NUL, encodable, bounded in length.

    Everything else (quotes, `$(...)`, backticks, newlines) is kept verbatim:
    an environment value is data, never parsed by us.
    """
    value = value.replace("\0", "")
    if len(value) > MAX_ENV_VALUE:
        value = value[:MAX_ENV_VALUE]
    try:
        value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value


def _clean_env(env: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in env.items():
        if not key or "=" in key or "\0" in key:
            continue
        out[key] = clean_env_value(value)
    return out


def _read_bounded(handle: IO[bytes], limit: int) -> tuple[bytes, bool]:
    handle.seek(0, os.SEEK_END)
    size = handle.tell()
    handle.seek(0)
    return handle.read(limit), size > limit


def run_command(
    command: str | Sequence[str],
    env: Mapping[str, str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    stdin: bytes | None = None,
    max_output: int = MAX_OUTPUT,
) -> CommandResult:
    """Run `command` (admin's text, or an argument list) with exactly `env` as
    its environment. Standard input is `stdin` (or empty); stdout and stderr are
    captured to temporary files and the first `max_output` bytes of each kept.
    Never raises for the command's own failures."""
    try:
        argv = split_command(command) if isinstance(command, str) else list(command)
    except ValueError as exc:
        shown = command if isinstance(command, str) else " ".join(command)
        return CommandResult((), error=f"cannot parse command {shown!r}: {exc}")
    if not argv:
        return CommandResult((), error="the command is empty")
    args = tuple(argv)
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.TemporaryFile() as inp,
    ):
        if stdin:
            inp.write(stdin)
            inp.seek(0)
        try:
            proc = subprocess.Popen(  # an argument list, no shell
                argv,
                stdin=inp,
                stdout=out,
                stderr=err,
                env=_clean_env(env),
                close_fds=True,
                start_new_session=True,
            )
        except OSError as exc:
            return CommandResult(args, error=f"cannot run {argv[0]!r}: {exc.strerror or exc}")
        timed_out = False
        try:
            returncode: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            returncode = proc.wait()
        stdout, cut_out = _read_bounded(out, max_output)
        stderr, cut_err = _read_bounded(err, max_output)
    if timed_out:
        return CommandResult(
            args,
            returncode,
            stdout,
            stderr,
            timed_out=True,
            error=f"killed after {timeout:g} s without finishing",
            truncated=cut_out or cut_err,
        )
    return CommandResult(args, returncode, stdout, stderr, truncated=cut_out or cut_err)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill the command and whatever it started (its own session)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def first_line(data: bytes, limit: int = 200) -> str:
    """The first non-empty line of a command's output, for a log line."""
    for line in data.decode("utf-8", "replace").splitlines():
        line = line.strip()
        if line:
            return "".join(ch if ch.isprintable() else "?" for ch in line[:limit])
    return ""
