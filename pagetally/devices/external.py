"""A printer's page counter from a site command (PyKota's `hardware(command)`).

The command is an argument list, never a shell line: `{printer}` (or PyKota's
`%(printer)s`) inside an argument is replaced by the printer's host name, as a
plain text substitution. The command prints the life page counter as an
integer on the first non-empty line of its standard output and exits 0. It
reports no printer state, so the session reads it once before and once after
the job: the command itself must wait for the printer if that is needed. It
runs through pagetally.proc: the site's environment without PageTally's
secrets, its own process group killed whole on a timeout, output bounded.
"""

from __future__ import annotations

from collections.abc import Sequence

from pagetally import proc
from pagetally.devices.base import PrinterState, Reading
from pagetally.errors import DeviceError

MAX_OUTPUT = 4096  # characters of output quoted in an error message, at most
MAX_READ = 64 * 1024  # bytes of the command's stdout (and stderr) read; more is refused


def expand_argv(argv: Sequence[str], printer: str) -> list[str]:
    """Substitute the printer's host name into the argument list."""
    return [arg.replace("{printer}", printer).replace("%(printer)s", printer) for arg in argv]


def parse_counter(output: str) -> int:
    """The first non-empty line as a non-negative integer."""
    for line in output.splitlines():
        text = line.strip()
        if text:
            try:
                value = int(text)
            except ValueError:
                break
            if value < 0:
                break
            return value
    raise DeviceError(f"page counter command printed no number: {output[:200]!r}")


class ExternalAccounter:
    """A `HardwareAccounter` running a site command."""

    reports_status = False

    def __init__(self, argv: Sequence[str], *, printer: str = "", timeout: float = 60.0) -> None:
        if not argv:
            raise ValueError("the page counter command is empty")
        self.argv = expand_argv(argv, printer)
        self.printer = printer
        self.timeout = timeout

    @property
    def name(self) -> str:
        return self.printer or self.argv[0]

    def read(self) -> Reading:
        bounds = proc.Bounds(seconds=self.timeout, output=MAX_READ, memory=None)
        try:
            done = proc.run(self.argv, env=proc.site_env(), bounds=bounds)
        except OSError as exc:
            raise DeviceError(f"page counter command {self.argv[0]}: {exc}") from exc
        if done.timed_out:
            raise DeviceError(
                f"page counter command {self.argv[0]} did not finish in {self.timeout:.0f} s"
            )
        if done.stopped is not None:
            raise DeviceError(f"page counter command {self.argv[0]}: {done.stopped}")
        if done.returncode != 0:
            err = done.stderr.decode("utf-8", "replace").strip()[:MAX_OUTPUT]
            raise DeviceError(
                f"page counter command {self.argv[0]} failed (exit {done.returncode})"
                + (f": {err}" if err else "")
            )
        value = parse_counter(done.stdout.decode("utf-8", "replace"))
        return Reading(value, PrinterState.UNKNOWN, f"command {self.argv[0]}")
