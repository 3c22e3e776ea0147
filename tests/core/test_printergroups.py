"""Printer groups nest to any depth; the chain above a printer; cycles refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pagetally.core.printergroups import ancestors, check_no_cycle
from pagetally.errors import PrinterGroupCycle, RuleError

# lab → floor2 → building → campus; lab also in "colour"; colour → campus
PARENTS = {
    "lab": ["floor2", "colour"],
    "floor2": ["building"],
    "building": ["campus"],
    "colour": ["campus"],
}


def test_chain_nearest_first_each_once() -> None:
    # campus is two steps up through colour, so it comes before building (also two)
    assert ancestors(PARENTS, "lab") == ["colour", "floor2", "campus", "building"]
    assert ancestors(PARENTS, "building") == ["campus"]
    assert ancestors(PARENTS, "campus") == []
    assert ancestors(PARENTS, "unknown") == []


def test_deep_nesting() -> None:
    parents = {f"p{i}": [f"p{i + 1}"] for i in range(500)}
    chain = ancestors(parents, "p0")
    assert len(chain) == 500
    assert chain[0] == "p1" and chain[-1] == "p500"


def test_cycle_refused_with_a_clear_message() -> None:
    with pytest.raises(PrinterGroupCycle) as err:
        check_no_cycle(PARENTS, "lab", "campus")  # campus is above lab
    assert str(err.value) == (
        "putting 'campus' into 'lab' would make a cycle: 'lab' is already inside 'campus'"
    )
    assert isinstance(err.value, RuleError)
    assert err.value.exit_code == 2


def test_group_cannot_contain_itself() -> None:
    with pytest.raises(PrinterGroupCycle, match="cannot contain itself"):
        check_no_cycle(PARENTS, "floor2", "floor2")


def test_allowed_memberships() -> None:
    check_no_cycle(PARENTS, "campus", "lab")  # already above: harmless
    check_no_cycle(PARENTS, "colour", "floor2")
    check_no_cycle({}, "g", "p")


def test_cycle_in_stored_edges_does_not_loop() -> None:
    # a damaged store with a cycle still terminates
    assert ancestors({"a": ["b"], "b": ["a"]}, "a") == ["b"]


@given(
    st.dictionaries(
        st.sampled_from("abcdefgh"), st.lists(st.sampled_from("abcdefgh"), max_size=3), max_size=8
    ),
    st.sampled_from("abcdefgh"),
    st.sampled_from("abcdefgh"),
)
def test_accepted_edges_never_make_a_cycle(
    edges: dict[str, list[str]], group: str, member: str
) -> None:
    """Building a graph only through check_no_cycle keeps it acyclic."""
    parents: dict[str, set[str]] = {}
    for child, groups in [*edges.items(), (member, [group])]:
        for g in groups:
            try:
                check_no_cycle(parents, g, child)
            except PrinterGroupCycle:
                continue
            parents.setdefault(child, set()).add(g)
    for node in parents:
        assert node not in ancestors(parents, node)
