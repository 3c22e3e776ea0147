"""pages_printed: plain differences, HP NVRAM, wrap-around, and what is not believed."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pagetally.devices import CounterInconsistent, CounterQuirks, count_pages, pages_printed
from pagetally.errors import DeviceError


@pytest.mark.parametrize(
    ("before", "after", "pages"),
    [(1000, 1000, 0), (1000, 1003, 3), (0, 1, 1), (5, 100_005, 100_000)],
)
def test_plain_difference(before: int, after: int, pages: int) -> None:
    assert pages_printed(before, after) == pages
    assert count_pages(before, after).quirk is None


@pytest.mark.parametrize(("before", "after", "pages"), [(1005, 1003, 8), (1009, 1000, 1)])
def test_hp_nvram_step_back_counts_plus_ten(before: int, after: int, pages: int) -> None:
    delta = count_pages(before, after)
    assert delta.pages == pages
    assert delta.quirk is not None and "NVRAM" in delta.quirk


def test_hp_nvram_off_refuses_step_back() -> None:
    with pytest.raises(CounterInconsistent):
        pages_printed(1005, 1003, CounterQuirks(hp_nvram=False))


def test_step_back_of_ten_is_not_nvram() -> None:
    with pytest.raises(CounterInconsistent) as info:
        pages_printed(1010, 1000)
    assert "went back from 1010 to 1000" in str(info.value)
    assert isinstance(info.value, DeviceError)
    assert (info.value.before, info.value.after) == (1010, 1000)


@pytest.mark.parametrize(
    ("before", "after", "pages", "wrapped_at"),
    [
        (999_998, 3, 5, 999_999),  # six-digit counter
        (999_999, 0, 1, 999_999),
        (2**24 - 2, 2, 4, 2**24 - 1),  # 24-bit counter
        (2**32 - 10, 5, 15, 2**32 - 1),  # SNMP Counter32
    ],
)
def test_wrap_around(before: int, after: int, pages: int, wrapped_at: int) -> None:
    delta = count_pages(before, after)
    assert delta.pages == pages
    assert delta.quirk is not None and f"wrapped at {wrapped_at}" in delta.quirk


def test_wrap_only_at_configured_moduli() -> None:
    quirks = CounterQuirks(wrap_at=(2**32,))
    with pytest.raises(CounterInconsistent):
        pages_printed(999_998, 3, quirks)
    assert pages_printed(2**32 - 1, 1, quirks) == 2


def test_counter_reset_far_from_top_is_not_a_wrap() -> None:
    with pytest.raises(CounterInconsistent):
        pages_printed(500_000, 20)


def test_unbelievable_jump() -> None:
    with pytest.raises(CounterInconsistent) as info:
        pages_printed(10, 10 + 100_001)
    assert "not believed" in str(info.value)
    assert pages_printed(10, 10 + 200_000, CounterQuirks(max_job_pages=300_000)) == 200_000


def test_negative_values_refused() -> None:
    with pytest.raises(CounterInconsistent):
        pages_printed(-1, 5)


@given(
    modulus=st.sampled_from([1_000_000, 2**24, 2**32]),
    pages=st.integers(min_value=0, max_value=100_000),
    data=st.data(),
)
def test_any_job_on_any_counter_is_counted_exactly(
    modulus: int, pages: int, data: st.DataObject
) -> None:
    """Whatever the counter's width and position, (before + pages) mod width gives pages back."""
    before = data.draw(st.integers(min_value=0, max_value=modulus - 1))
    after = (before + pages) % modulus
    assert pages_printed(before, after) == pages
