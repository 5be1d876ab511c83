"""Hostile local input (issue #10): a venv's ``.pth`` files never run while envlock inspects the venv;
requirements and pyproject inputs are read only when they are regular files of sane size; a sync
waiting for another sync's venv lock says so and gives up; export and import refuse malformed hashes
and duplicate packages. Every case goes through the real CLI where a user would meet it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from filelock import FileLock

from envlock.env.interpreter import PROBE_SCRIPT, probe
from envlock.errors import LockFileError, RequirementsFileError
from envlock.guard import stamp_writer
from envlock.inputs.config import MAX_INPUT_BYTES, read_input_text
from envlock.inputs.requirements_file import read_requirements_files
from envlock.lock.export import ExportOptions, export_requirements
from envlock.lock.importer import parse as parse_import
from envlock.lock.lockfile import lock_from_dict
from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import PythonMap, RunEnvlock, VenvFactory
from tests.kit.sync_locks import lock_for, write_lock_dict
from tests.kit.venvs import venv_python

VENV = Path(".venv")
POSIX_ONLY = pytest.mark.skipif(os.name == "nt", reason="FIFOs and /dev/zero are POSIX")


def site_packages(venv: Path) -> Path:
    """The venv's site-packages by layout: tests.kit's helper asks the venv's Python, which would run
    the very .pth files these tests plant."""
    if os.name == "nt":
        return venv / "Lib" / "site-packages"
    return next((venv / "lib").glob("python3.*/site-packages"))


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert "Traceback" not in result.stdout, result.stdout


# ---------------------------------------------------------------------------------------------------
# 1. inspecting a venv runs none of its code


def evil_pth(sentinel: Path) -> DistSpec:
    """A wheel shipping ``evil.pth``: site.py executes its ``import`` line in every Python that runs
    site.py on that site-packages, which is what a malicious wheel would use."""
    line = f"import sys; open({str(sentinel)!r}, 'a').write(repr(sys.argv) + chr(10))\n"
    return DistSpec("evil", "1.0", files={"evil.pth": line.encode(), "evil/__init__.py": b""})


def test_no_pth_runs_in_sync_check_or_doctor(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    sentinel = tmp_path / "pth-ran"
    evil, plain = evil_pth(sentinel), DistSpec("plain", "1.0")
    write_lock_dict(Path("pylock.toml"), lock_for(kit_index, [evil]))
    first = run_envlock("sync")
    assert first.returncode == 0, first.stderr
    assert (site_packages(VENV) / "evil.pth").is_file()
    assert not sentinel.exists(), sentinel.read_text()

    # a patch sync probes the existing venv (and writes the stamp, which asks the interpreter again)
    write_lock_dict(Path("pylock.toml"), lock_for(kit_index, [evil, plain]))
    commands: list[tuple[str, ...]] = [
        ("sync",),
        ("sync", "--verify"),
        ("sync",),  # the no-op path
        ("check",),
        ("check", "--deep"),
        ("doctor",),
    ]
    for args in commands:
        result = run_envlock(*args)
        no_traceback(result)
        assert result.returncode in (0, 1), (args, result.stderr)
        assert not sentinel.exists(), f"envlock {' '.join(args)} ran the venv's .pth"

    # the .pth is live: the venv's own Python, started normally (as envlock run does), runs it
    subprocess.run([str(venv_python(VENV)), "-c", "pass"], check=True)
    assert sentinel.exists()


def test_probe_finds_the_venv_without_running_its_pth(venv_factory: VenvFactory, tmp_path: Path) -> None:
    venv = venv_factory()
    sentinel = tmp_path / "pth-ran"
    (site_packages(venv) / "evil.pth").write_text(f"import os; open({str(sentinel)!r}, 'a').close()\n")
    info = probe(venv_python(venv))
    assert not sentinel.exists()
    assert info.is_venv
    assert Path(info.prefix) == venv.absolute()
    assert Path(info.scheme.purelib) == site_packages(venv).absolute()


def _probe_pythons(available_pythons: PythonMap) -> list[Path]:
    """This Python and every CPython >= 3.8 found (the versions the probe supports)."""
    found = [
        path
        for version, path in available_pythons().items()
        if tuple(int(part) for part in version.split(".")[:2]) >= (3, 8)
    ]
    return sorted({Path(sys.executable), *found})


def test_probe_answers_the_same_with_and_without_site(
    venv_factory: VenvFactory, available_pythons: PythonMap
) -> None:
    """-I -S (site.py skipped, the venv found by the probe) answers exactly what -I (site.py run) did,
    for fresh venvs and for their base interpreters, on every Python on this machine; so do the stamp's
    interpreter facts and doctor's site folders."""
    for base in _probe_pythons(available_pythons):
        venv = venv_factory(base)
        for python in (venv_python(venv), base):

            def answer(*command: str, python: Path = python) -> object:
                done = subprocess.run([str(python), *command], capture_output=True, text=True, check=True)
                return json.loads(done.stdout)

            facts = answer("-I", "-S", str(PROBE_SCRIPT))
            assert facts == answer("-I", str(PROBE_SCRIPT)), python
            assert isinstance(facts, dict)
            if python != base:
                assert facts["is_venv"] and facts["prefix"] == str(venv.absolute()), python
            # what the probe computed before it ran with -S: site.py's sys.prefix and its scheme
            old_prefix, old_paths = answer("-I", "-c", _OLD_SCHEME)  # type: ignore[misc]
            assert facts["prefix"] == old_prefix, python
            assert facts["paths"] == old_paths, python
            assert answer("-I", "-S", "-c", stamp_writer._INTERPRETER_SCRIPT) == answer(
                "-I", "-c", _OLD_STAMP_SCRIPT
            ), python
            assert answer("-I", "-S", str(PROBE_SCRIPT), "--site-dirs") == answer(
                "-I", "-c", _OLD_SITE_DIRS
            ), python


_OLD_SCHEME = (
    "import json, os, sys, sysconfig\n"
    "scheme = 'nt' if os.name == 'nt' else 'posix_prefix'\n"
    "v = {'base': sys.prefix, 'platbase': sys.prefix, 'installed_base': sys.prefix}\n"
    "p = sysconfig.get_paths(scheme=scheme, vars=v)\n"
    "keys = {'purelib': 'purelib', 'platlib': 'platlib', 'scripts': 'scripts', 'data': 'data',"
    " 'headers': 'include'}\n"
    "print(json.dumps([sys.prefix, {k: p[v] for k, v in keys.items()}]))\n"
)
_OLD_STAMP_SCRIPT = (
    "import json, sys, sysconfig\n"
    "print(json.dumps({'version': '%d.%d.%d' % sys.version_info[:3],"
    " 'implementation': sys.implementation.name,"
    " 'paths': sorted({sysconfig.get_path('purelib'), sysconfig.get_path('platlib')})}))\n"
)
_OLD_SITE_DIRS = (
    "import json, site, sysconfig; print(json.dumps(sorted({sysconfig.get_path('purelib'),"
    " sysconfig.get_path('platlib'), site.getusersitepackages()})))"
)


# ---------------------------------------------------------------------------------------------------
# 2. requirements and pyproject inputs: regular files of sane size only


def _fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def _huge(path: Path) -> Path:
    with open(path, "wb") as handle:  # sparse: no 16 MiB written to disk
        handle.truncate(MAX_INPUT_BYTES + 1)
    return path


@POSIX_ONLY
@pytest.mark.parametrize("option", ["-r", "-c"])
@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "directory", "huge"])
def test_included_input_that_is_not_a_sane_file(
    tmp_path: Path, run_envlock: RunEnvlock, option: str, kind: str
) -> None:
    target = {
        "dev-zero": lambda: Path("/dev/zero"),
        "fifo": lambda: _fifo(tmp_path / "pipe.in"),
        "directory": lambda: tmp_path,
        "huge": lambda: _huge(tmp_path / "huge.in"),
    }[kind]()
    Path("requirements.in").write_text(f"# inputs\n{option} {target}\n")
    with pytest.raises(RequirementsFileError) as raised:
        read_requirements_files([Path("requirements.in")], {}, base=Path.cwd())
    message = raised.value.message
    assert str(target) in message and "requirements.in:2" in message, message
    result = run_envlock("compile", "--index-url", "http://127.0.0.1:9/simple/", "requirements.in")
    no_traceback(result)
    assert result.returncode == 2, result.stderr
    assert str(target) in result.stderr and "requirements.in:2" in result.stderr


@POSIX_ONLY
@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "huge"])
def test_input_on_the_command_line_that_is_not_a_sane_file(
    tmp_path: Path, run_envlock: RunEnvlock, kind: str
) -> None:
    target = {
        "dev-zero": lambda: Path("/dev/zero"),
        "fifo": lambda: _fifo(tmp_path / "pipe.in"),
        "huge": lambda: _huge(tmp_path / "huge.in"),
    }[kind]()
    result = run_envlock("compile", "--index-url", "http://127.0.0.1:9/simple/", str(target))
    no_traceback(result)
    assert result.returncode == 2, result.stderr
    assert str(target) in result.stderr


@POSIX_ONLY
@pytest.mark.parametrize("kind", ["fifo", "huge"])
def test_pyproject_that_is_not_a_sane_file(tmp_path: Path, run_envlock: RunEnvlock, kind: str) -> None:
    folder = tmp_path / "project"
    folder.mkdir()
    target = _fifo(folder / "pyproject.toml") if kind == "fifo" else _huge(folder / "pyproject.toml")
    result = run_envlock("compile", "--index-url", "http://127.0.0.1:9/simple/", str(target))
    no_traceback(result)
    assert result.returncode == 2, result.stderr
    assert "pyproject.toml" in result.stderr


def test_a_normal_input_file_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "ok.in"
    path.write_text("alpha==1.0\n")
    assert read_input_text(path, "ok.in") == "alpha==1.0\n"
    with pytest.raises(RequirementsFileError, match=r"missing.in: file not found \(included by -r at x:3\)"):
        read_input_text(tmp_path / "missing.in", "missing.in", included_at="-r at x:3")


# ---------------------------------------------------------------------------------------------------
# 3. waiting for another sync's venv lock


def test_sync_says_it_waits_for_the_venv_lock_and_gives_up(
    kit_index: KitIndex, run_envlock: RunEnvlock
) -> None:
    write_lock_dict(Path("pylock.toml"), lock_for(kit_index, [DistSpec("alpha", "1.0")]))
    assert run_envlock("sync").returncode == 0
    write_lock_dict(Path("pylock.toml"), lock_for(kit_index, [DistSpec("alpha", "2.0")]))
    lock_path = VENV / ".envlock" / "lock"
    with FileLock(str(lock_path)):  # "another sync" (this process) holds the venv
        started = time.monotonic()
        result = run_envlock("sync", env={"ENVLOCK_LOCK_TIMEOUT": "2"})
        elapsed = time.monotonic() - started
    no_traceback(result)
    assert result.returncode == 1, result.stderr
    assert "waiting for another envlock sync of" in result.stderr
    assert "gave up after 2 s" in result.stderr and str(lock_path.name) in result.stderr
    assert elapsed < 60
    assert run_envlock("check").returncode == 1  # nothing changed: still alpha 1.0 for a 2.0 lock


def test_sync_waits_then_proceeds_when_the_lock_is_freed(
    kit_index: KitIndex, run_envlock: RunEnvlock
) -> None:
    write_lock_dict(Path("pylock.toml"), lock_for(kit_index, [DistSpec("alpha", "1.0")]))
    assert run_envlock("sync").returncode == 0
    write_lock_dict(Path("pylock.toml"), lock_for(kit_index, [DistSpec("alpha", "2.0")]))
    held = FileLock(str(VENV / ".envlock" / "lock"), thread_local=False)
    held.acquire()
    # Released once the sync says it waits (no fixed delay: a loaded machine may take long to get there).
    env = {**os.environ, "ENVLOCK_LOCK_TIMEOUT": "120", "PYTHONIOENCODING": "utf-8"}
    process = subprocess.Popen(
        [sys.executable, "-m", "envlock", "sync"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    first = process.stderr.readline()  # blocks until the sync prints its notice (or exits)
    held.release()
    _, rest = process.communicate(timeout=300)
    assert process.returncode == 0, first + rest
    assert "waiting for another envlock sync of" in first
    assert run_envlock("check").returncode == 0


def test_lock_timeout_must_be_a_number(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    write_lock_dict(Path("pylock.toml"), lock_for(kit_index, [DistSpec("alpha", "1.0")]))
    result = run_envlock("sync", env={"ENVLOCK_LOCK_TIMEOUT": "soon"})
    no_traceback(result)
    assert result.returncode == 2
    assert "ENVLOCK_LOCK_TIMEOUT" in result.stderr


# ---------------------------------------------------------------------------------------------------
# 4. export and import refuse malformed hashes and duplicate packages


def _package(name: str, version: str, hashes: dict[str, str], **extra: object) -> dict[str, object]:
    filename = f"{name}-{version}-py3-none-any.whl"
    wheel = {"name": filename, "url": f"https://files.example/{filename}", "hashes": hashes}
    return {"name": name, "version": version, "wheels": [wheel], **extra}


def _lock(*packages: dict[str, object]) -> dict[str, object]:
    return {"lock-version": "1.0", "created-by": "tests", "packages": list(packages)}


def _write_raw_lock(path: Path, data: dict[str, object]) -> None:
    """A lock written without envlock's writer (which would not write such a lock): TOML by hand."""
    lines = ['lock-version = "1.0"', 'created-by = "tests"', ""]
    for package in data["packages"]:  # type: ignore[attr-defined]
        lines += ["[[packages]]", f'name = "{package["name"]}"', f'version = "{package["version"]}"']
        if "marker" in package:
            lines.append(f"marker = {json.dumps(package['marker'])}")
        for wheel in package["wheels"]:
            hashes = ", ".join(f"{k} = {json.dumps(v)}" for k, v in wheel["hashes"].items())
            lines += [
                "[[packages.wheels]]",
                f'name = "{wheel["name"]}"',
                f'url = "{wheel["url"]}"',
                f"hashes = {{ {hashes} }}",
            ]
        lines.append("")
    path.write_text("\n".join(lines))


GOOD = "a" * 64


@pytest.mark.parametrize(
    ("hashes", "shown"),
    [
        ({"sha256": "z" * 64}, "sha256"),
        ({"sha256": "../" * 21 + "x"}, "sha256"),
        ({"sha256": "a" * 63}, "sha256"),
        ({"sha256": ""}, "sha256"),
        ({"sha512": "b" * 127}, "sha512"),
        ({"sha256": GOOD, "sha384": "not hex"}, "sha384"),
    ],
)
def test_export_refuses_malformed_digests(
    hashes: dict[str, str], shown: str, run_envlock: RunEnvlock
) -> None:
    data = _lock(_package("good", "1.0", {"sha256": GOOD}), _package("bad", "1.0", hashes))
    try:
        lock = lock_from_dict(data, source="pylock.toml")
    except LockFileError:
        lock = None  # the lock reader refused it already: also fine, the CLI check below covers it
    if lock is not None:
        with pytest.raises(LockFileError, match=rf"package 'bad': {shown}"):
            export_requirements(lock, ExportOptions())
    _write_raw_lock(Path("pylock.toml"), data)
    result = run_envlock("export", "-o", "requirements.txt")
    no_traceback(result)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "bad" in result.stderr
    assert not Path("requirements.txt").exists()


def test_export_writes_lowercase_digests() -> None:
    lock = lock_from_dict(_lock(_package("upper", "1.0", {"sha256": "A" * 64})), source="pylock.toml")
    text = export_requirements(lock, ExportOptions())
    assert f"--hash=sha256:{'a' * 64}" in text and "A" * 64 not in text


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (None, None),
        (None, 'python_version >= "3.8"'),
        ('sys_platform == "linux"', 'sys_platform == "linux"'),
    ],
)
def test_export_refuses_a_package_selected_twice(
    first: str | None, second: str | None, run_envlock: RunEnvlock
) -> None:
    one = _package("dup", "1.0", {"sha256": GOOD}, **({"marker": first} if first else {}))
    two = _package("dup", "2.0", {"sha256": "b" * 64}, **({"marker": second} if second else {}))
    data = _lock(one, two)
    _write_raw_lock(Path("pylock.toml"), data)
    result = run_envlock("export", "-o", "requirements.txt")
    no_traceback(result)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "'dup'" in result.stderr and "twice" in result.stderr
    try:
        lock = lock_from_dict(data, source="pylock.toml")
    except LockFileError:
        return
    with pytest.raises(LockFileError, match="'dup' is selected twice"):
        export_requirements(lock, ExportOptions())


def test_export_keeps_one_name_locked_per_environment() -> None:
    data = _lock(
        _package("split", "1.0", {"sha256": GOOD}, marker='python_version < "3.10"'),
        _package("split", "2.0", {"sha256": "b" * 64}, marker='python_version >= "3.10"'),
    )
    text = export_requirements(lock_from_dict(data, source="pylock.toml"), ExportOptions())
    assert "split==1.0" in text and "split==2.0" in text


@pytest.mark.parametrize("digest", ["z" * 64, "../" * 21 + "x", "g" + "a" * 63])
def test_import_refuses_non_hex_sha256(digest: str, tmp_path: Path, run_envlock: RunEnvlock) -> None:
    path = Path("requirements.txt")
    path.write_text(
        f"# pinned\nalpha==1.0 \\\n    --hash=sha256:{'a' * 64}\nbeta==2.0 --hash=sha256:{digest}\n"
    )
    with pytest.raises(LockFileError, match=r"requirements.txt:4: only --hash=sha256:<64 hex digits>"):
        parse_import(path, path.read_text())
    result = run_envlock("import", "--index-url", "http://127.0.0.1:9/simple/", str(path))
    no_traceback(result)
    assert result.returncode == 2, result.stderr
    assert "requirements.txt:4" in result.stderr
    assert not Path("pylock.toml").exists()
