"""The job price: per job, per page, colour, sheets, media, ink, chain, overcharge."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from pagetally.core.models import LimitBy, PriceTable, Printer
from pagetally.core.pricing import job_price, media_multiplier
from pagetally.core.settings import RuleSettings
from tests.core.helpers import D, job, printer, user

S = RuleSettings()


def test_per_page_and_per_job() -> None:
    p = printer(per_page="0.10", per_job="0.05")
    assert job_price([p], job(7), S) == D("0.750000")


def test_pykota_float_case_is_exact() -> None:
    # PyKota: 7 × 0.1 = 0.7000000000000001
    assert job_price([printer(per_page="0.10")], job(7), S) == D("0.70")


def test_colour_pages_at_their_own_price() -> None:
    p = printer(per_page="0.05", per_color_page=D("0.40"))
    # 10 pages, 3 of them colour: 7 × 0.05 + 3 × 0.40
    assert job_price([p], job(10, color_pages=3), S) == D("1.55")


def test_colour_price_defaults_to_per_page() -> None:
    assert job_price([printer(per_page="0.05")], job(10, color_pages=3), S) == D("0.50")


def test_per_sheet_duplex() -> None:
    p = printer(per_page="0.02", per_sheet=D("0.01"))
    # 10 pages duplex on 5 sheets: 10 × 0.02 + 5 × 0.01
    assert job_price([p], job(10, sheets=5), S) == D("0.25")
    # sheets unknown: one sheet per page
    assert job_price([p], job(10), S) == D("0.30")


def test_media_multiplier() -> None:
    p = printer(per_page="0.10", per_job="0.20", media={"A3": D("2")})
    assert job_price([p], job(4, media="a3"), S) == D("1.00")  # per_job not multiplied
    assert job_price([p], job(4, media="iso_a3_297x420mm"), S) == D("1.00")
    assert job_price([p], job(4, media="a4"), S) == D("0.60")
    assert job_price([p], job(4), S) == D("0.60")


def test_media_multiplier_lookup() -> None:
    t = PriceTable(media={"a3": D("2"), "letter": D("1.1")})
    assert media_multiplier(t, "na_letter_8.5x11in") == D("1.1")
    assert media_multiplier(t, None) == D("1")
    assert media_multiplier(PriceTable(), "a3") == D("1")


def test_ink_pricing_replaces_page_pricing() -> None:
    p = printer(per_page="0.10", per_color_page=D("1"))
    settings = RuleSettings(coefficients={"cyan": D("2"), "black": D("0.5")})
    # black 150% (1.5 full pages) × 0.5 + cyan 20% × 2 = 0.75 + 0.4 = 1.15 full pages
    facts = job(3, color_pages=1, ink={"black": 150.0, "Cyan": 20.0})
    assert job_price([p], facts, settings) == D("0.115")
    # an ink without a coefficient counts 1
    assert job_price([p], job(3, ink={"magenta": 50.0}), S) == D("0.05")


def test_chain_price_is_summed() -> None:
    chain = [
        printer("lab", per_page="0.10", per_job="0.01"),
        printer("floor2", per_page="0.02"),
        printer("building", per_page="0", per_job="0.50"),
    ]
    # lab 0.51 + floor2 0.10 + building 0.50
    assert job_price(chain, job(5), S) == D("1.11")


def test_overcharge() -> None:
    p = printer(per_page="0.10")
    assert job_price([p], job(10), S, user(overcharge="1.5")) == D("1.50")
    assert job_price([p], job(10), S, user(overcharge="0.5")) == D("0.50")  # undercharge
    assert job_price([p], job(10), S, user(overcharge="0")) == D("0")  # free


def test_nochange_and_passthrough_pay_nothing() -> None:
    p = printer(per_page="0.10")
    assert job_price([p], job(10), S, user(limit_by=LimitBy.NOCHANGE)) == 0
    through = printer(per_page="0.10", passthrough=True)
    assert job_price([through, printer("grp")], job(10), S, user()) == 0
    assert job_price([], job(10), S, user()) == 0


def test_rounding_is_half_even_at_six_places() -> None:
    p = printer(per_page="0.0000025")
    assert job_price([p], job(1), S) == D("0.000002")
    assert job_price([p], job(3), S) == D("0.000008")  # 0.0000075 → even
    assert job_price([p], job(1), S).as_tuple().exponent == -6


prices = st.decimals(min_value=0, max_value=100, places=6)


@given(
    per_page=prices,
    per_job=prices,
    colour=st.one_of(st.none(), prices),
    per_sheet=prices,
    pages=st.integers(min_value=0, max_value=100_000),
    colour_pages=st.integers(min_value=-5, max_value=100_000),
    sheets=st.one_of(st.none(), st.integers(min_value=0, max_value=100_000)),
    overcharge=st.decimals(min_value=-1, max_value=10, places=3),
    ink=st.dictionaries(
        st.sampled_from(["black", "cyan", "magenta", "yellow"]),
        st.floats(allow_nan=True, allow_infinity=True),
        max_size=4,
    ),
)
def test_price_has_the_overcharges_sign_and_six_places(
    per_page: Decimal,
    per_job: Decimal,
    colour: Decimal | None,
    per_sheet: Decimal,
    pages: int,
    colour_pages: int,
    sheets: int | None,
    overcharge: Decimal,
    ink: dict[str, float],
) -> None:
    table = PriceTable(
        per_page=per_page, per_job=per_job, per_color_page=colour, per_sheet=per_sheet
    )
    facts = job(pages, color_pages=colour_pages, sheets=sheets, ink=ink)
    price = job_price([Printer("p", prices=table)], facts, S, user(overcharge=str(overcharge)))
    # never negative from prices or counts; a negative overcharge (PyKota: "giving
    # money to an user whenever he prints") mirrors the positive one
    mirror = job_price([Printer("p", prices=table)], facts, S, user(overcharge=str(-overcharge)))
    assert price == -mirror
    assert (price >= 0) if overcharge >= 0 else (price <= 0)
    assert price.as_tuple().exponent == -6


@given(
    a=st.decimals(min_value=0, max_value=10, places=4),
    b=st.decimals(min_value=0, max_value=10, places=4),
    pages=st.integers(min_value=0, max_value=1000),
)
def test_chain_price_is_the_sum_of_each_printer(a: Decimal, b: Decimal, pages: int) -> None:
    pa = Printer("a", prices=PriceTable(per_page=a))
    pb = Printer("b", prices=PriceTable(per_page=b))
    both = job_price([pa, pb], job(pages), S)
    assert both == job_price([pa], job(pages), S) + job_price([pb], job(pages), S)


def test_absurd_ink_coverage_is_capped_at_full_pages() -> None:
    p = printer(per_page="0.10")
    # 2 pages can hold at most 200 % of any one ink
    assert job_price([p], job(2, ink={"black": 1e300}), S) == D("0.20")
    assert job_price([p], job(2, ink={"black": float("nan"), "cyan": -5.0}), S) == D("0")
