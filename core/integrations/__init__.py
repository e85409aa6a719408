"""Adapters for outside systems, each behind a Protocol in base.py."""
