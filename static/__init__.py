"""The project's own JavaScript and CSS for the flow canvas (shipped with the package)."""

from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent  # what the designer serves the canvas from
