"""The settings page (``/settings``): the public URL the carrier uses, the password, how long calls are kept,
the carrier account."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nicegui import ui

from designer import services
from designer.context import AppContext
from designer.services import ServiceError
from designer.ui import auth
from designer.ui.frame import FormError, card_heading, frame, page_heading
from designer.ui import carrier_ui


def register(ctx: AppContext) -> None:
    @ui.page("/settings")
    def settings_page() -> None:
        with frame("Settings", "Settings"):
            page_heading("Settings")
            account_url = public_url_card(ctx)
            carrier_trust_card(ctx, account_url.refresh)
            phone_country_card(ctx)
            password_card(ctx)
            call_history_card(ctx)
            carrier_ui.carrier_settings_card(ctx)


def public_url_card(ctx: AppContext) -> ui.refreshable:
    """The public address; returns the line showing the account URL, to refresh when the token changes."""
    with ui.card().classes("w-full p-4 gap-3").props("flat bordered"):
        card_heading("public", "Public address")
        ui.label("Where the carrier reaches this designer's host. It is used in the URLs shown when you publish "
                 "(for example https://ivr.example.com).").classes("text-sm text-slate-500")
        with ui.row().classes("w-full items-start gap-3"):
            url = ui.input("Public URL", value=services.public_url(ctx)).props("outlined dense") \
                .classes("w-96").mark("public-url")

            def save() -> None:
                url_error.clear()
                try:
                    saved = services.set_public_url(ctx, url.value or "")
                except ServiceError as exc:
                    url_error.show(str(exc), url)
                    return
                url.value = saved
                account_url_line.refresh()
                ui.notify("Public address saved", type="positive")

            url.on("keydown.enter", save)
            ui.button("Save", on_click=save).props("unelevated no-caps").classes("mt-0.5").mark("save-url")
        url_error = FormError("url-error")

        @ui.refreshable
        def account_url_line() -> None:  # with the token when it is required
            ui.label(f"Carrier account URL: {services.carrier_urls(ctx, '')['account']}") \
                .classes("text-xs text-slate-500 font-mono break-all").mark("account-url")

        account_url_line()
    return account_url_line


def carrier_trust_card(ctx: AppContext, urls_changed: Callable[[], None] = lambda: None) -> None:
    """Who may write the call list and the voicemail inbox: the secret token, the recording hosts allowed;
    ``urls_changed`` is called when the carrier URLs change."""
    with ui.card().classes("w-full p-4 gap-3").props("flat bordered").mark("carrier-trust"):
        card_heading("verified_user", "Only the carrier writes calls and voicemail")
        ui.label("The host's addresses are public. With a secret token in every carrier URL, requests without "
                 "it are still answered, but are not recorded as calls, statuses or messages. Turning it on "
                 "changes the URLs to give the carrier: bind your numbers again (Numbers, or a flow's "
                 "Publish tab).").classes("text-sm text-slate-500")

        @ui.refreshable
        def token_area() -> None:
            trust = services.carrier_trust(ctx)

            def switch(e) -> None:
                services.set_token_required(ctx, bool(e.value))
                ui.notify("Carrier URLs now carry a secret token" if e.value else
                          "Carrier URLs no longer need a token", type="positive")
                token_area.refresh()
                urls_changed()

            def renew() -> None:
                services.new_carrier_token(ctx)
                ui.notify("New token: give the carrier the new URLs", type="warning")
                token_area.refresh()
                urls_changed()

            with ui.row().classes("items-center gap-3"):
                ui.switch("Require a secret token in carrier URLs", value=trust.required, on_change=switch)                     .mark("require-token")
                if trust.required:
                    ui.button("New token", icon="autorenew", on_click=renew).props("flat dense no-caps")                         .mark("new-token")
            if trust.required:
                ui.label(f"Carrier account URL: {services.carrier_urls(ctx, '')['account']}")                     .classes("text-xs text-slate-500 font-mono break-all").mark("token-url")

        token_area()
        ui.label("A recording is kept as a voicemail only when its URL is on one of these hosts (or their "
                 "subdomains); others are answered but not kept.").classes("text-sm text-slate-500")
        with ui.row().classes("w-full items-start gap-3"):
            hosts = ui.input("Recording hosts allowed",
                             value=", ".join(services.carrier_trust(ctx).recording_hosts))                 .props("outlined dense").classes("w-96").mark("recording-hosts")

            def save_hosts() -> None:
                hosts_error.clear()
                try:
                    trust = services.set_recording_hosts(ctx, hosts.value or "")
                except ServiceError as exc:
                    hosts_error.show(str(exc), hosts)
                    return
                hosts.value = ", ".join(trust.recording_hosts)
                ui.notify("Recording hosts saved", type="positive")

            hosts.on("keydown.enter", save_hosts)
            ui.button("Save", on_click=save_hosts).props("unelevated no-caps").classes("mt-0.5") \
                .mark("save-recording-hosts")
        hosts_error = FormError("recording-hosts-error")


def phone_country_card(ctx: AppContext) -> None:
    """The default country: how a phone number typed without its country code is read."""
    with ui.card().classes("w-full p-4 gap-3").props("flat bordered"):
        card_heading("flag", "Phone numbers")
        ui.label("Numbers typed without a country code, like (516) 206-5340, are read as numbers of this "
                 "country and stored with it (+1 516 206 5340).").classes("text-sm text-slate-500")

        def save(e: Any) -> None:
            try:
                services.set_default_region(ctx, e.value or "")
            except ServiceError as exc:
                ui.notify(str(exc), type="negative")
                return
            ui.notify(f"Default country: {e.value}", type="positive")

        ui.select(services.phone_regions(), label="Default country", value=services.default_region(ctx),
                  with_input=True, on_change=save).props("outlined dense").classes("w-64").mark("default-region")


def call_history_card(ctx: AppContext) -> None:
    """How long call events (the Calls page, each call's steps) are kept."""
    with ui.card().classes("w-full p-4 gap-3").props("flat bordered"):
        card_heading("history", "Call history")
        ui.label("Calls older than this are deleted from the Calls page, with the steps each caller took, a little "
                 "at a time in the background. Voicemail messages are not deleted by it.") \
            .classes("text-sm text-slate-500")
        with ui.row().classes("w-full items-start gap-3"):
            days = ui.number("Keep calls for (days)", value=services.call_retention_days(ctx),
                             min=services.RETENTION_MIN_DAYS, max=services.RETENTION_MAX_DAYS, step=1, format="%d") \
                .props("outlined dense").classes("w-56").mark("retention-days")

            def save() -> None:
                retention_error.clear()
                try:
                    kept = services.set_call_retention_days(ctx, days.value)
                except ServiceError as exc:
                    retention_error.show(str(exc), days)
                    return
                days.value = kept
                ui.notify(f"Calls are kept for {kept} days", type="positive")

            ui.button("Save", on_click=save).props("unelevated no-caps").classes("mt-0.5").mark("save-retention")
        retention_error = FormError("retention-error")


def password_card(ctx: AppContext) -> None:
    with ui.card().classes("w-full p-4 gap-3").props("flat bordered"):
        card_heading("lock", "Password")
        if auth.login_required():
            ui.label("Everyone who opens the designer from another machine signs in with this password. "
                     "Changing it signs out every other browser.") \
                .classes("text-sm text-slate-500")
        else:
            ui.label("The designer listens on this machine only, so it asks for no password. It asks when it is "
                     "served on another address (flexml-designer serve --host 0.0.0.0).") \
                .classes("text-sm text-slate-500")
        has = auth.has_password(ctx)
        with ui.row().classes("w-full items-start gap-3"):
            current = ui.input("Current password", password=True).props("outlined dense").classes("w-56") \
                .mark("current-password")
            current.set_visibility(has)
            new = ui.input("New password", password=True).props("outlined dense").classes("w-56") \
                .mark("new-password")
            confirm = ui.input("Type it again", password=True).props("outlined dense").classes("w-56") \
                .mark("confirm-password")

            def change() -> None:
                password_error.clear()
                try:
                    auth.change_password(ctx, current.value or "", new.value or "", confirm.value or "")
                    auth.end_other_sessions(ctx)  # whoever knew the old password is signed out
                except ServiceError as exc:
                    message = str(exc)
                    password_error.show(message, current if "current" in message else new)
                    return
                current.value = new.value = confirm.value = ""
                current.set_visibility(True)
                ui.notify("Password changed", type="positive")

            ui.button("Change password" if has else "Set password", on_click=change) \
                .props("unelevated no-caps").classes("mt-0.5").mark("change-password")
        password_error = FormError("password-error")
