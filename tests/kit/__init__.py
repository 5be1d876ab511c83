"""envlock's test kit: distribution factory, in-process package index, venv helpers and pytest fixtures."""
