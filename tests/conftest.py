"""Shared fixtures. Helpers for building flows in tests live in tests/flows.py."""

pytest_plugins = ["nicegui.testing.user_plugin"]  # the `user` fixture (pages registered by each test)
