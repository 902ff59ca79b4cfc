"""Build step of the package: the canvas's third-party JavaScript goes into the wheel.

Everything else is declared in pyproject.toml. When a wheel is built (``pip wheel .``,
``pip install .``), ``npm ci`` installs the npm packages pinned by package-lock.json into a
scratch folder, and the browser files ``static/npm.json`` lists are copied into the
build as ``static/vendor/<name>/`` (the package's own copy; never committed to the repository).
An editable install (``pip install -e .``, what ``bash .ci/do`` does) skips this:
a checkout reads ``node_modules/`` instead.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
VENDOR_DIR = Path("static") / "vendor"  # inside the wheel, beside static/flow_canvas.js
# import-map name → {package, dist, files, marker}: the one list, read by designer/ui/canvas.py too
NPM_DISTS = {name: spec for name, spec in json.loads((ROOT / "static" / "npm.json").read_text()).items()
             if not name.startswith("_")}


def vendored_files() -> list[tuple[Path, Path]]:
    """(file inside node_modules, its place under VENDOR_DIR) for every file the canvas loads, licences too."""
    out = []
    for name, spec in NPM_DISTS.items():
        package = Path("node_modules") / spec["package"]
        out += [(package / spec["dist"] / f, Path(name) / f) for f in spec["files"]]
        out.append((package / "LICENSE", Path(name) / "LICENSE"))
    return out
NPM_CI = ["npm", "ci", "--ignore-scripts", "--omit=peer", "--prefer-offline", "--no-audit", "--no-fund",
          "--loglevel=error"]


class BuildError(RuntimeError):
    """The canvas's JavaScript could not be fetched; the message says what to install or check."""


def vendor_npm_packages(target: Path) -> list[Path]:
    """Install package-lock.json's packages with npm in a scratch folder; copy their browser files to ``target``."""
    if shutil.which("npm") is None:
        raise BuildError("building flexml-designer needs npm (Node.js) to fetch the canvas's JavaScript pinned "
                         "by package-lock.json; install it (on Debian: apt-get install npm) and build again")
    with tempfile.TemporaryDirectory(prefix="flexml-npm-") as scratch:
        for name in ("package.json", "package-lock.json"):
            shutil.copy2(ROOT / name, Path(scratch) / name)
        done = subprocess.run(NPM_CI, cwd=scratch, capture_output=True, text=True)
        if done.returncode != 0:
            raise BuildError(f"`{' '.join(NPM_CI)}` failed (exit {done.returncode}):\n{done.stderr.strip()}")
        copied = []
        for source, place in vendored_files():
            if not (Path(scratch) / source).is_file():
                raise BuildError(f"{source} is missing after npm ci: does package-lock.json still pin it?")
            (target / place).parent.mkdir(parents=True, exist_ok=True)
            copied.append(Path(shutil.copy2(Path(scratch) / source, target / place)))
    return copied


class BuildPyWithVendor(build_py):
    """setuptools' build_py, plus the vendored npm files for a wheel."""

    def run(self) -> None:
        super().run()
        if not self.editable_mode:
            vendor_npm_packages(Path(self.build_lib) / VENDOR_DIR)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if not self.editable_mode:
            outputs += [str(Path(self.build_lib) / VENDOR_DIR / place) for _, place in vendored_files()]
        return outputs


setup(cmdclass={"build_py": BuildPyWithVendor})
