"""`pagetally-client`: run at login; notices, questions, the status view.

    pagetally-client run      stay connected: notices and questions (at login)
    pagetally-client status   print the status view and exit
    pagetally-client remind   pykosd's reminder: balance and quotas as a notice

Exit codes: 0 done, 1 the server refused the client (its token), 2 bad settings,
3 the server cannot be reached.
"""

from __future__ import annotations

import argparse
import queue
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, TextIO

from pagetally_client import __version__
from pagetally_client.desktop import Asker, Notifier, choose_notifier, desktop_asker
from pagetally_client.settings import Settings, SettingsError, load
from pagetally_client.view import notice_text, reminder_text, status_text
from pagetally_client.wire import Connection, Refused

RETRY_MAX = 60.0  # seconds between two reconnection attempts, at most


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pagetally-client", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=__version__)
    parser.add_argument("--server", help="the print server's notifier, HOST:PORT")
    parser.add_argument(
        "--token-file",
        help="file holding your token (else $PAGETALLY_TOKEN, else ~/.config/pagetally/token)",
    )
    tls = parser.add_mutually_exclusive_group()
    tls.add_argument("--tls", dest="tls", action="store_true", default=None)
    tls.add_argument("--no-tls", dest="tls", action="store_false")
    parser.add_argument("--cafile", help="CA certificate(s) to trust for the server")
    parser.add_argument(
        "--terminal",
        action="store_true",
        help="notices and questions in this terminal, not the desktop",
    )
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="stay connected (the default)")
    run.add_argument(
        "--remind", action="store_true", help="show the reminder (balance, quotas) once registered"
    )
    run.add_argument(
        "--once", action="store_true", help="do not reconnect: exit when the connection ends"
    )
    sub.add_parser("status", help="print the status view and exit")
    sub.add_parser("remind", help="show the reminder as a notice and exit")
    return parser


def run(argv: Sequence[str] | None = None) -> None:
    sys.exit(main(argv))


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    try:
        settings = load(args.server, args.token_file, args.tls, args.cafile)
    except SettingsError as e:
        print(f"pagetally-client: {e}", file=sys.stderr)
        return 2
    notifier = choose_notifier(args.terminal, out)
    command = args.command or "run"
    try:
        if command == "status":
            print(status_text(_status_once(settings)), file=out, flush=True)
            return 0
        if command == "remind":
            notifier.show(*reminder_text(_status_once(settings)))
            return 0
        asker = None if args.terminal else desktop_asker()
        return Session(settings, notifier, asker, out).run(
            remind=getattr(args, "remind", False), once=getattr(args, "once", False)
        )
    except Refused as e:
        print(f"pagetally-client: the server refused this client: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(
            f"pagetally-client: cannot reach {settings.host}:{settings.port}: {e}", file=sys.stderr
        )
        return 3


def _status_once(settings: Settings) -> dict[str, Any]:
    conn = Connection(settings)
    try:
        conn.send({"op": "status"})
        while (message := conn.receive()) is not None:
            if message.get("op") == "status":
                return message
            if message.get("op") == "error":
                raise Refused(str(message.get("message")))
        raise OSError("the server closed the connection")
    finally:
        conn.close()


class Session:
    """One login's run: connected, registered, reconnecting after a drop."""

    def __init__(
        self, settings: Settings, notifier: Notifier, asker: Asker | None, out: TextIO
    ) -> None:
        self.settings = settings
        self.notifier = notifier
        self.asker = asker
        self.out = out
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.pending: list[dict[str, Any]] = []  # questions the terminal answers, in order
        self.conn: Connection | None = None
        self.view_asked = False
        if asker is None:
            threading.Thread(target=self._read_stdin, daemon=True).start()

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def _read_stdin(self) -> None:
        for line in sys.stdin:
            self.events.put(("stdin", line.strip()))

    def _read_server(self, conn: Connection) -> None:
        try:
            while (message := conn.receive()) is not None:
                self.events.put(("server", message))
        except OSError:
            pass
        self.events.put(("closed", conn))

    def run(self, remind: bool = False, once: bool = False) -> int:
        delay = 1.0
        while True:
            try:
                conn = self.conn = Connection(self.settings)
            except OSError as e:
                if once:
                    raise
                self._say(f"pagetally-client: {e}; trying again in {delay:.0f} s")
                time.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
                continue
            delay = 1.0
            self._say(f"pagetally-client: registered as {conn.user} from {conn.host}")
            threading.Thread(target=self._read_server, args=(conn,), daemon=True).start()
            if remind:
                conn.send({"op": "status", "purpose": "remind"})
            self._loop(conn)
            if once:
                return 0

    def _loop(self, conn: Connection) -> None:
        while True:
            kind, value = self.events.get()
            if kind == "closed":
                if value is conn:
                    self._say("pagetally-client: the server closed the connection")
                    self.pending.clear()
                    return
            elif kind == "stdin":
                self._answer_from_terminal(conn, value)
            elif kind == "server":
                self._on_message(conn, value)

    def _on_message(self, conn: Connection, message: dict[str, Any]) -> None:
        op = message.get("op")
        if op == "notice":
            summary, body = notice_text(message)
            self.notifier.show(summary, body, urgent=message.get("kind") == "refused")
        elif op == "question":
            self._ask(conn, message)
        elif op == "withdrawn":
            self.pending = [q for q in self.pending if q.get("id") != message.get("id")]
        elif op == "status":
            if self.view_asked:  # typed `status`: the whole view, in the terminal
                self.view_asked = False
                self._say(status_text(message))
            else:  # the reminder at login (--remind)
                self.notifier.show(*reminder_text(message))
        elif op == "error":
            self._say(f"pagetally-client: the server says: {message.get('message')}")

    def _ask(self, conn: Connection, question: dict[str, Any]) -> None:
        text = str(question.get("text", ""))
        choices = [str(c) for c in question.get("choices", [])]
        timeout = float(question.get("timeout", 30))
        if self.asker is not None:
            asker = self.asker

            def ask() -> None:
                answer = asker(text, choices, timeout)
                if answer is not None:
                    conn.send({"op": "answer", "id": question.get("id"), "value": answer})

            threading.Thread(target=ask, daemon=True).start()
            return
        self.pending.append(question)
        hint = (
            "[y/n]"
            if choices == ["yes", "no"]
            else (f"[{', '.join(choices)}]" if choices else "(type it, then Enter)")
        )
        self._say(f"? {text} {hint} — {timeout:g} s to answer")

    def _answer_from_terminal(self, conn: Connection, line: str) -> None:
        if not self.pending:  # no question waits: `status` shows the status view
            if line.lower() == "status":
                self.view_asked = True
                conn.send({"op": "status"})
            return
        question = self.pending.pop(0)
        conn.send({"op": "answer", "id": question.get("id"), "value": line})
