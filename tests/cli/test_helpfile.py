"""pagetally/cli/help.txt, which `pagetally [NOUN [SUB]] --help` prints without
Typer (cli/fasthelp.py), is exactly what Typer prints for every command."""

from __future__ import annotations

import pytest
import typer

from pagetally.cli import fasthelp, helpfile
from pagetally.cli.main import COMMANDS, app


def _blocks() -> dict[str, tuple[list[str], str, str]]:
    """path -> (help options, bare exit status, text) from the packaged file."""
    with open(fasthelp.HELP_FILE, encoding="utf-8") as fh:
        text = fh.read()
    out = {}
    for block in text.split("\f")[1:]:
        head, _, body = block.partition("\n")
        path, options, bare = head.split("\t")
        out[path] = (options.split(), bare, body)
    return out


def test_help_file_is_up_to_date() -> None:
    with open(fasthelp.HELP_FILE, encoding="utf-8") as fh:
        assert fh.read() == helpfile.render(), (
            "pagetally/cli/help.txt is out of date: run "
            "`.venv/bin/python -m pagetally.cli.helpfile`"
        )


def test_help_file_is_what_typer_prints_for_every_command(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each command's `--help` and `-h`, and the command alone, run through the
    full command line (Typer, at 80 columns, where Click wraps at 78 as the file
    does; not CliRunner, which forces 80): the same text and exit status as the
    file gives."""
    monkeypatch.setenv("COLUMNS", "80")
    root = typer.main.get_command(app)
    blocks = _blocks()
    with open(fasthelp.HELP_FILE, encoding="utf-8") as fh:
        text = fh.read()
    assert {p.split()[1] for p in blocks if " " in p} == set(COMMANDS)
    for path, (options, bare, body) in blocks.items():
        words = path.split()[1:]
        assert set(options) == {"-h", "--help"}, path
        for option in options:
            code = root.main([*words, option], prog_name="pagetally", standalone_mode=False)
            assert (code, capsys.readouterr().out) == (0, body), (path, option)
            assert fasthelp.lookup(text, [*words, option]) == (body, 0)
        if bare:
            code = root.main(words, prog_name="pagetally", standalone_mode=False)
            assert (code, capsys.readouterr().out) == (int(bare), body), path
            assert fasthelp.lookup(text, words) == (body, int(bare))
        else:
            assert fasthelp.lookup(text, words) is None


def test_only_pure_help_requests_are_answered() -> None:
    with open(fasthelp.HELP_FILE, encoding="utf-8") as fh:
        text = fh.read()
    root = text.split("\f")[1].partition("\n")[2]
    assert fasthelp.lookup(text, []) == (root, 2)
    assert fasthelp.lookup(text, ["--help"]) == (root, 0)
    assert fasthelp.lookup(text, ["users", "--help"]) is not None
    for args in (
        ["--version"],
        ["-v"],
        ["users", "add"],
        ["users", "add", "bob"],
        ["users", "add", "bob", "--help"],
        ["--config", "x", "--help"],
        ["users", "--config", "--help"],
        ["nosuch", "--help"],
        ["users", "--hel"],
        ["users", "-h", "--help"],
        ["count", "f"],
        ["report"],
        ["", "--help"],
        ["users\tx", "--help"],
    ):
        assert fasthelp.lookup(text, args) is None, args
