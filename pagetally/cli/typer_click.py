"""The parts of Click we use, as Typer ships them: Typer >= 0.29 vendors Click
as its private `typer._click` (the `click` package is not what runs). Import
them from here only, so that a Typer upgrade is a one-file change."""

from __future__ import annotations

from typer import Abort, Exit
from typer._click.core import Context
from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
from typer._click.globals import get_current_context

__all__ = [
    "Abort",
    "ClickException",
    "Context",
    "Exit",
    "NoArgsIsHelpError",
    "UsageError",
    "get_current_context",
]
