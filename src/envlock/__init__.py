"""envlock: a reproducible-environment lockfile manager for Python."""

__version__ = "0.1.0"
