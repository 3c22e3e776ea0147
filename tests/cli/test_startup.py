"""The lazy root of `pagetally`: its table of commands says what the commands
themselves say, `--help` imports no command module, and a command imports only
what it needs (start-up is measured in bench/startup.py, not here)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from pagetally.cli import main
from pagetally.cli import typer_click as click


def test_commands_table_matches_the_commands() -> None:
    root = typer.main.get_command(main.app)
    ctx = click.Context(root, info_name="pagetally")
    for name, entry in main.COMMANDS.items():
        command = root.get_command(ctx, name)  # type: ignore[attr-defined]
        assert command is not None, name
        assert command.name == name
        assert entry.help == command.get_short_help_str(10**6), name
        assert entry.hidden == command.hidden, name
        assert entry.noun == hasattr(command, "commands"), name


def _modules_after(*args: str) -> set[str]:
    code = (
        "import sys; sys.argv[0] = 'pagetally'; from pagetally.cli.main import run\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return set(done.stderr.split())


def test_help_and_count_import_only_what_they_need(tmp_path: Path) -> None:
    heavy = {
        "rich.console",
        "rich.markdown",
        "pydantic",
        "sqlalchemy",
        "pikepdf",
        "numpy",
        "PIL",
        "pagetally.config",
        "pagetally.storage",
    }
    loaded = _modules_after("--help")
    assert not loaded & heavy
    assert not {m for m in loaded if m.startswith("pagetally.cli.")} - {
        "pagetally.cli.main",
        "pagetally.cli.app",
        "pagetally.cli.env",
        "pagetally.cli.exitcodes",
        "pagetally.cli.typer_click",
        "pagetally.cli._fastparams",
        "pagetally.cli.argfiles",  # -A FILE, stdlib only
    }
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    loaded = _modules_after("count", str(empty))
    assert not loaded & heavy
    assert "pagetally.cli.users" not in loaded


#: What no command's help may import (each costs 10-100 ms of start-up).
HELP_HEAVY = frozenset(
    {
        "rich",
        "pydantic",
        "sqlalchemy",
        "alembic",
        "pikepdf",
        "numpy",
        "PIL",
        "reportlab",
        "ldap3",
        "psycopg",
        "pymysql",
        "pagetally.storage.sql",
        "pagetally.pdl.formats",
    }
)


def _modules_after_each(codes: dict[str, list[str]]) -> dict[str, tuple[str, set[str]]]:
    """Each `python -c CODE ARGS...` of `codes` started at once (the suite's time),
    its stdout and the modules it had loaded at exit (printed on its stderr)."""
    procs = {
        key: subprocess.Popen(
            [sys.executable, "-c", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for key, argv in codes.items()
    }
    out: dict[str, tuple[str, set[str]]] = {}
    for key, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, (key, stderr[-2000:])
        out[key] = stdout, set(stderr.split())
    return out


_RUN_ROOT = (
    "import sys; sys.argv[0] = 'pagetally'; from pagetally.cli.main import run\n"
    "try:\n    run()\nexcept SystemExit:\n    pass\n"
    "print(' '.join(sorted(sys.modules)), file=sys.stderr)"
)


#: One process builds and renders each command's help in turn, putting
#: sys.modules back after each: what each command loads, at the cost of one start.
_EACH_COMMAND = """
import json, sys
sys.argv[0] = "pagetally"
from pagetally.cli import typer_click as click
from pagetally.cli import main
import pytest
import typer
typer.main.get_command(main.app)
base = set(sys.modules)
out = {}
for name in main.COMMANDS:
    before = set(sys.modules)
    command = main.build(name)
    text = command.get_help(click.Context(command, info_name=name))
    added = set(sys.modules) - before
    out[name] = [text.startswith("Usage:"), sorted(base | added)]
    for module in added:
        del sys.modules[module]
print(json.dumps(out))
"""


def test_every_commands_help_is_light() -> None:
    """`pagetally NOUN --help` (issue 10: every command under 100 ms) imports its
    own module and what its options name, never Rich, a database driver or pdl's
    parsers (what `--help` itself renders: test_help_and_count_import_only_what_they_need)."""
    import json

    done = subprocess.run(
        [sys.executable, "-c", _EACH_COMMAND], capture_output=True, text=True, check=True
    )
    got = json.loads(done.stdout)
    assert set(got) == set(main.COMMANDS)
    for name, (usage, modules) in got.items():
        loaded = set(modules)
        assert usage, name
        assert not {m.split(".")[0] for m in loaded} & HELP_HEAVY, name
        assert not loaded & HELP_HEAVY, name
        others = {f"pagetally.cli.{e.module}" for n, e in main.COMMANDS.items() if n != name}
        # a noun may build on a sibling's helpers (jobs on refund), never on all
        assert len(loaded & others) <= 2, (name, sorted(loaded & others))


def _alias_code(entry: str) -> str:
    module, func = entry.split(":")
    return (
        f"import sys; sys.argv[:] = [{func!r}, '--help']; from {module} import {func}\n"
        f"try:\n    {func}()\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted(sys.modules)), file=sys.stderr)"
    )


def test_aliases_help_does_not_load_typer() -> None:
    """PyKota's names parse with argparse: their --help (and a bad option's usage
    line) needs neither Typer nor any command module."""
    import tomllib

    scripts = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"][
        "scripts"
    ]
    aliases = {k: v for k, v in scripts.items() if ".aliases" in v}
    assert len(aliases) >= 11, aliases
    got = _modules_after_each({name: [_alias_code(entry)] for name, entry in aliases.items()})
    for name, (stdout, loaded) in got.items():
        assert "usage:" in stdout, name
        assert "typer" not in loaded, name
        assert not {m.split(".")[0] for m in loaded} & HELP_HEAVY, name
        assert not {m for m in loaded if m.startswith("pagetally.cli.")} - {
            "pagetally.cli.aliases",
            "pagetally.cli.aliases_tools",
            "pagetally.cli.argfiles",
        }, name


_RUN_LAUNCH = (
    "import sys; sys.argv[0] = 'pagetally'; from pagetally.cli.launch import run\n"
    "try:\n    run()\nexcept SystemExit as exc:\n    code = exc.code\n"
    "print(code, ' '.join(sorted(sys.modules)), file=sys.stderr)"
)


def _launch(args: list[str], columns: str = "") -> tuple[str, int, set[str]]:
    """`pagetally ARGS` through the console script's function: stdout, exit
    status, the modules it had loaded."""
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    if columns:
        env["COLUMNS"] = columns
    done = subprocess.run(
        [sys.executable, "-c", _RUN_LAUNCH, *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    code, _, modules = done.stderr.splitlines()[-1].partition(" ")
    return done.stdout, int(code), set(modules.split())


def _clickless(loaded: set[str]) -> bool:
    return not {m.split(".")[0] for m in loaded} & {"typer", "click", "rich"}


def test_root_help_lists_every_command_without_typer() -> None:
    """`pagetally --help` (and -h, and `pagetally` alone) lists exactly COMMANDS
    (hidden ones not), each with its one-line help, and the global options,
    without importing Typer, Click or Rich (issue 10: start-up under 100 ms)."""
    out, code, loaded = _launch(["--help"])
    assert code == 0 and _clickless(loaded), sorted(loaded)
    listed = out.partition("\nCommands:\n")[2].splitlines()
    names = [line.split()[0] for line in listed if line.strip()]
    assert names == [n for n, e in main.COMMANDS.items() if not e.hidden]
    for line, name in zip(listed, names, strict=True):
        shown = line.split(None, 1)[1]
        assert main.COMMANDS[name].help.startswith(shown.removesuffix("...")), name
    for option in ("-C, --config PATH", "-v, --version", "-A, --arguments FILE", "-h, --help"):
        assert f"  {option} " in out, option
    assert _launch(["-h"])[:2] == (out, 0)
    assert _launch([])[:2] == (out, 2)  # no arguments: the help, as a usage error


def test_noun_help_imports_no_typer() -> None:
    """`pagetally NOUN --help` and `NOUN SUB -h` are the text Typer prints
    (test_helpfile), served without Typer; a terminal narrower than Click's
    80 columns gets Typer's own rendering at its width."""
    out, code, loaded = _launch(["users", "--help"])
    assert code == 0 and _clickless(loaded), sorted(loaded)
    assert out.startswith("Usage: pagetally users [OPTIONS] COMMAND [ARGS]...")
    out, code, loaded = _launch(["printers", "add-to-group", "-h"])
    assert code == 0 and _clickless(loaded), sorted(loaded)
    assert out.startswith("Usage: pagetally printers add-to-group [OPTIONS]")
    out, code, loaded = _launch(["users", "--help"], columns="60")
    assert code == 0 and "typer" in loaded
    assert max(len(line) for line in out.splitlines()) <= 58 < 78
    out, code, loaded = _launch(["users", "add"])  # not a help request: Typer's error
    assert code == 2 and "typer" in loaded


def test_version_imports_no_typer(capsys: pytest.CaptureFixture[str]) -> None:
    code = typer.main.get_command(main.app).main(
        ["--version"], prog_name="pagetally", standalone_mode=False
    )
    typers = capsys.readouterr().out, code
    for option in ("--version", "-v"):
        out, code, loaded = _launch([option])
        assert (out, code) == typers and _clickless(loaded), option


#: What no real command on a SQLite store may import: Alembic (the schema's
#: revision is read without it), SQLAlchemy's ORM and server dialects, the web,
#: the service, the page counters, drivers and libraries of other commands.
STORE_HEAVY = frozenset(
    {
        "alembic",
        "sqlalchemy.orm",
        "sqlalchemy.dialects.postgresql",
        "sqlalchemy.dialects.mysql",
        "fastapi",
        "starlette",
        "pydantic",
        "ldap3",
        "psycopg",
        "pymysql",
        "numpy",
        "PIL",
        "pikepdf",
        "reportlab",
        "jinja2",
        "pagetally.web",
        "pagetally.service",
        "pagetally.pdl.formats",
    }
)
#: Real commands (issue 10 item 12) and whether they draw a table (then Rich is theirs).
STORE_COMMANDS = {
    ("pagetally", "users", "list"): True,
    ("pagetally", "users", "list", "--format", "csv"): False,
    ("pagetally", "users", "add", "bob"): False,
    ("pagetally", "report"): True,  # a table once edpykota (run beside it) added an entry
    ("pagetally", "report", "--format", "csv"): False,
    ("pagetally", "quotas", "list", "--format", "json"): False,
    ("repykota",): True,  # a table: edpykota (run before it) added an entry
    ("edpykota", "--add", "john"): False,
    ("pkusers", "--list"): True,
    ("dumpykota",): False,
    ("warnpykota",): False,
}


def _command_code(argv: tuple[str, ...]) -> str:
    if argv[0] == "pagetally":
        entry = "from pagetally.cli.launch import run as command"
    else:
        module = "aliases_tools" if argv[0] == "warnpykota" else "aliases"
        entry = f"from pagetally.cli.{module} import {argv[0]} as command"
    return (
        f"import sys; sys.argv[:] = {list(argv)!r}\n{entry}\n"
        "try:\n    command()\nexcept SystemExit as exc:\n    code = exc.code\n"
        "else:\n    code = 0\nprint(code, ' '.join(sorted(sys.modules)), file=sys.stderr)"
    )


def _heavy(loaded: set[str], heavy: frozenset[str]) -> set[str]:
    return {m for m in loaded if any(m == h or m.startswith(h + ".") for h in heavy)}


def test_real_commands_import_only_what_they_need(tmp_path: Path) -> None:
    """Listings, reports, bulk edits and PyKota's aliases on a SQLite store (issue
    10 item 12: every command under 100 ms): SQLAlchemy Core and its SQLite
    dialect, never Alembic, the ORM, another engine's dialect or the web; Rich
    only to draw a table (a bulk command piped or from cron asks no terminal)."""
    conf = tmp_path / "pagetally.conf"
    conf.write_text(f"[global]\nstoragebackend: sqlite\nstoragename: {tmp_path / 's.db'}\n")
    env = {**os.environ, "PAGETALLY_CONFIG": str(conf)}
    env.pop("FORCE_COLOR", None)
    env.pop("TTY_COMPATIBLE", None)
    for args in (["db", "upgrade"], ["printers", "add", "lp"], ["users", "add", "john"]):
        subprocess.run(
            [sys.executable, "-c", _command_code(("pagetally", *args))],
            env=env,
            capture_output=True,
            check=True,
        )
    writes = [("pagetally", "users", "add", "bob"), ("edpykota", "--add", "john")]
    for argv in writes:  # one at a time: SQLite has one writer
        _check_loaded(argv, _loaded_by(argv, env))
    procs = {argv: _loaded_by(argv, env) for argv in STORE_COMMANDS if argv not in writes}
    for argv, proc in procs.items():
        _check_loaded(argv, proc)


def _loaded_by(argv: tuple[str, ...], env: dict[str, str]) -> subprocess.Popen[str]:
    """`argv` started (it prints the modules it loaded on its standard error)."""
    return subprocess.Popen(
        [sys.executable, "-c", _command_code(argv)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _check_loaded(argv: tuple[str, ...], proc: subprocess.Popen[str]) -> None:
    """The command succeeded, opened its store, and loaded nothing it does not need."""
    _, stderr = proc.communicate(timeout=120)
    code, _, modules = stderr.splitlines()[-1].partition(" ")
    loaded = set(modules.split())
    assert code in ("0", "None"), (argv, stderr[-2000:])
    assert "sqlalchemy.dialects.sqlite" in loaded, argv  # (it did open the store)
    assert not _heavy(loaded, STORE_HEAVY), (argv, sorted(_heavy(loaded, STORE_HEAVY)))
    if not STORE_COMMANDS[argv]:
        assert "rich" not in loaded, argv
