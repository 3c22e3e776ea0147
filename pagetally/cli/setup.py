"""`pagetally setup cups`: put PageTally in front of CUPS queues, or take it away;
`pagetally setup site`: a whole site at once, as PyKota's pkturnkey/pksetup
(configuration, store, printers from CUPS' queues, users and groups through the
directory sync, the queues wrapped, and a script replaying it all elsewhere)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pagetally.cli.env import Env, get_env
from pagetally.cli.setup_site import Answers
from pagetally.core.models import PriceTable
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
        bool,
        typer.Option(
            "--replace-backend",
            help="Replace an installed backend that "
            "serves another configuration (or PyKota's cupspykota).",
        ),
    ] = False,
) -> None:
    """Install the backend and wrap QUEUES (device URI → pagetally:<URI>)."""
    from pagetally.cups import setup

    env = get_env()
    if not queues and not all_queues:
        raise InvalidInput("name the queues to wrap, or --all")
    env.config()  # checks the file now: a broken config is not installed
    uris = setup.queue_uris(env.environ)
    names = list(uris) if all_queues else list(queues or [])
    if undo:
        _check_queues(names, uris)
        for change in setup.setup_queues(names, undo=True, env=env.environ):
            state = "changed" if change.changed else "unchanged"
            print(f"{change.queue}: {change.old_uri} -> {change.new_uri} ({state})", file=env.out)
        return
    wrap_queues(
        env,
        names,
        uris,
        serverbin=serverbin,
        no_backend=no_backend,
        replace_backend=replace_backend,
    )
    _add_printers(env, names)


def _check_queues(names: list[str], uris: dict[str, str]) -> None:
    missing = [q for q in names if q not in uris]
    if missing:  # checked before anything changes
        raise InvalidInput(f"no such CUPS queue: {', '.join(missing)}")


def wrap_queues(
    env: Env,
    names: list[str],
    uris: dict[str, str],
    *,
    serverbin: str,
    no_backend: bool = False,
    replace_backend: bool = False,
) -> int:
    """Install the backend (unless it is already the same script) and wrap
    `names`; returns how many things changed (0: all was in place)."""
    from pagetally.config import config_path
    from pagetally.cups import setup

    cfg = env.config()
    _check_queues(names, uris)
    cupsd_conf = setup.read_cupsd_conf(env.environ)
    for warning in (
        setup.crash_warning(setup.cupsd_version(), cupsd_conf),
        setup.status_warning(cupsd_conf),
    ):
        if warning:
            env.note(warning)
    changes = 0
    if not no_backend:
        unsafe = setup.check_install(
            setup.install_paths(cfg.path, cfg.admin_path, cfg.get_str("directory"))
        )
        if unsafe:
            raise setup.SetupError("; ".join(str(u) for u in unsafe))
        conf = config_path(env.config_path, env.environ)
        schemes = [setup.SCHEME] + (
            [setup.PYKOTA_SCHEME]
            if any(uris[q].startswith(setup.PYKOTA_SCHEME + ":") for q in names)
            else []
        )
        schemes = [s for s in schemes if not setup.backend_is_current(serverbin, conf, name=s)]
        for scheme in schemes:  # all checked before any is written
            if not replace_backend:
                setup.check_replacing(Path(serverbin) / "backend" / scheme, conf)
        for scheme in schemes:
            path = setup.install_backend(serverbin, conf, name=scheme, replace=True)
            env.note(f"backend installed: {path} (mode 0700, runs {cfg.path})")
            changes += 1
    for change in setup.setup_queues(names, env=env.environ):
        state = "changed" if change.changed else "unchanged"
        print(f"{change.queue}: {change.old_uri} -> {change.new_uri} ({state})", file=env.out)
        changes += change.changed
    return changes


def _add_printers(env: Env, queues: list[str], prices: PriceTable | None = None) -> int:
    """The wrapped queues become printers in the store (the first job would else
    be refused as an unknown printer); creates the SQLite store if missing.
    Returns how many printers were added (existing ones are left as they are)."""
    from pagetally.core.models import Printer

    settings = env.config().store_settings()
    missing = settings.backend == "sqlite" and not Path(settings.name).expanduser().exists()
    with env.store(write=True, create=True) as store:
        if missing:
            store.upgrade()
        known = {p.name for p in store.find_printers(queues)}
        for queue in queues:
            if queue not in known:
                store.add_printer(Printer(queue, prices=prices or PriceTable()))
                env.note(f"{queue}: added to the store as a printer")
    return sum(1 for q in queues if q not in known)


SITE_STEPS = "configuration, store, printers, users and groups, queues"


@app.command("site")
def site(
    queues: Annotated[
        list[str] | None,
        typer.Argument(help="CUPS queues to manage (default: all, or the answers' `queues`)."),
    ] = None,
    unattended: Annotated[
        bool,
        typer.Option(
            "--unattended",
            "-y",
            help="Ask nothing: flags, the answers file and the configuration decide.",
        ),
    ] = False,
    answers_file: Annotated[
        Path | None,
        typer.Option(
            "--answers",
            "-a",
            help="Answers, `key: value` a line: setup's keys or any "
            "pagetally.conf directive (see docs/cli.md).",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", "-s", metavar="KEY=VALUE", help="One answer (repeatable)."),
    ] = None,
    uid_min: Annotated[
        int | None,
        typer.Option("--uidmin", "-u", help="Lowest uid to import (pkturnkey -u).", min=0),
    ] = None,
    uid_max: Annotated[
        int | None,
        typer.Option("--uidmax", "-U", help="Highest uid to import (pkturnkey -U).", min=0),
    ] = None,
    passwd: Annotated[
        Path | None,
        typer.Option(help="Import users from this passwd file instead of the system's."),
    ] = None,
    group: Annotated[
        Path | None, typer.Option(help="Import groups from this group file (with --passwd).")
    ] = None,
    serverbin: Annotated[str | None, typer.Option(help="CUPS' ServerBin.")] = None,
    script: Annotated[
        Path | None,
        typer.Option(
            "--script",
            help="Where to write the replay script (default: "
            "setup-replay.sh beside the configuration).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", "-n", help="Say what would be done (pkturnkey without -f).")
    ] = False,
) -> None:
    """Set up a whole site (PyKota's pkturnkey/pksetup); run twice, changes nothing.

    Writes the answers into the configuration (created 0644 if missing, secrets
    into the 0600 admin file), creates or upgrades the store, adds CUPS' queues as
    printers (new ones with priceperpage/priceperjob), imports users and groups as
    `pagetally sync` does (sync* answers), wraps the queues as `setup cups`, and
    writes a shell script that replays the same set-up on another server.
    """
    from pagetally.cli.setup_site import read_answers

    env = get_env()
    answers = Answers()
    if answers_file is not None:
        read_answers(answers_file, answers)
    for item in set_ or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise InvalidInput(f"--set {item!r}: expected KEY=VALUE")
        answers.put(key.strip().lower(), value.strip())
    given: dict[str, object] = {
        "syncuidmin": uid_min,
        "syncuidmax": uid_max,
        "passwd": passwd,
        "group": group,
        "serverbin": serverbin,
    }
    for name, given_value in given.items():
        if given_value is not None:
            answers.put(name, str(given_value))
    if queues:
        answers.put("queues", ",".join(queues))
    if not unattended:
        _ask(env, answers)
    _run_site(env, answers, script, dry_run, _replay_argv(answers))


def _current(env: Env, key: str) -> str:
    """The value a question proposes: the configuration's, else the default."""
    from pagetally.cli.setup_site import SETUP_KEYS
    from pagetally.config import DIRECTIVES, config_path

    if key in SETUP_KEYS:
        return {"queues": "*", "wrap": "yes", "priceperpage": "0", "priceperjob": "0"}.get(key, "")
    if config_path(env.config_path, env.environ).exists():
        value = env.config().get(key)
        return "" if value is None else str(value)
    default = DIRECTIVES[key].default
    return "" if default is None else default


def _ask(env: Env, answers: Answers) -> None:
    """The questions not answered yet, each proposing the current value."""
    from pagetally.cli.setup_site import QUESTIONS

    for key, question in QUESTIONS:
        if answers.has(key):
            continue
        value = typer.prompt(question, default=_current(env, key), show_default=True, err=True)
        if str(value).strip():  # empty: keep what the configuration says
            answers.put(key, str(value).strip())


def _replay_argv(answers: Answers) -> list[str]:
    """`setup site --unattended` with every answer given as --set."""
    argv = ["setup", "site", "--unattended"]
    for key, value in {**answers.directives, **answers.setup}.items():
        argv += ["--set", f"{key}={value}"]
    return argv


def _run_site(
    env: Env, answers: Answers, script: Path | None, dry_run: bool, argv: list[str]
) -> None:
    """The steps, in order, everything checked before anything is written; each
    says what it changed; the total says whether anything did."""
    from pagetally.cups import setup

    uris = setup.queue_uris(env.environ)
    names = answers.queues() or sorted(uris)
    _check_queues(names, uris)
    prices = PriceTable(
        per_page=answers.price("priceperpage"), per_job=answers.price("priceperjob")
    )
    do_users, do_wrap = answers.flag("users"), answers.flag("wrap")
    changes = _write_configs(env, answers, dry_run)  # 1. the configuration
    if dry_run:
        print(
            f"queues: {', '.join(names) or 'none'}{'' if do_wrap else ' (not wrapped)'}",
            file=env.out,
        )
        print(
            "users and groups: `pagetally sync --dry-run` shows them once the "
            "configuration is written",
            file=env.out,
        )
        return
    changes += _ensure_store(env)  # 2. the store
    added = _add_printers(env, names, prices)  # 3. printers from CUPS' queues
    if added:
        print(f"printers: added {added}", file=env.out)
        changes += added
    if do_users:  # 4. users and groups, through the sync
        changes += _import_accounts(env, answers)
    if do_wrap:  # 5. the queues
        changes += wrap_queues(
            env, names, uris, serverbin=answers.setup.get("serverbin", "/usr/lib/cups")
        )
    _write_replay(env, script, {q: setup.unwrapped(uris[q]) for q in names}, argv)  # 6.
    print(
        f"setup: {changes} change(s)"
        if changes
        else f"setup: nothing to change ({SITE_STEPS} in place)",
        file=env.out,
    )


def _write_configs(env: Env, answers: Answers, dry_run: bool) -> int:
    """The answers that are directives into pagetally.conf's [global] (0644),
    secrets into the admin file (0600); the configuration read again."""
    from pagetally.cli.setup_site import update_ini, write_if_changed
    from pagetally.config import ADMIN_FILE_NAME, DIRECTIVES, config_path

    conf = config_path(env.config_path, env.environ)
    public = {k: v for k, v in answers.directives.items() if not DIRECTIVES[k].admin_only}
    secret = {k: v for k, v in answers.directives.items() if DIRECTIVES[k].admin_only}
    text, changed = update_ini(conf.read_text() if conf.exists() else "", public)
    admin = conf.parent / ADMIN_FILE_NAME
    if dry_run:
        if changed or not conf.exists():
            print(
                f"configuration: would set {', '.join(changed) or 'its [global] section'} "
                f"in {conf}",
                file=env.out,
            )
        return 0
    changes = 0
    if write_if_changed(conf, text, 0o644):
        print(f"configuration: {conf}: {', '.join(changed) or 'created'}", file=env.out)
        changes += 1
    if secret:
        admin_text, admin_changed = update_ini(admin.read_text() if admin.exists() else "", secret)
        if write_if_changed(admin, admin_text, 0o600):
            print(f"configuration: {admin}: {', '.join(admin_changed)}", file=env.out)
            changes += 1
    env.reload_config()
    return changes


def _ensure_store(env: Env) -> int:
    """Create (SQLite) or upgrade the store; 1 when it was created."""
    settings = env.config().store_settings()
    created = settings.backend == "sqlite" and not Path(settings.name).expanduser().exists()
    with env.store(write=True, create=True) as store:
        store.upgrade()  # a no-op when up to date
    if created:
        print(f"store: created {settings.name}", file=env.out)
    return int(created)


def _import_accounts(env: Env, answers: Answers) -> int:
    """Users and groups as `pagetally sync` imports them (no one disabled here)."""
    from pagetally.cli.sync import SyncOptions, report, sync_directory

    opts = SyncOptions(
        passwd=_path(answers.setup.get("passwd")),
        group=_path(answers.setup.get("group")),
        disable=False,
        allow_empty=True,
    )
    with env.store(write=True) as store:
        result = sync_directory(env, store, opts)
        report(env, result, quiet=True, dry_run=False)
    return result.plan.changes


def _write_replay(env: Env, script: Path | None, queues: dict[str, str], argv: list[str]) -> None:
    import socket

    from pagetally.cli.setup_site import replay_script, write_if_changed
    from pagetally.config import config_path

    conf = config_path(env.config_path, env.environ)
    target = script or conf.parent / "setup-replay.sh"
    body = replay_script(
        config=conf,
        config_text=conf.read_text(),
        queues=queues,
        argv=argv,
        host=socket.gethostname(),
    )
    if write_if_changed(target, body, 0o700):
        print(f"replay script: {target}", file=env.out)


def _path(text: str | None) -> Path | None:
    return Path(text) if text else None
