"""`pagetally count` and `pkpgcounter`: what people see, in-process."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from pagetally.cli.count import count_files, pkpgcounter_main, register
from tests.pdl._pdfmake import simple_pdf

PS = b"%!PS-Adobe-3.0\n%%Page: 1 1\nshowpage\n%%Page: 2 2\nshowpage\n%%EOF\n"


@pytest.fixture
def jobs(tmp_path: Path) -> dict[str, Path]:
    files = {
        "pdf": tmp_path / "a.pdf",
        "ps": tmp_path / "b.ps",
        "junk": tmp_path / "c.bin",
        "text": tmp_path / "d.txt",
    }
    files["pdf"].write_bytes(simple_pdf(12))
    files["ps"].write_bytes(PS)
    files["junk"].write_bytes(b"\x00\x01\x02\x03 not a print job")
    files["text"].write_bytes(b"line\n" * 70)
    return files


def _run(args: list[str], stdin: bytes = b"", **kw: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = count_files(args, stdin=io.BytesIO(stdin), out=out, err=err, **kw)  # type: ignore[arg-type]
    return code, out.getvalue(), err.getvalue()


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_one_line_per_file(jobs: dict[str, Path]) -> None:
    code, out, err = _run([str(jobs["pdf"]), str(jobs["ps"])])
    assert code == 0 and err == ""
    assert out.splitlines() == [
        f"{jobs['pdf']}: 12 pages (PDF)",
        f"{jobs['ps']}: 2 pages (PostScript, by ghostscript)",
    ]


def test_json_objects(jobs: dict[str, Path]) -> None:
    code, out, _ = _run([str(jobs["pdf"])], as_json=True)
    row = json.loads(out)
    assert code == 0
    assert {k: row[k] for k in ("file", "format", "pages", "copies", "color_pages", "ink")} == {
        "file": str(jobs["pdf"]),
        "format": "PDF",
        "pages": 12,
        "copies": 1,
        "color_pages": None,
        "ink": None,
    }


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_stdin(jobs: dict[str, Path]) -> None:
    code, out, _ = _run(["-"], stdin=PS)
    assert (code, out) == (0, "-: 2 pages (PostScript, by ghostscript)\n")


def test_unknown_file_gives_reason_and_nonzero_exit_but_others_are_counted(
    jobs: dict[str, Path],
) -> None:
    code, out, err = _run([str(jobs["junk"]), str(jobs["pdf"])])
    assert code == 8
    assert out == f"{jobs['pdf']}: 12 pages (PDF)\n"
    assert err.startswith(f"{jobs['junk']}: error: no parser recognises")
    assert err.count("\n") == 1


def test_bad_colorspace(jobs: dict[str, Path]) -> None:
    code, _, err = _run([str(jobs["pdf"])], colorspace="purple")
    assert code == 2 and "unknown colour space" in err


def test_typer_command_lines_per_page(jobs: dict[str, Path]) -> None:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:
        pass

    result = CliRunner().invoke(app, ["count", "--lines-per-page", "10", str(jobs["text"])])
    assert result.exit_code == 0
    assert result.output == f"{jobs['text']}: 7 pages (plain text)\n"
    result = CliRunner().invoke(app, ["count", str(jobs["junk"])])
    assert result.exit_code == 8


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_pkpgcounter_prints_the_total(jobs: dict[str, Path]) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = pkpgcounter_main([str(jobs["pdf"]), str(jobs["ps"])], out=out, err=err)
    assert (code, out.getvalue(), err.getvalue()) == (0, "14\n", "")


@pytest.mark.slow  # runs Ghostscript, a third-party program
def test_pkpgcounter_reads_stdin_and_reports_errors(jobs: dict[str, Path]) -> None:
    out, err = io.StringIO(), io.StringIO()
    code = pkpgcounter_main([], stdin=io.BytesIO(PS), out=out, err=err)
    assert (code, out.getvalue()) == (0, "2\n")
    code = pkpgcounter_main([str(jobs["junk"]), "-"], stdin=io.BytesIO(PS), out=out, err=err)
    assert code == 8
    assert out.getvalue().splitlines()[-1] == "2"
    assert err.getvalue().startswith("ERROR: ")


def test_pkpgcounter_resolution_range() -> None:
    err = io.StringIO()
    assert pkpgcounter_main(["-r", "10", "x"], out=io.StringIO(), err=err) == 2
    assert "between 72 and 1200" in err.getvalue()


@pytest.mark.slow
def test_colour_pages_through_ghostscript(tmp_path: Path) -> None:
    """--color: the CUPS test page is colour; a groff man page set in black is not."""
    grey_ps = tmp_path / "grey.ps"
    import subprocess

    man = subprocess.run(
        ["groff", "-man", "-Tps"],
        input=b".TH T 1\n.SH NAME\nt \\- grey text\n.bp\nsecond page\n",
        capture_output=True,
        check=True,
    ).stdout
    grey_ps.write_bytes(man)
    colour = Path("/usr/share/cups/data/default-testpage.pdf")
    code, out, err = _run([str(colour), str(grey_ps)], as_json=True, color=True)
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0, err
    assert [(r["format"], r["pages"], r["color_pages"]) for r in rows] == [
        ("PDF", 1, 1),
        ("PostScript", 2, 0),
    ]
    assert [len(r["ink"]) for r in rows] == [1, 2]


@pytest.mark.slow
def test_colour_unavailable_still_counts_pages(tmp_path: Path) -> None:
    """PCL needs GhostPCL for ink, which Debian does not package: pages still counted."""
    pcl = tmp_path / "t.pcl"
    pcl.write_bytes(b"\x1bE\x1b&l0O\x1b(s0p12h0s0b4099Thello\x0cworld\x0c\x1bE")
    code, out, err = _run([str(pcl)], as_json=True, color=True)
    row = json.loads(out)
    assert (row["format"], row["pages"], row["color_pages"]) == ("PCL", 2, None)
    assert code == 8 and "warning: ink analysis unavailable" in err


@pytest.mark.slow
def test_pkpgcounter_ink_lines_like_the_original() -> None:
    import re

    out, err = io.StringIO(), io.StringIO()
    code = pkpgcounter_main(
        ["-c", "cmyk", "/usr/share/cups/data/default-testpage.pdf"], out=out, err=err
    )
    lines = out.getvalue().splitlines()
    assert code == 0, err.getvalue()
    assert len(lines) == 1
    number = r"\s*\d+\.\d{6}%"
    assert re.fullmatch(
        rf"C :{number}      M :{number}      Y :{number}      K :{number}", lines[0]
    )


def _pagetally(entry: str, args: list[str], cwd: Path) -> tuple[int, str, str, set[str]]:
    """The `pagetally` executable through `entry` (module:function), in its own
    process: exit code, stdout, stderr and the modules it imported."""
    import subprocess
    import sys

    module, func = entry.split(":")
    code = (
        f"import sys; sys.argv[0] = 'pagetally'; from {module} import {func}\n"
        f"try:\n    {func}()\nexcept SystemExit as exc:\n    code = exc.code\nelse:\n    code = 0\n"
        "sys.stdout.flush()\n"
        "print('MODULES', ' '.join(sorted(sys.modules)), file=sys.stderr)\n"
        "sys.exit(code)"
    )
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          input="a line of text\n" * 70, cwd=cwd, timeout=120)  # fmt: skip
    err, _, modules = done.stderr.rpartition("MODULES ")
    return done.returncode, done.stdout, err, set(modules.split())


FAST_CASES = [
    ["count", "a.pdf"],
    ["count", "--json", "a.pdf", "d.txt"],
    ["count", "a.pdf", "--lines-per-page", "10", "d.txt"],
    ["count", "--lines-per-page=10", "d.txt", "c.bin"],  # one file refused: exit code
    ["count", "-"],
]


@pytest.mark.parametrize("args", FAST_CASES, ids=" ".join)
def test_pagetally_count_starts_without_click(jobs: dict[str, Path], args: list[str]) -> None:
    # What a script counting one file per process sees: the same lines and exit
    # code as the full command line's, without Typer/Click imported at all.
    cwd = jobs["pdf"].parent
    fast = _pagetally("pagetally.cli.launch:run", args, cwd)
    full = _pagetally("pagetally.cli.main:run", args, cwd)
    assert fast[:3] == full[:3]
    assert not {m for m in fast[3] if m.split(".")[0] in ("typer", "click", "rich")}
    assert {"typer"} <= full[3]


@pytest.mark.parametrize(
    "args",
    [
        ["count", "--help"],
        ["count"],
        ["count", "-r", "5", "a.pdf"],
        ["count", "--nope", "a.pdf"],
        ["count", "--json=1", "a.pdf"],
        ["--version"],
    ],
    ids=" ".join,
)
def test_pagetally_count_leaves_help_and_errors_to_click(
    jobs: dict[str, Path], args: list[str]
) -> None:
    cwd = jobs["pdf"].parent
    fast = _pagetally("pagetally.cli.launch:run", args, cwd)
    full = _pagetally("pagetally.cli.main:run", args, cwd)
    assert fast[:3] == full[:3]


@pytest.mark.parametrize(
    "argv",
    [
        ["a.pdf"],
        ["a", "b", "-"],
        ["-v"],
        ["-d", "x"],
        ["-c", "cmyk", "x"],
        ["x", "-r", "300"],
        ["--colorspace", "RGB", "--resolution", "150", "x"],
        [],
        ["-r", "0300", "x"],
        # argparse's own: help, errors, joined forms
        ["-h"],
        ["-c", "XYZ", "x"],
        ["-r", "-5", "x"],
        ["-r300", "x"],
        ["--resolution=72", "x"],
        ["-cRGB", "x"],
        ["-q", "x"],
        ["-r"],
        ["--", "x"],
    ],
    ids=" ".join,
)
def test_pkpgcounter_reads_arguments_as_argparse_does(argv: list[str]) -> None:
    from pagetally.cli.count import _pkpg_fast_args, _pkpg_parser

    fast = _pkpg_fast_args(argv)
    if fast is None:
        return  # argparse reads these itself
    assert vars(fast) == vars(_pkpg_parser().parse_args(argv))


def test_pkpgcounter_counts_without_argparse(jobs: dict[str, Path]) -> None:
    code, out, _, modules = _pagetally("pagetally.cli.count:pkpgcounter_main",
                                       [str(jobs["pdf"])], jobs["pdf"].parent)  # fmt: skip
    assert (code, out) == (0, "12\n")
    assert "argparse" not in modules
