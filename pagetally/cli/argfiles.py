"""PyKota's `-A FILE` / `--arguments=FILE`, on every command: more options and
arguments read from a file, one a line (for command lines too long for cron)."""

from __future__ import annotations

from collections.abc import Sequence

from pagetally.errors import InvalidInput


class ArgumentFileError(InvalidInput):
    """The arguments file is missing, unreadable or not UTF-8 (exit 2)."""


def expand_argument_files(argv: Sequence[str]) -> list[str]:
    """PyKota's `-A FILE` / `--arguments=FILE`: the file's lines (one option or
    argument a line, blank lines skipped) in place of the option."""
    out: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        item = items[i]
        path: str | None = None
        if item in ("-A", "--arguments"):
            if i + 1 >= len(items):
                raise ArgumentFileError(f"{item} needs a file name")
            path, i = items[i + 1], i + 2
        elif item.startswith("--arguments="):
            path, i = item.partition("=")[2], i + 1
        elif item.startswith("-A") and len(item) > 2 and not item.startswith("--"):
            path, i = item[2:], i + 1
        else:
            out.append(item)
            i += 1
            continue
        try:
            with open(path, encoding="utf-8") as fh:
                lines = [line.strip() for line in fh]
        except (OSError, UnicodeDecodeError) as exc:
            raise ArgumentFileError(f"cannot read the arguments file {path}: {exc}") from None
        out += [line for line in lines if line]
    return out
