"""Banner pages: whether to print one, what it holds, whether it is charged.

PyKota's rules (cupspykota's handleBanner), as pure functions:

- `startingbanner` / `endingbanner` name a file holding the banner, or a
  command whose standard output is the banner (an executable, or anything that
  is not a regular file); the command is split with shlex (no shell) and gets
  the hook variables (see `hooks.hook_environment`). Unset: no banner.
- A refused job gets the starting banner as its "deny banner" (telling the
  person why) only while the number of deny banners already printed for them
  on this printer is below `maxdenybanners` (0, the default: never).
- A cancelled job gets banners only when `printcancelledbanners` is yes.
- `avoidduplicatebanners`: `no` (or 0) prints every banner; `yes` skips a
  banner when the printer's previous job was the same person's; a number N
  skips it when that previous job is less than N seconds old.
- `accountbanner` (none | starting | ending | both) says which banners are
  charged, as one page each (PyKota's software accounting of banners).

The value `builtin` (`startingbanner: builtin`) prints PageTally's own
one-page PostScript banner (`default_banner`; PyKota shipped pkbanner for
that): the job's facts and, on a deny banner, the reason. Every untrusted text
in it (title, user name, reason) is escaped for PostScript strings: it cannot
end the string or run PostScript.

The backend's calls: `choose_banner(...)` then, when it says print,
`banner_bytes(...)`, and sends the bytes to the real backend before (or after)
the job; a `deny_banner` choice means one more deny banner to record.
"""

from __future__ import annotations

import enum
import logging
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from pagetally.core.models import Action, JobFacts, JobRecord
from pagetally.notify.hooks import base_environment
from pagetally.notify.process import DEFAULT_TIMEOUT, first_line, run_command

log = logging.getLogger("pagetally.notify.banners")

#: Largest banner read from a file or a command (bytes).
MAX_BANNER = 16 * 1024 * 1024


class BannerKind(enum.StrEnum):
    STARTING = "starting"
    ENDING = "ending"


@dataclass(frozen=True, slots=True)
class BannerRules:
    """The banner directives for one printer, typed.

    `avoid_duplicates`: None for `no`/0, 0 < seconds, or -1 for `yes`.
    """

    starting: str | None = None
    ending: str | None = None
    account: str = "both"  # none | starting | ending | both
    max_deny_banners: int = 0
    print_cancelled: bool = True
    avoid_duplicates: int | None = None

    @classmethod
    def from_values(
        cls,
        *,
        startingbanner: str | None,
        endingbanner: str | None,
        accountbanner: str = "both",
        maxdenybanners: int = 0,
        printcancelledbanners: bool = True,
        avoidduplicatebanners: str = "no",
    ) -> BannerRules:
        """From the config's typed values (`config.get(name, printer)` of each)."""
        avoid = str(avoidduplicatebanners).strip().lower()
        if avoid in ("no", "0", ""):
            seconds: int | None = None
        elif avoid == "yes":
            seconds = -1
        else:
            seconds = int(avoid)
        return cls(
            starting=(startingbanner or None),
            ending=(endingbanner or None),
            account=str(accountbanner).lower(),
            max_deny_banners=int(maxdenybanners),
            print_cancelled=bool(printcancelledbanners),
            avoid_duplicates=seconds,
        )

    def source(self, kind: BannerKind) -> str | None:
        return self.starting if kind is BannerKind.STARTING else self.ending


@dataclass(frozen=True, slots=True)
class BannerChoice:
    """Whether to print a banner (`print`), whether it is charged (`charged`,
    one page), whether it counts as a deny banner (`deny_banner`: the caller
    records one more for the person), and `why` for the log."""

    print: bool
    charged: bool = False
    deny_banner: bool = False
    why: str = ""


def banner_charged(kind: BannerKind, account: str) -> bool:
    """`accountbanner`: is this kind of banner charged?"""
    return account in ("both", kind.value)


def choose_banner(
    kind: BannerKind,
    rules: BannerRules,
    action: Action,
    *,
    user: str,
    deny_banners_printed: int,
    last_job: JobRecord | None,
    now: datetime,
) -> BannerChoice:
    """Decide one banner for one job (pure). `action` is the job's final
    action (ALLOW/WARN print normally; DENY only the starting banner as a deny
    banner; CANCEL per `printcancelledbanners`). `last_job` is the printer's
    previous job (for `avoidduplicatebanners`)."""
    if rules.source(kind) is None:
        return BannerChoice(False, why=f"no {kind.value} banner configured")
    deny = action is Action.DENY
    if deny and kind is BannerKind.ENDING:
        return BannerChoice(False, why="a refused job gets the starting banner only")
    if deny and deny_banners_printed >= rules.max_deny_banners:
        return BannerChoice(
            False,
            why=f"maximum number of deny banners reached ({rules.max_deny_banners})",
        )
    if action is Action.CANCEL and not rules.print_cancelled:
        return BannerChoice(False, why="the job was cancelled (printcancelledbanners: no)")
    if rules.avoid_duplicates is not None and last_job is not None and last_job.user == user:
        if rules.avoid_duplicates < 0:
            return BannerChoice(False, why="the previous job was the same person's")
        age = now - last_job.date
        if age < timedelta(seconds=rules.avoid_duplicates):
            return BannerChoice(
                False,
                why=f"the same person's previous banner is {int(age.total_seconds())} s old",
            )
    charged = banner_charged(kind, rules.account) and not deny
    return BannerChoice(True, charged=charged, deny_banner=deny, why="")


def load_banner(
    source: str,
    job_env: Mapping[str, str],
    *,
    base_env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> bytes | None:
    """The banner's bytes: the file `source`, or the standard output of the
    command `source` (an executable file, or not a regular file at all, as in
    PyKota). None (logged) when it cannot be read or the command fails."""
    path = source.strip()
    try:
        st = os.stat(path)
        is_data_file = stat.S_ISREG(st.st_mode) and not os.access(path, os.X_OK)
    except OSError:
        is_data_file = False
    if is_data_file:
        try:
            with open(path, "rb") as fh:
                data = fh.read(MAX_BANNER + 1)
        except OSError as exc:
            log.error("banner %r cannot be read: %s", path, exc.strerror or exc)
            return None
        if len(data) > MAX_BANNER:
            log.error("banner %r is larger than %d bytes: not printed", path, MAX_BANNER)
            return None
        return data
    env = base_environment(base_env)
    env.update(job_env)
    result = run_command(source, env, timeout=timeout, max_output=MAX_BANNER)
    if not result.ok or result.truncated:
        why = "output too large" if result.truncated else result.describe()
        detail = first_line(result.stderr)
        log.error("banner command %r failed: %s%s", source, why, f" ({detail})" if detail else "")
        return None
    return result.stdout


def ps_string(text: str, limit: int = 120) -> str:
    """`text` as a PostScript string literal: parentheses and backslashes
    escaped, everything outside printable ASCII as an octal escape (Latin-1
    where it fits, else '?'). Bounded in length."""
    out = ["("]
    for ch in text[:limit]:
        code = ord(ch)
        if ch in "()\\":
            out.append("\\" + ch)
        elif 32 <= code < 127:
            out.append(ch)
        elif 160 <= code < 256:
            out.append(f"\\{code:03o}")
        else:
            out.append("?")
    out.append(")")
    return "".join(out)


def _latin1(font: str) -> str:
    """PostScript defining `<font>-Latin1`: the font with ISO Latin-1 encoding."""
    return (
        f"/{font} findfont dup length dict begin "
        "{1 index /FID ne {def} {pop pop} ifelse} forall "
        f"/Encoding ISOLatin1Encoding def currentdict end /{font}-Latin1 exch definefont pop"
    )


def default_banner(
    facts: JobFacts,
    *,
    action: Action | str = Action.ALLOW,
    reason: str = "",
    kind: BannerKind = BannerKind.STARTING,
    when: datetime | None = None,
    balance: str = "",
) -> bytes:
    """A one-page A4/Letter-safe PostScript banner with the job's facts and,
    for a refused job, why it was refused."""
    act = str(action.value if isinstance(action, Action) else action).upper()
    heading = "PRINT JOB REFUSED" if act == "DENY" else f"{kind.value.upper()} BANNER"
    rows: list[tuple[str, str]] = [
        ("User", facts.user),
        ("Printer", facts.printer),
        ("Job", facts.job_id),
        ("Title", facts.title),
        ("Host", facts.host or ""),
        ("Billing code", facts.billing_code or ""),
        ("Pages", str(facts.pages)),
        ("Date", (when.strftime("%Y-%m-%d %H:%M %Z") if when else "")),
    ]
    if balance:
        rows.append(("Balance", balance))
    if reason:
        rows.append(("Reason", reason))
    lines = [
        "%!PS-Adobe-3.0",
        "%%Pages: 1",
        "%%Creator: PageTally",
        "%%EndComments",
        "%%Page: 1 1",
        *(_latin1(font) for font in ("Helvetica", "Helvetica-Bold")),
        "/Helvetica-Bold-Latin1 findfont 24 scalefont setfont",
        f"60 720 moveto {ps_string(heading)} show",
        "/Helvetica-Latin1 findfont 12 scalefont setfont",
    ]
    y = 680
    for label, value in rows:
        if not value:
            continue
        lines.append(f"60 {y} moveto {ps_string(label + ':')} show")
        lines.append(f"160 {y} moveto {ps_string(value)} show")
        y -= 20
    lines += ["showpage", "%%EOF", ""]
    return "\n".join(lines).encode("ascii")


BUILTIN = "builtin"


def banner_bytes(
    kind: BannerKind,
    rules: BannerRules,
    facts: JobFacts,
    job_env: Mapping[str, str],
    *,
    action: Action | str = Action.ALLOW,
    reason: str = "",
    when: datetime | None = None,
    balance: str = "",
    base_env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> bytes | None:
    """The banner to print for `kind`: the built-in one, the configured
    file's content or the configured command's output. None when none is
    configured or it cannot be produced (logged)."""
    source = rules.source(kind)
    if source is None:
        return None
    if source.strip().lower() == BUILTIN:
        return default_banner(
            facts, action=action, reason=reason, kind=kind, when=when, balance=balance
        )
    return load_banner(source, job_env, base_env=base_env, timeout=timeout)
