"""A small IPP client: the printer's own count of a job's pages.

IPP is a binary message in an HTTP POST (`application/ipp`), so the standard
library's http.client suffices; `ippwire` encodes and decodes the messages.
What accounting asks (RFC 8011, PWG 5100.7):
- Get-Job-Attributes: `job-impressions-completed` (sides printed),
  `job-media-sheets-completed` (sheets), `job-pages-completed`, and where the
  printer offers them the `…-completed-col` collections that split each count
  by `monochrome`, `full-color`, `highlight-color`, `blank`, each also
  `…-two-sided`;
- Get-Printer-Attributes: the printer's state and life counters where offered.
This needs no idle printer and no lock: the count is per job.
"""

from __future__ import annotations

import http.client
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field

from pagetally.devices import ippwire as w
from pagetally.devices.base import Clock, SystemClock
from pagetally.errors import DeviceError

PRINT_JOB = 0x0002
CANCEL_JOB = 0x0008
GET_JOB_ATTRIBUTES = 0x0009
GET_JOBS = 0x000A
GET_PRINTER_ATTRIBUTES = 0x000B

JOB_STATES = {
    3: "pending",
    4: "pending-held",
    5: "processing",
    6: "processing-stopped",
    7: "canceled",
    8: "aborted",
    9: "completed",
}
TERMINAL_STATES = frozenset({7, 8, 9})

JOB_COUNT_ATTRIBUTES = (
    "job-id",
    "job-state",
    "job-state-reasons",
    "job-impressions",
    "job-impressions-completed",
    "job-media-sheets-completed",
    "job-pages-completed",
    "job-impressions-completed-col",
    "job-media-sheets-completed-col",
    "job-pages-completed-col",
)
# Members of the PWG 5100.7 `…-col` breakdowns. Read here as: each plain member
# counts all impressions of its kind, the `-two-sided` member the part of them
# printed two-sided (as PAPPL fills them: full-color + monochrome = total).
COL_MEMBERS = ("blank", "full-color", "highlight-color", "monochrome")
MAX_RESPONSE = 8 * 1024 * 1024  # an attributes reply is a few KB; a printer's, < 1 MB


def http_url(uri: str) -> tuple[str, str, int, str]:
    """(scheme http/https, host, port, path) for an ipp://, ipps://, http(s):// URI."""
    parts = urllib.parse.urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme not in ("ipp", "ipps", "http", "https"):
        raise DeviceError(f"not an IPP URI: {uri!r}")
    secure = scheme in ("ipps", "https")
    host = parts.hostname
    if not host:
        raise DeviceError(f"IPP URI without a host: {uri!r}")
    port = parts.port or (631 if scheme in ("ipp", "ipps") else 443 if secure else 80)
    return ("https" if secure else "http"), host, port, parts.path or "/"


def _count_col(value: list[w.IppValue] | None) -> dict[str, int]:
    """A `…-completed-col` collection as {member: count} (ints only)."""
    if not value or not isinstance(value[0], dict):
        return {}
    out: dict[str, int] = {}
    for member, values in value[0].items():
        if values and isinstance(values[0], int) and not isinstance(values[0], bool):
            out[member] = values[0]
    return out


def _int(attrs: w.Attributes, name: str) -> int | None:
    values = attrs.get(name)
    if values and isinstance(values[0], int) and not isinstance(values[0], bool):
        return values[0]
    return None


@dataclass(frozen=True, slots=True)
class JobCounts:
    """What the printer says it printed for one job (None: not reported)."""

    job_id: int
    state: int | None
    impressions: int | None  # job-impressions-completed
    media_sheets: int | None  # job-media-sheets-completed
    pages: int | None  # job-pages-completed
    impressions_col: dict[str, int] = field(default_factory=dict)
    media_sheets_col: dict[str, int] = field(default_factory=dict)
    pages_col: dict[str, int] = field(default_factory=dict)
    state_reasons: tuple[str, ...] = ()

    @classmethod
    def from_attributes(cls, job_id: int, attrs: w.Attributes) -> JobCounts:
        reasons = tuple(str(v) for v in attrs.get("job-state-reasons", []) if isinstance(v, str))
        return cls(
            job_id=_int(attrs, "job-id") or job_id,
            state=_int(attrs, "job-state"),
            impressions=_int(attrs, "job-impressions-completed"),
            media_sheets=_int(attrs, "job-media-sheets-completed"),
            pages=_int(attrs, "job-pages-completed"),
            impressions_col=_count_col(attrs.get("job-impressions-completed-col")),
            media_sheets_col=_count_col(attrs.get("job-media-sheets-completed-col")),
            pages_col=_count_col(attrs.get("job-pages-completed-col")),
            state_reasons=reasons,
        )

    @property
    def state_name(self) -> str:
        return JOB_STATES.get(self.state or 0, f"state {self.state}")

    @property
    def finished(self) -> bool:
        """The job is completed, canceled or aborted: its counts will not change."""
        return self.state in TERMINAL_STATES

    def _col_sum(self, *members: str) -> int | None:
        col = self.impressions_col
        if not col:
            return None
        return sum(col.get(member, 0) for member in members)

    @property
    def colour_impressions(self) -> int | None:
        """Full- and highlight-colour impressions (from the -col breakdown)."""
        return self._col_sum("full-color", "highlight-color")

    @property
    def mono_impressions(self) -> int | None:
        """Monochrome impressions (from the -col breakdown)."""
        return self._col_sum("monochrome")

    @property
    def two_sided_impressions(self) -> int | None:
        """Impressions printed two-sided (from the -col breakdown)."""
        return self._col_sum(*(f"{m}-two-sided" for m in COL_MEMBERS))


class IppClient:
    """Talks IPP to one printer URI (ipp://host[:port]/path, ipps://...)."""

    def __init__(
        self,
        uri: str,
        *,
        user: str = "pagetally",
        timeout: float = 10.0,
        verify_tls: bool = True,
    ) -> None:
        self.uri = uri
        self.user = user
        self.timeout = timeout
        self.verify_tls = verify_tls
        self.scheme, self.host, self.port, self.path = http_url(uri)
        self._request_id = 0

    def _connection(self) -> http.client.HTTPConnection:
        if self.scheme == "https":
            import ssl  # only for ipps://; ~10 ms to import

            context = ssl.create_default_context()
            if not self.verify_tls:  # printers often have self-signed certificates
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection(
                self.host, self.port, timeout=self.timeout, context=context
            )
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def request(
        self,
        operation: int,
        attributes: Sequence[tuple[int, str, list[w.IppValue]]] = (),
        data: bytes = b"",
    ) -> w.IppMessage:
        """Send one operation (the standard operation attributes come first)."""
        self._request_id += 1
        operation_attrs: list[tuple[int, str, list[w.IppValue]]] = [
            (w.CHARSET, "attributes-charset", ["utf-8"]),
            (w.NATURAL_LANGUAGE, "attributes-natural-language", ["en"]),
            (w.URI, "printer-uri", [self.uri]),
            (w.NAME, "requesting-user-name", [self.user]),
            *attributes,
        ]
        body = w.encode(operation, self._request_id, [(w.OPERATION_GROUP, operation_attrs)], data)
        where = f"IPP {self.host}:{self.port}"
        conn = self._connection()
        try:
            conn.request("POST", self.path, body, {"Content-Type": "application/ipp"})
            response = conn.getresponse()
            payload = response.read(MAX_RESPONSE + 1)
        except (OSError, http.client.HTTPException) as exc:
            raise DeviceError(f"{where}: {exc}") from exc
        finally:
            conn.close()
        if response.status != 200:
            raise DeviceError(f"{where}: HTTP {response.status} {response.reason}")
        if len(payload) > MAX_RESPONSE:
            raise DeviceError(f"{where}: answer larger than {MAX_RESPONSE} bytes")
        message = w.decode(payload)
        if message.code >= 0x0400:
            text = message.group(w.OPERATION_GROUP).get("status-message", [""])[0]
            detail = text if isinstance(text, str) else ""
            raise DeviceError(f"{where}: IPP status 0x{message.code:04x} {detail}".strip())
        return message

    def get_printer_attributes(self, requested: Sequence[str] = ("all",)) -> w.Attributes:
        """The printer's attributes (`requested` names or groups like 'all')."""
        reply = self.request(
            GET_PRINTER_ATTRIBUTES, [(w.KEYWORD, "requested-attributes", list(requested))]
        )
        return reply.group(w.PRINTER_GROUP)

    def get_job_attributes(
        self, job_id: int, requested: Sequence[str] = JOB_COUNT_ATTRIBUTES
    ) -> w.Attributes:
        """One job's attributes."""
        reply = self.request(
            GET_JOB_ATTRIBUTES,
            [
                (w.INTEGER, "job-id", [job_id]),
                (w.KEYWORD, "requested-attributes", list(requested)),
            ],
        )
        return reply.group(w.JOB_GROUP)

    def get_jobs(
        self, which: str = "completed", requested: Sequence[str] = JOB_COUNT_ATTRIBUTES
    ) -> list[w.Attributes]:
        """Get-Jobs: one attribute dict per job (`which`: completed, not-completed)."""
        reply = self.request(
            GET_JOBS,
            [
                (w.KEYWORD, "which-jobs", [which]),
                (w.KEYWORD, "requested-attributes", list(requested)),
            ],
        )
        return reply.all_groups(w.JOB_GROUP)

    def find_jobs(self, *, user: str, name: str, which: str = "completed") -> list[JobCounts]:
        """Jobs of a user with a name, newest first, with their counts.

        How to find at the printer a job CUPS' ipp backend sent: it sends the
        CUPS job's title as job-name and its user as requesting-user-name. (It
        also sends CUPS' job-uuid, but printers may make their own:
        ippeveprinter does.)
        """
        found = [
            JobCounts.from_attributes(_int(attrs, "job-id") or 0, attrs)
            for attrs in self.get_jobs(
                which, (*JOB_COUNT_ATTRIBUTES, "job-name", "job-originating-user-name")
            )
            if attrs.get("job-name") == [name] and attrs.get("job-originating-user-name") == [user]
        ]
        return sorted(found, key=lambda c: c.job_id, reverse=True)

    def job_counts(self, job_id: int) -> JobCounts:
        """The printer's page counts for one job, as far as it has got."""
        return JobCounts.from_attributes(job_id, self.get_job_attributes(job_id))

    def wait_job(
        self,
        job_id: int,
        *,
        timeout: float = 300.0,
        poll: float = 1.0,
        clock: Clock | None = None,
    ) -> JobCounts:
        """Poll until the job is completed, canceled or aborted; its final counts."""
        clock = clock or SystemClock()
        deadline = clock.monotonic() + timeout
        while True:
            counts = self.job_counts(job_id)
            if counts.finished:
                return counts
            if clock.monotonic() >= deadline:
                raise DeviceError(
                    f"IPP job {job_id} on {self.host} still {counts.state_name} "
                    f"after {timeout:.0f} s"
                )
            clock.sleep(poll)

    def print_job(
        self,
        document: bytes,
        *,
        document_format: str = "application/octet-stream",
        job_name: str = "pagetally",
    ) -> int:
        """Submit a document with Print-Job; the new job's id."""
        reply = self.request(
            PRINT_JOB,
            [
                (w.NAME, "job-name", [job_name]),
                (w.MIME_MEDIA_TYPE, "document-format", [document_format]),
            ],
            document,
        )
        job_id = _int(reply.group(w.JOB_GROUP), "job-id")
        if job_id is None:
            raise DeviceError(f"IPP {self.host}: Print-Job answered without a job-id")
        return job_id

    def cancel_job(self, job_id: int) -> None:
        """Cancel a job."""
        self.request(CANCEL_JOB, [(w.INTEGER, "job-id", [job_id])])
