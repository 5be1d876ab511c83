"""``envlock doctor``'s findings: the failure modes behind "installed but ModuleNotFoundError" — which
``python``/``pip`` come first on PATH, VIRTUAL_ENV, locked packages installed into the base interpreter
instead of the venv, the lock and stamp state, the cache. Data only; commands/doctor.py prints it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from envlock import runtime
from envlock.env.interpreter import probe_command
from envlock.env.venv_env import scripts_dir
from envlock.inputs.fresh_cache import with_freshness
from envlock.runtime import drift

OK, WARN, FAIL = "ok", "warn", "fail"

Runner = Callable[[Sequence[str]], str]
"""Runs a command and returns its stdout (raises OSError/CalledProcessError on failure)."""


@dataclass(frozen=True)
class Finding:
    """One line of the report."""

    status: str
    """``ok``, ``warn`` or ``fail``."""
    topic: str
    """What was looked at, e.g. ``python on PATH``."""
    detail: str
    """What was found."""
    fix: str | None = None
    """What to do about it, when something is to be done."""


@dataclass(frozen=True)
class DoctorReport:
    """Every finding, in report order, and the verdict they add up to."""

    findings: tuple[Finding, ...]

    @property
    def verdict(self) -> str:
        statuses = {f.status for f in self.findings}
        if FAIL in statuses:
            return "problems found"
        return "healthy, with warnings" if WARN in statuses else "healthy"

    @property
    def ok(self) -> bool:
        return all(f.status != FAIL for f in self.findings)

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "verdict": self.verdict,
            "findings": [
                {"status": f.status, "topic": f.topic, "detail": f.detail, "fix": f.fix}
                for f in self.findings
            ],
        }


@dataclass(frozen=True)
class DoctorInputs:
    """Where to look: the venv, its lock, the process environment, the cache folder."""

    venv: Path
    lock: Path | None
    environ: Mapping[str, str]
    cache_dir: Path


def run_command(argv: Sequence[str]) -> str:
    """The default Runner: a subprocess with captured output, 30 s at most."""
    return subprocess.run(list(argv), capture_output=True, text=True, check=True, timeout=30).stdout


def _inside(path: str, folder: Path) -> bool:
    # the folder holding the executable, resolved; not the executable (a venv's python links outside it)
    real = Path(path).parent.resolve() / Path(path).name
    return real.is_relative_to(folder.resolve())


def _first_on_path(inputs: DoctorInputs, names: Sequence[str]) -> str | None:
    for name in names:
        found = shutil.which(name, path=inputs.environ.get("PATH", os.defpath))
        if found:
            return found
    return None


def check_path(inputs: DoctorInputs) -> list[Finding]:
    """Which ``python`` and ``pip`` a shell would run, and whether they belong to the venv."""
    bin_dir = scripts_dir(inputs.venv)
    findings = []
    python = _first_on_path(inputs, ("python", "python3"))
    if python is None:
        findings.append(
            Finding(OK, "python on PATH", "none (run the venv through its launcher or envlock run)")
        )
    elif _inside(python, bin_dir):
        findings.append(Finding(OK, "python on PATH", f"{python} (the venv's)"))
    else:
        findings.append(
            Finding(
                WARN,
                "python on PATH",
                f"{python} is not {inputs.venv}'s: `python app.py` would run outside the venv",
                "start the app with its launcher or `envlock run -- python ...`",
            )
        )
    pip = _first_on_path(inputs, ("pip", "pip3"))
    if pip is None:
        findings.append(Finding(OK, "pip on PATH", "none"))
    elif _inside(pip, bin_dir):
        findings.append(
            Finding(
                WARN,
                "pip on PATH",
                f"{pip} is the venv's: a `pip install` would drift it",
                "use envlock sync",
            )
        )
    else:
        findings.append(
            Finding(
                WARN,
                "pip on PATH",
                f"{pip} is outside {inputs.venv}: `pip install` installs into another Python, not the venv",
                "install with envlock sync only",
            )
        )
    return findings


def check_virtual_env(inputs: DoctorInputs) -> Finding:
    value = inputs.environ.get("VIRTUAL_ENV")
    if not value:
        return Finding(OK, "VIRTUAL_ENV", "not set (launchers and envlock run set it for the command)")
    if os.path.realpath(value) == os.path.realpath(inputs.venv):
        return Finding(OK, "VIRTUAL_ENV", f"{value} (this venv)")
    return Finding(
        WARN,
        "VIRTUAL_ENV",
        f"{value} is another venv than {inputs.venv}",
        f"deactivate, or activate {inputs.venv}",
    )


def check_base_installs(inputs: DoctorInputs, locked: Mapping[str, str], runner: Runner) -> list[Finding]:
    """Locked packages in the base interpreter or the first ``python`` on PATH: wrong-place installs."""
    pythons: list[str] = []
    python = runtime.venv_python(inputs.venv)
    if Path(python).exists():
        pythons.append(runtime.base_interpreter(inputs.venv, python))
    on_path = _first_on_path(inputs, ("python", "python3"))
    if on_path and not _inside(on_path, inputs.venv):
        pythons.append(os.path.realpath(on_path))
    findings = []
    for interpreter in sorted(set(pythons)):
        try:
            # the probe, not site.py: a base Python's .pth files (wrong-place installs) must not run
            sites = json.loads(runner(probe_command(interpreter, "--site-dirs")))
        except (OSError, ValueError, subprocess.SubprocessError):
            continue
        found = []
        for site in sites:
            for dirname in runtime.metadata_dir_names(site):
                name, version = runtime.dist_name_version(site, dirname)
                if name in locked:
                    found.append(f"{name} {version} ({site})")
        if found:
            findings.append(
                Finding(
                    WARN,
                    "locked packages in the base Python",
                    f"{interpreter} has {', '.join(sorted(found))}: installs went to the wrong place?",
                    "uninstall them there; install into the venv with envlock sync",
                )
            )
        else:
            findings.append(Finding(OK, "locked packages in the base Python", f"none in {interpreter}"))
    return findings


def check_venv(inputs: DoctorInputs) -> tuple[list[Finding], dict[str, str]]:
    """The venv against its lock and stamp; also the locked names (from the stamp) for the base check."""
    options = drift.CheckOptions(lock=inputs.lock, venv_label=str(inputs.venv))
    result = with_freshness(drift.check(inputs.venv, options), options, inputs.cache_dir)
    locked = {d["name"]: d["version"] for d in (result.stamp or {}).get("distributions", [])}
    stale = [d for d in result.drifts if d.kind in (drift.LOCK_STALE, drift.NO_LOCK)]
    other = [d for d in result.drifts if d not in stale]
    findings = [Finding(FAIL, "lock freshness", d.message, d.fix) for d in stale]
    if not stale and result.lock:
        findings.append(Finding(OK, "lock freshness", f"{result.lock}: inputs unchanged since the sync"))
    findings += [Finding(FAIL, "venv", d.message, d.fix) for d in other]
    if result.ok:
        findings.append(
            Finding(OK, "venv", f"{inputs.venv} matches {result.lock} ({len(locked)} distributions)")
        )
    return findings, locked


def check_cache(inputs: DoctorInputs) -> Finding:
    size = 0
    for folder, _dirs, files in os.walk(inputs.cache_dir):
        for name in files:
            with suppress(OSError):
                size += (Path(folder) / name).lstat().st_size
    where = inputs.cache_dir if inputs.cache_dir.exists() else f"{inputs.cache_dir} (not created yet)"
    return Finding(OK, "cache", f"{where}, {size / 1e6:.1f} MB")


def diagnose(inputs: DoctorInputs, runner: Runner = run_command) -> DoctorReport:
    """Every finding, the seed's failure modes first."""
    venv_findings, locked = check_venv(inputs)
    findings = [*check_path(inputs), check_virtual_env(inputs)]
    findings += check_base_installs(inputs, locked, runner)
    findings += venv_findings
    findings.append(check_cache(inputs))
    return DoctorReport(tuple(findings))
