"""The web interface in a real headless Chromium: a user and an admin at work,
and the main pages used with the keyboard only."""

from __future__ import annotations

from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from tests.web.docs import blank_pdf
from tests.web.site import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def _login(page: Any, base: str, user: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url(f"{base}/")


def test_user_and_admin_round_trip(
    browser: Any, base_url: str, site_store: Any, shots: Path, tmp_path: Path
) -> None:
    user_ctx, admin_ctx = browser.new_context(), browser.new_context()
    me = user_ctx.new_page()
    _login(me, base_url, "alice")
    # status first: quota per printer and the balance
    assert me.inner_text("h1") == "Your printing status, alice"
    assert "soft limit of 10 pages passed on color1" in me.inner_text("[role=alert]")
    assert me.inner_text("#balance") == "9.60 EUR"
    me.screenshot(path=shots / "status.png", full_page=True)
    # history
    me.click("text=History")
    assert "alice-thesis.pdf" in me.inner_text("table")
    me.screenshot(path=shots / "history.png", full_page=True)
    # a quote for an uploaded file
    doc = tmp_path / "three-pages.pdf"
    doc.write_bytes(blank_pdf(3))
    me.click("nav >> text=Quote")
    me.set_input_files("#document", str(doc))
    me.click("button:has-text('Get a quote')")
    quote = me.inner_text("#quote")
    assert "lp1" in quote and "0.30 EUR" in quote
    me.screenshot(path=shots / "quote.png", full_page=True)
    # ask for a refund from the history
    me.click("nav >> text=History")
    me.click("text=Ask for a refund of job 1")
    me.fill("#reason", "paper jam half way")
    me.click("button:has-text('Ask for a refund')")
    assert "pending" in me.inner_text("table")
    me.screenshot(path=shots / "refunds.png", full_page=True)
    me.click("nav >> text=Charts")
    me.screenshot(path=shots / "charts.png", full_page=True)

    # the admin approves, adds credit, sets a quota
    boss = admin_ctx.new_page()
    _login(boss, base_url, "root")
    boss.goto(f"{base_url}/admin/refunds")
    boss.click("button[aria-label='Approve request 1']")
    assert "job 1 refunded" in boss.inner_text("[role=status]")
    boss.screenshot(path=shots / "admin-refunds.png", full_page=True)
    boss.goto(f"{base_url}/admin/payments")
    boss.fill("#pc-name", "alice")
    boss.fill("#pc-amount", "5")
    boss.click("button:has-text('Record payment')")
    assert "credit of 5.00 EUR for alice recorded" in boss.inner_text("[role=status]")
    boss.goto(f"{base_url}/admin/quotas")
    boss.fill("#sq-name", "alice")
    boss.fill("#sq-printer", "lp1")
    boss.fill("#sq-soft", "150")
    boss.fill("#sq-hard", "200")
    boss.click("button:has-text('Set quota')")
    assert "quota of alice on lp1 set" in boss.inner_text("[role=status]")
    boss.screenshot(path=shots / "admin-quotas.png", full_page=True)
    boss.goto(f"{base_url}/admin/dashboard")
    boss.screenshot(path=shots / "admin-dashboard.png", full_page=True)
    boss.goto(f"{base_url}/admin/users")
    boss.screenshot(path=shots / "admin-users.png", full_page=True)

    # the user sees both: 9.60 + 0.40 refunded + 5 credited, and the new limits
    me.click("nav >> text=Status")
    assert me.inner_text("#balance") == "15.00 EUR"
    row = me.inner_text("tr:has(th:text-is('lp1'))")
    assert row.split("\t")[:4] == ["lp1", "4", "150", "200"]
    me.click("nav >> text=Refunds")
    assert "approved" in me.inner_text("table")
    with me.expect_download() as got:  # the refund's PDF receipt
        me.click("text=Receipt #1 (PDF)")
    receipt = got.value
    assert receipt.suggested_filename == "receipt-1.pdf"
    assert Path(receipt.path()).read_bytes().startswith(b"%PDF")
    me.screenshot(path=shots / "refunds-receipt.png", full_page=True)
    assert site_store.get_user("alice").balance == D("15.00")
    user_ctx.close()
    admin_ctx.close()


def _tab_to(page: Any, text: str, limit: int = 40) -> None:
    """Press Tab until the focused element's text (or label) is `text`."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const e = document.activeElement;"
            " return (e.getAttribute('aria-label') || e.innerText || e.value || '').trim(); }"
        )
        focused = " ".join(focused.split())
        seen.append(focused)
        if focused == text:
            outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", f"focus on {text!r} is not visible"
            return
    raise AssertionError(f"{text!r} not reached with Tab: {seen}")


def test_keyboard_only(browser: Any, base_url: str, shots: Path) -> None:
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(f"{base_url}/login")
    # the user name field has the focus (autofocus): wait for it, or the first keys
    # can go to the page before it is focused (seen once in CI: login never sent)
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.tagName === 'INPUT'"
    )
    page.keyboard.type("bob")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/")
    assert page.inner_text("h1") == "Your printing status, bob"
    _tab_to(page, "History")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/history")
    _tab_to(page, "Ask for a refund of job 4")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/refunds?job=4")
    _tab_to(page, "4")  # the job field, filled in
    page.keyboard.press("Tab")
    page.keyboard.type("toner streaks")
    _tab_to(page, "Ask for a refund")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/refunds?asked=1")
    assert "toner streaks" in page.inner_text("table")
    _tab_to(page, "Log out")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/login")
    page.screenshot(path=shots / "login.png", full_page=True)
    ctx.close()
