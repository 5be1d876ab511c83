"""Launch time: the stamp and the standard-library-only drift check, launchers, doctor."""
