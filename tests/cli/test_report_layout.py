"""The report's column-wise layout helpers (cli/output.py plain_table_columns,
number_width; cli/report.py _money_sum) give what the row-by-row code gave:
widths of any ints (negative, None shown as "-"), sums of money to the cent and
below, the same text as output._plain_table for any cells."""

from __future__ import annotations

import io
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from pagetally.cli.output import _plain_table, number_width, plain_table_columns
from pagetally.cli.report import _millionths, _money_sum, money_text
from pagetally.core.money import format_money
from pagetally.storage.reports import _money_reader
from pagetally.storage.types import to_money

ints = st.lists(st.one_of(st.none(), st.integers(-(10**15), 10**15)), max_size=30)
amounts = st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False)


@given(ints)
def test_number_width_is_the_longest_cell(column: list[int | None]) -> None:
    assert number_width(column) == max(
        (len("-" if v is None else str(v)) for v in column), default=0
    )


@given(st.dictionaries(st.text(min_size=1, max_size=5), amounts, min_size=1), st.data())
def test_money_sum_is_decimal_sum(paid: dict[str, Decimal], data: st.DataObject) -> None:
    paid = {k: to_money(v) for k, v in paid.items()}  # the store's 6 places
    names = data.draw(st.lists(st.sampled_from(sorted(paid)), max_size=40))
    expected = sum((paid[n] for n in names), Decimal(0))
    for units in (_millionths(paid), None):
        got = _money_sum(names, paid, units)
        assert (got == expected and str(got) == str(expected)) or not names


@given(
    st.lists(
        st.tuples(
            st.text(st.characters(blacklist_categories=["Cs", "Zs", "Cc"]), min_size=1, max_size=8),
            st.one_of(st.none(), st.integers(-(10**6), 10**6)),
            st.sampled_from(["", "DENY", "2026-11-24 15:00"]),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_columns_lay_out_as_rows(rows: list[tuple[str, int | None, str]]) -> None:
    """(The last column is the report's warn count: an int or "-", never blank.)"""
    headers, right, footer = ["User", "grace", "warn"], [False, False, True], ["Total", "", ""]
    names, softs, graces = (list(c) for c in zip(*rows, strict=True))
    cells = [[n, g, "-" if s is None else str(s)] for n, s, g in rows]
    old, new = io.StringIO(), io.StringIO()
    _plain_table(old, headers, cells, right, "t", "c", footer)
    shown = [v if v is not None else "-" for v in softs]
    plain_table_columns(
        new, headers, [names, graces, shown], right, title="t", caption="c", footer=footer,
        widths=[None, None, number_width(softs)],
    )  # fmt: skip
    assert new.getvalue() == old.getvalue()


@given(
    st.one_of(
        st.decimals(min_value=-(10**9), max_value=10**9, places=6, allow_nan=False),
        st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**12), max_value=10**12),
    )
)
def test_money_text_is_format_money(amount: Decimal) -> None:
    """Every amount, of the store's 6 places or any other (then format_money's own
    path): rounding, trailing zeros, negative zeros."""
    assert money_text(amount) == format_money(amount)


@given(st.integers(-(10**15), 10**15))
def test_sqlite_millionths_read_as_to_money(raw: int) -> None:
    """The report's reading of SQLite's money (millionths) is the Money type's."""
    got = _money_reader("sqlite")(raw)
    expected = to_money(Decimal(raw) / Decimal(10**6))
    assert got == expected and str(got) == str(expected)


def test_money_sum_of_finer_amounts_is_decimal_sum() -> None:
    paid = {"a": Decimal("0.0000001"), "b": Decimal("2.5")}
    assert _millionths(paid) is None
    assert _money_sum(["a", "b", "a"], paid, None) == Decimal("2.5000002")
