"""`python -m pagetally.cups.settle [CONFIG]`: settle the charges owed by print
attempts that were killed after the printer had their job, and the journal.

Run by a real backend's keeper (cups/keeper.py) that outlived the process
accounting its job: cupsd does not always run the job again (a backend killed
by a signal may count as done), so nobody else might come for that charge.
Charges in the store when it can be reached (through the service when one
listens), else they stay journaled for the next job. Quiet: it runs detached,
its findings go to the system log.
"""

from __future__ import annotations

import contextlib
import io
import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    from pagetally.config import load_config
    from pagetally.cups.deciding import open_store, replay_journal
    from pagetally.cups.status import Messages

    msgs = Messages(io.StringIO())
    try:
        config = load_config(args[0] if args else None, {})
        store = open_store(config, msgs)
        if store is None:
            return 1
        with contextlib.closing(store):
            replay_journal(store, config, msgs)
    except Exception:  # detached: nobody reads a traceback; the next job retries
        import logging
        import logging.handlers

        log = logging.getLogger("pagetally.settle")
        with contextlib.suppress(OSError):
            log.addHandler(logging.handlers.SysLogHandler(address="/dev/log"))
        log.exception("settling interrupted print attempts failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
