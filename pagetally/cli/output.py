"""Writing results: Rich tables for people, stable machine formats for scripts
(their values as export/values.py writes them: `machine`, `text`).

Machine formats are fixed: CSV with a header row (comma, or `;`/tab for ssv/tsv),
JSON lists of objects. In both, money is a decimal string ("4.70", exact),
counters are integers, dates ISO 8601 in UTC ("2026-11-24T15:00:00+00:00"),
a missing value is empty (CSV) or null (JSON).
"""

from __future__ import annotations

import csv
import enum
import functools
import operator
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, tzinfo
from decimal import Decimal
from typing import IO, Any, TypeVar, cast

from pagetally.cli.env import Env
from pagetally.export.values import _money
from pagetally.export.values import machine as machine
from pagetally.export.values import text as text
from pagetally.export.values import write_json_stream as write_json_stream

T = TypeVar("T")
Row = dict[str, Any]


class Format(enum.StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"


def human(value: Any, tz: tzinfo | None = None) -> str:
    """A value in a table for people: money with 2+ decimals, dates to the minute
    (in `tz`, the reader's local time, when given)."""
    if value is None:
        return "-"
    if isinstance(value, Decimal):
        return _money(value)
    if isinstance(value, datetime):
        return (value.astimezone(tz) if tz else value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return text(value)


def write_json(out: IO[str], rows: Iterable[Row]) -> None:
    """A JSON list of objects, one per line (fast: one write per object)."""
    write_json_stream(out, rows)
    out.write("\n")


def write_csv(
    out: IO[str], columns: Sequence[str], rows: Iterable[Row], delimiter: str = ","
) -> None:
    w = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([text(r.get(c)) for c in columns])


#: Above this many rows a table is printed as plain aligned text (Rich takes
#: minutes for 100,000 rows; plain text takes a second).
RICH_MAX = 2000


def render_table(
    env: Env,
    headers: Sequence[str],
    cells: list[list[str]],
    right: Sequence[bool],
    *,
    title: str | None = None,
    caption: str | None = None,
    footer: list[str] | None = None,
) -> None:
    """Rows of text as a Rich table, or as plain aligned columns when there are many."""
    if len(cells) > RICH_MAX:
        _plain_table(env.out, headers, cells, right, title, caption, footer)
        return
    from rich.table import Table  # Rich only when a table is drawn (start-up)

    table = Table(title=title, caption=caption, show_footer=footer is not None)
    last = len(headers) - 1
    for i, head in enumerate(headers):
        table.add_column(
            head,
            footer=footer[i] if footer else "",
            justify="right" if right[i] else "left",
            no_wrap=i < last,
            overflow="ellipsis",
        )
    for row in cells:
        table.add_row(*row)
    env.console().print(table)


def _plain_table(
    out: IO[str],
    headers: Sequence[str],
    cells: list[list[str]],
    right: Sequence[bool],
    title: str | None,
    caption: str | None,
    footer: list[str] | None,
) -> None:
    every = [list(headers), *cells, *([footer] if footer else [])]
    if any(len(r) != len(headers) for r in every):
        raise ValueError("a table row has more or fewer cells than the table has columns")
    widths = [max(map(len, column)) for column in zip(*every, strict=True)]
    # one format string for every line: a row is laid out in one C call
    pattern = "  ".join(f"{{:{'>' if r else '<'}{w}}}" for w, r in zip(widths, right, strict=True))

    def line(row: Sequence[str]) -> str:
        return pattern.format(*row).rstrip() + "\n"

    if title:
        out.write(title + "\n")
    out.write(line(headers))
    out.write("  ".join("-" * w for w in widths) + "\n")
    out.writelines(line(row) for row in cells)
    if footer:
        out.write(line(footer))
    if caption:
        out.write(caption + "\n")


def plain_table_columns(
    out: IO[str],
    headers: Sequence[str],
    columns: Sequence[Sequence[Any]],
    right: Sequence[bool],
    *,
    title: str | None,
    caption: str | None,
    footer: list[str],
    widths: Sequence[int | None],
) -> None:
    """_plain_table's text, byte for byte, from columns instead of rows: a str
    column's width is found in C (`widths` None), an int column's is given
    (`number_width`), and each line is one `%` formatting made by `map`, with no
    Python frame per row. A row's last cell must not end with white space (an
    entry's line is not stripped)."""
    every = [
        max(len(head), len(foot), max(map(len, col), default=0) if w is None else w)
        for head, foot, col, w in zip(headers, footer, columns, widths, strict=True)
    ]
    pattern = "  ".join(f"{{:{'>' if r else '<'}{w}}}" for w, r in zip(every, right, strict=True))
    if title:
        out.write(title + "\n")
    out.write(pattern.format(*headers).rstrip() + "\n")
    out.write("  ".join("-" * w for w in every) + "\n")
    cells = "  ".join(f"%{'' if r else '-'}{w}s" for w, r in zip(every, right, strict=True))
    out.write("".join(map((cells + "\n").__mod__, zip(*columns, strict=True))))
    out.write(pattern.format(*footer).rstrip() + "\n")
    if caption:
        out.write(caption + "\n")


def number_width(column: Sequence[int | None]) -> int:
    """The widest cell of a column of ints where None is shown as "-" (in C:
    the longest int is the largest or the smallest)."""
    numbers = cast("list[int]", list(filter(functools.partial(operator.is_not, None), column)))
    if not numbers:
        return 1 if column else 0
    return max(len(str(max(numbers))), len(str(min(numbers))))


def write_table(
    env: Env,
    columns: Sequence[str],
    rows: Iterable[Row],
    *,
    title: str | None = None,
    headers: Sequence[str] | None = None,
) -> None:
    tz = env.local_tz()
    numeric = {"balance", "price", "pages", "page_counter", "soft_limit", "hard_limit"}
    right = [c in numeric or c.endswith(("_counter", "paid", "amount")) for c in columns]
    cells = [[human(r.get(c), tz) for c in columns] for r in rows]
    render_table(env, headers or columns, cells, right, title=title)


def emit(
    env: Env,
    fmt: Format,
    columns: Sequence[str],
    rows: list[Row],
    *,
    title: str | None = None,
    headers: Sequence[str] | None = None,
) -> None:
    """Rows in the chosen format on stdout."""
    if fmt is Format.JSON:
        write_json(env.out, rows)
    elif fmt is Format.CSV:
        write_csv(env.out, columns, rows)
    else:
        write_table(env, columns, rows, title=title, headers=headers)


def progress(env: Env, items: Sequence[T], label: str) -> Iterator[T]:
    """Iterate, with a progress bar on stderr once the work has taken over a
    second and a person is watching (a terminal); silent otherwise."""
    for chunk in batches(env, items, label, size=1):
        yield chunk[0]


#: Items written per transaction by the bulk commands.
BATCH = 1000

#: Seconds of work after which a progress bar appears (issue 10: "on anything
#: that takes over a second", whatever the number of items).
PROGRESS_AFTER = 1.0


def batches(env: Env, items: Sequence[T], label: str, size: int = BATCH) -> Iterator[list[T]]:
    """`items` in lists of `size` (one store transaction each), with a progress
    bar counting items once the work has taken over PROGRESS_AFTER seconds and a
    person is watching; quick work shows none, however many items."""
    chunks = [list(items[i : i + size]) for i in range(0, len(items), size)]
    if env.surely_no_terminal(stderr=True):  # (no Rich import: start-up)
        yield from chunks
        return
    console = env.console(stderr=True)
    if not console.is_terminal:
        yield from chunks
        return
    start, done = env.ticks(), 0
    pending = iter(chunks)
    for chunk in pending:
        yield chunk
        done += len(chunk)
        if env.ticks() - start >= PROGRESS_AFTER and done < len(items):
            break
    else:
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), console=console, transient=True
    ) as bar:
        task = bar.add_task(label, total=len(items), completed=done)
        for chunk in pending:
            yield chunk
            bar.advance(task, len(chunk))


def each_matching(
    env: Env,
    kind: str,
    patterns: Sequence[str],
    find: Callable[[Sequence[str]], list[T]],
    name_of: Callable[[T], str],
    action: Callable[[str], object],
    done: str,
) -> None:
    """The shape of every bulk command: expand `patterns` (all or nothing: an
    unknown name changes nothing), run `action(name)` on each match with a progress
    bar when there are many, then say how many (`3 user(s) deleted`)."""
    from pagetally.cli.names import expand

    found = expand(kind, patterns, find, name_of)
    for item in progress(env, found, f"{kind}s"):
        action(name_of(item))
    env.note(f"{len(found)} {kind}(s) {done}")
