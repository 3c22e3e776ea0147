"""The job as cupsd hands it to a backend: argv and environment, parsed once.

argv = [backend, job-id, user, title, copies, options, (file)]; the environment
carries DEVICE_URI (with our `pagetally:` prefix), PRINTER, CONTENT_TYPE,
CUPS_SERVERBIN, TMPDIR, ... Only this package knows these conventions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pagetally.cups.options import parse_options
from pagetally.errors import InvalidInput

SCHEME = "pagetally"
#: PyKota's backend scheme: queues set up for PyKota keep their device URIs.
PYKOTA_SCHEME = "cupspykota"
SCHEMES = (SCHEME, PYKOTA_SCHEME)


@dataclass(frozen=True, slots=True)
class JobTicket:
    job_id: str
    user: str
    title: str
    copies: int  # copies argv asks for (still to be made when `file` is given)
    options: dict[str, str]
    file: str | None  # raw queues: cupsd passes the spool file; else data on stdin
    device_uri: str  # the real device's URI, our prefix removed
    printer: str  # the CUPS queue name
    content_type: str = ""
    serverbin: str = "/usr/lib/cups"
    tmpdir: str = ""  # "" = the system default
    env: dict[str, str] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return self.options.get("job-originating-host-name", "")

    @property
    def uuid(self) -> str:
        return self.options.get("job-uuid", "")

    @property
    def billing_code(self) -> str | None:
        return self.options.get("job-billing") or None

    @property
    def scheme(self) -> str:
        return self.device_uri.split(":", 1)[0]

    @property
    def copies_downstream(self) -> int:
        """Copies the job data will still be multiplied by after us.

        With a file in argv (raw queue) nothing upstream made the copies, so the
        printer (or the real backend) will: count them. On standard input, CUPS'
        filters already produced every copy in the data: count the data alone.
        """
        return self.copies if self.file else 1


def our_scheme(device_uri: str) -> str | None:
    """The wrapper scheme `device_uri` starts with (ours or PyKota's), else None."""
    return next((s for s in SCHEMES if device_uri.startswith(s + ":")), None)


def strip_prefix(device_uri: str) -> str:
    """`pagetally:ipp://h/p` (or PyKota-style `pagetally://ipp://h/p`, or an
    existing PyKota queue's `cupspykota://ipp://h/p`) → `ipp://h/p`."""
    scheme = our_scheme(device_uri)
    if scheme is None:
        raise InvalidInput(
            f"DEVICE_URI {device_uri!r} does not start with {SCHEME}: (or {PYKOTA_SCHEME}:)"
        )
    rest = device_uri[len(scheme) + 1 :]
    if rest.startswith("//") and "://" in rest[2:]:
        rest = rest[2:]
    if ":" not in rest:
        raise InvalidInput(f"DEVICE_URI {device_uri!r} names no real device after {scheme}:")
    return rest


def parse_ticket(argv: Sequence[str], env: Mapping[str, str]) -> JobTicket:
    """Build the ticket; raises InvalidInput with a one-line reason on bad argv/env."""
    if len(argv) not in (6, 7):
        raise InvalidInput(
            f"usage: {argv[0] if argv else SCHEME} job-id user title copies options [file]"
        )
    try:
        copies = int(argv[4])
    except ValueError:
        raise InvalidInput(f"copies {argv[4]!r} is not a number") from None
    if copies < 1:
        raise InvalidInput(f"copies {copies} is less than 1")
    uri = env.get("DEVICE_URI", "")
    if not uri:
        raise InvalidInput("DEVICE_URI is not set: run by cupsd, as pagetally:<real URI>")
    return JobTicket(
        job_id=argv[1],
        user=argv[2],
        title=argv[3],
        copies=copies,
        options=parse_options(argv[5]),
        file=argv[6] if len(argv) == 7 else None,
        device_uri=strip_prefix(uri),
        printer=env.get("PRINTER", ""),
        content_type=env.get("CONTENT_TYPE", ""),
        serverbin=env.get("CUPS_SERVERBIN", "/usr/lib/cups"),
        tmpdir=env.get("TMPDIR", ""),
        env=dict(env),
    )


def strip_title(title: str, patterns: str | None) -> str:
    """`striptitle`: cut from the start of a job title the shortest prefix matching
    one of the comma-separated shell patterns (Samba's `smbprn.00000042 ` noise)."""
    import fnmatch

    for pattern in (p.strip() for p in (patterns or "").split(",")):
        if not pattern:
            continue
        for end in range(1, len(title) + 1):
            if fnmatch.fnmatchcase(title[:end], pattern):
                return title[end:].lstrip()
    return title
