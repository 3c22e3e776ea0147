"""`pagetally setup cups`: put PageTally in front of CUPS queues, or take it away."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pagetally.cli.env import Env, get_env
from pagetally.errors import InvalidInput

app = typer.Typer(help="Install PageTally into the print system.", no_args_is_help=True)


@app.command("cups")
def cups(
    queues: Annotated[list[str] | None, typer.Argument(help="CUPS queues to wrap.")] = None,
    all_queues: Annotated[bool, typer.Option("--all", help="Every CUPS queue.")] = False,
    undo: Annotated[bool, typer.Option("--undo", help="Restore the original URIs.")] = False,
    serverbin: Annotated[str, typer.Option(help="CUPS' ServerBin.")] = "/usr/lib/cups",
    no_backend: Annotated[
        bool, typer.Option("--no-backend", help="Do not (re)install the backend.")
    ] = False,
    replace_backend: Annotated[
        bool, typer.Option("--replace-backend", help="Replace an installed backend that "
                           "serves another configuration (or PyKota's cupspykota).")
    ] = False,
) -> None:
    """Install the backend and wrap QUEUES (device URI → pagetally:<URI>)."""
    from pagetally.config import config_path
    from pagetally.cups import setup

    env = get_env()
    if not queues and not all_queues:
        raise InvalidInput("name the queues to wrap, or --all")
    cfg = env.config()  # checks the file now: a broken config is not installed
    uris = setup.queue_uris(env.environ)
    names = list(uris) if all_queues else list(queues or [])
    missing = [q for q in names if q not in uris]
    if missing:  # checked before anything changes
        raise InvalidInput(f"no such CUPS queue: {', '.join(missing)}")
    if not undo:  # what this cupsd will do to jobs PageTally then sees
        cupsd_conf = setup.read_cupsd_conf(env.environ)
        for warning in (setup.crash_warning(setup.cupsd_version(), cupsd_conf),
                        setup.status_warning(cupsd_conf)):
            if warning:
                env.note(warning)
    if not undo and not no_backend:
        unsafe = setup.check_install(
            setup.install_paths(cfg.path, cfg.admin_path, cfg.get_str("directory")))
        if unsafe:
            raise setup.SetupError("; ".join(str(u) for u in unsafe))
        conf = config_path(env.config_path, env.environ)
        schemes = [setup.SCHEME] + ([setup.PYKOTA_SCHEME] if any(
            uris[q].startswith(setup.PYKOTA_SCHEME + ":") for q in names) else [])
        for scheme in schemes:  # all checked before any is written
            if not replace_backend:
                setup.check_replacing(Path(serverbin) / "backend" / scheme, conf)
        for scheme in schemes:
            path = setup.install_backend(serverbin, conf, name=scheme, replace=True)
            env.note(f"backend installed: {path} (mode 0700, runs {cfg.path})")
    for change in setup.setup_queues(names, undo=undo, env=env.environ):
        state = "changed" if change.changed else "unchanged"
        print(f"{change.queue}: {change.old_uri} -> {change.new_uri} ({state})", file=env.out)
    if not undo:
        _add_printers(env, names)


def _add_printers(env: Env, queues: list[str]) -> None:
    """The wrapped queues become printers in the store (the first job would else
    be refused as an unknown printer); creates the SQLite store if missing."""
    from pagetally.core.models import Printer

    settings = env.config().store_settings()
    missing = settings.backend == "sqlite" and not Path(settings.name).expanduser().exists()
    with env.store(write=True, create=True) as store:
        if missing:
            store.upgrade()
        known = {p.name for p in store.find_printers(queues)}
        for queue in queues:
            if queue not in known:
                store.add_printer(Printer(queue))
                env.note(f"{queue}: added to the store as a printer")
