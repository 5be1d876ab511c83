"""The one error hierarchy: each error has a message, a hint (the command that fixes it), an exit code."""

from __future__ import annotations

# Documented exit codes (docs/cli.md).
EXIT_OK = 0
EXIT_PROBLEM = 1  # the check/operation found a problem: drift, conflict, hash mismatch, network failure
EXIT_USAGE = 2  # usage or input error: bad option, malformed requirement, invalid lock


class EnvlockError(Exception):
    """Base of every error envlock reports to a user; never shown as a traceback."""

    exit_code: int = EXIT_PROBLEM

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def lines(self) -> list[str]:
        """What the user reads: the message, then the command that fixes it."""
        return [f"error: {_escaped(self.message)}", *([f"hint: {_escaped(self.hint)}"] if self.hint else [])]


def render(error: EnvlockError) -> str:
    """The one rendering of an error for stderr, whichever path reports it (the click group, the quick
    answers): its ``lines``, each ended by a newline. Its exit code is ``error.exit_code``."""
    return "".join(f"{line}\n" for line in error.lines())


def _escaped(text: str) -> str:
    """``text`` with control characters and line separators (a value from a hostile file that no check
    escaped) spelled as escapes, so it cannot forge or hide lines of the report; the message's own line
    breaks (between its lines) are kept."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == "\n" else repr(c)[1:-1] for c in text)


class InputError(EnvlockError):
    """Bad input: a malformed requirement, an invalid option value, a broken file."""

    exit_code = 2


class RequirementsFileError(InputError):
    """A requirements/pyproject input could not be read; the message names file and line."""


class LockFileError(InputError):
    """A lock file is unreadable or not valid PEP 751; the message names the field."""


class UnsupportedError(InputError):
    """A valid input that envlock does not support yet (editables, VCS, local directories)."""


class ResolutionError(EnvlockError):
    """The requirements cannot be satisfied together, or a project is unknown."""


class ProjectNotFoundError(ResolutionError):
    """No index (nor find-links) has the project: the resolver backtracks past whatever requires it and
    names the requirers only when nothing else resolves."""

    def __init__(self, name: str, where: str) -> None:
        super().__init__(f"project {name!r} not found on {where}", hint=NOT_FOUND_HINT)
        self.name = name
        self.where = where
        """The indexes (and find-links) asked, credentials redacted."""


NOT_FOUND_HINT = "check the name, or add the index that has it with --extra-index-url / --index-url"


class NetworkError(EnvlockError):
    """An index or artifact URL failed after retries; the message names the URL (without credentials)."""


class HashMismatchError(EnvlockError):
    """An artifact's bytes do not match the hash the lock or index promised."""


class BuildError(EnvlockError):
    """Building a wheel or metadata from an sdist failed."""


class TargetEnvironmentError(EnvlockError):
    """The target environment is unusable: not a venv, not writable, interpreter broken."""


class DriftError(EnvlockError):
    """The venv does not match its stamp or lock."""


class LockBusyError(EnvlockError):
    """Another envlock process holds the venv lock."""


class StaleLockError(EnvlockError):
    """``envlock compile --check``: the lock is missing or was compiled from other inputs (exit 1)."""


class NeedsNetworkError(RequirementsFileError):
    """An input includes a ``-r``/``-c`` URL, but the caller reads inputs offline (e.g. a freshness check)."""
