"""Start fetching what a page will need while its HTML is still being read.

The browser finds NiceGUI's fonts only when the first text is laid out, after every script has run,
and the canvas's Vue Flow, minimap and style sheets only when the canvas's own module runs: each a
round trip after the last (on a 1,000-step flow the icons font came 1.3 s after navigation, and
every step was measured again when it arrived). ``<link rel=preload|modulepreload|stylesheet>`` in
the head asks for them all at once, at the start.

The links are written by a small script in the head that resolves names through the page's import
map (``import.meta.resolve``), so no URL of NiceGUI's (its version, a prefix) is written here.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import nicegui
from nicegui import ui

NICEGUI_FONTS_CSS = Path(nicegui.__file__).parent / "static" / "fonts.css"
# the faces every page draws with (in NiceGUI's fonts.css): the icons, and the Latin Roboto
FONT_FACES = (("Material Icons", None), ("Roboto", "latin"))

_FACE = re.compile(r"(?:/\*\s*(?P<subset>[\w-]+)\s*\*/\s*)?@font-face\s*\{(?P<body>[^}]*)\}")
_SCRIPT = """<script type="module" async>
// preload.py: what this page will need, asked for now (names resolved through the import map)
const base = import.meta.resolve("vue"); // a file in NiceGUI's static folder: its fonts are beside it
const add = (href, rel, more = {}) => {
  if (document.querySelector(`link[href="${href}"]`)) return;
  document.head.appendChild(Object.assign(document.createElement("link"), { rel, href, ...more }));
};
for (const font of %(fonts)s) add(new URL(font, base).href, "preload", { as: "font", type: "font/woff2", crossOrigin: "anonymous" });
for (const name of %(modules)s) add(import.meta.resolve(name), "modulepreload");
for (const name of %(styles)s) add(import.meta.resolve(name), "stylesheet");
</script>"""


@functools.lru_cache(maxsize=1)
def font_files() -> tuple[str, ...]:
    """The woff2 files (relative to NiceGUI's static folder) of ``FONT_FACES``; none if NiceGUI's
    fonts.css cannot be read or has changed its form (then the fonts simply load as before)."""
    try:
        css = NICEGUI_FONTS_CSS.read_text(encoding="utf-8")
    except OSError:
        return ()
    found: list[str] = []
    for family, subset in FONT_FACES:
        for face in _FACE.finditer(css):
            body = face["body"]
            url = re.search(r"url\(([^)\s]+\.woff2)\)", body)
            if url and f'font-family: "{family}"' in body and "font-style: normal" in body \
                    and (subset is None or face["subset"] == subset):
                found.append(url[1])
                break
    return tuple(dict.fromkeys(found))


def script(modules: tuple[str, ...] = (), styles: tuple[str, ...] = (), *, fonts: bool = False) -> str:
    """The head script: NiceGUI's fonts (``fonts``), these ES modules (import-map names), these style sheets."""
    return _SCRIPT % {"fonts": json.dumps(list(font_files()) if fonts else []), "modules": json.dumps(list(modules)),
                      "styles": json.dumps(list(styles))}


def preload(modules: tuple[str, ...] = (), styles: tuple[str, ...] = (), *, fonts: bool = False) -> None:
    """Add the head script to the page being built (the fonts once a page: the header asks for them)."""
    ui.add_head_html(script(modules, styles, fonts=fonts))
