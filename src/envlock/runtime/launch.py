# (os.path on purpose: pathlib costs milliseconds to import on the launch path)
"""The launchers' entry points into the drift check: the entry-point guard (the vendored copy
``envlock_guard.py`` runs ``guard_or_exit()`` when imported) and the launchers' command line
(``python -I -S _envlock_check.py --venv V [--lock L] [--deep] [--json]``). Standard library only: part
of the launchers' runtime, which carries it in its one file; apart from ``drift`` so that ``envlock check``
does not load them."""

from __future__ import annotations

import os
import sys

from envlock.runtime.drift import CheckOptions, check, fixes, report_lines

TYPE_CHECKING = False
if TYPE_CHECKING:  # the launch path avoids importing typing (import time)
    from collections.abc import Sequence

    from envlock.runtime import StrPath


class VenvDriftError(RuntimeError):
    """Raised by ``guard()``: the running venv does not match its lock; the message says what to run."""


GUARD_ENV = "ENVLOCK_GUARD"
"""``off`` (or ``0``/``false``/``no``): skip the guard; ``raise``: raise VenvDriftError instead of exiting."""


def guard(venv: StrPath | None = None, *, lock: StrPath | None = None) -> None:
    """Raise VenvDriftError unless ``venv`` (default: the running one) matches its lock.

    ``ENVLOCK_GUARD=off`` in the environment skips it (e.g. an image built without envlock).
    """
    if os.environ.get(GUARD_ENV, "").lower() in ("0", "off", "false", "no"):
        return
    if venv is None:
        if sys.prefix == getattr(sys, "base_prefix", sys.prefix):
            raise VenvDriftError(
                f"envlock: {sys.executable} is not running in a virtual environment"
                " — start it through its launcher or the venv's python (or set ENVLOCK_GUARD=off)"
            )
        venv = sys.prefix
    result = check(venv, CheckOptions(lock=lock))
    if not result.ok:
        lines = report_lines(result)
        lines.append(f"refusing to start; run: {' && '.join(fixes(result))}")
        raise VenvDriftError("envlock: " + "\nenvlock: ".join(lines))


def guard_or_exit(venv: StrPath | None = None, *, lock: StrPath | None = None) -> None:
    """What ``import envlock_guard`` runs: ``guard()``, but on drift the report goes to stderr and the
    process exits with code 1 (SystemExit: no traceback). ``ENVLOCK_GUARD=raise`` raises instead."""
    try:
        guard(venv, lock=lock)
    except VenvDriftError as error:
        if os.environ.get(GUARD_ENV, "").lower() == "raise":
            raise
        sys.stderr.write(f"{error}\n")
        sys.stderr.flush()
        raise SystemExit(1) from None


def main(argv: Sequence[str]) -> int:
    """Check a venv from a launcher; exit 0 silently when it matches, else the report on stderr, 1."""
    values: dict[str, str] = {}
    flags: set[str] = set()
    args = list(argv)
    while args:
        arg = args.pop(0)
        if arg in ("--deep", "--json", "-v"):
            flags.add(arg)
        elif arg in ("--venv", "--lock", "--name", "--label", "--sync-command", "--compile-command") and args:
            values[arg] = args.pop(0)
        else:
            sys.stderr.write(f"envlock check: unknown argument {arg!r}\n")
            return 2
    venv = values.get("--venv", ".venv")
    name = values.get("--name", "envlock")
    options = CheckOptions(
        lock=values.get("--lock"),
        deep="--deep" in flags,
        venv_label=values.get("--label", os.path.normpath(venv)),
        sync_command=values.get("--sync-command", "envlock sync"),
        compile_command=values.get("--compile-command", "envlock compile"),
    )
    result = check(venv, options)
    if "--json" in flags:
        import json

        sys.stdout.write(json.dumps(result.as_dict(), indent=2, sort_keys=True) + "\n")
    elif not result.ok:
        sys.stderr.write(
            "".join(f"{name}: {line}\n" for line in report_lines(result, label=options.venv_label))
        )
        sys.stderr.write(f"{name}: refusing to start; run: {' && '.join(fixes(result))}\n")
    elif "-v" in flags:
        sys.stderr.write(f"{name}: {report_lines(result, label=options.venv_label)[0]}\n")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
