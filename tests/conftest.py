"""Shared fixtures. Helpers for building flows in tests live in tests/flows.py."""
