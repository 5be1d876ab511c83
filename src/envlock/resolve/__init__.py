"""Resolution: the resolvelib provider, conflict explanations, building the lock, sdist builds (PEP 517)."""
