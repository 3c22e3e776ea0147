"""How long `import-pykota` takes for a large PyKota SQLite store.

    .venv/bin/python bench/import_pykota.py [--jobs 1000000] [--keep DIR]

Builds a PyKota SQLite store (tests/storage/pykota_fake.py: PyKota's schema, 40
users, `--jobs` generated jobs; building it is not timed), imports it into a new
PageTally SQLite store, then imports it again (the rerun, which must add nothing).
Prints jobs per second of each run and the peak memory. The machine is shared:
expect noise.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path

from sqlalchemy import create_engine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pagetally.storage import StoreSettings, open_store
from pagetally.storage.pykota_import import PyKotaImport
from pagetally.storage.pykota_source import PyKotaSource
from tests.storage.pykota_fake import create_schema, fill


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=1_000_000)
    ap.add_argument("--keep", help="folder for the databases (default: a temporary one)")
    args = ap.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="pt-bench-import-"))
    folder.mkdir(parents=True, exist_ok=True)
    src_db, dst_db = folder / "pykota.db", folder / "pagetally.db"
    for p in folder.glob("*.db*"):
        p.unlink()
    t0 = time.perf_counter()
    engine = create_engine(f"sqlite:///{src_db}")
    create_schema(engine)
    filled = fill(engine, jobs=args.jobs, chunk=50_000)
    engine.dispose()
    print(
        f"PyKota store with {filled.jobs:,} jobs built in {time.perf_counter() - t0:.1f} s "
        f"({src_db.stat().st_size / 1e6:.0f} MB)"
    )
    store = open_store(StoreSettings(backend="sqlite", name=str(dst_db)))
    print("| run | seconds | jobs/s | jobs created | counts and sums equal |")
    print("|---|---|---|---|---|")
    for run in ("first", "rerun"):
        source = PyKotaSource(StoreSettings(backend="sqlite", name=str(src_db)))
        t = time.perf_counter()
        report = PyKotaImport(source, store, tz=UTC).run()
        dt = time.perf_counter() - t
        source.close()
        print(
            f"| {run} | {dt:.1f} | {filled.jobs / dt:,.0f} | {report.created['jobs']:,} "
            f"| {'yes' if not report.mismatches() else report.mismatches()} |"
        )
    store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MB; PageTally store {dst_db.stat().st_size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
