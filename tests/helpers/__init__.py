"""Shared test helpers (generated estates and the like), importable as ``tests.helpers``."""
