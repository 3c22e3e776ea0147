"""IPP against a real ippeveprinter (CUPS' IPP Everywhere printer simulator)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pagetally.cups.status import pages_from_stderr
from pagetally.devices.ipp import IppClient
from pagetally.errors import DeviceError
from tests.fixtures_devices import IppEvePrinter

pytestmark = [pytest.mark.slow, pytest.mark.cups]

CUPS_DATA = Path("/usr/share/cups/data")


@pytest.fixture(scope="module")
def three_page_pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3-page PDF made by qpdf from CUPS' own 1-page PDFs (qpdf counts it too)."""
    out = tmp_path_factory.mktemp("pdf") / "three.pdf"
    sources = [str(CUPS_DATA / f) for f in ("default-testpage.pdf", "classified.pdf", "secret.pdf")]
    subprocess.run(["qpdf", "--empty", "--pages", *sources, "--", str(out)], check=True)
    pages = subprocess.run(
        ["qpdf", "--show-npages", str(out)], capture_output=True, text=True, check=True
    )
    assert pages.stdout.strip() == "3"
    return out


def test_printer_attributes_with_collections(ipp_printer: IppEvePrinter) -> None:
    attrs = IppClient(ipp_printer.uri).get_printer_attributes(
        ["printer-state", "printer-name", "media-col-default", "document-format-supported"]
    )
    assert attrs["printer-state"] == [3]  # idle
    assert attrs["printer-name"] == ["pagetally-test"]
    assert "application/pdf" in attrs["document-format-supported"]
    media = attrs["media-col-default"][0]
    assert isinstance(media, dict)
    size = media["media-size"][0]
    assert isinstance(size, dict)
    assert set(size) == {"x-dimension", "y-dimension"}
    assert all(isinstance(v[0], int) and v[0] > 10_000 for v in size.values())


def test_job_printed_with_our_client_reports_its_impressions(
    ipp_printer: IppEvePrinter, three_page_pdf: Path
) -> None:
    client = IppClient(ipp_printer.uri, user="alice")
    job_id = client.print_job(
        three_page_pdf.read_bytes(), document_format="application/pdf", job_name="three"
    )
    counts = client.wait_job(job_id, timeout=60, poll=0.2)
    assert counts.state_name == "completed"
    assert counts.impressions == 3
    assert counts.job_id == job_id


def test_job_submitted_by_ipptool_is_read_back(
    ipp_printer: IppEvePrinter, three_page_pdf: Path, tmp_path: Path
) -> None:
    test = tmp_path / "print.test"
    test.write_text(
        "{\n OPERATION Print-Job\n GROUP operation-attributes-tag\n"
        " ATTR charset attributes-charset utf-8\n"
        " ATTR language attributes-natural-language en\n"
        " ATTR uri printer-uri $uri\n ATTR name requesting-user-name bob\n"
        " ATTR mimeMediaType document-format application/pdf\n"
        " FILE $filename\n STATUS successful-ok\n DISPLAY job-id\n}\n"
    )
    out = subprocess.run(
        ["ipptool", "-tv", "-f", str(three_page_pdf), ipp_printer.uri, str(test)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    job_line = next(line for line in out.stdout.splitlines() if "job-id (integer)" in line)
    job_id = int(job_line.split("=")[1])
    counts = IppClient(ipp_printer.uri).wait_job(job_id, timeout=60, poll=0.2)
    assert (counts.state_name, counts.impressions) == ("completed", 3)


def test_unknown_job_is_a_device_error(ipp_printer: IppEvePrinter) -> None:
    with pytest.raises(DeviceError, match="0x0406"):  # client-error-not-found
        IppClient(ipp_printer.uri).job_counts(999_999)


def test_nothing_listening() -> None:
    from tests.fixtures_devices import free_port

    with pytest.raises(DeviceError, match="IPP 127"):
        IppClient(f"ipp://127.0.0.1:{free_port()}/ipp/print", timeout=2).job_counts(1)


def test_cups_ipp_backend_page_total_is_what_the_printer_counted(
    ipp_printer: IppEvePrinter, three_page_pdf: Path
) -> None:
    """CUPS' own ipp backend, run as cupsd runs it, reports `PAGE: total N` on stderr."""
    env = dict(
        os.environ,
        DEVICE_URI=ipp_printer.uri,
        CONTENT_TYPE="application/pdf",
        FINAL_CONTENT_TYPE="application/pdf",
    )
    uuid = "urn:uuid:0b6e9a3c-5d1f-4e3a-9c1b-2f0e7d6a5b4c"
    argv = ["/usr/lib/cups/backend/ipp", "7", "alice", "three-by-cups", "1", f"job-uuid={uuid}"]
    argv.append(str(three_page_pdf))
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stderr.splitlines()
    assert "PAGE: total 3" in lines
    assert pages_from_stderr(lines) == 3
    # The printer's own record of that job, found by CUPS' title and user:
    client = IppClient(ipp_printer.uri)
    jobs = client.find_jobs(user="alice", name="three-by-cups")
    assert [(j.state_name, j.impressions) for j in jobs[:1]] == [("completed", 3)]
    assert client.find_jobs(user="nobody", name="three-by-cups") == []
