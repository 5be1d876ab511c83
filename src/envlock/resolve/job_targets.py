"""Which target environments a compile job resolves for: the declared targets, ``--universal`` (with its
``--python-version`` floor), or one target from an interpreter."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from envlock.errors import InputError

if TYPE_CHECKING:
    from envlock.env.interpreter import TargetEnvironment
    from envlock.inputs.config import ToolSettings
    from envlock.resolve.job import CompileRequest


def compile_targets(
    request: CompileRequest, tool: ToolSettings, root: Path
) -> tuple[tuple[TargetEnvironment, ...], dict[str, str], tuple[str, ...] | None]:
    """The targets to resolve for, their identity for the fingerprint and the interpreters they came
    from (``_target``): the declared targets (``--target``, else ``[tool.envlock] targets``: the same on
    every machine), else one target from an interpreter."""
    from envlock.env.interpreter import target_identity  # lazy: envlock --help loads the job

    declared = request.settings.targets or tool.targets
    if request.settings.universal:
        if request.settings.targets:
            raise InputError("--universal and --target both name the targets: give one or the other")
        if request.python:
            raise InputError(
                "--universal names the targets; --python names one interpreter: give one or the other",
                hint="--universal --python-version X.Y locks for CPython X.Y and newer",
            )
        from envlock.env.targets import universal_targets  # lazy: only --universal

        # --python-version (else [tool.envlock] python-version) is the lowest Python of a universal lock.
        floor = request.settings.python_version or tool.python_version
        declared = universal_targets(_requires_python(root), floor)
        where = "--universal"
    elif not declared:
        target, interpreters = _target(request, tool, root)
        return (target,), target_identity(target), interpreters
    else:
        where = "--target" if request.settings.targets else "pyproject.toml [tool.envlock] targets"
        if request.python or request.settings.python_version or tool.python_version:
            raise InputError(
                f"{where} names the targets; --python, --python-version and [tool.envlock] python-version "
                "name one: give one or the other",
                hint="add the Python version to the targets instead, e.g. --target cp312-linux-x86_64",
            )
    from envlock.env.targets import parse_targets, target_environment  # lazy: declared targets only

    # In one canonical order: a lock (its entries, markers, fingerprint) never depends on the order the
    # targets were listed in.
    specs = sorted(parse_targets(declared, where))
    return tuple(target_environment(s) for s in specs), {"targets": " ".join(s.text for s in specs)}, ()


def _requires_python(root: Path) -> str | None:
    """``[project] requires-python`` of ``root/pyproject.toml`` (None without one)."""
    from envlock.inputs.envlock_table import load_toml  # lazy: only --universal

    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return None
    project = load_toml(pyproject, root).get("project")
    value = project.get("requires-python") if isinstance(project, dict) else None
    return value if isinstance(value, str) else None


def _target(
    request: CompileRequest, tool: ToolSettings, root: Path
) -> tuple[TargetEnvironment, tuple[str, ...] | None]:
    """The one target, and the interpreter paths it depends on (the running Python aside; None: one
    looked up on PATH, which a cached verdict cannot vouch for)."""
    # lazy: envlock --help loads the job
    from envlock.env.interpreter import (
        current_environment,
        environment_for,
        environment_for_version,
        interpreter_path,
        probe,
    )
    from envlock.runtime import venv_python  # lazy: only a compile without a target named

    if request.python is not None:
        path = interpreter_path(request.python, root)
        # interpreter_path's rule: a value without a folder part is looked up on PATH
        on_path = not any(sep and sep in request.python for sep in ("/", os.sep, os.altsep))
        interpreters = None if on_path else (str(path.absolute()),)
        interpreter = environment_for(probe(path))
        # as uv: the interpreter gives the platform, the option the version
        if request.settings.python_version:
            return environment_for_version(request.settings.python_version, interpreter), interpreters
        return interpreter, interpreters
    version = request.settings.python_version or tool.python_version
    if version:
        return environment_for_version(version), ()
    candidate = Path(venv_python(root / (tool.venv or ".venv")))
    if candidate.exists():
        return environment_for(probe(candidate)), (str(candidate.absolute()),)
    return current_environment(), (str(candidate.absolute()),)
