"""The resident accounting service: `pagetally serve` and its client.

CUPS starts a new backend process for every job; importing the store's SQL stack
costs that process far more than the job's accounting itself. The service holds
the store (admin credentials, pooled connections) warm and answers the backend's
store calls over a Unix socket, one JSON object per line (`protocol.py`). The
backend talks to it through `client.RemoteStore` (standard library only) and falls
back to opening the store itself when no service listens.

The service also runs a job runner (`jobs.py`): a process with the whole backend
already imported, which forks one child per job. The installed backend can then be
the thin `thin.py` (standard library only), which hands its argv, environment and
standard streams to the runner and waits for the exit code. See docs/service.md.
This package's `__init__` stays import-free: the thin backend loads it.
"""

from __future__ import annotations

DEFAULT_SOCKET = "/run/pagetally/pagetally.sock"


def jobs_socket(path: str) -> str:
    """The job runner's socket beside the store's: `x/pagetally.sock` → `x/pagetally-jobs.sock`."""
    head, sep, name = path.rpartition("/")
    stem = name[: -len(".sock")] if name.endswith(".sock") else name
    return f"{head}{sep}{stem}-jobs.sock"
