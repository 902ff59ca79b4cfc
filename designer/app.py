"""The designer app: NiceGUI pages and the host's ``/flexml`` routes on one server, over one store.

``build(ctx)`` wires everything onto NiceGUI's app (pages, sign-in, host
routes, the call-event recorder); ``run(ctx, host, port)`` builds and serves.
The host's routes go first and stay open without a login: the carrier calls them.
"""

from __future__ import annotations

import gc
import ipaddress
import logging
from typing import Any

from nicegui import app, ui
from starlette.middleware.gzip import GZipMiddleware

from designer import services
from designer.context import AppContext
from designer.host import EventRecorder, host_routes, table_from_store
from designer.host.events import SpoolRecorder
from designer.host.guard import server_settings
from designer.store.retention import RetentionCleaner
from designer.ui import auth, calls_page, editor, flows_page, frame, numbers_page, settings_page, voicemail_page
from designer.ui.asset_cache import AssetCache
from designer.ui.frame import APP_NAME
from designer.ui.headers import SecurityHeaders

log = logging.getLogger("flexml.designer")


def is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def build(ctx: AppContext, *, require_login: bool = False) -> None:
    """Register the designer's pages and the host's routes on NiceGUI's app."""
    services.seed_first_run(ctx)
    if ctx.table is None:
        ctx.table = table_from_store(ctx.store)
    if ctx.recorder is None:
        if ctx.store.path != ":memory:":
            ctx.recorder = SpoolRecorder(ctx.store)  # every answered call's events survive a kill
        else:
            ctx.recorder = EventRecorder(ctx.store.record_events)
    app.router.routes[0:0] = host_routes(ctx.table, ctx.recorder)
    recorder = ctx.recorder
    if isinstance(recorder, SpoolRecorder):
        recorder.start()  # moves what a killed server left in the spool, calls or not
    app.on_shutdown(lambda: recorder.close())  # not the bound method: NiceGUI would pass the app as its timeout
    cleaner = RetentionCleaner(ctx.store)  # old call events go in small batches, off the host's event loop
    cleaner.start()
    app.on_shutdown(lambda: cleaner.close())
    auth.install(ctx, require_login)
    if not any(m.cls is SecurityHeaders for m in app.user_middleware):
        # the Voicemail page's players load the recording hosts' audio
        app.add_middleware(SecurityHeaders, media_hosts=lambda: services.recording_hosts_now(ctx))
    flows_page.register(ctx)
    numbers_page.register(ctx)
    calls_page.register(ctx)
    voicemail_page.register(ctx)
    frame.count_new_voicemails_with(lambda: services.new_voicemail_count(ctx))
    settings_page.register(ctx)
    editor.register(ctx)


def run(ctx: AppContext, host: str = "127.0.0.1", port: int = 8080, *, require_login: bool | None = None,
        forwarded_allow_ips: str | None = None) -> None:
    """Build the app and serve it until interrupted.

    ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only from the proxies in
    ``forwarded_allow_ips`` (comma-separated addresses, "*" for any); by default from no one, so a
    client cannot pose as another address (the sign-in throttle counts tries per address). The
    session cookie is ``Secure`` when the public address is https.
    """
    if require_login is None:
        require_login = not is_loopback(host)
    build(ctx, require_login=require_login)
    app.on_startup(freeze_startup_objects)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"{APP_NAME} at http://{shown}:{port}  (carrier account URL: {services.public_url(ctx)}/flexml"
          f"{'; sign-in required' if require_login else ''})", flush=True)
    proxies = {"proxy_headers": True, "forwarded_allow_ips": forwarded_allow_ips} if forwarded_allow_ips \
        else {"proxy_headers": False}
    ui.run(host=host, port=port, reload=False, show=False, title=APP_NAME, favicon="📞",
           storage_secret=services.storage_secret(ctx), show_welcome_message=False,
           session_middleware_kwargs={"https_only": services.public_url(ctx).startswith("https://"),
                                      "same_site": "lax"},
           gzip_middleware_factory=compressed, **proxies, **server_settings())


def freeze_startup_objects() -> None:
    """Leave what the server holds for good (every imported module: NiceGUI, FastAPI, pydantic …, some
    half a million objects) out of Python's full garbage collections: each went through all of them,
    stopping a page build or a carrier's request for 70 to 140 ms about every other editor page opened."""
    gc.collect()
    gc.freeze()


def compressed(app: Any) -> AssetCache:
    """Responses gzipped at level 6, not Starlette's 9: a 1,000-step flow's page in 5 ms instead of 18,
    NiceGUI's Quasar script in 14 instead of 20, each 1 to 4 % larger; NiceGUI's own files gzipped once
    and then answered from memory (``designer.ui.asset_cache``)."""
    return AssetCache(GZipMiddleware(app, compresslevel=6))
