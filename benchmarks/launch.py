"""The launcher row: ``bin/NAME`` against the venv's python running the same program, CPU and wall time.

A launcher checks the venv, then runs the program; what it costs over starting the program directly is
its overhead (issue 15's target: ≤ 10 ms). Both commands run in turn (A B A B …) after one warm-up each,
and each run's CPU time comes from the kernel's accounting of the finished process (``wait4``).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import tools

APP = "import sys\nsys.stdout.write('ok\\n')\n"
"""The program both run: as light as a program gets, so the overhead is not hidden in its own time."""
CONSOLE_SCRIPTS = (("uvicorn", "--version"), ("f2py", "-v"))
"""Console scripts measured when the venv has them: launcher vs ``python .venv/bin/NAME``."""


@dataclass(frozen=True)
class Sample:
    """One finished process."""

    wall: float
    cpu: float


@dataclass
class LaunchRow:
    """The runs of one command, through its launcher and started directly."""

    command: str
    launcher: list[Sample] = field(default_factory=list)
    direct: list[Sample] = field(default_factory=list)
    failure: str | None = None

    def median(self, side: str, figure: str) -> float:
        samples = self.launcher if side == "launcher" else self.direct
        return statistics.median(getattr(sample, figure) for sample in samples)


def run_measured(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[Sample, int, bytes]:
    """One finished process: its wall and CPU time (wait4), exit code and stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE)
    output = b""
    if proc.stdout is not None:
        output = proc.stdout.read()
        proc.stdout.close()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here: Popen must not wait again
    return Sample(wall, usage.ru_utime + usage.ru_stime), proc.returncode, output


def _pair(
    row: LaunchRow, launcher: list[str], direct: list[str], work: Path, runs: int, box: tools.Sandbox
) -> None:
    env = {k: v for k, v in box.env().items() if k != "PYTHONPATH"}  # the program started as users start it
    for index in range(runs + 1):  # the first pair warms caches (bytecode, page cache) and is not counted
        for side, cmd in (("launcher", launcher), ("direct", direct)):
            sample, code, output = run_measured(cmd, work, env)
            if code != 0:
                row.failure = f"{side} exited {code}: {output.decode(errors='replace')[-300:]}"
                return
            if index:
                getattr(row, side).append(sample)


def measure(venv: Path, work: Path, runs: int, box: tools.Sandbox) -> list[LaunchRow]:
    """Launchers for ``python app.py`` and the venv's known console scripts, each against a direct start."""
    work.mkdir(parents=True, exist_ok=True)
    (work / "app.py").write_text(APP)
    python = str(venv / "bin" / "python")
    commands: list[tuple[str, list[str], list[str]]] = [
        ("python app.py", ["python", "app.py"], [python, "app.py"])
    ]
    for name, *args in CONSOLE_SCRIPTS:
        if (venv / "bin" / name).is_file():
            commands.append(
                (f"{name} {' '.join(args)}", [name, *args], [python, str(venv / "bin" / name), *args])
            )
    rows = []
    for number, (label, command, direct) in enumerate(commands):
        row = LaunchRow(label)
        rows.append(row)
        name = f"launch{number}"
        made = subprocess.run(
            [str(tools.DEV_PYTHON), "-m", "envlock", "launcher", name, "--venv", str(venv), "--", *command],
            cwd=work,
            env=box.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if made.returncode != 0:
            row.failure = f"envlock launcher failed: {made.stderr.strip()[-300:]}"
            continue
        _pair(row, [str(work / "bin" / name)], direct, work, runs, box)
    return rows


def render(rows_by_set: dict[str, list[LaunchRow]], runs: int) -> list[str]:
    """The launcher table: medians in ms, overhead = launcher − direct."""
    lines = [
        f"**launcher** (`bin/NAME` vs the venv's python running the same program; median of {runs} runs each,"
        " in turn; overhead = launcher − direct, target ≤ 10 ms)",
        "",
        "| set | command | launcher CPU | direct CPU | overhead CPU "
        "| launcher wall | direct wall | overhead wall |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for set_name, rows in rows_by_set.items():
        for row in rows:
            if row.failure:
                lines.append(f"| {set_name} | `{row.command}` | failed: {row.failure[:120]} ||||||")
                continue
            figures = [
                row.median(side, figure) * 1000
                for figure in ("cpu", "wall")
                for side in ("launcher", "direct")
            ]
            cpu_l, cpu_d, wall_l, wall_d = figures
            lines.append(
                f"| {set_name} | `{row.command}` | {cpu_l:.1f} ms | {cpu_d:.1f} ms | {cpu_l - cpu_d:+.1f} ms "
                f"| {wall_l:.1f} ms | {wall_d:.1f} ms | {wall_l - wall_d:+.1f} ms |"
            )
    return lines
