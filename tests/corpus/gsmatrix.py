"""Every Ghostscript output device, one small multi-page master through each.

pkpgcounter's own test suite (its tests/gstests.py) renders a 16-page master
through every device `devicenames` lists and expects 16 from each output. This is
the same idea kept fast enough for CI: a 5-page master (written here, so its page
count is known: Ghostscript's bbox device confirms it), at the device's default
resolution and at a second one where the device takes it, on two worker
processes. The outputs are cached under corpus/gsmatrix/, keyed by this file and
Ghostscript's version, like the rest of the corpus.

What a device makes is not known in advance (that is the point): the test asks
PageTally to count each output and accepts the master's page count or a refusal
(a PdlError), never another number.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.corpus import CORPUS_DIR

PAGES = 5
SECOND_RESOLUTION = 72
# Image-file devices whose default is 600 dpi (tiffscaled*, plan*) would write
# 900 MB at it and test nothing more: their "default" run is at this resolution.
LOW_DEFAULT = 72
_HUGE_DEFAULT = ("tiffscaled", "plan")
TIMEOUT = 60.0
WORKERS = 2
GS = ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE"]

# A master with text and, on even pages, a red square: colour devices get colour.
MASTER = f"""%!PS-Adobe-3.0
%%Pages: {PAGES}
%%EndComments
/Helvetica findfont 24 scalefont setfont
1 1 {PAGES} {{
  /n exch def
  0.45 0.45 scale
  72 700 moveto (PageTally matrix page ) show n 3 string cvs show
  n 2 mod 0 eq {{ 1 0 0 setrgbcolor }} {{ 0 setgray }} ifelse
  72 400 200 200 rectfill
  0 setgray 0 1 8 {{ /y exch def 100 300 y 20 mul sub moveto (line of text) show }} for
  showpage
}} for
%%EOF
"""

# Devices that write no file of their own: screens, counters, servers.
NOT_OUTPUT = {
    "bbox": "writes bounding boxes to stderr",
    "display": "a screen",
    "ijs": "needs an IJS server",
    "ink_cov": "writes ink figures as text",
    "inkcov": "writes ink figures as text",
    "nullpage": "writes nothing",
    "opvp": "needs a vendor driver library",
    "txtwrite": "writes the pages' text, not a print job",
}


@dataclass(frozen=True)
class Output:
    """One device run: the file it made (None when the device made nothing)."""

    device: str
    resolution: int | None  # None: the device's default
    path: Path | None
    why: str = ""  # why there is no file (the device refused the options, ...)
    paper: str = "a6"

    @property
    def label(self) -> str:
        return f"{self.device}@{self.resolution or 'default'}/{self.paper}"


def devices() -> list[str]:
    """Every device this Ghostscript knows, screens and servers left out."""
    res = subprocess.run(
        ["gs", "-dBATCH", "-dQUIET", "-dNOPAUSE", "-sDEVICE=nullpage", "-"],
        input=b"devicenames ==",
        capture_output=True,
        check=True,
        timeout=60,
    )
    names = sorted({n.strip("/[]") for n in res.stdout.decode().split()} - {""})
    return [n for n in names if n not in NOT_OUTPUT and not n.startswith("x11")]


def _gs_version() -> str:
    return subprocess.run(["gs", "--version"], capture_output=True, text=True).stdout.strip()


def _render(master: Path, outdir: Path, device: str, resolution: int | None, paper: str) -> Output:
    tag = f"r{resolution}" if resolution else "default"
    out = outdir / f"{device}-{tag}-{paper}.out"
    argv = [*GS, f"-sDEVICE={device}", f"-sPAPERSIZE={paper}", "-dFIXEDMEDIA"]
    if resolution:
        argv.append(f"-r{resolution}")
    elif device.startswith(_HUGE_DEFAULT):
        argv.append(f"-r{LOW_DEFAULT}")
    argv += [f"-sOutputFile={out}", str(master)]
    try:
        res = subprocess.run(
            argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=TIMEOUT, cwd=outdir
        )
    except subprocess.TimeoutExpired:
        out.unlink(missing_ok=True)
        return Output(device, resolution, None, f"no output within {TIMEOUT:.0f} s", paper)
    if res.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        out.unlink(missing_ok=True)
        lines = (res.stderr + res.stdout).decode("latin-1").strip().splitlines()
        why = lines[0][:120] if lines else "no output"
        return Output(device, resolution, None, why, paper)
    return Output(device, resolution, out, "", paper)


def _runs(master: Path, outdir: Path, device: str) -> list[Output]:
    """The device at its default resolution on A6, and at 72 dpi on Letter (at its
    default there when it refuses 72 dpi): two resolutions, two paper sizes (a
    page-length rule can hold on one and not the other)."""
    small = _render(master, outdir, device, None, "a6")
    large = _render(master, outdir, device, SECOND_RESOLUTION, "letter")
    if large.path is None:
        fallback = _render(master, outdir, device, None, "letter")
        large = fallback if fallback.path is not None else large
    return [small, large]


def _fingerprint() -> str:
    return hashlib.sha256(Path(__file__).read_bytes() + _gs_version().encode()).hexdigest()[:16]


def build() -> list[Output]:
    """Render the master through every device (or reuse the cached outputs)."""
    outdir = CORPUS_DIR / "gsmatrix"
    manifest = outdir / "manifest.json"
    fp = _fingerprint()
    if manifest.exists():
        data = json.loads(manifest.read_text())
        if data.get("fingerprint") == fp:
            return [
                Output(
                    r["device"],
                    r["resolution"],
                    Path(r["path"]) if r["path"] else None,
                    r["why"],
                    r["paper"],
                )
                for r in data["outputs"]
            ]
    outdir.mkdir(parents=True, exist_ok=True)
    for old in outdir.glob("*.out"):
        old.unlink()
    master = outdir / "master.ps"
    master.write_text(MASTER)
    pages = _bbox_pages(master)
    if pages != PAGES:
        raise RuntimeError(f"Ghostscript's bbox device sees {pages} pages in the master")
    with ThreadPoolExecutor(WORKERS) as pool:
        runs = pool.map(lambda device: _runs(master, outdir, device), devices())
        outputs = [o for pair in runs for o in pair]
    rows = [{**asdict(o), "path": str(o.path) if o.path else None} for o in outputs]
    tmp = tempfile.NamedTemporaryFile("w", dir=outdir, delete=False, suffix=".json")
    with tmp:
        json.dump({"fingerprint": fp, "outputs": rows}, tmp, indent=1)
    os.replace(tmp.name, manifest)
    return outputs


def _bbox_pages(ps: Path) -> int:
    res = subprocess.run(
        ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=bbox", str(ps)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    return sum(1 for line in res.stderr.splitlines() if line.startswith(b"%%BoundingBox"))


if __name__ == "__main__":
    import time

    t0 = time.monotonic()
    made = build()
    print(
        f"{len(made)} runs, {sum(1 for o in made if o.path)} outputs, {time.monotonic() - t0:.1f} s"
    )


def pkpgcounter_counts(command: str, outputs: list[Output]) -> dict[str, int | str]:
    """What pkpgcounter says of each output: its number, or why it said none.

    `command` is how to run it, e.g. "python2.7 /src/pkpgcounter/bin/pkpgcounter"
    (3.51, the last Python 2 release: git 640b316 of its repository, Pillow 6.2.2).
    For the comparison in the notes only; nothing is asserted of it.
    """
    import shlex

    argv = shlex.split(command)

    def one(out: Output) -> tuple[str, int | str]:
        label = out.label
        try:
            res = subprocess.run(
                [*argv, str(out.path)], capture_output=True, timeout=TIMEOUT, text=True
            )
        except subprocess.TimeoutExpired:
            return label, "timeout"
        text = res.stdout.strip()
        if text.isdigit():
            return label, int(text)
        errors = res.stderr.strip().splitlines()
        return label, errors[-1][:80] if errors else "no answer"

    with ThreadPoolExecutor(WORKERS) as pool:
        return dict(pool.map(one, [o for o in outputs if o.path is not None]))
