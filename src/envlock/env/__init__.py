"""Environments: the interpreter probe, venv creation and swap, the site-packages scan."""
