"""CUPS job options as the backend receives them in argv[5].

CUPS joins options as `name=value` separated by spaces; a value with spaces or
quotes is quoted ('…' or "…") or backslash-escaped, a boolean may stand alone
(`landscape`) or negated (`nolandscape` → "false"). These strings come from
clients: they are parsed here into a plain dict and never reach a shell.
"""

from __future__ import annotations


def parse_options(text: str) -> dict[str, str]:
    """Parse a CUPS option string into {name: value}; later duplicates win.

    >>> parse_options("copies=2 job-name='a b' landscape")
    {'copies': '2', 'job-name': 'a b', 'landscape': 'true'}
    """
    options: dict[str, str] = {}
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            break
        start = i
        while i < n and not text[i].isspace() and text[i] != "=":
            i += 1
        name = text[start:i]
        if i < n and text[i] == "=":
            i += 1
            value, i = _read_value(text, i)
            if name:
                options[name] = value
        elif name:
            if name.startswith("no") and len(name) > 2:
                options[name[2:]] = "false"
            else:
                options[name] = "true"
    return options


def _read_value(text: str, i: int) -> tuple[str, int]:
    """Read one value starting at `i`: quoted runs and escapes, up to unquoted space."""
    out: list[str] = []
    n = len(text)
    quote = ""
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            out.append(text[i + 1])
            i += 2
            continue
        if quote:
            if c == quote:
                quote = ""
            else:
                out.append(c)
        elif c in "'\"":
            quote = c
        elif c.isspace():
            break
        else:
            out.append(c)
        i += 1
    return "".join(out), i
