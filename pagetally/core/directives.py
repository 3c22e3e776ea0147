"""PyKota's accounting directives, parsed: `accounter`/`preaccounter`
(software, hardware, ipp, ink), `ink(colorspace[,dpi])`, `trustjobsize` and
`onbackenderror`.

Pure parsers and the values they give, below both `config` (which checks the
directives when it loads) and `cups/` (which acts on them): the configuration
never imports the backend. Each bad value is a ConfigError naming its directive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pagetally.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Accounter:
    kind: str  # software | hardware | ipp | ink
    arg: str = ""  # hardware: "snmp:public", "pjl:9100", a command; ink: "cmyk,72"


_FORM = re.compile(r"^\s*(software|hardware|ink|ipp)\s*(?:\((.*)\))?\s*$", re.S)


def parse_accounter(text: str) -> Accounter:
    """`hardware(snmp:public)` → Accounter("hardware", "snmp:public")."""
    m = _FORM.match(text)
    if not m:
        raise ConfigError(
            f"{text!r} is not software(), hardware(...), ipp or ink(...)", directive="accounter"
        )
    kind, arg = m.group(1), (m.group(2) or "").strip()
    if kind == "hardware" and not arg:
        raise ConfigError("hardware() names no counter source", directive="accounter")
    return Accounter(kind, arg)


@dataclass(frozen=True, slots=True)
class InkForm:
    """`ink(colorspace[,dpi])`: the colour space and resolution of ink analysis."""

    colorspace: str = "CMYK"
    resolution: int = 72


def parse_ink(arg: str, directive: str = "accounter") -> InkForm:
    """`cmyk,150` → InkForm("CMYK", 150); empty → CMYK at 72 dpi (PyKota's default)."""
    parts = [p.strip() for p in arg.split(",")] if arg.strip() else []
    if len(parts) > 2:
        raise ConfigError(f"ink({arg}) takes a colour space and a resolution", directive=directive)
    space = (parts[0] if parts else "cmyk").upper()
    if space not in ("BW", "RGB", "CMY", "CMYK", "GC"):
        raise ConfigError(
            f"ink colour space {parts[0]!r} is not one of bw, rgb, cmy, cmyk, gc",
            directive=directive,
        )
    dpi = 72
    if len(parts) == 2:
        if not parts[1].isdigit() or not 10 <= int(parts[1]) <= 1200:
            raise ConfigError(
                f"ink resolution {parts[1]!r} is not 10 to 1200 dpi", directive=directive
            )
        dpi = int(parts[1])
    return InkForm(space, dpi)


@dataclass(frozen=True, slots=True)
class TrustJobSize:
    """`trustjobsize`: `yes` (default), `no` (always the pre-count), or `>N:M`
    (more than N pages counted: bill M pages, or the pre-count for `precomputed`)."""

    limit: int | None = None  # None: trust every count
    replacement: int | None = None  # None: the pre-count

    def apply(self, counted: int, precomputed: int) -> tuple[int, str]:
        """(pages to bill, a note when the count was not trusted)."""
        if self.limit is None or counted <= self.limit:
            return counted, ""
        pages = precomputed if self.replacement is None else self.replacement
        return pages, (
            f"the counted {counted} page(s) exceed trustjobsize's {self.limit}: billed {pages}"
        )


def parse_trust(text: str) -> TrustJobSize:
    value = text.strip().lower()
    if value in ("", "yes", "true", "on", "1"):
        return TrustJobSize()
    if value in ("no", "false", "off", "0"):
        return TrustJobSize(0, None)
    m = re.fullmatch(r">\s*(\d+)\s*:\s*(\d+|precomputed)", value)
    if not m:
        raise ConfigError(
            f"{text!r} is not yes, no, >N:M or >N:precomputed", directive="trustjobsize"
        )
    replacement = None if m.group(2) == "precomputed" else int(m.group(2))
    return TrustJobSize(int(m.group(1)), replacement)


@dataclass(frozen=True, slots=True)
class BackendErrorPolicy:
    """`onbackenderror`: charge a failed job or not, and how often to retry the real
    backend first (`retry:N:S`: N more tries S seconds apart; N = 0: until it works)."""

    charge: bool = False
    retries: int | None = None  # None: no retry; 0: forever
    delay: int = 0


def parse_backend_error(text: str) -> BackendErrorPolicy:
    charge, retries, delay = False, None, 0
    for part in (p.strip().lower() for p in text.split(",") if p.strip()):
        if part in ("charge", "nocharge"):
            charge = part == "charge"
        elif m := re.fullmatch(r"retry:(\d+):(\d+)", part):
            retries, delay = int(m.group(1)), int(m.group(2))
        else:
            raise ConfigError(
                f"{part!r} is not charge, nocharge or retry:N:S", directive="onbackenderror"
            )
    return BackendErrorPolicy(charge, retries, delay)
