"""The launchers' runtime (standard library only, imports nothing of envlock outside this package)."""
