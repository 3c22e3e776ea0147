"""PageTally: print accounting and quota enforcement for CUPS."""

__version__ = "0.1.0"
