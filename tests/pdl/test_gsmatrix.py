"""Every Ghostscript device's output is counted exactly or refused, never miscounted.

pkpgcounter's own test suite as a test (tests/corpus/gsmatrix.py makes the
outputs: a 5-page master through every device `devicenames` lists, at the
device's default resolution on A6 paper and at 72 dpi on Letter). For each
output PageTally must say 5 pages or refuse with a PdlError: any other number
bills a user for pages that were never printed, or prints pages for free. The
tally (exact / refused per device) is written to corpus/gsmatrix/tally.md.

With PAGETALLY_PKPGCOUNTER set to a command running pkpgcounter 3.51 (see
tests/corpus/gsmatrix.pkpgcounter_counts), the tally shows its answer beside
PageTally's. Measured 2026-12-03 (Ghostscript 10.00.0), 623 outputs: PageTally
exact 388, refused 223, wrong 12 (PCL DeskJet/PaintJet and ESC/Page lp8000, see
OWNERS); later the same day, with those fixed and LIPS IV vector mode followed:
exact 425, refused 198, wrong 0, and pkpgcounter 3.51 on the same 623 outputs
exact 237, a wrong number for the other 386 (it refuses none).

Devices whose output belongs to another family's parser and which were wrong
when this test was written are named in OWNERS, so that a failure says who
fixes it; the test still fails on them (a refusal would pass).
"""

from __future__ import annotations

import os
from collections import Counter

import pytest

from pagetally.errors import PdlError
from pagetally.pdl import analyse
from tests.corpus import CORPUS_DIR
from tests.corpus.gsmatrix import PAGES, Output, build, pkpgcounter_counts

pytestmark = [pytest.mark.slow, pytest.mark.corpus]

# Wrong on 2026-12-03 (before the PCL and drivers work of issue 9 was merged).
OWNERS = {
    "cdj670": "pcl (DeskJet PCL 3)",
    "cdj850": "pcl (DeskJet PCL 3)",
    "cdj890": "pcl (DeskJet PCL 3)",
    "cdj1600": "pcl (DeskJet PCL 3)",
    "pj": "pcl (PaintJet)",
    "lp8000": "drivers (ESC/Page)",
}

# The languages this branch added or fixed: they must be counted, not refused.
MUST_COUNT = (
    "pwgraster", "urf", "appleraster", "cups", "pclm", "pclm8", "xpswrite",
    "gdi", "samsunggdi", "hl7x0", "lips4v",
)  # fmt: skip


@pytest.fixture(scope="module")
def outputs() -> list[Output]:
    return build()


def _verdict(out: Output) -> tuple[str, str]:
    assert out.path is not None
    try:
        analysis = analyse(out.path)
    except PdlError as exc:
        return "refused", str(exc)
    if analysis.pages == PAGES:
        return "exact", analysis.format
    return "wrong", f"{analysis.pages} pages as {analysis.format}"


def _label(out: Output) -> str:
    return out.label


def test_every_device_is_counted_exactly_or_refused(outputs: list[Output]) -> None:
    made = [o for o in outputs if o.path is not None]
    assert len(made) >= 500, "Ghostscript made far fewer outputs than expected"
    verdicts = {_label(o): (o, *_verdict(o)) for o in made}
    tally = Counter(v[1] for v in verdicts.values())
    command = os.environ.get("PAGETALLY_PKPGCOUNTER")
    theirs = pkpgcounter_counts(command, made) if command else {}
    lines = [
        f"# Ghostscript device matrix: {len(made)} outputs of a {PAGES}-page master",
        "",
        f"PageTally: exact {tally['exact']}, refused {tally['refused']}, wrong {tally['wrong']}",
    ]
    if theirs:
        right = sum(1 for v in theirs.values() if v == PAGES)
        lines.append(f"pkpgcounter: exact {right}, another answer {len(theirs) - right}")
    lines += ["", "| device | verdict | detail | pkpgcounter |", "|---|---|---|---|"]
    for label, (_o, verdict, detail) in sorted(verdicts.items()):
        shown = detail.replace("|", "/")[:100]
        lines.append(f"| {label} | {verdict} | {shown} | {theirs.get(label, '')} |")
    skipped = [o for o in outputs if o.path is None]
    lines += ["", f"{len(skipped)} runs made no output:", ""]
    lines += [f"- {_label(o)}: {o.why}" for o in skipped]
    (CORPUS_DIR / "gsmatrix" / "tally.md").write_text("\n".join(lines) + "\n")
    wrong = [
        f"{label}: {detail}"
        + (f" (expected to be fixed by {OWNERS[o.device]})" if o.device in OWNERS else "")
        for label, (o, verdict, detail) in sorted(verdicts.items())
        if verdict == "wrong"
    ]
    assert not wrong, f"{len(wrong)} wrong counts:\n" + "\n".join(wrong)


def test_the_raster_languages_are_counted_not_refused(outputs: list[Output]) -> None:
    by_label = {_label(o): o for o in outputs if o.path is not None}
    for device in MUST_COUNT:
        runs = [o for label, o in by_label.items() if label.split("@")[0] == device]
        assert runs, f"{device} made no output"
        for out in runs:
            assert _verdict(out)[0] == "exact", (_label(out), _verdict(out))
