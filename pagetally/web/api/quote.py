"""`POST /api/v1/quote`: a file's format, pages and colour pages and its price on
each printer the caller may use (PyKota's pykotme), counted and priced by the
code of `pagetally quote` as the quote page does (web/pages/user.py)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from pagetally.config import Config
from pagetally.errors import InvalidInput, PageTallyError, PdlError
from pagetally.web.api.base import ApiRoute, row
from pagetally.web.identity import current, state_of
from pagetally.web.rights import Identity

router = APIRouter(route_class=ApiRoute, tags=["me"])


@router.post("/quote", summary="Count and price a file on the caller's printers")
async def quote(request: Request, who: Annotated[Identity, Depends(current)],
                document: UploadFile) -> dict[str, Any]:
    from pagetally.cli.quote import quote_rows
    from pagetally.web.pages.user import QUOTE_MAX_BYTES

    state = state_of(request)
    cfg = state.config or Config(path="(defaults)")
    name = Path(document.filename or "upload").name or "upload"
    with tempfile.TemporaryDirectory(prefix="pagetally-quote-") as folder:
        path = Path(folder) / "document"
        size = 0
        with path.open("wb") as fh:
            while chunk := await document.read(1 << 20):
                size += len(chunk)
                if size > QUOTE_MAX_BYTES:
                    raise InvalidInput(f"the file is larger than {QUOTE_MAX_BYTES >> 20} MB")
                fh.write(chunk)
        if size == 0:
            raise InvalidInput("the file is empty")
        notes: list[str] = []
        try:
            rows = await run_in_threadpool(quote_rows, state.store, cfg, who.name, [str(path)],
                                           ["*"], notes)
        except PageTallyError as exc:  # name the upload, never the server's temporary path
            text = str(exc).replace(str(path), name)
            raise (type(exc)(text) if isinstance(exc, PdlError) else InvalidInput(text)) from None
    quotes = [{**row(r), "file": name} for r in rows]
    return {"file": name, "quotes": quotes,
            "notes": [n.replace(str(path), name) for n in notes]}
