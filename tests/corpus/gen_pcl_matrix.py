"""The PCL and PCL XL generator matrix: every Ghostscript device of these families and
the HP driver chains (hpcups, hpijs, pxljr), from one small master document.

Source: a 4-page PostScript master written here (text, colour fills, a page
inverted black), counted by Ghostscript's bbox device, and its PDF (pdfwrite,
counted by qpdf) for the CUPS chains. Makers: Ghostscript's LaserJet, DeskJet,
PaintJet, DEC LJ250, colour LaserJet, pcl3/hpdj and PCL XL devices at two
resolutions where they take them (their default and a low one; cdj670/850/890/1600
and cdj970 ignore -r), and `cupsfilter` with the drivers' own PPDs: hpcups
(PCL3GUI, PCL3, LaserJet PCL, FastRaster and JetReady PCL XL), hpijs through
foomatic-rip, and pxljr (JetReady PCL XL). The truth is the source's page count:
GhostPCL is no oracle for DeskJet PCL 3 (it miscounts it), the source is.

Small on purpose (CI): 4 pages at low resolutions; made once and cached under
corpus/ by tests/corpus/build.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.corpus import CorpusFile
from tests.corpus.gen_pcl import _run

DRIVERD = "/usr/lib/cups/daemon/cups-driverd"
PXLJR_DRIVER = "/usr/lib/cups/driver/pxljr"

MASTER = b"""%!PS-Adobe-3.0
%%Pages: 4
%%EndComments
/Helvetica findfont 24 scalefont setfont
1 1 4 {
  /n exch def
  72 700 moveto (Page ) show n 3 string cvs show
  1 0 0 setrgbcolor 100 100 200 n 50 mul rectfill
  0 0 1 setrgbcolor 300 300 moveto 400 500 lineto 8 setlinewidth stroke
  0 setgray 72 72 moveto (bottom line of text) show
  n 2 eq { 0 0 612 792 rectfill 1 setgray 100 400 moveto (inverse) show } if
  showpage
} for
%%EOF
"""

# Ghostscript device → (parser name, resolutions: None is the device's default).
DEVICES: dict[str, tuple[str, tuple[int | None, ...]]] = {
    # LaserJet PCL 4/5
    "laserjet": ("pcl", (None, 75)),
    "ljetplus": ("pcl", (None, 75)),
    "ljet2p": ("pcl", (None, 75)),
    "ljet3": ("pcl", (None, 75)),
    "ljet3d": ("pcl", (None, 75)),
    "ljet4": ("pcl", (None, 75)),
    "ljet4d": ("pcl", (None, 75)),
    "ljet4pjl": ("pcl", (None, 75)),
    "lj4dith": ("pcl", (75, 150)),
    "lj4dithp": ("pcl", (75,)),
    "lp2563": ("pcl", (None, 75)),
    "fs600": ("pcl", (75,)),
    "oce9050": ("pcl", (75,)),
    "cljet5": ("pcl", (75, 150)),
    "cljet5c": ("pcl", (75, 150)),
    "cljet5pr": ("pcl", (75,)),
    # DeskJet / PCL 3 and PCL3GUI
    "deskjet": ("pcl", (None, 75)),
    "djet500": ("pcl", (None, 75)),
    "djet500c": ("pcl", (None, 75)),
    "cdeskjet": ("pcl", (None, 75)),
    "cdjcolor": ("pcl", (75,)),
    "cdjmono": ("pcl", (None, 75)),
    "cdj500": ("pcl", (None, 75)),
    "cdj550": ("pcl", (None, 75)),
    "cdj670": ("pcl", (None,)),
    "cdj850": ("pcl", (None,)),
    "cdj880": ("pcl", (75,)),
    "cdj890": ("pcl", (None,)),
    "cdj1600": ("pcl", (None,)),
    "cdj970": ("pcl", (None,)),
    "chp2200": ("pcl", (75,)),
    "cdnj500": ("pcl", (75,)),
    "dnj650c": ("pcl", (75,)),
    "dj505j": ("dj505j", (None, 150)),
    "pcl3": ("pcl", (None, 150)),
    "hpdj500c": ("pcl", (None, 150)),
    "hpdj850c": ("pcl", (None, 150)),
    "hpdj1120c": ("pcl", (None,)),
    # PaintJet family and DEC LJ250
    "pj": ("pcl", (None, 90)),
    "pjxl": ("pcl", (None, 90)),
    "pjetxl": ("pcl", (None, 90)),
    "pjxl300": ("pcl", (None, 150)),
    "paintjet": ("pcl", (None, 90)),
    "lj250": ("pcl", (None, 90)),
    "declj250": ("pcl", (None, 90)),
    # PCL XL
    "lj5mono": ("pclxl", (75, 150)),
    "lj5gray": ("pclxl", (75,)),
    "pxlmono": ("pclxl", (75, 150)),
    "pxlcolor": ("pclxl", (75, 150)),
}
# Extra device settings worth a file of their own.
VARIANTS: list[tuple[str, tuple[str, ...]]] = [
    ("cdj550", ("-dBitsPerPixel=3",)),
    ("cdj550", ("-dBitsPerPixel=8",)),
    ("cdj850", ("-dQuality=-1",)),
    ("cdj970", ("-dQuality=1",)),
    ("hpdj850c", ("-sColourModel=CMY+K",)),
    ("pcl3", ("-sSubdevice=hpdj500c",)),
    ("ljet4", ("-r75", "-dNumCopies=2")),
    ("pxlmono", ("-r75", "-dNumCopies=3")),
]
# CUPS chains: (name, parser, PPD source, options). hpcups PPDs come from its drv,
# hpijs ones likewise, pxljr's from its driver program.
CHAINS: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = [
    ("hpcups-pcl3gui", "pcl", (DRIVERD, "cat", "drv:///hpcups.drv/hp-deskjet_3810.ppd"), ()),
    ("hpcups-pcl3gui2", "pcl", (DRIVERD, "cat", "drv:///hpcups.drv/hp-cp1160.ppd"), ()),
    ("hpcups-pcl3", "pcl", (DRIVERD, "cat", "drv:///hpcups.drv/hp-deskjet_500.ppd"), ()),
    ("hpcups-ljmono", "pcl", (DRIVERD, "cat", "drv:///hpcups.drv/hp-laserjet_1015.ppd"), ()),
    ("hpcups-ljmono-copies", "pcl", (DRIVERD, "cat", "drv:///hpcups.drv/hp-laserjet_1015.ppd"),
     ("copies=2",)),
    ("hpcups-ljcolor", "pcl",
     (DRIVERD, "cat", "drv:///hpcups.drv/hp-color_laserjet_cm1312_mfp-pcl3.ppd"), ()),
    ("hpcups-fastraster", "pclxl", (DRIVERD, "cat", "drv:///hpcups.drv/hp-laserjet_1010.ppd"), ()),
    ("hpcups-jetready", "pclxl",
     (DRIVERD, "cat", "drv:///hpcups.drv/hp-color_laserjet_3500.ppd"), ()),
    ("hpijs-pcl3", "pcl", (DRIVERD, "cat", "drv:///hpijs.drv/hp-deskjet_500-hpijs.ppd"), ()),
    ("hpijs-pcl3gui", "pcl", (DRIVERD, "cat", "drv:///hpijs.drv/hp-deskjet_990c-hpijs.ppd"), ()),
    ("hpijs-ljmono", "pcl",
     (DRIVERD, "cat", "drv:///hpijs.drv/hp-laserjet_1200-hpijs-pcl3.ppd"), ()),
    ("hpijs-pclxl", "pclxl", (DRIVERD, "cat", "drv:///hpijs.drv/hp-laserjet_1010-hpijs.ppd"), ()),
    ("pxljr", "pclxl",
     (PXLJR_DRIVER, "cat", "pxljr:0/ppd/pxljr/HP-Color_LaserJet_3500-pxljr.ppd"), ()),
]  # fmt: skip


def _sources(outdir: Path) -> tuple[Path, Path, int]:
    """The master as PostScript and PDF, and its pages (gs bbox; qpdf agrees)."""
    ps = outdir / "master.ps"
    ps.write_bytes(MASTER)
    pdf = outdir / "master.pdf"
    _run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite",
          f"-sOutputFile={pdf}", str(ps)])  # fmt: skip
    res = subprocess.run(
        ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=bbox", str(ps)],
        capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    pages = sum(1 for line in res.stderr.splitlines() if line.startswith(b"%%BoundingBox"))
    qpdf = int(_run(["qpdf", "--show-npages", str(pdf)]))
    if qpdf != pages:
        raise RuntimeError(f"the master has {pages} pages for gs bbox, {qpdf} for qpdf")
    return ps, pdf, pages


def generate(outdir: Path) -> list[CorpusFile]:
    ps, pdf, pages = _sources(outdir)
    files: list[CorpusFile] = []
    jobs: list[tuple[str, str, tuple[str, ...]]] = []
    for device, (fmt, resolutions) in DEVICES.items():
        for res in resolutions:
            jobs.append((device, fmt, () if res is None else (f"-r{res}",)))
    for device, opts in VARIANTS:
        jobs.append((device, DEVICES[device][0], opts))
    for device, fmt, opts in jobs:
        tag = "".join(o.lstrip("-").replace("=", "") for o in opts) or "default"
        out = outdir / f"gs-{device}-{tag}.prn"
        _run(["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", f"-sDEVICE={device}", *opts,
              f"-sOutputFile={out}", str(ps)])  # fmt: skip
        copies = next((int(o.split("=")[1]) for o in opts if o.startswith("-dNumCopies=")), 1)
        files.append(CorpusFile(out, fmt, pages * copies, "gs bbox on the source",
                                f"gs -sDEVICE={device} {' '.join(opts)}".strip()))  # fmt: skip
    for name, fmt, ppd_cmd, options in CHAINS:
        ppd = outdir / f"{name}.ppd"
        ppd.write_bytes(_run(list(ppd_cmd)))
        out = outdir / f"cups-{name}.prn"
        argv = ["cupsfilter", "-e", "-p", str(ppd), "-m", "printer/foo"]
        for option in options:
            argv += ["-o", option]
        _run([*argv, str(pdf)], out=out, timeout=600)
        copies = next((int(o.split("=")[1]) for o in options if o.startswith("copies=")), 1)
        maker = f"cupsfilter {ppd_cmd[-1]} {' '.join(options)}".strip()
        files.append(CorpusFile(out, fmt, pages * copies, "qpdf on the source", maker))
    return files
