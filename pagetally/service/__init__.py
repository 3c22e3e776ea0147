"""The resident accounting service: `pagetally serve` and its client.

CUPS starts a new backend process for every job; importing the store's SQL stack
costs that process far more than the job's accounting itself. The service holds
the store (admin credentials, pooled connections) warm and answers the backend's
store calls over a Unix socket, one JSON object per line (`protocol.py`). The
backend talks to it through `client.RemoteStore` (standard library only) and falls
back to opening the store itself when no service listens. See docs/service.md.
"""

from __future__ import annotations

DEFAULT_SOCKET = "/run/pagetally/pagetally.sock"
