"""How many pages to bill, from the counts the print path has: PyKota's
`preaccounter`/`accounter` software and ink forms, `trustjobsize`, and
`onbackenderror`'s retries. Pure functions and values, plus the one place an
external page-counting command (`software(command)`) is run.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path

from pagetally import proc
from pagetally.core.directives import (
    BackendErrorPolicy,
    InkForm,
    TrustJobSize,
    parse_backend_error,
    parse_ink,
    parse_trust,
)
from pagetally.errors import ConfigError, DeviceError
from pagetally.pdl.billing import Inked, inked

# The directive parsers live in core.directives (config checks them too); named
# here as well for the print path's modules.
__all__ = [
    "BackendErrorPolicy",
    "InkForm",
    "Inked",
    "TrustJobSize",
    "count_with_command",
    "inked",
    "parse_backend_error",
    "parse_ink",
    "parse_trust",
]

#: Seconds a `software(command)` page counter may take.
COMMAND_TIMEOUT = 120.0
#: Bytes of its stdout (and of its stderr) read; a longer output is refused.
COMMAND_OUTPUT = 1 << 20


def count_with_command(command: str, job: Path, env: Mapping[str, str]) -> int:
    """`software(command)`: the job's data on the command's standard input, its
    page count (an integer alone on the last line) on its standard output. The
    command line comes from the configuration; the job's facts reach it only in
    the environment (added to the site's, without PageTally's secrets). It runs
    through pagetally.proc, killed whole past its time or output bound.
    DeviceError when it fails or says no number."""
    argv = shlex.split(command)
    if not argv:
        raise ConfigError("software() command is empty", directive="accounter")
    bounds = proc.Bounds(seconds=COMMAND_TIMEOUT, output=COMMAND_OUTPUT, memory=None)
    try:
        done = proc.run(argv, env={**proc.site_env(), **env}, stdin=job, bounds=bounds)
    except OSError as e:
        raise DeviceError(f"page counting command {argv[0]!r} failed: {e}") from None
    if done.stopped is not None:
        raise DeviceError(f"page counting command {argv[0]!r} failed: {done.stopped}")
    lines = done.stdout.decode("utf-8", "replace").split()
    if done.returncode != 0 or not lines or not lines[-1].isdigit():
        why = f"exit {done.returncode}" if done.returncode else "no page count on its output"
        raise DeviceError(f"page counting command {argv[0]!r} gave no count ({why})")
    return int(lines[-1])
