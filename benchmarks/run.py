"""Benchmark driver: envlock vs pip-tools vs uv, compile and sync, on a local index of real PyPI wheels.

    .venv/bin/python benchmarks/run.py [--runs N] [--set fastapi|datascience|all] [--only compile|sync|launch]
                                       [--tools envlock,uv]

Not a test: nothing here is asserted. Prints a markdown report and writes it to benchmarks/results/.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import corpus
import launch
import lock_read
import report
import tools
from server import BenchIndex

CHANGED_PACKAGE = {"fastapi": "prometheus-client", "datascience": "scikit-learn"}
"""The package the one-package-change sync moves to its previous release."""
IGNORED_IN_VENV = {"pip", "setuptools", "wheel"}
SYNC_SCENARIOS = (
    "fresh venv, cold cache",
    "fresh venv, warm cache",
    "no-op",
    "one-package change",
    "new venv, warm cache",
)
"""In this order. "fresh venv": into an empty venv made beforehand; "new venv": no venv yet, the tool
(or, for pip-tools and uv, the usual command before it) makes one: a fresh clone's first sync."""

CommandFor = Callable[[Path, Path, str, tools.Sandbox], list[str]]


@dataclass(frozen=True)
class Tool:
    """One contender."""

    name: str
    compile: CommandFor
    sync: CommandFor
    new: CommandFor
    """Make the venv (which does not exist yet), then sync it."""
    compile_available: bool
    sync_available: bool
    venv_with_pip: bool
    """pip-sync drives the target's own pip, so its venvs need pip; the others get --without-pip venvs."""


@dataclass
class _SyncRun:
    """One tool's state across the sync scenarios of a set: its locks, cache box and venv."""

    tool: Tool
    cells: dict[str, Cell]
    lock_a: Path
    lock_b: Path
    box: tools.Sandbox
    venv: Path = Path()


@dataclass
class Cell:
    """The runs of one tool in one scenario."""

    seconds: list[float] = field(default_factory=list)
    requests: list[int] = field(default_factory=list)
    failure: str | None = None
    skipped: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds and self.failure is None else None


@dataclass
class SetResult:
    """Everything measured for one benchmark set."""

    name: str
    packages: int = 0
    compile: dict[str, dict[str, Cell]] = field(default_factory=dict)
    """scenario -> tool -> cell"""
    sync: dict[str, dict[str, Cell]] = field(default_factory=dict)
    launch: list[launch.LaunchRow] = field(default_factory=list)
    read: list[lock_read.ReadRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Bench:
    """Runs the scenarios against one index; owns the scratch folder."""

    def __init__(
        self, index: BenchIndex, files: list[corpus.CorpusFile], runs: int, scratch: Path, launch_runs: int
    ) -> None:
        self.index = index
        self.files = files
        self.runs = runs
        self.launch_runs = launch_runs
        self.scratch = scratch
        self._counter = 0

    def fresh(self, label: str) -> Path:
        self._counter += 1
        path = self.scratch / f"{self._counter:04d}-{label}"
        path.mkdir(parents=True)
        return path

    def measure(self, cell: Cell, cmd: list[str], cwd: Path, box: tools.Sandbox) -> bool:
        self.index.take_stats()
        result = tools.timed(cmd, cwd=cwd, env=box.env())
        stats = self.index.take_stats()
        if not result.ok:
            cell.failure = result.detail
            say(f"    FAILED: {result.detail}")
            return False
        cell.seconds.append(result.seconds)
        cell.requests.append(stats.requests)
        say(f"    {result.seconds:8.3f} s  {stats.requests:4d} requests  {stats.bytes_sent / 1e6:7.1f} MB")
        return True

    # -- compile ------------------------------------------------------------------------------------------

    def compile_set(self, set_name: str, tool_list: list[Tool], result: SetResult) -> None:
        src_text = corpus.set_file(set_name).read_text()
        scenarios = ("cold cache", "warm cache", "warm, lock kept")
        for scenario in scenarios:
            result.compile.setdefault(scenario, {})
        for tool in tool_list:
            cells = {s: result.compile[s].setdefault(tool.name, Cell()) for s in scenarios}
            if not tool.compile_available:
                for cell in cells.values():
                    cell.skipped = "not available"
                continue
            work = self.fresh(f"compile-{set_name}-{tool.name}")
            src = work / "requirements.in"
            src.write_text(src_text)
            out = work / ("pylock.toml" if tool.name == "envlock" else "requirements.txt")
            box = tools.Sandbox(work / "box")
            say(f"  compile {set_name} / {tool.name} / cold cache")
            for _ in range(self.runs):
                box = tools.Sandbox(self.fresh(f"box-{tool.name}"))
                out.unlink(missing_ok=True)
                if not self.measure(
                    cells["cold cache"], tool.compile(src, out, self.index.url, box), work, box
                ):
                    break
            say(f"  compile {set_name} / {tool.name} / warm cache")
            for _ in range(self.runs):
                out.unlink(missing_ok=True)
                if not self.measure(
                    cells["warm cache"], tool.compile(src, out, self.index.url, box), work, box
                ):
                    break
            say(f"  compile {set_name} / {tool.name} / warm cache, previous output kept")
            for _ in range(self.runs):
                if not out.exists():
                    cells["warm, lock kept"].skipped = "no output from the previous scenario"
                    break
                if not self.measure(
                    cells["warm, lock kept"], tool.compile(src, out, self.index.url, box), work, box
                ):
                    break

    # -- sync ---------------------------------------------------------------------------------------------

    def reference_pins(self, set_name: str, result: SetResult) -> dict[str, str] | None:
        """The resolved set every sync installs: pip-compile's pins (uv's if pip-tools fails)."""
        work = self.fresh(f"pins-{set_name}")
        src = work / "requirements.in"
        src.write_text(corpus.set_file(set_name).read_text())
        for name, command in (("pip-tools", tools.pip_compile), ("uv", tools.uv_compile)):
            out = work / f"{name}.txt"
            box = tools.Sandbox(self.fresh("box-pins"))
            run = tools.timed(command(src, out, self.index.url, box), cwd=work, env=box.env())
            if run.ok:
                pins = report.read_pins(out.read_text())
                result.packages = len(pins)
                return pins
            result.notes.append(f"{name} could not compile the set: {run.detail}")
        return None

    def write_locks(self, pins: dict[str, str], work: Path, tool_list: list[Tool]) -> dict[str, Path] | str:
        """Hashed requirements.txt for pip-sync and uv; pylock.toml for envlock (its own, else uv's)."""
        work.mkdir(parents=True, exist_ok=True)
        req = work / "requirements.txt"
        req.write_text(report.hashed_requirements(pins, self.files))
        pins_in = work / "pins.in"
        pins_in.write_text("".join(f"{name}=={version}\n" for name, version in sorted(pins.items())))
        lock = work / "pylock.toml"
        envlock = next(t for t in tool_list if t.name == "envlock")
        box = tools.Sandbox(self.fresh("box-lock"))
        if envlock.compile_available:
            cmd = tools.envlock_compile(pins_in, lock, self.index.url, box)
        else:
            cmd = [*tools.uv_compile(pins_in, lock, self.index.url, box), "--format", "pylock.toml"]
        run = tools.timed(cmd, cwd=work, env=box.env())
        if not run.ok:
            return f"could not write pylock.toml for envlock: {run.detail}"
        return {"requirements": req, "pylock": lock}

    def new_venv(self, with_pip: bool, previous: Path | None = None) -> Path:
        """A new empty venv; the previous one is deleted first (a data-science venv is ~0.5 GB)."""
        if previous is not None and previous != Path():
            shutil.rmtree(previous.parent, ignore_errors=True)
        venv = self.fresh("venv") / "venv"
        cmd = [str(tools.DEV_PYTHON), "-m", "venv", *([] if with_pip else ["--without-pip"]), str(venv)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=300)
        return venv

    def sync_set(self, set_name: str, tool_list: list[Tool], result: SetResult) -> None:
        """Each scenario's runs with the tools alternated run by run (the disk's writeback after one
        tool's run lands on the next tool's, not on the same tool's next run); each tool keeps its own
        cache and venv from one scenario to the next."""
        for scenario in SYNC_SCENARIOS:
            result.sync.setdefault(scenario, {})
        pins_a = self.reference_pins(set_name, result)
        if pins_a is None:
            for scenario in SYNC_SCENARIOS:
                for tool in tool_list:
                    result.sync[scenario][tool.name] = Cell(failure="no resolved set to sync")
            return
        changed = CHANGED_PACKAGE[set_name]
        older = report.previous_version(changed, pins_a[changed], self.files)
        pins_b = dict(pins_a, **({changed: older} if older else {}))
        if older:
            result.notes.append(f"one-package change: {changed} {pins_a[changed]} -> {older}")
        locks_a = self.write_locks(pins_a, self.fresh("locks-a"), tool_list)
        locks_b = self.write_locks(pins_b, self.fresh("locks-b"), tool_list)
        runs: list[_SyncRun] = []
        for tool in tool_list:
            cells = {s: result.sync[s].setdefault(tool.name, Cell()) for s in SYNC_SCENARIOS}
            if not tool.sync_available or isinstance(locks_a, str) or isinstance(locks_b, str):
                for cell in cells.values():
                    if not tool.sync_available:
                        cell.skipped = "not available"
                    else:
                        cell.failure = locks_a if isinstance(locks_a, str) else str(locks_b)
                continue
            kind = "pylock" if tool.name == "envlock" else "requirements"
            runs.append(_SyncRun(tool, cells, locks_a[kind], locks_b[kind], tools.Sandbox(self.fresh("box"))))
        if not older:
            for run in runs:
                run.cells["one-package change"].skipped = f"no older {changed} in the corpus"
        for scenario in SYNC_SCENARIOS:
            say(f"  sync {set_name} / {scenario} / {', '.join(run.tool.name for run in runs)} alternated")
            for _ in range(self.runs):
                for run in runs:
                    if run.cells[scenario].failure is None and run.cells[scenario].skipped is None:
                        self._sync_once(run, scenario)
            for run in runs:
                self._after_scenario(run, scenario, pins_a, result)
        for run in runs:
            shutil.rmtree(run.venv.parent, ignore_errors=True)

    def _sync_once(self, run: _SyncRun, scenario: str) -> None:
        """One timed run of ``scenario`` by ``run.tool`` (a failure marks the cell: no more runs of it)."""
        cell = run.cells[scenario]
        if scenario == "fresh venv, cold cache":
            shutil.rmtree(run.box.root, ignore_errors=True)
            run.box = tools.Sandbox(self.fresh(f"box-{run.tool.name}"))
        if scenario.startswith("fresh venv"):
            run.venv = self.new_venv(run.tool.venv_with_pip, run.venv)
        lock = run.lock_b if scenario == "one-package change" else run.lock_a
        command = run.tool.sync
        if scenario == "new venv, warm cache":
            shutil.rmtree(run.venv.parent, ignore_errors=True)
            run.venv, command = self.fresh("new") / "venv", run.tool.new
        if not self.measure(
            cell, command(lock, run.venv, self.index.url, run.box), run.lock_a.parent, run.box
        ):
            return
        if scenario == "one-package change":
            back = tools.timed(
                run.tool.sync(run.lock_a, run.venv, self.index.url, run.box),
                cwd=run.lock_a.parent,
                env=run.box.env(),
            )
            if not back.ok:
                cell.failure = f"sync back to the original lock failed: {back.detail}"

    def _after_scenario(
        self, run: _SyncRun, scenario: str, pins_a: dict[str, str], result: SetResult
    ) -> None:
        """The venv checked against the lock after the scenarios that leave it synced; later scenarios
        skipped when there is no synced venv."""
        cell = run.cells[scenario]
        if scenario == "fresh venv, warm cache" and cell.failure is not None:
            for later in ("no-op", "one-package change", "new venv, warm cache"):
                run.cells[later].skipped = "no synced venv"
        if cell.failure is not None or cell.skipped is not None or scenario == "no-op":
            return
        problem = report.compare_venv(run.venv, pins_a, IGNORED_IN_VENV)
        if problem:
            after = "after switching back" if scenario == "one-package change" else f"({scenario})"
            result.notes.append(f"{run.tool.name} sync {after}: the venv does not match the lock: {problem}")

    # -- launcher ------------------------------------------------------------------------------------------

    def launch_set(self, set_name: str, tool_list: list[Tool], result: SetResult) -> None:
        """The launcher row: a venv synced by envlock, its launchers against the venv's python."""
        pins = self.reference_pins(set_name, result)
        locks = None if pins is None else self.write_locks(pins, self.fresh("locks-launch"), tool_list)
        if not isinstance(locks, dict):
            result.notes.append(f"launcher: no lock to sync ({locks or 'no resolved set'})")
            return
        box = tools.Sandbox(self.fresh("box-launch"))
        venv = self.new_venv(with_pip=False)
        lock = locks["pylock"]
        synced = tools.timed(
            tools.envlock_sync(lock, venv, self.index.url, box), cwd=lock.parent, env=box.env()
        )
        if not synced.ok:
            result.notes.append(f"launcher: envlock sync failed: {synced.detail}")
            return
        say(f"  launcher {set_name} / {self.launch_runs} runs each")
        result.launch = launch.measure(venv, self.fresh("launch"), self.launch_runs, box)
        shutil.rmtree(venv.parent, ignore_errors=True)

    def read_set(self, set_name: str, result: SetResult) -> None:
        """The lock-reading rows: envlock's lock of the set, and one with the changed package held below
        its pin (so diff has a move to show), read by why, tree and diff."""
        work = self.fresh(f"read-{set_name}")
        box = tools.Sandbox(self.fresh("box-read"))
        changed = CHANGED_PACKAGE[set_name]
        src = work / "requirements.in"
        src.write_text(corpus.set_file(set_name).read_text())
        new, old = work / "pylock.toml", work / "old.toml"
        # relative input names: the locks' via labels are then alike (-r requirements.in)
        made = tools.timed(
            tools.envlock_compile(Path(src.name), new, self.index.url, box), cwd=work, env=box.env()
        )
        pins = lock_read.lock_pins(new) if made.ok else {}
        if not made.ok or changed not in pins:
            result.notes.append(
                f"reading the lock: no lock to read ({made.detail or changed + ' not locked'})"
            )
            return
        held = work / "old" / "requirements.in"  # the same input's name: diff shows the one move
        held.parent.mkdir()
        held.write_text(src.read_text() + f"{changed}<{pins[changed]}\n")
        older = tools.timed(
            tools.envlock_compile(Path(held.name), old, self.index.url, box), cwd=held.parent, env=box.env()
        )
        if not older.ok:
            result.notes.append(f"reading the lock: diff compares the lock with itself ({older.detail})")
            shutil.copy(new, old)
        say(f"  reading the lock {set_name} / {self.runs} runs each")
        result.read = lock_read.measure(old, new, changed, max(self.runs, 5), box.env())


def contenders() -> list[Tool]:
    return [
        Tool(
            "envlock",
            tools.envlock_compile,
            tools.envlock_sync,
            tools.envlock_sync,
            tools.envlock_has("compile"),
            tools.envlock_has("sync"),
            venv_with_pip=False,
        ),
        Tool("pip-tools", tools.pip_compile, tools.pip_sync, tools.pip_new, True, True, venv_with_pip=True),
        Tool("uv", tools.uv_compile, tools.uv_sync, tools.uv_new, True, True, venv_with_pip=False),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="timed runs per tool and scenario (default 3)")
    parser.add_argument("--set", default="all", choices=[*corpus.set_names(), "all"])
    parser.add_argument(
        "--only", choices=["compile", "sync", "launch", "read"], help="run only one benchmark"
    )
    parser.add_argument(
        "--launch-runs", type=int, default=20, help="runs of each launcher and direct start (default 20)"
    )
    parser.add_argument(
        "--tools",
        default="envlock,pip-tools,uv",
        help="comma-separated contenders (default all; envlock always runs: it writes the locks)",
    )
    parser.add_argument("--refresh-corpus", action="store_true", help="re-resolve the corpus from PyPI")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (venvs, caches, locks)")
    args = parser.parse_args(argv)
    if not (tools.DEV_BIN / "pip-compile").exists() or not (tools.DEV_BIN / "uv").exists():
        say(f"error: pip-tools and uv must be installed in {tools.DEV_BIN.parent}: run")
        say(f"  {tools.DEV_BIN / 'python'} -m pip install pip-tools uv")
        return 2
    try:
        files = corpus.build(str(tools.DEV_PYTHON), refresh=args.refresh_corpus, say=say)
    except corpus.CorpusError as exc:
        say(f"error: {exc}")
        return 1
    say(f"corpus: {corpus.summary(files)}")
    wanted = {"envlock", *(name.strip() for name in args.tools.split(","))}
    tool_list = [tool for tool in contenders() if tool.name in wanted]
    for tool in tool_list:
        if not (tool.compile_available and tool.sync_available):
            say(
                f"note: {tool.name}: compile {'ok' if tool.compile_available else 'not available'}, "
                f"sync {'ok' if tool.sync_available else 'not available'}"
            )
    set_list = corpus.set_names() if args.set == "all" else [args.set]
    scratch = Path(tempfile.mkdtemp(prefix="envlock-bench-"))
    started = time.time()
    load_before = os.getloadavg()[0]
    results: list[SetResult] = []
    try:
        with BenchIndex(files) as index:
            say(f"index: {index.url}")
            bench = Bench(index, files, args.runs, scratch, args.launch_runs)
            for set_name in set_list:
                result = SetResult(set_name)
                results.append(result)
                if args.only in (None, "compile"):
                    bench.compile_set(set_name, tool_list, result)
                if args.only in (None, "sync"):
                    bench.sync_set(set_name, tool_list, result)
                if args.only in (None, "launch"):
                    bench.launch_set(set_name, tool_list, result)
                if args.only in (None, "read"):
                    bench.read_set(set_name, result)
        load = (load_before, os.getloadavg()[0])
        text = report.render(results, files, args.runs, time.time() - started, load)
        if any(result.launch for result in results):
            rows = {result.name: result.launch for result in results if result.launch}
            text += "\n" + "\n".join(launch.render(rows, args.launch_runs)) + "\n"
        if any(result.read for result in results):
            read_rows = {result.name: result.read for result in results if result.read}
            text += "\n" + "\n".join(lock_read.render(read_rows, max(args.runs, 5))) + "\n"
        print(text)
        say(f"written: {report.write(text)}")
    finally:
        if args.keep:
            say(f"scratch kept: {scratch}")
        else:
            say(f"deleting {scratch}")
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
