"""Where text puts the PCL cursor: lines per page from page size, margins and VMI.

Text that runs past the bottom margin ejects the page on the printer, form feed
or not (1,000 lines without a form feed are 17 letter pages). This tracks the
vertical cursor in decipoints (1/720 inch) below the top margin the way GhostPCL
does: the default text length is the page length less one inch (60 lines at 6
lines per inch on letter), `ESC &l#E` moves the top margin and resets the text
length, `ESC &l#F` sets it, `ESC &l#C`/`#D` change the line spacing only, and
`ESC &l0L` lets text run to the page's end. Truths in tests/pdl/test_pcl.py.

Raster rows move the cursor too, by amounts not followed here: after raster
data the next line feed is taken to cross the bottom (an overcount at worst).
"""

from __future__ import annotations

# Page size code (ESC &l#A) → (width, length) in decipoints. Unknown codes keep the size.
SIZES: dict[int, tuple[int, int]] = {
    1: (5220, 7560),  # executive
    2: (6120, 7920),  # letter
    3: (6120, 10080),  # legal
    6: (7920, 12240),  # ledger
    25: (4196, 5953),  # A5
    26: (5953, 8419),  # A4
    27: (8419, 11906),  # A3
    45: (5159, 7286),  # JIS B5
    46: (7286, 10319),  # JIS B4
    80: (2790, 5400),  # monarch envelope
    81: (2970, 6840),  # com-10 envelope
    90: (3118, 6236),  # DL envelope
    91: (4592, 6491),  # C5 envelope
    100: (4988, 7086),  # ISO B5 envelope
}
DEFAULT_SIZE = 2  # letter: the shorter of the usual defaults (more pages, never fewer)
INCH = 720
WRAP_CHARS = 78  # characters per line at 10 pitch on the narrowest usual page (A4)


class Page:
    """The vertical state of the logical page; `feed` says how many pages text ejects."""

    __slots__ = ("fonts", "length", "lt_mode", "orientation", "perf", "since", "size",
                 "text", "top", "unknown", "vmi", "wrap", "y")  # fmt: skip

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """ESC E: the user defaults."""
        self.size = DEFAULT_SIZE
        self.orientation = 0
        self.vmi = 120  # 6 lines per inch
        self.perf = True
        self.lt_mode = 0  # line termination (ESC &k#G)
        self.wrap = False  # end-of-line wrap (ESC &s0C)
        self.fonts = False  # a font, pitch or HMI was chosen (wrap is not followed then)
        self._margins()

    def _margins(self) -> None:
        width, length = SIZES[self.size]
        self.length = width if self.orientation in (1, 3) else length
        self.top = INCH // 2
        self.text = self.length - INCH
        self.y = 0  # cursor below the top margin
        self.unknown = False
        self.since = 0

    def set_size(self, code: int) -> None:
        if code in SIZES:
            self.size = code
        self._margins()

    def set_orientation(self, value: int) -> bool:
        """Whether the orientation changed (only a change ejects the page)."""
        if value not in (0, 1, 2, 3) or value == self.orientation:
            return False
        self.orientation = value
        self._margins()
        return True

    def set_top(self, lines: int) -> None:
        """ESC &l#E; a margin below the page's end is ignored (GhostPCL)."""
        top = lines * self.vmi
        if 0 <= top <= self.length:
            self.top = top
            self.text = max(0, self.length - self.top - INCH // 2)

    def set_text_length(self, lines: int) -> None:
        """ESC &l#F; none, or one past the page's end, is ignored (GhostPCL)."""
        text = lines * self.vmi
        if 0 < text <= self.length - self.top:
            self.text = text

    def set_vmi(self, decipoints: int) -> None:
        if 0 <= decipoints <= 4 * INCH:
            self.vmi = decipoints

    def move_to(self, y: int) -> None:
        """An absolute vertical move (decipoints below the top margin), kept on the page."""
        self.y = max(0, min(y, self.length - self.top))
        self.unknown = False

    def bottom(self) -> int:
        return self.text if self.perf else self.length - self.top

    def feed(self, n: int, half: bool = False) -> int:
        """`n` line feeds (half ones with `half`): how many pages they eject.

        A line fits while its whole height is above the bottom; after an eject the
        cursor is at the top margin, or with perforation skip off at the page's top.
        `since` keeps how many of the feeds came after the last eject.
        """
        self.since = n
        step = self.vmi // 2 if half else self.vmi
        if n <= 0:
            return 0
        if self.unknown:  # after raster rows: the first line feed may cross the bottom
            self.unknown = False
            self.y = 0 if self.perf else -self.top
            pages = 1 + self.feed(n - 1, half)
            self.since = min(self.since, n - 1)
            return pages
        if step <= 0:
            return 0
        limit = self.bottom()
        first = max(1, (limit - self.vmi - self.y) // step + 1)  # feeds until the bottom
        if n < first:
            self.y += n * step
            return 0
        n -= first
        start = 0 if self.perf else -self.top
        per_page = max(1, (limit - self.vmi - start) // step + 1)
        self.since = n % per_page
        self.y = start + self.since * step
        return 1 + n // per_page
