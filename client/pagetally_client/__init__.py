"""pagetally-client: PageTally's notices, print-time questions and status view on the
user's desktop (PyKota's pykosd, PyKotIcon and pknotify in one small program)."""

__version__ = "0.1.0"
