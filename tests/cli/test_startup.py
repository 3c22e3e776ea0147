"""The lazy root of `pagetally`: its table of commands says what the commands
themselves say, `--help` imports no command module, and a command imports only
what it needs (start-up is measured in bench/startup.py, not here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import typer

from pagetally.cli import _click as click
from pagetally.cli import main


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
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True,
                          text=True, check=True)
    return set(done.stderr.split())


def test_help_and_count_import_only_what_they_need(tmp_path: Path) -> None:
    heavy = {"rich.console", "rich.markdown", "pydantic", "sqlalchemy", "pikepdf", "numpy",
             "PIL", "pagetally.config", "pagetally.storage"}
    loaded = _modules_after("--help")
    assert not loaded & heavy
    assert not {m for m in loaded if m.startswith("pagetally.cli.")} - {
        "pagetally.cli.main", "pagetally.cli.app", "pagetally.cli.env",
        "pagetally.cli.exitcodes", "pagetally.cli._click", "pagetally.cli._fastparams",
    }
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    loaded = _modules_after("count", str(empty))
    assert not loaded & heavy
    assert "pagetally.cli.users" not in loaded
