"""`/api/v1/exports/…`: any part or all of the store as `pagetally dump` writes it
(export/: CSV, SSV, TSV, JSON, XML, CUPS page_log), streamed as it is read, with
dumpykota's filters as query parameters. Admins and read-only admins export
everything; `/me/export` is a user's own history."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from datetime import UTC
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from pagetally.errors import InvalidInput
from pagetally.export.data import Filters, check_filters
from pagetally.export.formats import SEPARATORS, DataType, DumpFormat, dump_to
from pagetally.storage.base import Store
from pagetally.web.api import params as p
from pagetally.web.api.base import ApiRoute, store_of
from pagetally.web.identity import admin_view, current, state_of
from pagetally.web.rights import Identity

router = APIRouter(route_class=ApiRoute, tags=["exports"])
Filter = Annotated[str | None, Query(max_length=255, description="A name or wildcards.")]

MEDIA = {
    DumpFormat.CSV: "text/csv; charset=utf-8",
    DumpFormat.SSV: "text/csv; charset=utf-8",
    DumpFormat.TSV: "text/tab-separated-values; charset=utf-8",
    DumpFormat.JSON: "application/json",
    DumpFormat.XML: "application/xml",
    DumpFormat.CUPS: "text/plain; charset=utf-8",
}
_END = object()


class _Pipe:
    """A text stream whose writes a response reads, in chunks of ~64 KB."""

    def __init__(self) -> None:
        self.chunks: queue.Queue[object] = queue.Queue(maxsize=64)
        self._buf: list[str] = []
        self._size = 0

    def write(self, text: str) -> int:
        self._buf.append(text)
        self._size += len(text)
        if self._size >= 65536:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self._buf:
            self.chunks.put("".join(self._buf).encode("utf-8"))
            self._buf, self._size = [], 0


def _stream(
    store: Store, datatype: DataType, fmt: DumpFormat, flt: Filters, storage: str
) -> Iterator[bytes]:
    """dump_to in a thread, its output as it comes (a million jobs never sit in
    memory); an error after the first byte ends the stream with a note."""
    pipe = _Pipe()

    def work() -> None:
        try:
            dump_to(pipe, store, datatype, fmt, flt, storage=storage, tz=UTC)  # type: ignore[arg-type]
            pipe.flush()
        except Exception as exc:
            pipe.flush()
            pipe.chunks.put(f"\n# export failed: {exc}\n".encode())
        finally:
            pipe.chunks.put(_END)

    threading.Thread(target=work, daemon=True).start()
    while (chunk := pipe.chunks.get()) is not _END:
        assert isinstance(chunk, bytes)
        yield chunk


def _check(datatype: DataType, fmt: DumpFormat) -> None:
    if fmt is DumpFormat.CUPS and datatype is not DataType.HISTORY:
        raise InvalidInput("format cups (CUPS page_log) is for history only")
    if fmt in SEPARATORS and datatype is DataType.ALL:
        raise InvalidInput(f"'all' needs format json or xml, not {fmt.value}")


def _response(
    request: Request, datatype: DataType, fmt: DumpFormat, flt: Filters
) -> StreamingResponse:
    _check(datatype, fmt)
    check_filters(datatype.value, flt)
    storage = getattr(state_of(request).store, "backend", "sql")
    ext = {DumpFormat.CUPS: "log", DumpFormat.SSV: "csv"}.get(fmt, fmt.value)
    return StreamingResponse(
        _stream(store_of(request), datatype, fmt, flt, str(storage)),
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{datatype.value}.{ext}"'},
    )


@router.get("/exports/{datatype}", summary="Export a part (or all) of the store")
def export(
    request: Request,
    who: Annotated[Identity, Depends(admin_view)],
    datatype: DataType,
    format: DumpFormat = DumpFormat.CSV,
    username: Filter = None,
    groupname: Filter = None,
    printername: Filter = None,
    pgroupname: Filter = None,
    hostname: Filter = None,
    billingcode: Filter = None,
    jobid: Filter = None,
    start: p.Since = None,
    end: p.Until = None,
) -> StreamingResponse:
    given = {
        "username": username,
        "groupname": groupname,
        "printername": printername,
        "pgroupname": pgroupname,
        "hostname": hostname,
        "billingcode": billingcode,
        "jobid": jobid,
    }
    flt = Filters({k: v for k, v in given.items() if v is not None}, p.aware(start), p.aware(end))
    return _response(request, datatype, format, flt)


@router.get("/me/export", summary="The caller's own job history, exported")
def my_export(
    request: Request,
    who: Annotated[Identity, Depends(current)],
    format: DumpFormat = DumpFormat.CSV,
    start: p.Since = None,
    end: p.Until = None,
) -> StreamingResponse:
    # the caller's name is matched exactly: wildcards in it are escaped as [*]
    exact = "".join(f"[{c}]" if c in "*?[" else c for c in who.name)
    flt = Filters({"username": exact}, p.aware(start), p.aware(end))
    return _response(request, DataType.HISTORY, format, flt)
