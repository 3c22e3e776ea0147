"""`POST /api/v1/quote`: a file's format, pages and colour pages and its price on
each printer the caller may use (PyKota's pykotme), counted and priced as `pagetally quote`
and the quote page do (web/quoting.py), within the caller's quota of quotes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, UploadFile

from pagetally.web.api.base import ApiRoute, row
from pagetally.web.identity import current, state_of
from pagetally.web.rights import Identity

router = APIRouter(route_class=ApiRoute, tags=["me"])


@router.post(
    "/quote",
    summary="Count and price a file on the caller's printers",
    responses={429: {"description": "too many quotes (webquotelimit); see Retry-After"}},
)
async def quote(
    request: Request, who: Annotated[Identity, Depends(current)], document: UploadFile
) -> dict[str, Any]:
    from pagetally.web.quoting import quote_upload

    got = await quote_upload(state_of(request), who, document, empty="the file is empty")
    return {
        "file": got.file,
        "quotes": [{**row(r), "file": got.file} for r in got.rows],
        "notes": got.notes,
    }
