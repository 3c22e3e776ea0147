"""Printer groups, nestable to any depth: the chain above a printer, and cycles.

The store hands these functions its parent edges as a mapping from a printer's
name to the names of the groups it belongs to directly.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from pagetally.errors import PrinterGroupCycle


def ancestors(parents: Mapping[str, Collection[str]], printer: str) -> list[str]:
    """Every printer group above `printer`, each once, nearest first (breadth-first)."""
    seen: set[str] = {printer}
    order: list[str] = []
    frontier = [printer]
    while frontier:
        nxt: list[str] = []
        for name in frontier:
            for parent in sorted(parents.get(name, ())):
                if parent not in seen:
                    seen.add(parent)
                    order.append(parent)
                    nxt.append(parent)
        frontier = nxt
    return order


def check_no_cycle(parents: Mapping[str, Collection[str]], group: str, member: str) -> None:
    """Refuse to put `member` into `group` when `group` is `member` or lies below it."""
    if group == member:
        raise PrinterGroupCycle(f"printer group {group!r} cannot contain itself")
    if member in ancestors(parents, group):
        raise PrinterGroupCycle(
            f"putting {member!r} into {group!r} would make a cycle: "
            f"{group!r} is already inside {member!r}"
        )
