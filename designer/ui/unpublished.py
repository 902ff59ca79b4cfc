"""What the draft open in a tab changes against the published revision, cheaply enough to ask after every edit.

The published revision's graph is read once per revision (revisions are immutable) and the
sentences are kept until the draft's text or the published revision changes.
"""

from __future__ import annotations

from typing import Any

from compiler.diff import call_changes, describe_changes

from designer import services
from designer.context import AppContext

_CACHE_ATTR = "_unpublished_cache"


def draft_changes(ctx: AppContext, state: Any) -> tuple[int | None, list[str], bool]:
    """(published revision or None, sentences the draft changes against it, whether a caller would notice).

    Never published: every step is new. Steps only moved on the canvas are listed but change no call.
    """
    record = services.find_flow(ctx, state.flow_id)
    rev = record.published_rev if record is not None else None
    text = getattr(state, "text", None)
    cache: dict = getattr(state, _CACHE_ATTR, None) or {}
    if cache.get("key") == (rev, text):
        return rev, cache["said"], cache["calls"]
    if rev and cache.get("rev") != rev:
        cache = {"rev": rev, "graph": services.revision_graph(ctx, state.flow_id, rev)}
    draft = state.graph.copy()
    draft.graph["id"] = state.flow_id
    old = cache.get("graph") if rev else None
    said, calls = describe_changes(old, draft), bool(call_changes(old, draft))
    cache.update(key=(rev, text), said=said, calls=calls)
    setattr(state, _CACHE_ATTR, cache)
    return rev, said, calls
