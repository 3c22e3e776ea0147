"""A document uploaded for a quote (the quote page and `POST /api/v1/quote`): saved
to a temporary file, capped in size, never empty; errors name the upload, never the
server's temporary path."""

from __future__ import annotations

from pathlib import Path

from fastapi import UploadFile

from pagetally.errors import InvalidInput, PageTallyError, PdlError

#: The largest document a quote reads (a print job's size, not an archive's).
QUOTE_MAX_BYTES = 50 * 1024 * 1024


def upload_name(document: UploadFile) -> str:
    """The upload's own file name, without any folder a client put in front."""
    return Path(document.filename or "upload").name or "upload"


async def save_upload(document: UploadFile, path: Path, *, empty: str) -> None:
    """Write the upload to `path` in 1 MiB chunks; InvalidInput (`empty` when it
    has no byte) when it is empty or larger than QUOTE_MAX_BYTES."""
    size = 0
    with path.open("wb") as fh:
        while chunk := await document.read(1 << 20):
            size += len(chunk)
            if size > QUOTE_MAX_BYTES:
                raise InvalidInput(f"the file is larger than {QUOTE_MAX_BYTES >> 20} MB")
            fh.write(chunk)
    if size == 0:
        raise InvalidInput(empty)


def upload_error(exc: PageTallyError, path: Path, name: str) -> PageTallyError:
    """`exc` with the temporary `path` replaced by the upload's `name`: a page
    counter's error keeps its kind, anything else is bad input."""
    text = str(exc).replace(str(path), name)
    return type(exc)(text) if isinstance(exc, PdlError) else InvalidInput(text)
