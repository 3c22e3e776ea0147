"""argv/env parsing: what cupsd gives the backend, including hostile text."""

import pytest

from pagetally.cups.options import parse_options
from pagetally.cups.status import Messages, clean
from pagetally.cups.ticket import parse_ticket, strip_prefix
from pagetally.errors import InvalidInput

ENV = {"DEVICE_URI": "pagetally:ipp://localhost:8631/ipp/print", "PRINTER": "lab"}


def test_options_as_cupsd_writes_them() -> None:
    text = (
        "job-uuid=urn:uuid:1234 job-originating-host-name=localhost "
        "time-at-creation=1700000000 number-up=1 print-color-mode=monochrome "
        "job-name='my report' title=a\\ b landscape nocollate"
    )
    opts = parse_options(text)
    assert opts["job-uuid"] == "urn:uuid:1234"
    assert opts["job-originating-host-name"] == "localhost"
    assert opts["job-name"] == "my report"
    assert opts["title"] == "a b"
    assert opts["landscape"] == "true"
    assert opts["collate"] == "false"


def test_ticket_from_raw_queue_counts_argv_copies() -> None:
    t = parse_ticket(["pagetally", "12", "alice", "t", "3", "job-uuid=u1", "/spool/d12"], ENV)
    assert (t.job_id, t.user, t.copies, t.file) == ("12", "alice", 3, "/spool/d12")
    assert t.device_uri == "ipp://localhost:8631/ipp/print"
    assert t.uuid == "u1"
    assert t.copies_downstream == 3


def test_ticket_on_stdin_copies_already_made_by_filters() -> None:
    t = parse_ticket(["pagetally", "12", "alice", "t", "3", ""], ENV)
    assert t.file is None
    assert t.copies_downstream == 1


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["pagetally", "1", "a", "t", "x", ""], ENV, "copies 'x' is not a number"),
        (["pagetally", "1", "a", "t", "0", ""], ENV, "copies 0 is less than 1"),
        (["pagetally", "1"], ENV, "usage:"),
        (["pagetally", "1", "a", "t", "1", ""], {}, "DEVICE_URI is not set"),
        (["pagetally", "1", "a", "t", "1", ""], {"DEVICE_URI": "ipp://x"}, "does not start"),
    ],
)
def test_bad_argv_or_env_is_one_clear_error(
    argv: list[str], env: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_ticket(argv, env)


def test_prefix_forms() -> None:
    assert strip_prefix("pagetally:socket://10.0.0.5:9100") == "socket://10.0.0.5:9100"
    assert strip_prefix("pagetally://ipp://h/p") == "ipp://h/p"
    with pytest.raises(InvalidInput):
        strip_prefix("pagetally:")


def test_client_text_cannot_inject_message_lines() -> None:
    import io

    out = io.StringIO()
    Messages(out).info("Printing 'x\nERROR: fake\r' for bob")
    assert out.getvalue().count("\n") == 1
    assert clean("a\x1b[31mb") == "a [31mb"


def test_striptitle() -> None:
    from pagetally.cups.ticket import strip_title

    assert strip_title("smbprn.00000042 Annual report", "smbprn.????????") == "Annual report"
    assert strip_title("Annual report", "smbprn.????????") == "Annual report"
    assert strip_title("job: x", "nothing, job:") == "x"
    assert strip_title("smbprn.1 t", None) == "smbprn.1 t"
