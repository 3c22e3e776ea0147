"""Small documents to upload in the web tests."""

from __future__ import annotations

import io


def blank_pdf(pages: int) -> bytes:
    import pikepdf

    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()
