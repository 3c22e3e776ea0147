"""Colour verdict and ink coverage on pages made by third-party tools.

PostScript programs written here are turned into PDF by Ghostscript's pdfwrite,
images are made by ImageMagick and Netpbm; pagetally.pdl.ink then renders them
back. The expected numbers follow from the page geometry (a 72×72 pt page at
72 DPI is 72×72 pixels) and pkpgcounter's formulas.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pagetally.errors import (
    AnalysisUnavailable,
    CorruptData,
    EncryptedData,
    InvalidInput,
    LimitReached,
    PdlError,
    TruncatedData,
)
from pagetally.pdl import analyse
from pagetally.pdl.ink import INK_NAMES, Tolerance, device_coverage, page_inks

slow = pytest.mark.slow  # tests that run Ghostscript, ImageMagick or Netpbm

SMALL = "<< /PageSize [72 72] >> setpagedevice\n"
A4 = "<< /PageSize [595 842] >> setpagedevice\n"
TEXT_LINES = "".join(
    f"72 {780 - 14 * i} moveto (The quick brown fox jumps over the lazy dog, line {i}.) show\n"
    for i in range(50)
)
TEXT_PAGE = "0 setgray /Times-Roman findfont 11 scalefont setfont\n" + TEXT_LINES


def run(*cmd: str | Path) -> None:
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True, timeout=120)


def ps_file(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / f"{name}.ps"
    path.write_text("%!PS-Adobe-3.0\n" + body)
    return path


def pdf_from_ps(tmp_path: Path, name: str, body: str) -> Path:
    """A PDF made by Ghostscript's pdfwrite from a PostScript program."""
    src = ps_file(tmp_path, name, body)
    out = tmp_path / f"{name}.pdf"
    run("gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite", f"-sOutputFile={out}",
        src)  # fmt: skip
    return out


# --- the verdict: grey, rich grey, a small logo, full colour -----------------------------


@slow
def test_pure_grey_page_is_mono_with_black_ink_only(tmp_path: Path) -> None:
    pdf = pdf_from_ps(
        tmp_path,
        "grey",
        A4
        + "0 0 0 0.6 setcmykcolor 50 400 500 300 rectfill\n"
        + "0.4 setgray 50 100 500 200 rectfill\n"
        + TEXT_PAGE
        + "showpage\n",
    )
    (page,) = page_inks(pdf, "pdf", colorspace="CMYK")
    assert page.color is False
    assert page.coverage["C"] == page.coverage["M"] == page.coverage["Y"] == 0.0
    assert page.coverage["K"] > 30.0
    (device,) = device_coverage(pdf)
    assert device["C"] == device["M"] == device["Y"] == 0.0 and device["K"] > 30.0


@slow
def test_rich_grey_is_not_colour_though_the_ink_device_reports_cyan_magenta_yellow(
    tmp_path: Path,
) -> None:
    pdf = pdf_from_ps(
        tmp_path,
        "richgrey",
        A4
        + "0.5 0.5 0.5 0 setcmykcolor 0 0 595 842 rectfill\n"
        + "1 1 1 0 setcmykcolor 100 100 200 200 rectfill\n"  # rich black
        + "showpage\n",
    )
    (device,) = device_coverage(pdf)
    assert device["C"] == device["M"] == device["Y"] > 40.0  # what gs's ink_cov says
    (page,) = page_inks(pdf, "pdf", colorspace="GC")
    assert page.color is False
    assert page.coverage == {"G": 100.0, "C": 0.0}
    (cmyk,) = page_inks(pdf, "pdf", colorspace="CMYK", cmyk="device")
    assert cmyk.color is False
    assert cmyk.coverage["C"] == pytest.approx(device["C"])


@slow
def test_small_colour_logo_on_a_black_text_page_is_colour(tmp_path: Path) -> None:
    pdf = pdf_from_ps(
        tmp_path,
        "logo",
        A4 + TEXT_PAGE + "1 0 0 setrgbcolor 520 790 28 28 rectfill\nshowpage\n",  # 1 cm²
    )
    (page,) = page_inks(pdf, "pdf", colorspace="CMYK")
    assert page.color is True
    assert 0.0 < page.coverage["M"] < 1.0  # the logo is about 0.16 % of the page
    assert page.coverage["K"] > page.coverage["M"]


@slow
def test_a_few_coloured_pixels_stay_below_the_area_tolerance(tmp_path: Path) -> None:
    pdf = pdf_from_ps(
        tmp_path, "speck", A4 + TEXT_PAGE + "0 0 1 setrgbcolor 300 300 2 2 rectfill\nshowpage\n"
    )
    (page,) = page_inks(pdf, "pdf")
    assert page.color is False
    (strict,) = page_inks(pdf, "pdf", tolerance=Tolerance(min_area=0.0))
    assert strict.color is True


@slow
def test_full_colour_photo_like_page(tmp_path: Path) -> None:
    jpeg = tmp_path / "photo.jpg"
    run("convert", "-size", "300x200", "plasma:fractal", "-seed", "7", str(jpeg))
    pdf = pdf_from_ps(
        tmp_path,
        "photo",
        A4
        + "0 1 63 { /y exch def 0 1 63 { /x exch def\n"
        + "  x 63 div y 63 div 1 x 63 div sub setrgbcolor\n"
        + "  40 x 8 mul add 200 y 8 mul add 8 8 rectfill } for } for\nshowpage\n",
    )
    (page,) = page_inks(pdf, "pdf", colorspace="RGB")
    assert page.color is True
    (photo,) = page_inks(jpeg, "jpeg", colorspace="CMY")
    assert photo.color is True
    assert all(v > 5.0 for v in photo.coverage.values())


@slow
def test_thirty_pages_with_exactly_two_in_colour(tmp_path: Path) -> None:
    pages = []
    for n in range(1, 31):
        colour = "0 0.6 0 setrgbcolor 400 60 60 40 rectfill\n" if n in (7, 23) else ""
        rich = "0.3 0.3 0.3 0 setcmykcolor 400 60 60 40 rectfill\n" if n == 8 else ""
        pages.append(A4 + TEXT_PAGE + colour + rich + "showpage\n")
    pdf = pdf_from_ps(tmp_path, "thirty", "".join(pages))
    inks = page_inks(pdf, "pdf")
    assert len(inks) == 30
    assert [i for i, p in enumerate(inks, 1) if p.color] == [7, 23]
    result = analyse(pdf, color=True)
    assert result.pages == 30
    assert result.color_pages == 2


# --- pkpgcounter's colour spaces, exact on a 72×72 pixel page ------------------------------


@pytest.fixture(scope="module")
def half_black_half_red(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("spaces")
    return ps_file(
        tmp,
        "halves",
        SMALL
        + "0 setgray 0 0 36 72 rectfill showpage\n"
        + SMALL
        + "1 0 0 setrgbcolor 0 0 36 72 rectfill showpage\n",
    )


@slow
@pytest.mark.parametrize(
    ("space", "black_page", "red_page"),
    [
        ("BW", {"B": 50.0}, {"B": 50.0 * (0.587 + 0.114)}),
        ("RGB", {"R": 50.0, "G": 50.0, "B": 50.0}, {"R": 100.0, "G": 50.0, "B": 50.0}),
        ("CMY", {"C": 50.0, "M": 50.0, "Y": 50.0}, {"C": 0.0, "M": 50.0, "Y": 50.0}),
        (
            "CMYK",
            {"C": 0.0, "M": 0.0, "Y": 0.0, "K": 50.0},
            {"C": 0.0, "M": 50.0, "Y": 50.0, "K": 0.0},
        ),
        ("GC", {"G": 100.0, "C": 0.0}, {"G": 0.0, "C": 100.0}),
    ],
)
def test_colour_spaces_follow_pkpgcounter(
    half_black_half_red: Path, space: str, black_page: dict[str, float], red_page: dict[str, float]
) -> None:
    black, red = page_inks(half_black_half_red, "postscript", colorspace=space.lower())
    assert (black.color, red.color) == (False, True)
    assert black.coverage == pytest.approx(black_page)
    assert red.coverage == pytest.approx(red_page)
    assert set(black.coverage) <= set(INK_NAMES[space])


@slow
def test_resolution_changes_pixels_not_percentages(half_black_half_red: Path) -> None:
    low = page_inks(half_black_half_red, "postscript", colorspace="CMYK", resolution=36)
    high = page_inks(half_black_half_red, "postscript", colorspace="CMYK", resolution=144)
    for a, b in zip(low, high, strict=True):
        assert a.coverage == pytest.approx(b.coverage)


@slow
def test_verdict_only_when_no_colour_space_is_asked(half_black_half_red: Path) -> None:
    inks = page_inks(half_black_half_red, "postscript")
    assert [(p.color, p.coverage) for p in inks] == [(False, {}), (True, {})]


@slow
def test_copies_asked_by_the_job_are_not_rendered_twice(tmp_path: Path) -> None:
    ps = ps_file(tmp_path, "copies", "/#copies 3 def\n" + SMALL + "0 0 10 10 rectfill showpage\n")
    assert len(page_inks(ps, "postscript")) == 1
    asked = ps_file(
        tmp_path,
        "numcopies",
        "<< /NumCopies 4 /PageSize [72 72] >> setpagedevice 0 0 9 9 rectfill showpage\n"
        "1 0 0 setrgbcolor 0 0 9 9 rectfill showpage\n",
    )
    assert [p.color for p in page_inks(asked, "postscript")] == [False, True]


@slow
def test_pjl_wrapped_postscript(tmp_path: Path, half_black_half_red: Path) -> None:
    job = tmp_path / "pjl.prn"
    job.write_bytes(
        b"\x1b%-12345X@PJL JOB\r\n@PJL ENTER LANGUAGE=POSTSCRIPT\r\n"
        + half_black_half_red.read_bytes()
        + b"\x1b%-12345X@PJL EOJ\r\n\x1b%-12345X"
    )
    assert [p.color for p in page_inks(job, "postscript")] == [False, True]


# --- images and Netpbm --------------------------------------------------------------------


@slow
def test_multi_page_tiff_and_transparent_png(tmp_path: Path) -> None:
    tiff = tmp_path / "pages.tif"
    run("convert", "-size", "40x40", "xc:gray50", "xc:blue", "xc:white", str(tiff))
    inks = page_inks(tiff, "tiff", colorspace="BW")
    assert [p.color for p in inks] == [False, True, False]
    assert inks[2].coverage["B"] == pytest.approx(0.0)
    png = tmp_path / "clear.png"
    run("convert", "-size", "20x20", "xc:none", str(png))
    (clear,) = page_inks(png, "png", colorspace="CMYK")
    assert clear.coverage == pytest.approx({"C": 0.0, "M": 0.0, "Y": 0.0, "K": 0.0})


@slow
def test_grey_jpeg_noise_is_not_colour(tmp_path: Path) -> None:
    jpeg = tmp_path / "grey.jpg"
    run("convert", "-size", "200x200", "gradient:black-white", "-quality", "40", str(jpeg))
    (page,) = page_inks(jpeg, "jpeg", colorspace="GC")
    assert page.color is False


@slow
def test_several_images_in_one_pnm_stream(tmp_path: Path) -> None:
    parts = [
        subprocess.run(["ppmmake", "red", "8", "8"], check=True, capture_output=True).stdout,
        subprocess.run(["pgmmake", "0.5", "8", "8"], check=True, capture_output=True).stdout,
        subprocess.run(
            "pbmmake -black 8 8 | pnmtoplainpnm", shell=True, check=True, capture_output=True
        ).stdout,
        subprocess.run(
            "ppmmake blue 4 4 | pnmtoplainpnm", shell=True, check=True, capture_output=True
        ).stdout,
    ]
    pnm = tmp_path / "four.pnm"
    pnm.write_bytes(b"".join(parts))
    inks = page_inks(pnm, "pnm", colorspace="CMYK")
    assert [p.color for p in inks] == [True, False, False, True]
    assert inks[2].coverage["K"] == pytest.approx(100.0)
    assert inks[3].coverage == pytest.approx({"C": 100.0, "M": 100.0, "Y": 0.0, "K": 0.0})


# --- what cannot be analysed ------------------------------------------------------------


@slow
def test_pcl_xl_without_ghostpcl_says_so(tmp_path: Path) -> None:
    if shutil.which("gpcl6") or shutil.which("pcl6"):
        pytest.fail("this test expects GhostPCL to be absent, as on Debian")
    job = tmp_path / "job.pxl"
    run("gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pxlmono", f"-sOutputFile={job}",
        ps_file(tmp_path, "p", SMALL + "0 0 10 10 rectfill showpage\n"))  # fmt: skip
    with pytest.raises(AnalysisUnavailable, match=r"^ink analysis unavailable for PCL XL: gpcl6"):
        page_inks(job, "pclxl")


@slow
def test_host_based_raster_is_unavailable(tmp_path: Path) -> None:
    job = tmp_path / "x.zjs"
    job.write_bytes(b"JZJZ\x00\x00\x00\x10\x00\x00\x00\x00ZZJZ" + b"\x00" * 64)
    with pytest.raises(AnalysisUnavailable, match=r"^ink analysis unavailable for Zenographics"):
        page_inks(job, "zjs")


@slow
def test_encrypted_pdf_says_so(tmp_path: Path) -> None:
    plain = pdf_from_ps(tmp_path, "plain", SMALL + "0 0 10 10 rectfill showpage\n")
    locked = tmp_path / "locked.pdf"
    run("qpdf", "--encrypt", "user", "owner", "256", "--", plain, locked)
    with pytest.raises(EncryptedData, match="encrypted"):
        page_inks(locked, "pdf")


@slow
def test_dvi_goes_through_dvips(tmp_path: Path) -> None:
    (tmp_path / "doc.tex").write_text(
        "\\hsize=3in \\vsize=4in\n"
        + "\n\n".join(f"Paragraph {n}: " + "words and more words " * 30 for n in range(12))
        + "\n\\bye\n"
    )
    subprocess.run(["tex", "-interaction=batchmode", "doc.tex"], cwd=tmp_path, timeout=120)
    log = (tmp_path / "doc.log").read_text()
    pages = int(log.split("doc.dvi (")[1].split(" page")[0])
    inks = page_inks(tmp_path / "doc.dvi", "dvi", colorspace="CMYK")
    assert len(inks) == pages > 1
    assert not any(p.color for p in inks)
    assert all(p.coverage["K"] > 0.5 and p.coverage["C"] == 0.0 for p in inks)


@slow
def test_office_documents_go_through_libreoffice(tmp_path: Path) -> None:
    shipped = Path("/usr/share/cups/data/form_english_in.odt")  # Debian's cups-filters
    (form,) = page_inks(shipped, "odf", colorspace="GC")
    assert form.coverage == {"G": 100.0, "C": 0.0}
    html = tmp_path / "memo.html"
    html.write_text(
        "<html><body><h1 style='color:#d00000;font-size:60pt'>URGENT</h1>"
        + "<p>plain black words</p>" * 20
        + "</body></html>"
    )
    run("soffice", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}", "--headless",
        "--convert-to", "docx:MS Word 2007 XML", "--outdir", tmp_path, html)  # fmt: skip
    inks = page_inks(tmp_path / "memo.docx", "ooxml", colorspace="CMYK")
    assert inks[0].color is True
    assert inks[0].coverage["M"] > 0.1


@slow
def test_plain_text_is_paginated_as_the_text_parser_counts(tmp_path: Path) -> None:
    job = tmp_path / "listing.txt"
    lines = [f"line {n} " + "x" * (n % 200) for n in range(150)]  # long lines are cut
    job.write_text("\n".join(lines) + "\n\fafter a form feed\n")
    result = analyse(job, colorspace="BW")
    assert result.format == "plain text"
    assert result.page_inks is not None
    assert len(result.page_inks) == result.pages == 4
    assert all(not p.color and p.coverage["B"] > 0.0 for p in result.page_inks)


@slow
def test_large_image_is_summed_in_bands(tmp_path: Path) -> None:
    png = tmp_path / "big.png"
    run("convert", "-size", "2500x2400", "xc:white", "-fill", "black",
        "-draw", "rectangle 0,0 1249,2399", str(png))  # fmt: skip
    (page,) = page_inks(png, "image", colorspace="BW")
    assert page.coverage["B"] == pytest.approx(50.0)


@slow
def test_broken_pdf_is_a_pdl_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n%%EOF\n")
    with pytest.raises(PdlError):
        page_inks(bad, "pdf")


@slow
def test_absurd_page_size_is_refused_at_once(tmp_path: Path) -> None:
    ps = ps_file(tmp_path, "huge", "<< /PageSize [200000 200000] >> setpagedevice showpage\n")
    with pytest.raises(LimitReached, match="too large"):
        page_inks(ps, "postscript", timeout=30.0)


@slow
def test_job_writing_to_stdout_does_not_corrupt_the_raster(tmp_path: Path) -> None:
    ps = ps_file(
        tmp_path,
        "chatty",
        SMALL + "(%stdout) (w) file dup (P6 1 1 255\\n) writestring flushfile (hi) print\n"
        "0 0 36 72 rectfill showpage\n",
    )
    (page,) = page_inks(ps, "postscript", colorspace="BW")
    assert page.coverage["B"] == pytest.approx(50.0)


@slow
def test_endless_postscript_hits_the_deadline(tmp_path: Path) -> None:
    ps = ps_file(tmp_path, "loop", "{ 1 pop } loop\n")
    with pytest.raises(LimitReached, match="no page for 1 s"):
        page_inks(ps, "postscript", timeout=1.0)


@slow
def test_a_long_job_that_keeps_delivering_pages_is_not_hung(tmp_path: Path) -> None:
    # A4 pages (1.5 MB of raster each reach the pipe at once), 0.45 s of CPU each.
    slow_page = A4 + "/t usertime 450 add def { usertime t ge { exit } if } loop showpage\n"
    ps = ps_file(tmp_path, "steady", slow_page * 10)  # 4.5 s in all, over the 4 s
    assert len(page_inks(ps, "postscript", timeout=4.0)) == 10


def test_bad_arguments_are_refused_before_any_work(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="colour space"):
        page_inks(tmp_path / "none", "pdf", colorspace="HSV")
    with pytest.raises(InvalidInput, match="resolution"):
        page_inks(tmp_path / "none", "pdf", resolution=0)
    with pytest.raises(PdlError, match="cannot read"):
        page_inks(tmp_path / "none", "pdf")
    assert not issubclass(InvalidInput, CorruptData)


# --- the raster arithmetic alone (no tools) ----------------------------------------------


def pnm_pages(data: bytes, space: str | None = "CMYK", tol: Tolerance | None = None) -> list:
    import io

    from pagetally.pdl.raster import iter_pnm

    tol = tol or Tolerance()
    return [s.ink(space, tol) for s in iter_pnm(io.BytesIO(data), tol.chroma)]


def test_pam_cmyk_rich_grey_is_grey_and_cyan_is_colour() -> None:
    header = b"P7\n# made by hand\nWIDTH 2\nHEIGHT 1\nDEPTH 4\nMAXVAL 255\nTUPLTYPE CMYK\nENDHDR\n"
    rich, cyan = pnm_pages(
        header + bytes([128, 128, 128, 0] * 2) + header + bytes([255, 0, 0, 0] * 2)
    )
    assert rich.color is False
    assert rich.coverage == pytest.approx({"C": 0.0, "M": 0.0, "Y": 0.0, "K": 100 * 128 / 255})
    assert cyan.color is True
    assert cyan.coverage == pytest.approx({"C": 100.0, "M": 0.0, "Y": 0.0, "K": 0.0})


def test_sixteen_bit_and_small_maxval_samples_are_scaled() -> None:
    wide = b"P6 1 1 65535\n" + bytes.fromhex("ffff 0000 0000")
    narrow = b"P5\n# comment\n2 1\n# another\n15\n" + bytes([15, 0])
    red, half = pnm_pages(wide + narrow, "RGB")
    assert red.coverage == pytest.approx({"R": 100.0, "G": 0.0, "B": 0.0})
    assert half.coverage == pytest.approx({"R": 50.0, "G": 50.0, "B": 50.0})


def test_plain_pbm_digits_need_no_spaces_and_plain_ppm_follows() -> None:
    (bits, colour) = pnm_pages(b"P1\n4 1\n0101\nP3 1 1 255 0 0 255\n", "BW")
    assert bits.coverage["B"] == pytest.approx(50.0)
    assert colour.color is True


def test_area_tolerance_counts_coloured_pixels() -> None:
    row = bytes([255, 0, 0]) + bytes([255, 255, 255]) * 99  # 1 % of the page is red
    data = b"P6 100 1 255\n" + row
    assert pnm_pages(data, None, Tolerance(min_area=0.02))[0].color is False
    assert pnm_pages(data, None, Tolerance(min_area=0.005))[0].color is True
    faint = b"P6 1 1 255\n" + bytes([200, 190, 190])  # chroma 10: within the default 24
    assert pnm_pages(faint, None, Tolerance(min_area=0.0))[0].color is False


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"P6 10 10 255\n" + b"\x00" * 50, TruncatedData),
        (b"P5 4 4", TruncatedData),
        (b"GIF89a", CorruptData),
        (b"P3 1 1 255 0 x 0", CorruptData),
        (b"P6 0 10 255\n", LimitReached),
        (b"P7\nWIDTH 2\nENDHDR\n", CorruptData),
        (b"P6 65536 65536 255\n", LimitReached),
    ],
)
def test_broken_netpbm_streams_raise_pdl_errors(data: bytes, error: type[PdlError]) -> None:
    with pytest.raises(error):
        pnm_pages(data)
