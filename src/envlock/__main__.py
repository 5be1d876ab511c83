"""``python -m envlock`` entry point: the quick answers (no-op sync, check) before click, else the CLI."""

from envlock.quick import main

if __name__ == "__main__":
    main()
