"""Lock helpers (pins, hashed requirements, venv check) and the markdown report: medians and ratios."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING

import tools
from corpus import TARGET_PYTHON, CorpusFile, summary
from packaging.utils import canonicalize_name
from packaging.version import Version

if TYPE_CHECKING:
    from run import Cell, SetResult

RESULTS_DIR = Path(__file__).resolve().parent / "results"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")


def read_pins(requirements_text: str) -> dict[str, str]:
    """``name==version`` lines of a pip-compile / uv requirements file, by normalized name."""
    pins = {}
    for line in requirements_text.splitlines():
        match = _PIN.match(line.strip())
        if match:
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def hashed_requirements(pins: dict[str, str], files: list[CorpusFile]) -> str:
    """A pip-compile style hashed requirements file: every file of each pinned version, as the index lists."""
    lines = []
    for name in sorted(pins):
        hashes = sorted(
            f.sha256 for f in files if f.project == name and Version(f.version) == Version(pins[name])
        )
        if not hashes:
            raise ValueError(f"{name}=={pins[name]} is not in the corpus")
        lines.append(f"{name}=={pins[name]} \\")
        lines.extend(
            f"    --hash=sha256:{h}" + (" \\" if i < len(hashes) - 1 else "") for i, h in enumerate(hashes)
        )
    return "\n".join(lines) + "\n"


def previous_version(name: str, version: str, files: list[CorpusFile]) -> str | None:
    """The release just below ``version`` in the corpus (with a wheel), if any."""
    older = {Version(f.version) for f in files if f.project == name and f.filename.endswith(".whl")}
    below = [v for v in older if v < Version(version)]
    return str(max(below)) if below else None


def installed(venv: Path) -> dict[str, str]:
    found = {}
    for site in venv.glob("lib/python*/site-packages"):
        for dist_info in site.glob("*.dist-info"):
            name, _, version = dist_info.name[: -len(".dist-info")].partition("-")
            found[canonicalize_name(name)] = version
    return found


def compare_venv(venv: Path, pins: dict[str, str], ignored: set[str]) -> str | None:
    """None when the venv holds exactly the pinned set (ignoring pip's own), else what differs."""
    have = {k: v for k, v in installed(venv).items() if k not in ignored}
    want = {k: v for k, v in pins.items() if k not in ignored}
    missing = sorted(f"{k}=={v}" for k, v in want.items() if k not in have)
    wrong = sorted(
        f"{k} {have[k]} (want {v})" for k, v in want.items() if k in have and Version(have[k]) != Version(v)
    )
    extra = sorted(k for k in have if k not in want)
    parts = [
        f"missing {', '.join(missing[:5])}" if missing else "",
        f"wrong {', '.join(wrong[:5])}" if wrong else "",
        f"extraneous {', '.join(extra[:5])}" if extra else "",
    ]
    text = "; ".join(p for p in parts if p)
    return text or None


# -- rendering ------------------------------------------------------------------------------------------


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


def _cell(cell: Cell | None) -> str:
    if cell is None:
        return "–"
    if cell.skipped:
        return cell.skipped
    if cell.failure:
        return "failed"
    return _fmt(cell.median)


def _ratio(other: Cell | None, envlock: Cell | None) -> str:
    """other ÷ envlock: > 1 means envlock is that many times faster."""
    if other is None or envlock is None or other.median is None or envlock.median is None:
        return "n/a"
    ratio = other.median / envlock.median
    return f"{ratio:.1f}×" if ratio >= 1 else f"{ratio:.2f}× (slower)"


def _table(title: str, scenarios: dict[str, dict[str, Cell]]) -> list[str]:
    lines = [
        f"**{title}** (median wall time; ratio = other ÷ envlock, > 1 means envlock is faster)",
        "",
        "| scenario | envlock | pip-tools | uv | pip-tools ÷ envlock | uv ÷ envlock | pip-tools ÷ uv |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for scenario, cells in scenarios.items():
        env, pt, uv = cells.get("envlock"), cells.get("pip-tools"), cells.get("uv")
        pt_uv = "n/a"
        if pt and uv and pt.median and uv.median:
            pt_uv = f"{pt.median / uv.median:.1f}×"
        lines.append(
            f"| {scenario} | {_cell(env)} | {_cell(pt)} | {_cell(uv)} "
            f"| {_ratio(pt, env)} | {_ratio(uv, env)} | {pt_uv} |"
        )
    return lines


def _raw(title: str, scenarios: dict[str, dict[str, Cell]]) -> list[str]:
    lines = []
    for scenario, cells in scenarios.items():
        for tool, cell in cells.items():
            if cell.failure:
                detail = cell.failure.replace("\n", " ⏎ ")[:600]
                lines.append(f"- {title} / {scenario} / {tool}: **failed**: `{detail}`")
            elif cell.seconds:
                runs = ", ".join(f"{s:.3f}" for s in cell.seconds)
                reqs = ", ".join(str(r) for r in cell.requests)
                lines.append(f"- {title} / {scenario} / {tool}: {runs} s (requests to the index: {reqs})")
    return lines


def machine() -> list[str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    rev = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
        cwd=RESULTS_DIR.parent,
    ).stdout.strip()
    py = tools.DEV_PYTHON
    return [
        f"- machine: {platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}){mem}",
        f"- Python {platform.python_version()} (target of every lock and venv: CPython {TARGET_PYTHON})",
        f"- envlock {tools.version_of([str(py), '-c', _ENVLOCK_VERSION])} (git {rev or '?'})",
        f"- {tools.version_of([str(tools.DEV_BIN / 'pip-compile'), '--version'])}, "
        f"{tools.version_of([str(py), '-m', 'pip', '--version']).split(' from ')[0]} (pip-compile's), "
        f"pip in the fresh venvs pip-sync drives: {tools.version_of([str(py), '-c', _ENSUREPIP])}",
        f"- {tools.version_of([str(tools.DEV_BIN / 'uv'), '--version'])}",
    ]


_ENVLOCK_VERSION = "import envlock; print(envlock.__version__)"
_ENSUREPIP = "import ensurepip; print('pip', ensurepip.version())"

METHOD = """\
Method: a local index (127.0.0.1, PEP 691 JSON + PEP 503 HTML, PEP 658 metadata files, sha256 in every
link, PyPI's cache headers, Warehouse's JSON API so pip-compile takes hashes from the index as it does on
PyPI) serves real wheels downloaded once from PyPI (`benchmarks/corpus.json`). Every run is isolated:
`PIP_CONFIG_FILE=/dev/null`, `UV_NO_CONFIG=1`, `--no-config`, no PIP_*/UV_* variables, its own HOME and
cache folders. *Cold* = empty cache; *warm* = the cache of the previous cold run. Compile: the output file
is deleted before each run, except in *warm, lock kept* (a re-lock with nothing changed). Sync: every tool
installs the same resolved set (pip-tools' and uv's from a hashed requirements.txt, envlock from
pylock.toml); venvs are created before the clock starts (pip-sync needs pip inside; the others get
`--without-pip` venvs); **no bytecode is compiled** by any tool (pip-sync runs pip with `--no-compile`, uv and
envlock compile none by default); uv links files from its cache (its default: hardlink), envlock and pip
copy. *No-op* = sync the lock the venv already matches; *one-package change* = switch one package to its
previous release (then switch back, untimed)."""


def render(
    results: list[SetResult], files: list[CorpusFile], runs: int, elapsed: float, load: tuple[float, float]
) -> str:
    lines = [
        f"# envlock benchmark — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        "",
        *machine(),
        f"- corpus: {summary(files)}; {runs} timed runs per cell; the benchmark took {elapsed / 60:.1f} min",
        f"- load average (1 min) at start / end: {load[0]:.1f} / {load[1]:.1f} "
        f"(on {os.cpu_count()} cores; above ~0.5 other work shared the machine and the figures are noisier)",
        "",
        METHOD,
        "",
    ]
    for result in results:
        lines += [f"## Set `{result.name}` ({result.packages or '?'} resolved packages)", ""]
        if result.compile:
            lines += [*_table("compile (--generate-hashes / pylock.toml)", result.compile), ""]
        if result.sync:
            lines += [*_table("sync", result.sync), ""]
        notes = [*result.notes, *_raw("compile", result.compile), *_raw("sync", result.sync)]
        if notes:
            lines += ["<details><summary>runs and notes</summary>", "", *notes, "", "</details>", ""]
    return "\n".join(lines)


def write(text: str) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / time.strftime("%Y-%m-%d-%H%M.md", time.gmtime())
    path.write_text(text)
    return path
