"""The message lines the backend writes to cupsd (cups/status.py)."""

from __future__ import annotations

import io

from pagetally.cups.status import Messages


class Writes(io.StringIO):
    """A stream that remembers each write call."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def write(self, text: str) -> int:
        self.calls.append(text)
        return super().write(text)


def test_job_message_is_one_write_that_clears_the_printer_state() -> None:
    """cupsd reads what one write() put in the pipe in one go and handles every
    line of it before answering any client: the printer's state is never seen
    with the job's message (docs/backend.md, "What the person sees")."""
    stream = Writes()
    Messages(stream).job("PageTally refused the job: Balance too low: 0.10 EUR\nINFO: x")
    # a newline in the text cannot start a line of its own
    assert stream.calls == [
        "WARNING: PageTally refused the job: Balance too low: 0.10 EUR INFO: x\nINFO: \n"
    ]
