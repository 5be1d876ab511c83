"""Test configuration: every test runs isolated from this machine's pip config, HOME and caches."""

from __future__ import annotations

pytest_plugins = ["tests.kit.plugin"]
