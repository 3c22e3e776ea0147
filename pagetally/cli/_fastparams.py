"""Typer's parameter coercion, without Pydantic for the values that need none.

Typer 0.29 converts every parameter value through a Pydantic TypeAdapter built
on first use: importing Pydantic and building the adapters costs ~120 ms of CPU
in every command that takes an argument, several times what the command does
(`pagetally count FILE` on an empty file, a PyKota alias per user in a script).
For the plain cases, which are all of PageTally's parameters but a few, the
conversion is the identity or `int()`: str, bool, int (in its range), a value
of a str Enum, and lists of those. Those are converted here; anything else,
and any value the fast path does not accept (a bad number, a value out of
range), goes to Typer's own converter, so every error message is Typer's.

This reaches into Typer's private `_coercion` module, like `typer_click.py`: Typer is
pinned to 0.29.x and a Typer upgrade is checked by the CLI tests.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Any, get_args, get_origin

from typer._coercion import RuntimeParam, TypeDescriptor, build_runtime_param

_INT = re.compile(r"[+-]?[0-9]+")
_NO = object()  # the fast path does not take this value


def _plain(annotation: Any, info: Any, value: Any) -> Any:
    """`value` converted as Pydantic would, or _NO to let Typer do it."""
    if annotation is str:
        return value if isinstance(value, str) else _NO
    if annotation is bool:
        return value if isinstance(value, bool) else _NO
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            return _NO
        if isinstance(value, str):
            if not _INT.fullmatch(value):
                return _NO
            value = int(value)
        if getattr(info, "clamp", False):
            return _NO
        low, high = info.min, info.max
        if (low is not None and value < low) or (high is not None and value > high):
            return _NO
        return value
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        if isinstance(value, annotation):
            return value
        for member in annotation:
            if isinstance(value, str) and member.value == value:
                return member
        return _NO
    if get_origin(annotation) is list and isinstance(value, list | tuple):
        (item,) = get_args(annotation)
        items = [_plain(item, info, v) for v in value]
        return _NO if any(v is _NO for v in items) else items
    return _NO


def _handled(annotation: Any) -> bool:
    if annotation in (str, bool, int):
        return True
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return all(isinstance(m.value, str) for m in annotation)
    if get_origin(annotation) is list:
        args = get_args(annotation)
        return len(args) == 1 and get_origin(args[0]) is None and _handled(args[0])
    return False


@dataclass(frozen=True)
class _FastParam(RuntimeParam):
    """Plain values here; the rest through Typer's converter, built when needed."""

    descriptor: TypeDescriptor

    def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
        got = _plain(self.annotation, self.parameter_info, value)
        if got is not _NO:
            return got
        return build_runtime_param(self.descriptor)._coerce_value(value, param=param, ctx=ctx)


def install(command: Any, *, subcommands: bool = True) -> None:
    """Give `command`'s parameters (and its subcommands') the fast converter
    where their type allows; the others keep Typer's. The help option, which
    Click makes on first use, gets it then."""
    for param in getattr(command, "params", ()):
        _install(param)
    original = command.get_help_option

    def get_help_option(ctx: Any) -> Any:
        option = original(ctx)
        if option is not None:
            _install(option)
        return option

    command.get_help_option = get_help_option
    if subcommands:
        for sub in getattr(command, "commands", {}).values():
            install(sub)


def _install(param: Any) -> None:
    descriptor = getattr(param, "type_descriptor", None)
    if descriptor is None or getattr(param, "_runtime_param", _NO) is not None:
        return
    if descriptor.file_annotation is None and _handled(descriptor.annotation):
        param._runtime_param = _FastParam(
            parameter_info=descriptor.parameter_info,
            annotation=descriptor.annotation,
            descriptor=descriptor,
        )
