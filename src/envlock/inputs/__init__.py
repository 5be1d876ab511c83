"""What compile reads: requirements files, pyproject.toml, the settings merge, the fingerprint, freshness."""
