"""What `pagetally setup cups` warns about in the cupsd.conf it finds: the
policies that crash Debian 12's cupsd on user names that are no local account
(docs/backend.md, "Known problems"), and job statuses other users can read."""

from __future__ import annotations

from pagetally.cups.setup import crash_warning, owner_limits, status_warning
from tests.cups.cupsd import CUPSD_CONF, DEBIAN12_CUPSD_CONF

CRASHING = "2.4.2-3+deb12u10"  # cups-daemon as installed here (dpkg-query), seen to crash


def test_the_stock_policy_requires_the_owner() -> None:
    limits = owner_limits(DEBIAN12_CUPSD_CONF.read_text())
    assert "<Policy default> <Limit Send-Document ...>" in limits
    assert "<Policy default> <Limit Cancel-Job ...>" in limits
    assert len(limits) == 7  # default, authenticated and kerberos policies


def test_warns_for_the_crashing_version_with_the_stock_policy() -> None:
    warning = crash_warning(CRASHING, DEBIAN12_CUPSD_CONF.read_text())
    assert warning is not None
    assert warning.startswith(
        f"warning: this cupsd (cups-daemon {CRASHING}) crashes when a "
        "job's user name is no local account"
    )
    assert "<Policy default> <Limit Send-Document ...> and 6 more" in warning
    assert "Known problems" in warning


def test_no_warning_without_owner_checks_or_on_other_versions() -> None:
    open_policy = CUPSD_CONF.format(
        port=631, address="127.0.0.1"
    )  # the tests' <Limit All>: no Require user
    assert crash_warning(CRASHING, open_policy) is None
    assert crash_warning("2.4.2-3+deb12u9x", DEBIAN12_CUPSD_CONF.read_text()) is None
    assert crash_warning(None, DEBIAN12_CUPSD_CONF.read_text()) is None
    # commented out, or only in a <Limit> outside any policy: not a policy check
    assert (
        owner_limits(
            "<Policy p>\n<Limit All>\n# Require user @OWNER\n</Limit>\n"
            "</Policy>\n<Location />\nRequire user @OWNER\n</Location>\n"
        )
        == []
    )
    assert owner_limits(
        "<policy p>\n <limit Cancel-Job>\n  REQUIRE USER @owner\n </limit>\n</policy>\n"
    ) == ["<Policy p> <Limit Cancel-Job>"]


def test_an_unreadable_cupsd_conf_still_warns_on_the_crashing_version() -> None:
    warning = crash_warning(CRASHING, None)
    assert warning is not None and "if its cupsd.conf has the stock policy" in warning


def test_job_status_readable_by_others() -> None:
    note = status_warning(DEBIAN12_CUPSD_CONF.read_text())
    assert note is not None and "job-printer-state-message" in note
    private = DEBIAN12_CUPSD_CONF.read_text().replace(
        "JobPrivateValues default", "JobPrivateValues default job-printer-state-message"
    )
    assert status_warning(private) is None
    assert status_warning("JobPrivateValues all\n") is None
    assert status_warning(None) is None
