"""Showing a notice and asking a question, per platform.

- Linux with a session bus: org.freedesktop.Notifications.Notify over D-Bus
  (jeepney, pure Python); questions through zenity or kdialog when installed.
- macOS: `osascript` (display notification / display dialog).
- Windows: a message box (user32.MessageBoxW) for questions; notices in the
  terminal (a toast needs an AppUserModelID, which a pipx install has not).
- Otherwise, or with --terminal: the terminal (notices printed, questions read
  from standard input).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from typing import Any, TextIO

APP_NAME = "pagetally-client"
NOTIFY_TIMEOUT = 5.0


def session_bus_address(environ: dict[str, str] | None = None) -> str | None:
    """The session bus's address, when there is one (else None: terminal mode)."""
    env = os.environ if environ is None else environ
    address = env.get("DBUS_SESSION_BUS_ADDRESS")
    if address:
        return address
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime and os.path.exists(os.path.join(runtime, "bus")):
        return f"unix:path={os.path.join(runtime, 'bus')}"
    return None


class Terminal:
    """Notices as lines on standard output; questions answered on standard input."""

    name = "terminal"

    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def show(self, summary: str, body: str, urgent: bool = False) -> None:
        mark = "!" if urgent else "*"
        text = f"{mark} {summary}" + (f": {body}" if body else "")
        print(text.replace("\n", " | "), file=self.out, flush=True)


class Freedesktop:
    """org.freedesktop.Notifications on the session bus (any desktop, or a test's)."""

    name = "freedesktop"

    def __init__(self, address: str, fallback: Terminal) -> None:
        self.address = address
        self.fallback = fallback

    def show(self, summary: str, body: str, urgent: bool = False) -> None:
        try:
            notify_dbus(self.address, summary, body, urgent)
        except Exception as e:  # no notification server, bus gone: say it in the terminal
            self.fallback.show(summary, body, urgent)
            print(
                f"  (desktop notification failed: {type(e).__name__}: {e})",
                file=self.fallback.out,
                flush=True,
            )


_markup: dict[str, bool] = {}  # bus address -> the server reads markup in bodies


def notify_dbus(address: str, summary: str, body: str, urgent: bool = False) -> int:
    """Notify(app_name, replaces_id, app_icon, summary, body, actions, hints,
    expire_timeout) as the Desktop Notifications Specification says; the id.
    A server that reads markup in bodies (capability `body-markup`) gets the
    body escaped: a job's title is the user's text, not markup."""
    import html

    from jeepney import DBusAddress, new_method_call
    from jeepney.io.blocking import open_dbus_connection

    target = DBusAddress(
        "/org/freedesktop/Notifications",
        bus_name="org.freedesktop.Notifications",
        interface="org.freedesktop.Notifications",
    )
    hints = {"urgency": ("y", 2 if urgent else 1)}
    with open_dbus_connection(bus=address) as conn:
        if address not in _markup:
            caps = conn.send_and_get_reply(
                new_method_call(target, "GetCapabilities"), timeout=NOTIFY_TIMEOUT
            )
            _check(caps)
            _markup[address] = "body-markup" in caps.body[0]
        if _markup[address]:
            body = html.escape(body, quote=False)
        message = new_method_call(
            target,
            "Notify",
            "susssasa{sv}i",
            (APP_NAME, 0, "printer", summary, body, [], hints, -1),
        )
        reply = conn.send_and_get_reply(message, timeout=NOTIFY_TIMEOUT)
    _check(reply)
    return int(reply.body[0])


def _check(reply: Any) -> None:
    from jeepney import MessageType

    if reply.header.message_type is MessageType.error:
        raise RuntimeError(f"{reply.header.fields.get(4, 'error')}: {reply.body}")


class MacOS:
    name = "macos"

    def __init__(self, fallback: Terminal) -> None:
        self.fallback = fallback

    def show(self, summary: str, body: str, urgent: bool = False) -> None:
        script = f"display notification {_applescript(body)} with title {_applescript(summary)}"
        if (
            subprocess.run(["osascript", "-e", script], check=False, capture_output=True).returncode
            != 0
        ):
            self.fallback.show(summary, body, urgent)


def _applescript(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


Notifier = Terminal | Freedesktop | MacOS


def choose_notifier(terminal: bool, out: TextIO | None = None) -> Notifier:
    fallback = Terminal(out)
    if terminal:
        return fallback
    if sys.platform == "darwin":
        return MacOS(fallback)
    if sys.platform.startswith("linux"):
        address = session_bus_address()
        if address is not None:
            return Freedesktop(address, fallback)
    return fallback


# --- questions ------------------------------------------------------------------
#: (question text, choices, timeout) -> the answer, or None (no answer)
Asker = Callable[[str, list[str], float], "str | None"]


def desktop_asker() -> Asker | None:
    """A graphical way to ask on this machine, or None (then the terminal asks)."""
    if sys.platform == "darwin":
        return _ask_osascript
    if sys.platform == "win32":
        return _ask_messagebox
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        for tool in ("zenity", "kdialog"):
            if shutil.which(tool):
                return lambda text, choices, timeout, tool=tool: _ask_tool(  # type: ignore[misc]
                    tool, text, choices, timeout
                )
    return None


def _ask_tool(tool: str, text: str, choices: list[str], timeout: float) -> str | None:
    secs = str(max(int(timeout) - 1, 1))
    if choices == ["yes", "no"]:
        argv = (
            [tool, "--question", "--no-markup", "--text", text, "--timeout", secs]
            if tool == "zenity"
            else [tool, "--yesno", text]
        )
    elif choices:
        argv = (
            [
                tool,
                "--list",
                "--no-markup",
                "--text",
                text,
                "--column",
                "code",
                *choices,
                "--timeout",
                secs,
            ]
            if tool == "zenity"
            else [tool, "--combobox", text, *choices]
        )
    else:
        argv = (
            [tool, "--entry", "--hide-text", "--no-markup", "--text", text, "--timeout", secs]
            if tool == "zenity"
            else [tool, "--password", text]
        )
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None
    if choices == ["yes", "no"]:
        return {0: "yes", 1: "no"}.get(done.returncode)
    return done.stdout.strip() if done.returncode == 0 else None


def _ask_osascript(text: str, choices: list[str], timeout: float) -> str | None:
    if choices == ["yes", "no"]:
        script = (
            f'display dialog {_applescript(text)} buttons {{"No", "Yes"}} '
            f'default button "Yes" giving up after {int(timeout)}'
        )
    else:
        script = (
            f'text returned of (display dialog {_applescript(text)} default answer "" '
            f"{'with hidden answer ' if not choices else ''}giving up after {int(timeout)})"
        )
    try:
        done = subprocess.run(
            ["osascript", "-e", script],
            capture_output=True,
            text=True,
            timeout=timeout + 1,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    out = done.stdout.strip()
    if choices == ["yes", "no"]:
        return "yes" if "Yes" in out else ("no" if "No" in out else None)
    return out or None


def _ask_messagebox(text: str, choices: list[str], timeout: float) -> str | None:
    if choices != ["yes", "no"]:
        return None  # free text needs a window of our own: the terminal asks
    import ctypes

    yes_no, idyes = 0x04, 6
    user32 = ctypes.windll.user32  # type: ignore[attr-defined]
    result = user32.MessageBoxW(None, text, "PageTally", yes_no)
    return "yes" if result == idyes else "no"
