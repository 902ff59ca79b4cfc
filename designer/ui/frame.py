"""The shared page frame: a header with the app's name and navigation, then the page's content."""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from nicegui import Client, ui

from designer.ui.preload import preload
from designer.ui.signin_state import login_required, sign_out, signed_in

APP_NAME = "FlexML Designer"
NAV = (
    ("Flows", "/", "account_tree"),
    ("Numbers", "/numbers", "dialpad"),
    ("Calls", "/calls", "call"),
    ("Voicemail", "/voicemail", "voicemail"),
    ("Settings", "/settings", "settings"),
)
BADGE_SECONDS = 5.0  # how often an open page looks for new voicemails

log = logging.getLogger("flexml.designer")
_new_voicemails: Callable[[], int] | None = None  # set by the app: how many voicemails are new
_badges: "weakref.WeakKeyDictionary[Client, Callable[[], None]]" = weakref.WeakKeyDictionary()


def count_new_voicemails_with(counter: Callable[[], int] | None) -> None:
    """Where the navigation's voicemail badge gets its number (``designer.app.build`` sets it)."""
    global _new_voicemails
    _new_voicemails = counter


def refresh_badge() -> None:
    """Show the current number of new voicemails in this page's navigation now (after marking one heard)."""
    update = _badges.get(ui.context.client)
    if update is not None:
        update()


def _voicemail_badge() -> None:
    badge = ui.badge("").props("color=negative rounded").classes("ml-0.5").mark("voicemail-badge")

    def update() -> None:
        try:
            count = _new_voicemails() if _new_voicemails is not None else 0
        except Exception:  # noqa: BLE001 - a store that cannot be read hides the badge; the page still works
            log.exception("cannot count new voicemails")
            count = 0
        badge.text = str(count) if count < 100 else "99+"
        badge.props(f'aria-label="{count} new voicemail{"s" if count != 1 else ""}"')
        badge.set_visibility(count > 0)

    update()
    _badges[ui.context.client] = update
    ui.timer(BADGE_SECONDS, update)
COLORS = {"primary": "#3056d3", "secondary": "#64748b", "accent": "#0ea5e9", "positive": "#16a34a",
          "negative": "#dc2626", "warning": "#d97706"}


def header(active: str = "") -> None:
    preload(fonts=True)  # the fonts every page draws with, asked for before the scripts have run
    ui.colors(**COLORS)
    with ui.header().classes("items-center gap-2 px-4 py-2 bg-white text-slate-800 border-b border-slate-200"):
        with ui.link(target="/").classes("flex items-center gap-2 no-underline text-slate-900 mr-4"):
            ui.icon("phone_in_talk", size="26px").classes("text-primary")
            ui.label(APP_NAME).classes("text-lg font-semibold tracking-tight")
        for label, target, icon in NAV:
            selected = label == active
            with ui.link(target=target).classes(
                    "flex items-center gap-1 px-3 py-1 rounded-md no-underline text-sm "
                    + ("bg-blue-50 text-primary font-medium" if selected else "text-slate-600 hover:bg-slate-100")
            ).props(f'aria-current="{"page" if selected else "false"}"').mark(f"nav-{label.lower()}"):
                ui.icon(icon, size="18px")
                ui.label(label)
                if label == "Voicemail":
                    _voicemail_badge()
        ui.space()
        if login_required() and signed_in():
            ui.button("Sign out", icon="logout", on_click=sign_out).props("flat dense no-caps color=secondary")


@contextmanager
def frame(title: str, active: str = "", *, wide: bool = False) -> Iterator[ui.column]:
    """Header and a centred content column; ``wide`` for full-width pages like the editor."""
    ui.page_title(f"{title} · {APP_NAME}")
    header(active)
    width = "w-full px-4" if wide else "w-full max-w-6xl mx-auto px-6"
    with ui.column().classes(f"{width} py-6 gap-5") as content:
        yield content


def card_heading(icon: str, title: str) -> None:
    """A settings card's title line: an icon and the title."""
    with ui.row().classes("items-center gap-2"):
        ui.icon(icon, size="22px").classes("text-primary")
        ui.label(title).classes("font-medium")


def page_heading(title: str, subtitle: str = "") -> ui.row:
    """A page's title line; returns the row so a page can add buttons at its right."""
    with ui.row().classes("w-full items-end gap-4") as row:
        with ui.column().classes("gap-0"):
            ui.label(title).classes("text-2xl font-semibold text-slate-900")
            if subtitle:
                ui.label(subtitle).classes("text-sm text-slate-500")
        ui.space()
    return row


def empty_state(icon: str, title: str, text: str) -> ui.column:
    with ui.column().classes("w-full items-center text-center gap-2 py-10 rounded-xl border border-dashed "
                             "border-slate-300 bg-slate-50") as box:
        ui.icon(icon, size="44px").classes("text-slate-400")
        ui.label(title).classes("text-lg font-medium text-slate-700")
        ui.label(text).classes("text-sm text-slate-500 max-w-xl")
    return box


def ago(ts: float | None, now: float | None = None) -> str:
    """'just now', '5 minutes ago', '3 hours ago', else the date."""
    if not ts:
        return "—"
    seconds = max(0, (now or time.time()) - ts)
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        n = int(seconds // 60)
        return f"{n} minute{'s' if n != 1 else ''} ago"
    if seconds < 86400:
        n = int(seconds // 3600)
        return f"{n} hour{'s' if n != 1 else ''} ago"
    return time.strftime("%d %b %Y", time.localtime(ts))


def clock(ts: float | None) -> str:
    return time.strftime("%d %b %H:%M:%S", time.localtime(ts)) if ts else "—"


def sentence(text: str) -> str:
    """A message with its first letter upper-cased (unlike str.capitalize, the rest is kept)."""
    return text[:1].upper() + text[1:]


class FormError:
    """A red message line under a form row; the inputs it concerns turn red until it is cleared."""

    def __init__(self, marker: str = ""):
        self.label = ui.label("").classes("text-sm text-negative -mt-1")
        if marker:
            self.label.mark(marker)
        self.label.set_visibility(False)
        self.fields: list[ui.element] = []

    def show(self, message: str, *fields: ui.element) -> None:
        self.clear()
        self.label.text = sentence(message)
        self.label.set_visibility(True)
        self.fields = list(fields)
        for field in self.fields:
            field.props("error hide-bottom-space")

    def clear(self) -> None:
        self.label.text = ""
        self.label.set_visibility(False)
        for field in self.fields:
            field.props(remove="error")
        self.fields = []
