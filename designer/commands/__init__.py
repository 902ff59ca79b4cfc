"""One module per ``flexml-designer`` subcommand (see designer/cli.py)."""
