"""cli layer (see DESIGN.md)."""

#: True when this process runs one command and exits (set by the executables'
#: entry points, not by tests that run commands in-process): then what the store's
#: opening leaves alive is frozen out of the garbage collector (cli/env.py).
ONE_COMMAND_PROCESS = False
