"""`pagetally count FILE...` and the classic `pkpgcounter` command.

Both are thin: they spool standard input to a temporary file when FILE is `-`,
call `pagetally.pdl.analyse` and print. One line per file, or one JSON object
per line with `--json`. A file that cannot be counted gets a one-line reason on
stderr and makes the exit code non-zero; the other files are still counted.
"""

import contextlib
import sys
from collections.abc import Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

from pagetally.errors import AnalysisUnavailable, InvalidInput, PageTallyError
from pagetally.pdl import Analysis, analyse

if TYPE_CHECKING:
    import argparse

    import typer

COLORSPACES = ("BW", "RGB", "CMY", "CMYK", "GC")
PKPGCOUNTER_VERSION = "3.50"  # the pkpgcounter release whose interface we mimic
_MiB = 1 << 20


@contextlib.contextmanager
def _spooled(name: str, stdin: IO[bytes]) -> Iterator[str]:
    """A file name for `name`; `-` becomes a temporary copy of standard input."""
    if name != "-":
        yield name
        return
    import shutil
    import tempfile

    with tempfile.NamedTemporaryFile(prefix="pagetally-stdin-") as tmp:
        shutil.copyfileobj(stdin, tmp, _MiB)
        tmp.flush()
        yield tmp.name


def _check_colorspace(colorspace: str | None) -> str | None:
    if colorspace is None:
        return None
    upper = colorspace.upper()
    if upper not in COLORSPACES:
        raise InvalidInput(
            f"unknown colour space {colorspace!r}: use one of {', '.join(COLORSPACES)}"
        )
    return upper


def _ink_json(analysis: Analysis) -> list[dict[str, Any]] | None:
    if analysis.page_inks is None:
        return None
    return [{"color": p.color, "coverage": dict(p.coverage)} for p in analysis.page_inks]


def _reason(name: str, exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.removeprefix(f"{name}: ")


def _line(name: str, a: Analysis) -> str:
    pages = f"{a.pages} page" + ("" if a.pages == 1 else "s")
    extra = []
    if a.copies > 1:
        extra.append(f"{a.copies} copies")
    if a.color_pages is not None:
        extra.append(f"{a.color_pages} in colour")
    if a.method != "parsed":
        extra.append(f"by {a.method}")
    tail = f", {', '.join(extra)}" if extra else ""
    return f"{name}: {pages} ({a.format}{tail})"


def count_files(
    files: Sequence[str],
    *,
    as_json: bool = False,
    color: bool = False,
    colorspace: str | None = None,
    resolution: int | None = None,
    lines_per_page: int | None = None,
    stdin: IO[bytes] | None = None,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
) -> int:
    """Count each file, print the results; return the exit code (0 when all counted)."""
    out = out or sys.stdout
    err = err or sys.stderr
    stdin = stdin or sys.stdin.buffer
    try:
        space = _check_colorspace(colorspace)
    except InvalidInput as exc:
        print(f"error: {exc}", file=err)
        return exc.exit_code
    code = 0
    for name in files:
        note = ""
        try:
            with _spooled(name, stdin) as path:
                try:
                    a = analyse(
                        path,
                        color=color,
                        colorspace=space,
                        resolution=resolution,
                        lines_per_page=lines_per_page,
                    )
                except AnalysisUnavailable as exc:
                    if not (color or space):
                        raise
                    # The pages can still be counted: say so, and why there is no ink.
                    a = analyse(path, lines_per_page=lines_per_page)
                    note = str(exc)
                    code = code or exc.exit_code
        except PageTallyError as exc:
            print(f"{name}: error: {_reason(name, exc)}", file=err)
            code = code or exc.exit_code
            continue
        if note:
            print(f"{name}: warning: {note}", file=err)
        if as_json:
            import json

            row = {
                "file": name,
                "format": a.format,
                "pages": a.pages,
                "copies": a.copies,
                "color_pages": a.color_pages,
                "ink": _ink_json(a),
                "method": a.method,
            }
            print(json.dumps(row), file=out)
        else:
            print(_line(name, a), file=out)
    return code


# `pagetally count`'s options as the fast path reads them: name → (keyword, takes a value).
_FAST_OPTIONS: dict[str, tuple[str, bool]] = {
    "--json": ("as_json", False),
    "--color": ("color", False),
    "--colorspace": ("colorspace", True),
    "-c": ("colorspace", True),
    "--resolution": ("resolution", True),
    "-r": ("resolution", True),
    "--lines-per-page": ("lines_per_page", True),
}
_FAST_RANGES = {"resolution": (10, 1200), "lines_per_page": (1, None)}


def _fast_args(argv: Sequence[str]) -> tuple[list[str], dict[str, Any]] | None:
    """`pagetally count`'s arguments as Click would read them, or None for anything
    else (help, an unknown or misspelt option, a bad or missing value, no FILE):
    then Click reads them and says what is wrong, exactly as documented."""
    files: list[str] = []
    options: dict[str, Any] = {}
    args = iter(argv)
    for arg in args:
        if arg == "-" or not arg.startswith("-"):
            files.append(arg)
            continue
        if arg.startswith("--"):  # --name or --name=value
            name, eq, value = arg.partition("=")
        else:  # -c, -cRGB (Click reads -c=RGB as the value "=RGB")
            name, value = arg[:2], arg[2:]
            eq = "=" if value else ""
        known = _FAST_OPTIONS.get(name)
        if known is None:
            return None
        key, takes_value = known
        if not takes_value:
            if eq:
                return None
            options[key] = True
            continue
        if not eq:
            following = next(args, None)
            if following is None:
                return None
            value = following
        if key in _FAST_RANGES:
            low, high = _FAST_RANGES[key]
            if not value.isascii() or not value.isdigit():
                return None
            number = int(value)
            if number < low or (high is not None and number > high):
                return None
            options[key] = number
        else:
            options[key] = value
    return (files, options) if files else None


def fast_main(argv: Sequence[str]) -> int | None:
    """`pagetally count ARGS` without building the Click command (Typer's import
    alone costs more than counting a small job), or None when the arguments need
    Click (help, errors). Same output and exit codes as the command."""
    parsed = _fast_args(argv)
    if parsed is None:
        return None
    files, options = parsed
    return count_files(files, **options)


def register(app: "typer.Typer") -> None:
    """Add the `count` command to the `pagetally` application."""
    from typing import Annotated

    import typer  # here, not at the top: `pkpgcounter` does not pay for Typer

    @app.command("count")
    def count(
        files: Annotated[
            list[str],
            typer.Argument(metavar="FILE...", help="Job files; '-' reads standard input."),
        ],
        as_json: Annotated[
            bool, typer.Option("--json", help="One JSON object per file, one per line.")
        ] = False,
        color: Annotated[
            bool, typer.Option("--color", help="Also count colour pages (needs Ghostscript).")
        ] = False,
        colorspace: Annotated[
            str | None,
            typer.Option("--colorspace", "-c", help="Ink coverage in BW, RGB, CMY, CMYK or GC."),
        ] = None,
        resolution: Annotated[
            int | None,
            typer.Option("--resolution", "-r", min=10, max=1200, help="DPI for ink analysis."),
        ] = None,
        lines_per_page: Annotated[
            int | None,
            typer.Option("--lines-per-page", min=1, help="Page length of plain text (66)."),
        ] = None,
    ) -> None:
        """Count the pages of print jobs (format detected by content)."""
        code = count_files(
            files,
            as_json=as_json,
            color=color,
            colorspace=colorspace,
            resolution=resolution,
            lines_per_page=lines_per_page,
        )
        raise typer.Exit(code)


def _pkpg_parser() -> "argparse.ArgumentParser":
    import argparse

    p = argparse.ArgumentParser(
        prog="pkpgcounter",
        description="Outputs the number of pages needed to print the documents "
        "(PageTally's pkpgcounter-compatible command).",
    )
    p.add_argument("-v", "--version", action="store_true", help="print the version and exit")
    p.add_argument("-d", "--debug", action="store_true", help="show why a file was refused")
    p.add_argument(
        "-c",
        "--colorspace",
        type=str.upper,
        choices=COLORSPACES,
        help="compute ink usage per page in this colour space",
    )
    p.add_argument(
        "-r", "--resolution", type=int, default=72, help="DPI for ink usage (72-1200, default 72)"
    )
    p.add_argument("files", nargs="*", help="job files; none or '-' reads standard input")
    return p


class _PkpgArgs:
    """pkpgcounter's arguments (what argparse's Namespace would hold)."""

    def __init__(self) -> None:
        self.version = False
        self.debug = False
        self.colorspace: str | None = None
        self.resolution = 72
        self.files: list[str] = []


def _pkpg_fast_args(argv: Sequence[str]) -> _PkpgArgs | None:
    """The plain forms of pkpgcounter's arguments (FILE..., -v, -d, -c SPACE,
    -r DPI), read without importing argparse (a script calls pkpgcounter once per
    file); None for anything else, which argparse then reads and judges."""
    args = _PkpgArgs()
    items = iter(argv)
    for arg in items:
        if arg == "-" or not arg.startswith("-"):
            args.files.append(arg)
        elif arg in ("-v", "--version"):
            args.version = True
        elif arg in ("-d", "--debug"):
            args.debug = True
        elif arg in ("-c", "--colorspace", "-r", "--resolution"):
            value = next(items, None)
            if value is None or value.startswith("-"):
                return None
            if arg in ("-c", "--colorspace"):
                if value.upper() not in COLORSPACES:
                    return None
                args.colorspace = value.upper()
            elif value.isascii() and value.isdigit():
                args.resolution = int(value)
            else:
                return None
        else:
            return None
    return args


def pkpgcounter_main(
    argv: Sequence[str] | None = None,
    stdin: IO[bytes] | None = None,
    out: IO[str] | None = None,
    err: IO[str] | None = None,
) -> int:
    """pkpgcounter: print the total pages of all files, or per-page ink with -c."""
    out = out or sys.stdout
    err = err or sys.stderr
    stdin = stdin or sys.stdin.buffer
    fast = _pkpg_fast_args(sys.argv[1:] if argv is None else argv)
    # help, errors, anything unusual: argparse reads it (and says what is wrong)
    args: Any = _pkpg_parser().parse_args(argv) if fast is None else fast
    if args.version:
        print(PKPGCOUNTER_VERSION, file=out)
        return 0
    if not 72 <= args.resolution <= 1200:
        print("ERROR: the argument to --resolution must be between 72 and 1200.", file=err)
        return 2
    if args.debug:
        from pagetally.pdl import registry

        for problem in registry.load_errors():
            print(f"DEBUG: parser not loaded: {problem}", file=err)
    files: list[str] = list(args.files) or ["-"]
    total = 0
    lines: list[str] = []
    code = 0
    for name in files:
        try:
            with _spooled(name, stdin) as path:
                a = analyse(path, colorspace=args.colorspace, resolution=args.resolution)
        except PageTallyError as exc:
            print(f"ERROR: {name}: {_reason(name, exc)}", file=err)
            code = code or exc.exit_code
            continue
        total += a.pages
        for page in a.page_inks or ():
            parts = [f"{k} : {v:10f}%" for k, v in page.coverage.items()]
            lines.append("      ".join(parts))
    if args.colorspace:
        if lines:
            print("\n".join(lines), file=out)
    else:
        print(total, file=out)
    return code
