"""The CLI in-process against a real SQLite store in tmp_path."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer.testing
from typer.testing import CliRunner, Result

from pagetally.cli.env import Env
from pagetally.cli.main import app
from pagetally.config import load_config
from pagetally.storage import open_store
from tests.sqlite_store import migrated_sqlite

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@dataclass
class Cli:
    """Runs `pagetally --config <tmp conf> ARGS` in-process; a fixed clock."""

    conf: Path
    db: Path
    now: list[datetime] = field(default_factory=lambda: [NOW])
    runner: CliRunner = field(default_factory=CliRunner)

    def env(self) -> Env:
        return Env(clock=lambda: self.now[0], tz=UTC, width=200, environ={})

    def __call__(self, *args: str, code: int | None = 0) -> Result:
        result = self.runner.invoke(app, ["--config", str(self.conf), *args], obj=self.env())
        if code is not None:
            assert result.exit_code == code, (
                f"exit {result.exit_code} != {code}\nstdout: {result.stdout}\n"
                f"stderr: {result.stderr}"
            )
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--format", "json").stdout)

    def store(self, readonly: bool = True) -> Any:
        return open_store(load_config(self.conf).store_settings(), readonly=readonly)

    def snapshot(self) -> str:
        """Everything a user can see, to assert that a failed command changed nothing."""
        parts = [self("dump", "all", "--format", "json").stdout]
        return "\n".join(parts)


_COMMAND: list[Any] = []


@pytest.fixture(autouse=True)
def _built_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Build the Click command tree once per session (Typer rebuilds it per invoke)."""
    original = typer.testing._get_command
    if not _COMMAND:
        _COMMAND.append(original(app))

    def cached(target: Any) -> Any:
        return _COMMAND[0] if target is app else original(target)

    monkeypatch.setattr(typer.testing, "_get_command", cached)


def make_cli(folder: Path, *, store: bool = True) -> Cli:
    """A configuration in `folder` and, unless `store` is False, a migrated store."""
    conf = folder / "pagetally.conf"
    db = folder / "pagetally.db"
    conf.write_text(f"[global]\nstoragebackend: sqlite\nstoragename: {db}\n")
    if store:
        migrated_sqlite(db)  # a copy of one migrated file, as `pagetally db upgrade`
    return Cli(conf, db)


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return make_cli(tmp_path)
