"""Downloads offered on several pages: a flow's file and its export bundle."""

from __future__ import annotations

from nicegui import ui

from designer import services
from designer.context import AppContext
from designer.services import ServiceError


def download_flow_file(ctx: AppContext, flow_id: str) -> None:
    try:
        name, data = services.export_flow_file(ctx, flow_id)
    except ServiceError as exc:
        ui.notify(str(exc), type="negative")
        return
    ui.download.content(data, name, "application/json")


def download_bundle(ctx: AppContext, flow_id: str, rev: int | None = None) -> None:
    """The bundle of revision ``rev``, or of the published one."""
    try:
        name, data = services.export_bundle(ctx, flow_id, rev)
    except ServiceError as exc:
        ui.notify(str(exc), type="negative")
        return
    ui.download.content(data, name, "application/zip")
