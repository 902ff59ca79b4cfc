"""``Island``: a ``<div>`` that is a Vue component of its own, so changes inside it redraw only it.

NiceGUI renders native elements (``ui.row``, ``ui.label`` …) as part of the nearest Vue component
above them. In the editor that component is the page itself: a "Saved" label or a character count
changing meant drawing the whole page again, canvas included, on every keystroke (about 30 ms in
Chromium). Parts that change while the user types sit in an island.
"""

from __future__ import annotations

from nicegui import ui

from static import STATIC_DIR


class Island(ui.element, component=STATIC_DIR / "island.js"):
    """A ``<div>`` whose content is drawn again on its own when it changes."""
