"""Canon LIPS III/IV raster (Ghostscript's lips3, lips4 devices).

Facts (the bytes those devices write): "ESC %@" enters LIPS, a DCS string
("DCS 41;150;0J lips4 ... ST") names the level. Then ISO 6429 control
sequences: CSI (0x9B or ESC [) parameters, intermediates, a final byte.
"CSI n;...; .r" is a raster image followed by n bytes of data; "CSI n v" asks
for n copies; a form feed (0x0C) ejects a page. DCS ... ST strings carry text
(job name) and are skipped whole.
"""

from __future__ import annotations

from pagetally.errors import CorruptData
from pagetally.pdl._lazyre import lazy
from pagetally.pdl.base import DEFAULT_LIMITS, Analysis, Buffer, Limits
from pagetally.pdl.formats._host import Budget, Pages, corrupt, need, skip_pjl, split_head

_CSI = lazy(rb"(?:\x9b|\x1b\[)([0-9;<=>?:]{0,64})([\x20-\x2f]{0,4})([\x40-\x7e])")
_ESC = lazy(rb"\x1b([\x20-\x2f]{0,4})([\x30-\x7e])")
_ST = lazy(rb"\x9c|\x1b\\")
_LEVEL = lazy(rb"(?:\x90|\x1bP)\d+;\d+(?:;\d+)?J")


def _first(params: bytes) -> int:
    head = params.split(b";", 1)[0]
    return int(head) if head.isdigit() else 0


class LipsParser:
    """Canon LIPS raster lasers."""

    name = "lips"
    format = "Canon LIPS"

    def detect(self, head: bytes) -> float:
        _lang, body = split_head(head)
        if body.startswith(b"\x1b%@") and _LEVEL.match(body, 3):
            return 0.99
        return 0.7 if body.startswith(b"\x1b%@") else 0.0

    def count(self, data: Buffer, limits: Limits = DEFAULT_LIMITS) -> Analysis:
        pos = skip_pjl(data)
        n = len(data)
        pages = Pages(limits)
        budget = Budget(n, limits)
        copies = 1
        while pos < n:
            budget.tick()
            c = data[pos]
            if c == 0x9B or data[pos : pos + 2] == b"\x1b[":
                m = _CSI.match(data, pos)
                if not m:
                    raise corrupt(self.format, pos)
                pos = m.end()
                inter, final = m.group(2), m.group(3)
                if inter == b"&" and final == b"}":
                    # LIPS IV vector mode (Ghostscript's lips4v): its commands and
                    # image data are not followed here, so the job is refused.
                    raise CorruptData(
                        f"{self.format}: vector mode (CSI &}}) at offset {m.start()} "
                        "is not understood"
                    )
                if inter == b"." and final == b"r":
                    size = _first(m.group(1))
                    need(data, pos, size, self.format)
                    pos += size
                elif not inter and final == b"v":
                    copies = _first(m.group(1)) or 1
            elif c == 0x90 or data[pos : pos + 2] == b"\x1bP":
                st = _ST.search(data, pos + 1)
                if not st:
                    raise corrupt(self.format, pos)
                pos = st.end()
            elif c == 0x1B:
                e = _ESC.match(data, pos)
                if not e:
                    raise corrupt(self.format, pos)
                pos = e.end()
            elif c == 0x0C:
                pages.add(copies)
                pos += 1
            elif c in b"\r\n\x00 ":
                pos += 1
            else:
                raise corrupt(self.format, pos)
        return pages.analysis(self.format)


PARSERS = [LipsParser()]
