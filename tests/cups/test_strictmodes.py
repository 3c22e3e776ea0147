"""StrictModes for what the root backend trusts: pure checks over given owners and
modes (no root needed), and the real install folder of this checkout."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pagetally.cups.strictmodes import check_install, install_paths, unsafe_path, unsafe_tree

ROOT = frozenset({0})


def fake(table: dict[str, tuple[int, int]]):  # type: ignore[no-untyped-def]
    """An lstat over {path: (uid, mode)}; other paths are root-owned 0755 folders."""

    def lstat(path: str) -> os.stat_result:
        uid, mode = table.get(path, (0, stat.S_IFDIR | 0o755))
        return os.stat_result((mode, 0, 0, 1, uid, 0, 0, 0, 0, 0))

    return lstat


def test_each_component_is_checked() -> None:
    f = stat.S_IFREG
    ok = fake({"/opt/pt/site/pagetally": (0, stat.S_IFDIR | 0o755)})
    assert unsafe_path("install", "/opt/pt/site/pagetally", ROOT, ok) is None
    venv = fake({"/home/ann/venv": (1000, stat.S_IFDIR | 0o755)})
    found = unsafe_path("install", "/home/ann/venv/lib/pagetally", ROOT, venv)
    assert found is not None and found.path == "/home/ann/venv" and "uid 1000" in found.reason
    group = fake({"/etc/pagetally": (0, stat.S_IFDIR | 0o775)})
    found = unsafe_path("the configuration", "/etc/pagetally/pagetally.conf", ROOT, group)
    assert found is not None and "writable by its group (mode 0775)" in str(found)
    assert "chown root /etc/pagetally" in str(found) and "chmod go-w" in str(found)
    world = fake({"/etc/pagetally/pagetally.conf": (0, f | 0o666)})
    assert "its group and others" in str(
        unsafe_path("c", "/etc/pagetally/pagetally.conf", ROOT, world)
    )
    sticky = fake({"/tmp": (0, stat.S_IFDIR | 0o1777), "/tmp/x": (0, stat.S_IFDIR | 0o700)})
    assert unsafe_path("spool", "/tmp/x/spool", ROOT, sticky) is None
    theirs = fake({"/tmp": (0, stat.S_IFDIR | 0o1777), "/tmp/x": (1000, stat.S_IFDIR | 0o700)})
    assert unsafe_path("spool", "/tmp/x/spool", ROOT, theirs) is not None


def test_a_writable_file_inside_the_package_is_found(tmp_path: Path) -> None:
    pkg = tmp_path / "pagetally"
    (pkg / "cli").mkdir(parents=True)
    (pkg / "cli" / "main.py").write_text("")
    (pkg / "cli" / "main.py").chmod(0o646)
    found = unsafe_tree("install", pkg, frozenset({0, os.geteuid()}))
    assert found is not None and found.path.endswith("cli/main.py")


def test_this_checkout_passes() -> None:
    spool = "/nonexistent-spool"
    assert check_install(install_paths(__file__, None, spool)) == []


def test_pykota_device_uris_are_ours() -> None:
    from pagetally.cups.setup import unwrapped, wrapped
    from pagetally.cups.ticket import strip_prefix

    for uri in (
        "cupspykota://ipp://h:631/ipp/print",
        "cupspykota:ipp://h:631/ipp/print",
        "pagetally:ipp://h:631/ipp/print",
    ):
        assert strip_prefix(uri) == "ipp://h:631/ipp/print"
        assert wrapped(uri) == uri and unwrapped(uri) == "ipp://h:631/ipp/print"
