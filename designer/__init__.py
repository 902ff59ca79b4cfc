"""FlexML Designer: the application (UI, store, host, simulator, command line) over ``compiler``."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("flexml-designer")  # one source of truth: pyproject.toml's [project] version
except PackageNotFoundError:  # a checkout that was never installed (bash .ci/do installs it)
    __version__ = "0+unknown"
