"""The differential bench: one project (pyproject.toml and requirements.in, a lock compiled from both, a
venv synced to it) built once, and each example run twice from a copy of it at the same absolute path:
*fast* (memos on, the command run once first so they are written) and *full* (``ENVLOCK_NO_MEMO=1``,
so every fast path declines and every remembered answer misses). ``disagreement`` compares the two.

Copies keep every file's size and mtime (``copy2``) and every symlink, so the stamp's and the memos'
stat identities hold in the copy as they did when they were written; the absolute path is the same, so
every key made of paths is the same too. What differs (inode numbers) only makes a memo miss."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from envlock import runtime
from envlock.cache_dir import NO_MEMO
from tests.kit.dists import DistSpec, build_sdist, build_wheel
from tests.kit.index import KitIndex
from tests.kit.plugin import ENVLOCK_SOURCE
from tests.kit.synced import install_wheels

PYPROJECT = """\
[project]
name = "app"
version = "1"
dependencies = ["alpha"]

[project.optional-dependencies]
fast = ["gamma"]

[dependency-groups]
dev = ["delta"]
"""
REQUIREMENTS = "beta>=1  # the base\n./lib\n"
LIB = DistSpec("lib", "1.0", requires=("beta>=1",), sdist=True)
"""A project folder of the base project (``./lib``), built by the kit's in-tree backend from its
``kit-spec.json``, which ``cache-keys`` names (docs/compile.md)."""
LIB_PYPROJECT = """
[project]
name = "lib"
dynamic = ["version", "dependencies"]

[tool.envlock]
cache-keys = ["kit-spec.json"]
"""
SPECS = (
    DistSpec("alpha", "1.0", requires=("beta>=1",)),
    DistSpec("alpha", "2.0", requires=("beta>=2",)),
    DistSpec("beta", "1.0"),
    DistSpec("beta", "2.0"),
    DistSpec("gamma", "1.0"),
    DistSpec("delta", "1.0"),
    DistSpec("delta", "1.1rc1"),
    DistSpec("epsilon", "1.0"),
)
EXTRA_DIST = DistSpec("zeta", "1.0")
"""A distribution no lock names, installed into the venv by hand (a drift)."""
BASE_COMPILE = ("compile", "requirements.in", "pyproject.toml", "--extra", "fast", "--group", "dev")

_ELAPSED = re.compile(r" in \d+\.\d+s\b")
_JSON_ELAPSED = re.compile(r'"elapsed": [0-9.e-]+')
_MEMO_SAVED_WORK = re.compile(r"(?m)^building metadata of .*\n")


@dataclass(frozen=True)
class Outcome:
    """What one ``envlock`` run said: its exit code, stdout and stderr (normalised: ``normalised``)."""

    code: int
    stdout: str
    stderr: str
    state: str = ""
    """What the run left: the locks' sha256 and each venv's dist-info folders (``Bench.state``)."""


def normalised(text: str) -> str:
    """``text`` with what legitimately differs between two runs masked: elapsed times (``... in 0.12s``:
    the sync summary, a build's line; ``"elapsed": 0.412`` in ``sync --json``), and ``compile -v``'s
    ``building metadata of NAME`` line, which reports a build the metadata memo saves (what the answer
    cost, as a time does, not what it is). Nothing else: paths are the same on both sides (the same
    folder), and so are the cache's contents before the run."""
    text = _MEMO_SAVED_WORK.sub("", text)
    return _JSON_ELAPSED.sub('"elapsed": <t>', _ELAPSED.sub(" in <t>s", text))


def disagreement(fast: Sequence[Outcome], full: Sequence[Outcome]) -> str | None:
    """Where the fast runs' answers differ from the full runs' (run by run), or None when they agree."""
    for number, (one, other) in enumerate(zip(fast, full, strict=True), start=1):
        if one != other:
            return f"run {number}: fast {one!r}\n       full {other!r}"
    return None


@dataclass(frozen=True)
class Step:
    """One edit of an example, named (hypothesis prints a failing example's steps by name)."""

    label: str
    action: Callable[[Bench], object]

    def __call__(self, bench: Bench) -> None:
        self.action(bench)

    def __repr__(self) -> str:
        return self.label


@dataclass(frozen=True, repr=False)
class Bench:
    """The base project (``snapshot``), the folder each example runs in (``work``), the index."""

    snapshot: Path
    work: Path
    index: KitIndex
    env: dict[str, str]

    @property
    def project(self) -> Path:
        return self.work / "project"

    @property
    def venv(self) -> Path:
        return self.project / ".venv"

    @property
    def cache(self) -> Path:
        return self.work / "cache"

    def __repr__(self) -> str:
        return f"Bench({self.work})"

    def reset(self) -> None:
        """The work folder as the snapshot is (sizes, mtimes and symlinks kept)."""
        if self.work.exists():
            shutil.rmtree(self.work)
        shutil.copytree(self.snapshot, self.work, symlinks=True)

    def run(self, args: Sequence[str], *, memo: bool = True) -> Outcome:
        env = self.env if memo else {**self.env, NO_MEMO: "1"}
        result = subprocess.run(
            [sys.executable, "-m", "envlock", *args],
            cwd=self.project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        return Outcome(result.returncode, normalised(result.stdout), normalised(result.stderr), self.state())

    def state(self) -> str:
        """The locks' sha256 and the dist-info folders of each venv in the project: what a fast path
        must leave as the full path does."""
        locks = [
            f"{p.name}={hashlib.sha256(p.read_bytes()).hexdigest()[:12]}" for p in self.project.glob("*.toml")
        ]
        pattern = "lib/python*/site-packages/*.dist-info"
        venvs = [
            f"{venv.name}:{','.join(sorted(d.name for d in venv.glob(pattern)))}"
            for venv in (self.venv, self.project / "other-venv")
        ]
        return " ".join(sorted(locks) + venvs)

    def outcomes(
        self,
        args: Sequence[str],
        edits: Sequence[Step],
        *,
        memo: bool,
        plant: Callable[[Bench], object] | None = None,
    ) -> tuple[Outcome, Outcome]:
        """From the snapshot: ``args`` run (writing its memos, when ``memo``), ``edits`` made (then
        ``plant``, a test's wrong memo), ``args`` run again; both answers."""
        self.reset()
        first = self.run(args, memo=memo)
        for edit in edits:
            edit(self)
        if plant is not None:
            plant(self)
        return first, self.run(args, memo=memo)

    def site_packages(self) -> Path:
        found = sorted((self.venv / "lib").glob("python*/site-packages"))
        assert len(found) == 1, found
        return found[0]


def hermetic_env(root: Path, index: KitIndex, cache: Path) -> dict[str, str]:
    """The environment every run has: the isolation the kit's ``isolated`` fixture gives a test (made
    here: this bench outlives one test), the kit index as ``ENVLOCK_INDEX_URL``."""
    home = root / "home"
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "USERPROFILE": str(home),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "ENVLOCK_CACHE_DIR": str(cache),
        "ENVLOCK_INDEX_URL": index.url,
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INPUT": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "UV_NO_CONFIG": "1",
        "PYTHONPATH": ENVLOCK_SOURCE,
        "PYTHONIOENCODING": "utf-8",
        "LC_ALL": "C.UTF-8",
    }


def build_bench(root: Path, index: KitIndex) -> Bench:
    """The base project compiled and synced in ``root/work``, then copied to ``root/base``."""
    index.publish(*SPECS)
    work = root / "work"
    bench = Bench(root / "base", work, index, hermetic_env(root, index, work / "cache"))
    bench.project.mkdir(parents=True)
    (bench.project / "pyproject.toml").write_text(PYPROJECT)
    (bench.project / "requirements.in").write_text(REQUIREMENTS)
    lib_folder(bench.project / "lib", bench.work / "sdists")
    for args in (BASE_COMPILE, ("sync",)):
        result = bench.run(args)
        assert result.code == 0, result
    shutil.copytree(work, bench.snapshot, symlinks=True)
    return bench


def lib_folder(folder: Path, scratch: Path) -> None:
    """``LIB``'s sdist unpacked into ``folder``, its pyproject.toml naming it and its ``cache-keys``."""
    with tarfile.open(build_sdist(LIB, scratch)) as archive:
        archive.extractall(scratch, filter="data")
    shutil.move(scratch / "lib-1.0", folder)
    with (folder / "pyproject.toml").open("a") as handle:
        handle.write(LIB_PYPROJECT)


# ---------------------------------------------------------------------------------------------------
# Edits: each a function of the bench, the same on both sides (no clock: fixed mtimes).


def _shift_mtime(path: Path, seconds: float) -> None:
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + int(seconds * 1e9)))


def edit_text(name: str, change: Callable[[str], str], *, keep_mtime: bool = False) -> Step:
    """``name`` (in the project) rewritten by ``change``; ``keep_mtime``: its old mtime put back (a tool
    that restores times, a checkout)."""

    def apply(bench: Bench) -> None:
        path = bench.project / name
        if not path.is_file():  # deleted by an earlier step
            return
        info = path.stat()
        path.write_text(change(path.read_text()))
        if keep_mtime:
            os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))

    kept = ", mtime kept" if keep_mtime else ""
    return Step(f"{name}: {getattr(change, '__name__', change)}{kept}", apply)


def touched(name: str, seconds: float) -> Step:
    """``name``'s mtime moved by ``seconds`` (forwards: a touch; backwards), its bytes unchanged."""

    def apply(bench: Bench) -> None:
        if (bench.project / name).is_file():
            _shift_mtime(bench.project / name, seconds)

    return Step(f"{name}: mtime {seconds:+}s", apply)


def created(name: str, text: str) -> Step:
    def apply(bench: Bench) -> None:
        (bench.project / name).write_text(text)

    return Step(f"{name}: created", apply)


def deleted(name: str) -> Step:
    def apply(bench: Bench) -> None:
        path = bench.project / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)

    return Step(f"{name}: deleted", apply)


def replace(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    def change(text: str) -> str:
        return text.replace(old, new, count)

    change.__name__ = f"replace({old!r}, {new!r})"
    return change


def append(line: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        return text + line

    change.__name__ = f"append({line!r})"
    return change


def _blocks(text: str) -> list[str]:
    """The lock's text cut before each ``[[packages]]`` header (the first piece: the lock's head)."""
    return re.split(r"(?m)^(?=\[\[packages\]\]\n)", text)


def _tail_split(block: str) -> tuple[str, str]:
    """A last package block and whatever table follows it (``[tool.envlock]``)."""
    cut = re.search(r"(?m)^\[(?!packages)(?!\[packages)", block)
    return (block, "") if cut is None else (block[: cut.start()], block[cut.start() :])


def lock_packages(change: str) -> Callable[[str], str]:
    """The lock's package blocks reordered (``swap``), one removed (``drop``) or one duplicated under
    another name (``add``)."""

    def apply(text: str) -> str:
        head, *packages = _blocks(text)
        if not packages:
            return text
        last, tail = _tail_split(packages[-1])
        packages[-1] = last
        packages = [p if p.endswith("\n\n") else p.rstrip("\n") + "\n\n" for p in packages]
        if change == "swap" and len(packages) > 1:
            packages[0], packages[1] = packages[1], packages[0]
        elif change == "drop":
            packages = packages[1:]
        elif change == "add":
            packages.append(re.sub(r'(?m)^name = "[^"]+"', 'name = "omega"', packages[0], count=1))
        return head + "".join(packages) + tail

    apply.__name__ = f"lock_packages({change!r})"
    return apply


def flip_hash(text: str) -> str:
    """The first sha256 in the lock with its first digit changed."""
    found = re.search(r'sha256 = "([0-9a-f])', text)
    if found is None:
        return text
    digit = "0" if found.group(1) != "0" else "1"
    return text[: found.start(1)] + digit + text[found.end(1) :]


def escape_name(text: str) -> str:
    """The first package name spelt with a TOML escape (the same TOML document)."""
    return re.sub(r'(?m)^name = "(\w)', lambda m: f'name = "\\u{ord(m.group(1)):04x}', text, count=1)


def venv_drift(kind: str) -> Step:
    """A change made to the synced venv behind envlock's back."""

    def apply(bench: Bench) -> None:
        site = bench.site_packages()
        if kind == "dist-info removed":
            for found in site.glob("beta-*.dist-info"):
                shutil.rmtree(found)
        elif kind == "file changed":
            path = site / "alpha" / "__init__.py"
            path.write_text(path.read_text() + "# edited\n")
        elif kind == "file changed, same size":
            path = site / "alpha" / "__init__.py"
            info = path.stat()
            text = path.read_text()
            path.write_text(text.replace("__version__", "__VERSION__", 1))
            os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
        elif kind == "extra dist installed":
            install_wheels(
                Path(runtime.venv_python(bench.venv)), [build_wheel(EXTRA_DIST, bench.work / "wheels")]
            )
        elif kind == "RECORD touched":  # as a reinstall by another tool leaves it
            for found in site.glob("alpha-*.dist-info"):
                _shift_mtime(found / "RECORD", 5)
        elif kind == "stamp removed":
            Path(runtime.stamp_path(bench.venv)).unlink()
        elif kind == "stamp edited":
            path = Path(runtime.stamp_path(bench.venv))
            data = json.loads(path.read_text())
            data["distributions"] = data["distributions"][1:]
            path.write_text(json.dumps(data))
        elif kind == "stamp torn":
            path = Path(runtime.stamp_path(bench.venv))
            path.write_bytes(path.read_bytes()[:40])
        elif kind == "interrupted sync":
            Path(runtime.marker_path(bench.venv)).write_text("{}")
        elif kind == "rebuild left beside":
            (bench.project / f"{runtime.sibling_prefix(bench.venv)}staging").mkdir()
        else:
            raise AssertionError(kind)

    return Step(f"venv: {kind}", apply)


VENV_DRIFTS = (
    "dist-info removed",
    "file changed",
    "file changed, same size",
    "extra dist installed",
    "RECORD touched",
    "stamp removed",
    "stamp edited",
    "stamp torn",
    "interrupted sync",
    "rebuild left beside",
)
