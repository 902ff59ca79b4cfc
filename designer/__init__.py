"""FlexML Designer: the application (UI, store, host, simulator, command line) over ``compiler``."""

__version__ = "0.1.0"
