"""The backend's exit codes: one table (cups/status.py EXIT_FOR), the only place
a CUPS exit code is chosen (HTTPie's ExitStatus at one place). Each row is what
cupsd must do with the job; tests/cups/test_backend*.py and the cupsd tests see
the codes of real runs."""

from __future__ import annotations

import ast
from pathlib import Path

import pagetally
from pagetally.cups.status import (
    EXIT_FOR,
    BackendExit,
    Outcome,
    exit_for,
    real_backend_exit,
)


def test_the_table_whole() -> None:
    assert {o.value: int(e) for o, e in EXIT_FOR.items()} == {
        "discovery": 0,
        "settled": 0,  # charged once, printed once: nothing for cupsd to do
        "refused": 5,  # cancel the job, the queue goes on (lpstat shows the reason)
        "config_broken": 4,  # no accounting possible: stop the queue, keep the job
        "job_error": 1,  # the queue's error policy decides
        "crashed": 1,
        "unrecordable_hold": 3,  # disk full: hold it, release once there is room
        "unrecordable_stop": 4,
        "counter_unreadable": 4,  # onaccountererror stop
        "backend_killed": 1,
    }
    assert set(EXIT_FOR) == set(Outcome)


def test_the_real_backends_verdict_is_passed_on() -> None:
    assert real_backend_exit(0, delivered=False) == BackendExit.OK
    assert real_backend_exit(BackendExit.RETRY, delivered=False) == BackendExit.RETRY
    assert real_backend_exit(-9, delivered=False) == exit_for(Outcome.BACKEND_KILLED)
    assert real_backend_exit(-9, delivered=True) == BackendExit.OK  # it had sent the job


def test_no_exit_code_is_chosen_outside_the_table() -> None:
    """cups/ and service/ name no BackendExit member (nor return a bare CUPS
    code) outside status.py: each exit goes through `exit_for`."""
    root = Path(pagetally.__file__).parent
    found = []
    for path in [*root.glob("cups/*.py"), *root.glob("service/*.py")]:
        if path.name == "status.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "BackendExit"
            ):
                found.append(f"{path.name}:{node.lineno} BackendExit.{node.attr}")
    assert found == []
