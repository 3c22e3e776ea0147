"""The third-party test corpus: print files made by programs nobody here wrote.

Each `gen_<area>.py` module beside this one exposes
`generate(outdir: Path) -> list[CorpusFile]`: it runs third-party generators
(Ghostscript devices, foo2zjs, LibreOffice, TeX, groff, ImageMagick, ...) into
`outdir` and returns each file with its page count from an independent oracle
(qpdf, pdfinfo, gs, the generator's own count). `build()` runs them all once and
caches the result under `corpus/` at the repository's root (git-ignored), keyed
by the generator sources, so a second test run reuses it.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import pkgutil
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS_DIR = ROOT / "corpus"


@dataclass(frozen=True)
class CorpusFile:
    path: Path
    format: str  # the parser name expected to recognise it ("pdf", "pclxl", ...)
    pages: int  # independent count, copies included
    oracle: str  # who counted: "qpdf", "gs bbox", "generator", ...
    generator: str = ""  # what made it: "gs -sDEVICE=pxlmono", "foo2zjs", ...
    color_pages: int | None = None  # where the generator or an oracle knows it
    refused: bool = False  # the data cannot give the count: PageTally must refuse it


def _generators() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if m.name.startswith("gen_"))


def _fingerprint(name: str) -> str:
    return hashlib.sha256((Path(__file__).parent / f"{name}.py").read_bytes()).hexdigest()[:16]


def build(only: str | None = None) -> list[CorpusFile]:
    """Generate (or reuse) the corpus; `only` restricts to one gen_ module.

    Each generator has its own folder and manifest, regenerated when its source changes.
    """
    files: list[CorpusFile] = []
    for name in _generators():
        if only and name != only:
            continue
        outdir = CORPUS_DIR / name
        manifest = outdir / "manifest.json"
        fp = _fingerprint(name)
        rows: list[dict[str, object]] | None = None
        if manifest.exists():
            data = json.loads(manifest.read_text())
            if data.get("fingerprint") == fp:
                rows = data["files"]
        if rows is None:
            outdir.mkdir(parents=True, exist_ok=True)
            module = importlib.import_module(f"tests.corpus.{name}")
            made: list[CorpusFile] = module.generate(outdir)
            rows = [{**asdict(f), "path": str(f.path)} for f in made]
            manifest.write_text(json.dumps({"fingerprint": fp, "files": rows}, indent=1))
        for row in rows:
            files.append(CorpusFile(**{**row, "path": Path(str(row["path"]))}))  # type: ignore[arg-type]
    return files
