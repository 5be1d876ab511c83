"""What compile reads: requirements files, pyproject.toml, the settings merge, the fingerprint, freshness."""

ALL = ":all:"
"""``--only-binary :all:`` / ``--no-binary :all:``: the rule covers every project. Here, not in
``config``: a sync's selection needs the word, not the compile inputs (issue 15: ~10 ms to import)."""
