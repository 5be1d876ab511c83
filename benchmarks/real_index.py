"""Real-index benchmark: envlock compile vs ``uv pip compile`` vs pip-compile against live PyPI.

    .venv/bin/python benchmarks/real_index.py [--set NAME]... [--tools envlock,uv,pip-compile]
                                              [--exclude-newer 2025-06-01T00:00:00Z] [--timeout 300]
    .venv/bin/python benchmarks/real_index.py --targets [--set NAME]...   # one lock, uv per target

Run by hand (it needs the network), never by CI or the tests; nothing here is asserted. Every tool gets
the same requirement set, CPython 3.11 on this platform and the same ``--exclude-newer`` instant (uv's
flag; pip-compile through ``--pip-args --uploaded-prior-to``), first with an empty cache (cold), then
again with that cache (warm, output deleted first). Each run's wall time and peak memory (max RSS of
the tool's process tree, from ``wait4``) are reported, with the pins that differ from uv's. The sets
stress big projects (thousands of releases), heavy backtracking, sdist-only projects and markers.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
BIN = Path(sys.executable).parent
PYTHON_VERSION = "3.11.9"
"""A full version: with "3.11" uv resolves python_full_version markers for a range of patch releases
(and locks tomli for `python_full_version <= "3.11.0a6"`), envlock for 3.11.0 exactly."""
EXCLUDE_NEWER = "2025-06-01T00:00:00Z"

SETS: dict[str, tuple[str, ...]] = {
    "aws-backtracking": ("boto3", "awscli", "s3fs"),
    "boto3-alone": ("boto3",),
    "google-cloud": ("google-cloud-storage", "google-cloud-bigquery", "google-cloud-pubsub"),
    "azure": ("azure-identity", "azure-storage-blob", "azure-keyvault-secrets", "azure-mgmt-resource"),
    "scientific": ("numpy", "scipy", "pandas", "matplotlib", "jupyterlab"),
    "django-plugins": (
        "django",
        "djangorestframework",
        "django-filter",
        "django-cors-headers",
        "celery[redis]",
    ),
    "testing-tools": ("pytest", "pytest-xdist", "hypothesis[cli]", "coverage[toml]", "tox"),
    "markers-and-sdists": (
        "pywin32; sys_platform == 'win32'",
        "uvloop; sys_platform != 'win32'",
        "docopt",
        "pyyaml",
    ),
}


@dataclass(frozen=True)
class Run:
    tool: str
    cache: str
    seconds: float
    peak_mb: float
    ok: bool
    pins: dict[str, str]
    error: str = ""


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "PYTHON", "ENVLOCK_"))}
    env.update(
        HOME=str(home), PIP_CONFIG_FILE=os.devnull, UV_NO_CONFIG="1", XDG_CACHE_HOME=str(home / ".cache")
    )
    return env


def _command(tool: str, work: Path, cache: Path, exclude_newer: str) -> list[str]:
    source, out = str(work / "requirements.in"), str(work / f"{tool}.out")
    common = [source, "-o", out, "--cache-dir", str(cache)]
    frozen = ["--python-version", PYTHON_VERSION, "--exclude-newer", exclude_newer]
    if tool == "envlock":
        return [sys.executable, "-m", "envlock", "compile", *common, *frozen]
    if tool == "uv":
        return [str(BIN / "uv"), "pip", "compile", *common, *frozen, "--generate-hashes", "-q"]
    pip_args = f"--uploaded-prior-to {exclude_newer} --python-version {PYTHON_VERSION}"
    return [str(BIN / "pip-compile"), *common, "--generate-hashes", "-q", "--pip-args", pip_args]


def _timed(
    command: list[str], env: dict[str, str], cwd: Path, timeout: float
) -> tuple[float, float, int, str]:
    """Wall seconds, peak RSS in MB (the largest process of the tool's tree: wait4's ru_maxrss covers
    the children it waited for), exit status and the tail of stderr."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
        seconds = time.perf_counter() - started
        errors.seek(0)
        tail = errors.read().decode(errors="replace").strip().splitlines()[-3:]
    return seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status), " / ".join(tail)


def _pins(tool: str, out: Path) -> dict[str, str]:
    if not out.exists():
        return {}
    text = out.read_text()
    if tool == "envlock":
        names = re.findall(r'^name = "([^"]+)"\nversion = "([^"]+)"', text, re.M)
        return dict(names)
    found = re.findall(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==([^\s\\;]+)", text, re.M)  # name[extras]==v
    return {re.sub(r"[-_.]+", "-", n).lower(): v for n, v in found}


def bench_set(name: str, tools: list[str], exclude_newer: str, timeout: float) -> list[Run]:
    runs = []
    with tempfile.TemporaryDirectory(prefix=f"envlock-real-{name}-") as scratch:
        work = Path(scratch)
        (work / "requirements.in").write_text("\n".join(SETS[name]) + "\n")
        env = {**_clean_env(work / "home"), "PYTHONPATH": str(REPO / "src")}
        for tool in tools:
            cache = work / f"cache-{tool}"
            for state in ("cold", "warm"):
                out = work / f"{tool}.out"
                out.unlink(missing_ok=True)
                command = _command(tool, work, cache, exclude_newer)
                seconds, peak, status, tail = _timed(command, env, work, timeout)
                runs.append(
                    Run(
                        tool, state, seconds, peak, status == 0, _pins(tool, out), "" if status == 0 else tail
                    )
                )
        shutil.rmtree(work / "home", ignore_errors=True)
    return runs


def report(name: str, runs: list[Run]) -> str:
    lines = [
        f"### {name}: {', '.join(SETS[name])}",
        "",
        "| tool | cache | time | peak memory | packages |",
        "|---|---|---:|---:|---:|",
    ]
    for run in runs:
        time_text = f"{run.seconds:.1f} s" if run.ok else f"failed ({run.seconds:.1f} s): {run.error[:120]}"
        lines.append(f"| {run.tool} | {run.cache} | {time_text} | {run.peak_mb:.0f} MB | {len(run.pins)} |")
    reference = next((r.pins for r in runs if r.tool == "uv" and r.ok), None)
    if reference is not None:
        for run in runs:
            if run.cache != "cold" or run.tool == "uv" or not run.ok:
                continue
            differ = sorted(
                f"{n} {run.pins.get(n, '-')} (uv {reference.get(n, '-')})"
                for n in set(reference) | set(run.pins)
                if run.pins.get(n) != reference.get(n)
            )
            lines.append("")
            lines.append(
                f"{run.tool} vs uv: " + ("same pins" if not differ else "differs: " + "; ".join(differ))
            )
    return "\n".join(lines) + "\n"


TEAM = {
    "cp311-linux-x86_64": ("x86_64-manylinux_2_28", "3.11.0"),
    "cp312-windows-amd64": ("x86_64-pc-windows-msvc", "3.12.0"),
    "cp313-macos-arm64": ("aarch64-apple-darwin", "3.13.0"),
}
"""``--targets``: one multi-target envlock lock against uv's resolution per target (platform, Python)."""


def check_targets(name: str, exclude_newer: str, timeout: float) -> str:
    """Compile ``name`` once for the TEAM targets with envlock, once per target with uv, and compare
    each target's selection of the lock (its packages whose marker holds there) with uv's pins."""
    sys.path.insert(0, str(REPO / "src"))
    from envlock.env.targets import parse_target, target_environment  # the benchmark runs envlock's tree
    from envlock.lock.lockfile import read_lock

    lines = [f"### {name}: one lock for {', '.join(TEAM)} against uv per target", ""]
    with tempfile.TemporaryDirectory(prefix=f"envlock-targets-{name}-") as scratch:
        work = Path(scratch)
        (work / "requirements.in").write_text("\n".join(SETS[name]) + "\n")
        env = {**_clean_env(work / "home"), "PYTHONPATH": str(REPO / "src")}
        cache, out = str(work / "cache"), str(work / "pylock.toml")
        command = [sys.executable, "-m", "envlock", "compile", str(work / "requirements.in"), "-o", out]
        command += ["--cache-dir", cache, "--exclude-newer", exclude_newer]
        command += [a for target in TEAM for a in ("--target", target)]
        seconds, _peak, status, tail = _timed(command, env, work, timeout)
        if status != 0:
            return "\n".join([*lines, f"envlock failed ({seconds:.1f} s): {tail}", ""])
        lines.append(f"envlock, {len(TEAM)} targets, cold: {seconds:.1f} s")
        lock = read_lock(Path(out))
        for target, (platform, version) in TEAM.items():
            markers = dict(target_environment(parse_target(target)).markers)
            ours = {
                str(p.name): str(p.version)
                for p in lock.packages
                if p.marker is None
                or p.marker.evaluate({**markers, "extras": frozenset(), "dependency_groups": frozenset()})  # type: ignore[arg-type]
            }
            uv_out = work / f"uv-{target}.txt"
            uv = [str(BIN / "uv"), "pip", "compile", str(work / "requirements.in"), "-o", str(uv_out), "-q"]
            uv += ["--cache-dir", str(work / "uv-cache"), "--exclude-newer", exclude_newer]
            uv += ["--python-platform", platform, "--python-version", version]
            _timed(uv, env, work, timeout)
            theirs = _pins("uv", uv_out)
            differ = sorted(
                f"{n} {ours.get(n, '-')} (uv {theirs.get(n, '-')})"
                for n in set(ours) | set(theirs)
                if ours.get(n) != theirs.get(n)
            )
            lines.append(
                f"- {target}: {len(ours)} packages, "
                + ("same pins as uv" if not differ else "differs: " + "; ".join(differ))
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--set", action="append", choices=sorted(SETS), help="default: every set")
    parser.add_argument("--tools", default="envlock,uv,pip-compile")
    parser.add_argument("--exclude-newer", default=EXCLUDE_NEWER)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per run")
    parser.add_argument("--targets", action="store_true", help="one multi-target lock against uv per target")
    args = parser.parse_args()
    if args.targets:
        for name in args.set or list(SETS):
            print(check_targets(name, args.exclude_newer, args.timeout), flush=True)
        return
    tools = [t for t in args.tools.split(",") if t]
    for name in args.set or list(SETS):
        print(report(name, bench_set(name, tools, args.exclude_newer, args.timeout)), flush=True)


if __name__ == "__main__":
    main()
