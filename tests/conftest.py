"""Shared fixtures. Slow suites (real servers, third-party programs, fresh
interpreters) are marked `slow`: `pytest -m "not slow" -n auto` runs the fast core
(about 31 s of CPU, 20 s on two cores; a folder in seconds without `-n`); CI runs
everything in one process."""

import os
import sys
import tempfile

import pytest
from hypothesis import settings

# Bytecode is cached (in the ignored __pycache__ folders) even where the
# environment says not to write it (PYTHONDONTWRITEBYTECODE=1): without the cache
# every run compiles the package and rewrites the asserts of ~200 test modules
# again (collection 8.6 s -> 3.8 s CPU here), and every subprocess a test starts
# (the CLI's start-up tests, the backend, serve) compiles what it imports.
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

# Hypothesis fails an example that takes over 200 ms: on a loaded machine (CI, or
# eight suites on two cores) that fails property tests by accident, e.g.
# test_pricing's chain sum at 1.3 s. The properties are what these tests check;
# speed is measured in bench/.
settings.register_profile("pagetally", deadline=None)
settings.load_profile("pagetally")

# Temporary files (tmp_path, the SQLite stores copied per test, spool files) go
# to /dev/shm when it is a writable tmpfs: a SQLite commit or close there costs
# no fsync, and the fast core commits a few thousand times (10-15% of its CPU on
# this machine). PAGETALLY_TEST_TMPDIR names another folder ("" keeps the
# system's). Only this process's tempfile default changes: programs the tests
# start get the environment the test gives them.
_TMP = os.environ.get("PAGETALLY_TEST_TMPDIR", "/dev/shm")
if _TMP and os.path.isdir(_TMP) and os.access(_TMP, os.W_OK | os.X_OK):
    tempfile.tempdir = _TMP

#: Tests that start fresh Python interpreters importing PageTally (start-up as
#: installed: what `--help`, `pagetally count` and other commands import; a command
#: run as its own process): a fifth of a second to seconds each, so they run with
#: the slow suites (CI), not in the fast core.
FRESH_INTERPRETER_TESTS = (
    "tests/cli/test_startup.py::test_every_commands_help_is_light",
    "tests/cli/test_startup.py::test_real_commands_import_only_what_they_need",
    "tests/cli/test_startup.py::test_help_and_count_import_only_what_they_need",
    "tests/cli/test_startup.py::test_aliases_help_does_not_load_typer",
    "tests/cli/test_startup.py::test_noun_help_imports_no_typer",
    "tests/pdl/test_count_cli.py::test_pagetally_count_leaves_help_and_errors_to_click",
    "tests/pdl/test_count_cli.py::test_pagetally_count_starts_without_click",
    "tests/tools/test_quote.py::test_pykotme_reads_standard_input",
    "tests/faults/test_rules.py::test_the_settle_command_charges_what_a_killed_attempt_printed",
    "tests/storage/test_schema_dialects.py::test_the_schema_loads_no_server_dialect",
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.split("[")[0] in FRESH_INTERPRETER_TESTS:
            item.add_marker(pytest.mark.slow)


def pytest_configure(config: pytest.Config) -> None:
    """pytest-xdist (`-n`) runs the fast core only (`-m "not slow"`). The slow
    suites' session fixtures are not safe once per worker: `dns_sd`
    (tests/fixtures_devices.py) stops the D-Bus and avahi daemons it started when
    its worker ends, under the other workers' feet; the corpus is generated at
    collection, by every worker into one folder; and each worker would start its
    own PostgreSQL, MariaDB, slapd and cupsd. CI runs everything in one process."""
    if not getattr(config.option, "numprocesses", None) or hasattr(config, "workerinput"):
        return
    if _may_select_slow(config.option.markexpr, config.getini("markers")):
        raise pytest.UsageError(
            '-n runs the fast core only: add -m "not slow" (the slow suites\' servers '
            "are not safe once per worker; tests/conftest.py says why)"
        )


def _may_select_slow(expr: str, markers: list[str]) -> bool:
    """Whether `-m expr` keeps a test marked slow (alone or with one other mark)."""
    if not expr:
        return True
    from _pytest.mark.expression import Expression

    compiled = Expression.compile(expr)
    names = [line.split(":")[0].strip() for line in markers]
    return any(
        compiled.evaluate(lambda name, *_, marks={"slow", other}, **__: name in marks)
        for other in names
    )
