"""Accounting banners through the backend in-process: the fake device receives
starting banner, job and ending banner in one stream; accountbanner charges them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pagetally.core.models import LimitBy, User
from pagetally.cups.status import BackendExit
from tests.cups.test_backend import PDF, Site


def _site(tmp: Path, extra: str) -> Site:
    site = Site(tmp)
    site.conf.write_text(site.conf.read_text() + extra)
    site.store.add_user(User("alice", limit_by=LimitBy.BALANCE, balance=Decimal("5.00")))
    site.store.set_user_quota("alice", "lab")
    return site


def test_banners_surround_the_job_and_are_charged(tmp_path: Path) -> None:
    ending = tmp_path / "ending.ps"
    ending.write_bytes(b"%!PS\n% ENDING BANNER\nshowpage\n")
    site = _site(tmp_path, f"startingbanner: builtin\nendingbanner: {ending}\n")
    code, err = site.job("1", "alice", PDF.read_bytes())
    assert code == 0, err
    sent = (site.tmp / "printed-1").read_bytes()
    job = PDF.read_bytes()
    start = sent.index(job)
    assert sent.startswith(b"%!PS-Adobe-3.0") and b"STARTING BANNER" in sent[:start]
    assert b"(alice)" in sent[:start]
    assert sent[start + len(job) :] == ending.read_bytes()
    # accountbanner: both (the default): 1 page + 2 banners at 0.10
    assert site.store.get_user("alice").balance == Decimal("4.70")


def test_accountbanner_none_charges_only_the_job(tmp_path: Path) -> None:
    site = _site(tmp_path, "startingbanner: builtin\naccountbanner: none\n")
    assert site.job("1", "alice", PDF.read_bytes())[0] == 0
    sent = (site.tmp / "printed-1").read_bytes()
    assert sent.startswith(b"%!PS-Adobe-3.0") and sent.endswith(PDF.read_bytes())
    assert site.store.get_user("alice").balance == Decimal("4.90")


def test_avoidduplicatebanners_skips_the_same_persons_next_banner(tmp_path: Path) -> None:
    site = _site(tmp_path, "startingbanner: builtin\navoidduplicatebanners: yes\n")
    assert site.job("1", "alice", PDF.read_bytes())[0] == 0
    assert site.job("2", "alice", PDF.read_bytes())[0] == 0
    assert (site.tmp / "printed-1").read_bytes().startswith(b"%!PS-Adobe-3.0")
    assert (site.tmp / "printed-2").read_bytes() == PDF.read_bytes()
    assert site.store.get_user("alice").balance == Decimal("4.70")  # 2 + 1 banner


def test_unreadable_banner_is_left_out_and_said(tmp_path: Path) -> None:
    site = _site(tmp_path, f"startingbanner: {tmp_path / 'missing' / 'cmd'}\n")
    code, err = site.job("1", "alice", PDF.read_bytes())
    assert code == 0, err
    assert "starting banner could not be produced" in err
    assert (site.tmp / "printed-1").read_bytes() == PDF.read_bytes()
    assert site.store.get_user("alice").balance == Decimal("4.90")


def test_deny_banners_say_why_and_stop_at_maxdenybanners(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.conf.write_text(site.conf.read_text() + "startingbanner: builtin\nmaxdenybanners: 2\n")
    site.store.add_user(User("bob", limit_by=LimitBy.BALANCE, balance=Decimal("0.00")))
    site.store.set_user_quota("bob", "lab")
    for job in ("1", "2", "3"):
        code, err = site.job(job, "bob", PDF.read_bytes())
        assert code == BackendExit.CANCEL, err
    for job in ("1", "2"):
        sent = (site.tmp / f"printed-{job}").read_bytes()
        assert b"PRINT JOB REFUSED" in sent and b"(Reason:)" in sent
        assert PDF.read_bytes() not in sent  # the refused job itself never prints
    assert not (site.tmp / "printed-3").exists()
    assert "maximum number of deny banners reached (2)" in err
    assert site.store.get_user_quota("bob", "lab").warn_count == 2


def test_no_deny_banner_by_default(tmp_path: Path) -> None:
    site = Site(tmp_path)
    site.conf.write_text(site.conf.read_text() + "startingbanner: builtin\n")
    site.store.add_user(User("bob", limit_by=LimitBy.BALANCE, balance=Decimal("0.00")))
    site.store.set_user_quota("bob", "lab")
    assert site.job("1", "bob", PDF.read_bytes())[0] == BackendExit.CANCEL
    assert not (site.tmp / "printed-1").exists()
