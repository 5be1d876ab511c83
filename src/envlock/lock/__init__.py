"""The lock: pylock.toml read and write, selection for a target, hashed requirements (export, import)."""
