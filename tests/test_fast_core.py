"""`-n` (pytest-xdist) takes the fast core only: tests/conftest.py refuses a run
that may select a slow test, whose servers are not safe once per worker."""

from __future__ import annotations

import pytest

from tests.conftest import _may_select_slow


@pytest.mark.parametrize(
    ("expr", "may"),
    [
        ("", True),
        ("slow", True),
        ("cups", True),  # the cups tests are slow ones
        ("not cups", True),
        ("slow and postgresql", True),
        ("not slow", False),
        ("not slow and not cups", False),
        ("(not slow) or (slow and not slow)", False),
    ],
)
def test_only_a_selection_without_slow_tests_may_run_under_n(
    pytestconfig: pytest.Config, expr: str, may: bool
) -> None:
    assert _may_select_slow(expr, pytestconfig.getini("markers")) is may
