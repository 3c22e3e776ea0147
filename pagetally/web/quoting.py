"""A quote of an uploaded file, for the quote page and `POST /api/v1/quote`: the
caller's quota of quotes (webquotelimit), the upload saved and capped
(web/uploads.py), counted by pdl/quoting.py and priced by core/quote.py, as
`pagetally quote` does; errors and notes name the upload, never the server's
temporary path."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import HTTPException, UploadFile
from starlette.concurrency import run_in_threadpool

from pagetally.core.quote import PrinterSite, QuoteRow, quote_rows
from pagetally.errors import PageTallyError
from pagetally.web.uploads import save_upload, upload_error, upload_name

if TYPE_CHECKING:
    from pagetally.web.app import WebState
    from pagetally.web.rights import Identity


@dataclass(frozen=True)
class Quoted:
    file: str  # the upload's own name
    rows: list[QuoteRow]
    notes: list[str]


def check_quota_of_quotes(state: WebState, who: Identity) -> None:
    """429 with Retry-After when `who` asked for `webquotelimit` quotes within the
    window already (the attempt is counted otherwise)."""
    wait = state.quote_limiter.take(f"user:{who.name}")
    if wait:
        limiter = state.quote_limiter
        raise HTTPException(
            429,
            f"Too many quotes: {limiter.count} per {limiter.window // 60} minutes for "
            f"each user. Try again in {_duration(wait)}.",
            headers={"Retry-After": str(wait)},
        )


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{(seconds + 59) // 60} minutes"


def _rows(state: WebState, user_name: str, path: str, notes: list[str]) -> list[QuoteRow]:
    from pagetally.pdl.quoting import QuoteCounter

    store, cfg = state.store, state.config
    user = store.get_user(user_name)
    printers = [e.printer for e in store.user_quotas(["*"], [user.name])]
    site = PrinterSite(
        chain=store.printer_chain,
        settings=cfg.rule_settings,
        preaccounter=lambda p: cfg.get_str("preaccounter", p),
    )
    return quote_rows(user, printers, ["*"], [path], QuoteCounter([path]), site, notes)


async def quote_upload(
    state: WebState, who: Identity, document: UploadFile, *, empty: str
) -> Quoted:
    """The quote of `document` on every printer `who` may use; InvalidInput
    (`empty`) for an empty upload, 429 past the caller's quota of quotes."""
    check_quota_of_quotes(state, who)
    name = upload_name(document)
    with tempfile.TemporaryDirectory(prefix="pagetally-quote-") as folder:
        path = Path(folder) / "document"
        await save_upload(document, path, empty=empty)
        notes: list[str] = []
        try:
            rows = await run_in_threadpool(_rows, state, who.name, str(path), notes)
        except PageTallyError as exc:
            if str(path) not in str(exc):
                raise
            raise upload_error(exc, path, name) from None
    return Quoted(name, rows, [n.replace(str(path), name) for n in notes])
