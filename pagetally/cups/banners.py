"""Accounting banners around a printed job (startingbanner / endingbanner).

As PyKota's cupspykota did, a banner travels to the real backend in the same
data stream as the job: starting banner, job, ending banner, one file. Which
banners print and which are charged (`accountbanner`, one page each) are the
pure rules of `pagetally.notify.banners`; this module only gathers the
printer's directives, asks those rules, and writes the file to send.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from pagetally.core.models import Action, Decision, JobFacts, JobRecord, UserQuota
from pagetally.notify.banners import BannerKind, BannerRules, banner_bytes, choose_banner


@dataclass(frozen=True, slots=True)
class JobBanners:
    """The banner bytes to send before and after the job, and how many of them
    are charged as a page."""

    starting: bytes | None = None
    ending: bytes | None = None
    charged: int = 0

    @property
    def any(self) -> bool:
        return bool(self.starting or self.ending)


def banner_rules(setting: Callable[[str], object]) -> BannerRules:
    """The banner directives of one printer (`setting(name)` = config.get(name, printer))."""
    return BannerRules.from_values(
        startingbanner=_text(setting("startingbanner")),
        endingbanner=_text(setting("endingbanner")),
        accountbanner=str(setting("accountbanner") or "both"),
        maxdenybanners=int(str(setting("maxdenybanners") or 0)),
        printcancelledbanners=bool(setting("printcancelledbanners")),
        avoidduplicatebanners=str(setting("avoidduplicatebanners") or "no"),
    )


def _text(value: object) -> str | None:
    return None if value is None or str(value).strip() == "" else str(value)


def plan_banners(
    rules: BannerRules,
    facts: JobFacts,
    action: Action,
    *,
    last_job: JobRecord | None,
    now: datetime,
    job_env: Mapping[str, str],
    base_env: Mapping[str, str],
    log: Callable[[str], None],
) -> JobBanners:
    """The banners an allowed job gets, per the rules; a banner that cannot be
    produced (unreadable file, failing command) is left out and logged."""
    out: dict[BannerKind, bytes | None] = {}
    charged = 0
    for kind in (BannerKind.STARTING, BannerKind.ENDING):
        choice = choose_banner(
            kind, rules, action, user=facts.user, deny_banners_printed=0, last_job=last_job, now=now
        )
        data = None
        if choice.print:
            data = banner_bytes(
                kind, rules, facts, job_env, action=action, when=now, base_env=base_env
            )
            if data is None:
                log(f"PageTally: the {kind.value} banner could not be produced; not printed")
            elif choice.charged:
                charged += 1
        out[kind] = data
    return JobBanners(out[BannerKind.STARTING], out[BannerKind.ENDING], charged)


def compose(job_path: str, banners: JobBanners, tmpdir: str) -> str:
    """A private file holding starting banner, the job's data and ending banner."""
    fd, path = tempfile.mkstemp(prefix="pagetally-", suffix=".banners", dir=tmpdir or None)
    try:
        with os.fdopen(fd, "wb") as out, open(job_path, "rb") as job:
            if banners.starting:
                out.write(banners.starting)
            while chunk := job.read(1 << 16):
                out.write(chunk)
            if banners.ending:
                out.write(banners.ending)
    except BaseException:
        os.unlink(path)
        raise
    return path


def deny_banner(
    rules: BannerRules,
    facts: JobFacts,
    decision: Decision,
    quota: UserQuota | None,
    *,
    now: datetime,
    job_env: Mapping[str, str],
    base_env: Mapping[str, str],
    log: Callable[[str], None],
) -> bytes | None:
    """The starting banner of a refused job, saying why, while the person's deny
    banners on this printer (their warn count) are fewer than `maxdenybanners`.
    None without a quota entry to count them on: the bound must hold."""
    if rules.starting is None or rules.max_deny_banners <= 0:
        return None
    if quota is None:
        log("PageTally: no deny banner: the person has no quota entry to count it on")
        return None
    choice = choose_banner(
        BannerKind.STARTING,
        rules,
        Action.DENY,
        user=facts.user,
        deny_banners_printed=quota.warn_count,
        last_job=None,
        now=now,
    )
    if not choice.print:
        log(f"PageTally: no deny banner: {choice.why}")
        return None
    return banner_bytes(
        BannerKind.STARTING,
        rules,
        facts,
        job_env,
        action=Action.DENY,
        reason=decision.reason,
        when=now,
        base_env=base_env,
    )


def write_banner(data: bytes, tmpdir: str) -> str:
    """A private file holding `data` alone (a deny banner to send)."""
    fd, path = tempfile.mkstemp(prefix="pagetally-", suffix=".banner", dir=tmpdir or None)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    return path
