"""Build step of the package: the canvas's third-party JavaScript goes into the wheel.

Everything else is declared in pyproject.toml. When a wheel is built (``pip wheel .``,
``pip install .``), ``npm ci`` installs the Vue Flow release pinned by package-lock.json
into a scratch folder, and its browser files are copied into the build as
``static/vendor/vue-flow/`` (the package's own copy; never committed to the repository).
An editable install (``pip install -e .``, what ``bash .ci/do`` does) skips this:
a checkout reads ``node_modules/`` instead.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
VENDOR_DIR = Path("static") / "vendor" / "vue-flow"  # inside the wheel, beside static/flow_canvas.js
VUE_FLOW_PACKAGE = Path("node_modules") / "@vue-flow" / "core"
VUE_FLOW_FILES = ("dist/vue-flow-core.mjs", "dist/style.css", "dist/theme-default.css", "LICENSE")
NPM_CI = ["npm", "ci", "--ignore-scripts", "--omit=peer", "--prefer-offline", "--no-audit", "--no-fund",
          "--loglevel=error"]


class BuildError(RuntimeError):
    """The canvas's JavaScript could not be fetched; the message says what to install or check."""


def vendor_vue_flow(target: Path) -> list[Path]:
    """Install package-lock.json's Vue Flow with npm in a scratch folder; copy its browser files to ``target``."""
    if shutil.which("npm") is None:
        raise BuildError("building flexml-designer needs npm (Node.js) to fetch the canvas's JavaScript pinned "
                         "by package-lock.json; install it (on Debian: apt-get install npm) and build again")
    with tempfile.TemporaryDirectory(prefix="flexml-npm-") as scratch:
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(ROOT / name, Path(scratch) / name)
        done = subprocess.run(NPM_CI, cwd=scratch, capture_output=True, text=True)
        if done.returncode != 0:
            raise BuildError(f"`{' '.join(NPM_CI)}` failed (exit {done.returncode}):\n{done.stderr.strip()}")
        target.mkdir(parents=True, exist_ok=True)
        copied = []
        for name in VUE_FLOW_FILES:
            source = Path(scratch) / VUE_FLOW_PACKAGE / name
            if not source.is_file():
                raise BuildError(f"{VUE_FLOW_PACKAGE / name} is missing after npm ci: "
                                 "does package-lock.json still pin @vue-flow/core?")
            copied.append(Path(shutil.copy2(source, target / Path(name).name)))
    return copied


class BuildPyWithVendor(build_py):
    """setuptools' build_py, plus the vendored Vue Flow files for a wheel."""

    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            vendor_vue_flow(Path(self.build_lib) / VENDOR_DIR)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if not self.editable_mode:
            outputs += [str(Path(self.build_lib) / VENDOR_DIR / Path(n).name) for n in VUE_FLOW_FILES]
        return outputs


setup(cmdclass={"build_py": BuildPyWithVendor})
