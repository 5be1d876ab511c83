"""``python -m envlock`` entry point."""

from envlock.cli import main

if __name__ == "__main__":
    main()
