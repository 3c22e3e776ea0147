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
from pagetally.errors import PageTallyError
from pagetally.web.api.base import ApiRoute, row
from pagetally.web.identity import current, state_of
from pagetally.web.rights import Identity

router = APIRouter(route_class=ApiRoute, tags=["me"])


@router.post("/quote", summary="Count and price a file on the caller's printers")
async def quote(request: Request, who: Annotated[Identity, Depends(current)],
                document: UploadFile) -> dict[str, Any]:
    from pagetally.cli.quote import quote_rows
    from pagetally.web.uploads import save_upload, upload_error, upload_name

    state = state_of(request)
    cfg = state.config or Config(path="(defaults)")
    name = upload_name(document)
    with tempfile.TemporaryDirectory(prefix="pagetally-quote-") as folder:
        path = Path(folder) / "document"
        await save_upload(document, path, empty="the file is empty")
        notes: list[str] = []
        try:
            rows = await run_in_threadpool(quote_rows, state.store, cfg, who.name, [str(path)],
                                           ["*"], notes)
        except PageTallyError as exc:  # name the upload, never the server's temporary path
            raise upload_error(exc, path, name) from None
    quotes = [{**row(r), "file": name} for r in rows]
    return {"file": name, "quotes": quotes,
            "notes": [n.replace(str(path), name) for n in notes]}
