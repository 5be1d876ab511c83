"""``envlock compile`` with nothing changed, answered before click from the cached "lock kept" verdict
(``inputs.kept_cache``): the same words and exit code as the full path, none of its modules; and every
change the outcome depends on is noticed and takes the full path."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from envlock import cache_dir
from envlock.cli.compile import command
from envlock.inputs import kept_cache
from envlock.memo import Memo
from envlock.quick import click_path, compile_fields
from tests.cli.test_compile_cli import basic
from tests.cli.test_compile_lock_settings import PYPROJECT, publish, settings_args
from tests.cli.test_quick import CLICK_MAIN, RUN_MAIN
from tests.kit.imports import LAUNCH_PATH_MODULES, modules_loaded
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.sources import make_project, publish_backends, serve_folder

KEPT = "inputs unchanged)"
ANSWER = "import sys\nfrom envlock.quick import answer\nprint('ANSWER', answer(sys.argv[1:]))"
ANSWER_MODULES = {
    "envlock",
    "envlock.quick",
    "envlock.option_table",
    "envlock.cache_dir",  # ENVLOCK_NO_MEMO's switch (stdlib)
    "envlock.runtime",
    "envlock.inputs",
    "envlock.inputs.kept_cache",
    "envlock.memo",
}
"""All the answer loads beyond the standard library's launch-path modules: no click, json, re, pathlib,
typing, dataclasses, TOML parser, packaging or platformdirs (with a cache folder named)."""


def quick(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> str | None:
    """What ``envlock ARGS`` answers before click: its exit code as text, or None (click's path)."""
    result = subprocess.run(
        [sys.executable, "-c", ANSWER, *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )
    code = result.stdout.strip().splitlines()[-1].removeprefix("ANSWER ")
    return None if code == "None" else code


def compile_twice(
    run_envlock: RunEnvlock, *args: str, env: dict[str, str] | None = None, says: str = KEPT
) -> str:
    """Compile until the verdict is cached: the first run may write the lock right after its inputs
    were written (too recent to vouch for: ``kept_cache.RACY_NS``), the second keeps it and remembers."""
    run_envlock("compile", *args, env=env, check=True)
    said = run_envlock("compile", *args, env=env, check=True).stdout
    assert says in said, said
    return said


@pytest.fixture
def index_args(kit_index: KitIndex, isolated: Path) -> tuple[str, ...]:
    basic(kit_index)
    (isolated / "requirements.in").write_text("alpha\n")
    return ("--index-url", kit_index.url)


def test_the_answer_loads_nothing_of_the_full_path(
    index_args: tuple[str, ...], run_envlock: RunEnvlock
) -> None:
    said = compile_twice(run_envlock, *index_args)
    assert quick("compile", *index_args) == "0"
    code = "from envlock.quick import answer\nassert answer(sys.argv[1:]) == 0"
    loaded = modules_loaded([sys.executable], code, ["compile", *index_args])
    assert loaded >= ANSWER_MODULES
    assert loaded - ANSWER_MODULES <= LAUNCH_PATH_MODULES | {"_sha2", "_sha256"}, sorted(loaded)
    assert "click" not in modules_loaded([sys.executable], RUN_MAIN, ["compile", *index_args])
    assert run_envlock("compile", *index_args, check=True).stdout == said


@pytest.mark.parametrize("verbosity", [(), ("-v",), ("-q",), ("-q", "-v")])
def test_the_answer_says_what_click_says(
    verbosity: tuple[str, ...], index_args: tuple[str, ...], run_envlock: RunEnvlock
) -> None:
    compile_twice(run_envlock, "./requirements.in", *index_args, "-o", "./locks//pylock.toml")
    args = (*verbosity, "compile", "requirements.in", *index_args, "--output=locks/pylock.toml")
    assert quick(*args) == "0"
    fast = run_envlock(*args)
    slow = subprocess.run([sys.executable, "-c", CLICK_MAIN, *args], capture_output=True, text=True)
    assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr)
    assert (KEPT in fast.stdout) == ("-q" not in verbosity)


@pytest.mark.parametrize(
    "extra",
    [
        ("--pre",),
        ("--extra-index-url", "INDEX"),
        ("--index-url", "INDEX"),
        ("--find-links", "."),
        ("--only-binary", ":all:"),
        ("--python-version", "3.9"),
        ("--target", "cp312-linux-x86_64"),
        ("--exclude-newer", "2020-01-01T00:00:00Z"),
        ("-o", "other.toml"),
        ("requirements.in",),
        ("-U",),
        ("-P", "beta"),
        ("--dry-run",),
        ("--check",),  # a verdict of its own
    ],
)
def test_a_changed_option_takes_the_full_path(
    extra: tuple[str, ...], index_args: tuple[str, ...], kit_index: KitIndex, run_envlock: RunEnvlock
) -> None:
    compile_twice(run_envlock, *index_args)
    args = tuple(kit_index.url + "extra/" if arg == "INDEX" else arg for arg in extra)
    assert quick("compile", *index_args, *args) is None


def test_the_command_line_is_read_as_click_reads_it(
    index_args: tuple[str, ...], run_envlock: RunEnvlock
) -> None:
    compile_twice(run_envlock, *index_args, "-o", "./pylock.toml")
    assert quick("compile", *index_args, "--output", "pylock.toml") == "0"  # the same Path for click
    assert quick("compile", *index_args, "-o=pylock.toml") is None  # click: the file "=pylock.toml"
    assert quick("compile", *index_args, "-opylock.toml") is None
    assert quick("compile", *index_args, "-o", "pylock.toml", "--output", "pylock.toml") is None
    assert quick("compile", *index_args, "-o", "pylock.toml", "--", "requirements.in") is None


def test_check_is_answered_from_a_verdict_of_its_own(
    index_args: tuple[str, ...], isolated: Path, run_envlock: RunEnvlock
) -> None:
    run_envlock("compile", *index_args, check=True)
    args = ("compile", "--check", *index_args)
    compile_twice(run_envlock, "--check", *index_args, says="pylock.toml is up to date with requirements.in")
    assert quick(*args) == "0"
    fast = run_envlock(*args)
    slow = subprocess.run([sys.executable, "-c", CLICK_MAIN, *args], capture_output=True, text=True)
    assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr)
    (isolated / "requirements.in").write_text("alpha\nbeta\n")
    assert quick(*args) is None
    stale = run_envlock(*args)
    assert stale.returncode == 1 and "changed since pylock.toml was compiled" in stale.stderr, stale.stderr
    assert quick(*args) is None


def test_an_extra_or_group_of_pyproject_takes_the_full_path(
    kit_index: KitIndex, isolated: Path, run_envlock: RunEnvlock
) -> None:
    basic(kit_index)
    (isolated / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1"\ndependencies = ["beta"]\n'
        '[project.optional-dependencies]\nfast = ["alpha"]\n'
        '[dependency-groups]\ndev = ["alpha"]\n'
    )
    compile_twice(run_envlock, "--index-url", kit_index.url)
    assert quick("compile", "--index-url", kit_index.url) == "0"
    assert quick("compile", "--index-url", kit_index.url, "--extra", "fast") is None
    assert quick("compile", "--index-url", kit_index.url, "--group", "dev") is None
    said = run_envlock("compile", "--index-url", kit_index.url, "--extra", "fast", check=True).stdout
    assert "wrote pylock.toml" in said


def test_the_lock_s_settings_answer_alike_on_both_paths(
    kit_index: KitIndex, isolated: Path, run_envlock: RunEnvlock
) -> None:
    """A lock compiled with extras, groups and settings, then checked and compiled without them (issue
    22): both paths take the lock's settings and say the same; other settings are never answered."""
    publish(kit_index)
    (isolated / "pyproject.toml").write_text(PYPROJECT)
    run_envlock("compile", *settings_args(kit_index), check=True)
    for args, says in ((("--check",), "with pyproject.toml (extras fast; groups test)"), ((), KEPT)):
        compile_twice(run_envlock, *args, says=says)
        assert quick("compile", *args) == "0"
        fast = run_envlock("compile", *args)
        slow = subprocess.run(
            [sys.executable, "-c", CLICK_MAIN, "compile", *args], capture_output=True, text=True
        )
        assert (fast.returncode, fast.stdout, fast.stderr) == (slow.returncode, slow.stdout, slow.stderr)
    for other in (("--extra", "docs"), ("--exclude-newer", "2029-01-01"), ("--python-version", "3.11")):
        assert quick("compile", "--check", *other) is None
        stale = run_envlock("compile", "--check", *other)
        assert stale.returncode == 1 and f"this check asks for {' '.join(other)}" in stale.stderr, (
            stale.stderr
        )
    run_envlock("compile", "--extra", "docs", check=True)  # the lock's settings change with it
    assert quick("compile", "--check") is None
    said = run_envlock("compile", "--check", check=True).stdout
    assert "(extras docs; groups test)" in said, said


@pytest.mark.parametrize("change", ["input", "included", "new pyproject", "pyproject setting", "lock"])
def test_a_changed_file_takes_the_full_path(
    change: str, kit_index: KitIndex, isolated: Path, run_envlock: RunEnvlock
) -> None:
    basic(kit_index)
    (isolated / "base.in").write_text("beta\n")
    (isolated / "requirements.in").write_text("-r base.in\n")
    args = ("--index-url", kit_index.url)
    compile_twice(run_envlock, *args)
    assert quick("compile", *args) == "0"
    if change == "input":
        (isolated / "requirements.in").write_text("-r base.in\nalpha\n")
    elif change == "included":
        (isolated / "base.in").write_text("beta<2\n")
    elif change == "new pyproject":  # read for [tool.envlock] even when it is not a source
        (isolated / "pyproject.toml").write_text("[tool.envlock]\npre = true\n")
    elif change == "pyproject setting":
        (isolated / "pyproject.toml").write_text("[tool.envlock]\npre = false\n")
        compile_twice(run_envlock, *args)
        (isolated / "pyproject.toml").write_text('[tool.envlock]\nonly-binary = [":all:"]\n')
    else:
        with (isolated / "pylock.toml").open("a") as handle:
            handle.write("# edited\n")
    assert quick("compile", *args) is None
    said = run_envlock("compile", *args, check=True).stdout
    assert (KEPT in said) == (change == "lock"), said
    if change == "lock":  # the full path judged the edited lock kept and vouches for it again
        assert quick("compile", *args) == "0"


def test_a_deleted_or_damaged_verdict_takes_the_full_path(
    index_args: tuple[str, ...], run_envlock: RunEnvlock
) -> None:
    compile_twice(run_envlock, *index_args)
    folder = Path(os.environ["ENVLOCK_CACHE_DIR"]) / "v1" / kept_cache.CACHE_AREA
    (entry,) = folder.iterdir()
    good = entry.read_bytes()
    for damaged in (b"", b"{", b"\xff\xfe", good[:-2], good.replace(b"envlock-compile-kept-1", b"other")):
        entry.write_bytes(damaged)
        assert quick("compile", *index_args) is None, damaged
    entry.unlink()
    assert quick("compile", *index_args) is None
    assert KEPT in run_envlock("compile", *index_args, check=True).stdout
    assert quick("compile", *index_args) == "0"


def test_the_index_variable_and_the_variables_an_input_names_are_part_of_the_verdict(
    kit_index: KitIndex, isolated: Path, run_envlock: RunEnvlock
) -> None:
    basic(kit_index)
    (isolated / "requirements.in").write_text("alpha${SUFFIX}\n")
    env = {"ENVLOCK_INDEX_URL": kit_index.url, "SUFFIX": ""}
    compile_twice(run_envlock, env=env)
    assert quick("compile", env=env) == "0"
    assert quick("compile", env={**env, "ENVLOCK_INDEX_URL": kit_index.url + "extra/"}) is None
    assert quick("compile", env={**env, "SUFFIX": "<2"}) is None
    assert quick("compile", env={**env, "ENVLOCK_HTTP_DEADLINE": "5"}) is None
    said = run_envlock("compile", env={**env, "SUFFIX": "<2"}, check=True).stdout
    assert KEPT not in said


def test_a_different_interpreter_takes_the_full_path(
    index_args: tuple[str, ...], isolated: Path, run_envlock: RunEnvlock
) -> None:
    real = Path(os.path.realpath(sys.executable))
    (isolated / "py").symlink_to(real)
    compile_twice(run_envlock, *index_args, "--python", "./py")
    assert quick("compile", *index_args, "--python", "./py") == "0"
    (isolated / "py").unlink()
    shutil.copy2(real, isolated / "other-python")
    (isolated / "py").symlink_to(isolated / "other-python")
    assert quick("compile", *index_args, "--python", "./py") is None
    # Without --python the target is the project's venv when it has one: a new venv is a new target.
    compile_twice(run_envlock, *index_args)
    assert quick("compile", *index_args) == "0"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(isolated / ".venv")], check=True)
    assert quick("compile", *index_args) is None


def test_an_interpreter_on_path_or_a_url_include_is_never_vouched_for(
    kit_index: KitIndex, isolated: Path, run_envlock: RunEnvlock
) -> None:
    basic(kit_index)
    (isolated / "requirements.in").write_text("alpha\n")
    args = ("--index-url", kit_index.url)
    name = Path(sys.executable).name  # another interpreter of that name may come first on PATH next time
    env = {"PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    compile_twice(run_envlock, *args, "--python", name, env=env)
    assert quick("compile", *args, "--python", name, env=env) is None
    served = isolated / "served"
    served.mkdir()
    (served / "base.in").write_text("beta\n")
    with serve_folder(served) as host:  # a server may answer otherwise next time
        (isolated / "requirements.in").write_text(f"-r http://{host}/base.in\nalpha\n")
        compile_twice(run_envlock, *args)
        assert quick("compile", *args) is None


def test_a_local_project_s_build_configuration_is_part_of_the_verdict(
    kit_index: KitIndex, isolated: Path, run_envlock: RunEnvlock
) -> None:
    basic(kit_index)
    publish_backends(kit_index)
    make_project(isolated / "lib", "lib", dependencies=("beta",))
    (isolated / "requirements.in").write_text("-e ./lib\n")
    args = ("--index-url", kit_index.url)
    compile_twice(run_envlock, *args)
    assert quick("compile", *args) == "0"
    (isolated / "lib" / "lib" / "__init__.py").write_text("VALUE = 2\n")  # code: an editable's own business
    assert quick("compile", *args) == "0"
    (isolated / "lib" / "setup.cfg").write_text("[metadata]\n")  # build configuration: the full path
    assert quick("compile", *args) is None


def test_a_file_changed_while_compile_read_it_is_not_vouched_for(tmp_path: Path) -> None:
    written = tmp_path / "requirements.in"
    written.write_text("alpha\n")
    started = written.stat().st_mtime_ns  # the compile started as the file was written
    assert kept_cache.observe([str(written)], [], [], started) is None
    os.utime(written, ns=(started - 10**10, started - 10**10))
    seen = kept_cache.observe([str(written), str(tmp_path / "absent")], [], ["UNSET_VARIABLE"], started)
    assert seen is not None
    assert seen["files"] == {
        str(written): kept_cache.file_digest(str(written)),
        str(tmp_path / "absent"): None,
    }
    assert seen["variables"] == {"UNSET_VARIABLE": None}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")
def test_a_hostile_verdict_is_a_miss_never_a_wait_or_a_wrong_answer(tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text("lock\n")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    digest = kept_cache.file_digest(str(lock))
    assert digest is not None
    good = {"message": "pylock.toml is up to date", "lock": [str(lock), digest]}
    good |= {"files": {str(tmp_path / "absent"): None}, "interpreters": {}, "variables": {"UNSET_X": None}}
    cache = tmp_path / "cache"
    kept_cache.remember("k", str(cache), good)
    entry = cache / "v1" / kept_cache.CACHE_AREA / "k"
    text = entry.read_bytes().partition(b"\n")[2].decode()  # the memo's body
    assert kept_cache.recall("k", str(cache)) == "pylock.toml is up to date"
    hostile = [
        text + f"file\t{fifo}\t{digest}\n",
        text + f"file\t{tmp_path}\t{digest}\n",
        text + "file\trelative/requirements.in\t-\n",
        text + "file\t-\n",
        text + "variable\t../X\t-\n",
        text + f"interpreter\t{lock}\t/\t0\t0\n",
        text + f"interpreter\t{lock}\t/\tzero\t0\n",
        text + "message\tagain\n",
        text + "unknown\tfact\n",
        text.replace(f"lock\t{lock}", "lock\tpylock.toml"),
        text.replace(digest, digest.upper()),
        text.replace("is up to date", "is up to date\x1b[2J"),
        text.replace("\tpylock.toml is up to date\n", "\n"),
        text.replace("envlock-compile-kept-1", "envlock-compile-kept-0"),
        text[:-1],
        "",
        "\xff",
    ]
    for damaged in hostile:
        body = damaged.encode("utf-8", "surrogateescape")
        Memo(kept_cache.CACHE_AREA, str(cache)).remember("k", body)  # a sound memo of a damaged verdict
        assert kept_cache.recall("k", str(cache)) is None, damaged
    assert kept_cache.recall("absent-key", str(cache)) is None
    with_tab = {**good, "files": {str(tmp_path / "a\tb"): None}}
    kept_cache.remember("t", str(cache), with_tab)  # a value with a tab cannot be written plainly: not kept
    assert not (cache / "v1" / kept_cache.CACHE_AREA / "t").exists()


@pytest.mark.parametrize(
    "text", ["a", "./a", "a/./b", "a//b/", "/a", "//a", "///a", ".", "./", "", "a/../b", "../a", "a/.", "/"]
)
def test_click_path_is_what_pathlib_makes(text: str) -> None:
    assert click_path(text) == str(PurePosixPath(text)) if os.name != "nt" else str(Path(text))


def test_every_compile_option_is_answered_or_declined() -> None:
    """A new compile option must be keyed (``kept_cache.REQUEST_FIELDS`` and the quick parser) or left
    to click: a cached verdict must never ignore one."""
    params = {param.name for param in command.params}
    declined = {"upgrade", "upgrade_packages", "dry_run", "verbose", "quiet"}  # -v/-q after: click's
    assert params == set(kept_cache.REQUEST_FIELDS) | declined | {"cache_dir"}
    fields = {field for _kind, field in compile_fields().values()}
    assert fields == set(kept_cache.REQUEST_FIELDS) - {"sources"} | {"cache_dir"}
    answered = {opt for param in command.params if param.name not in declined for opt in param.opts}
    assert answered - {"sources"} == set(compile_fields())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the guess is made on Linux only")
@pytest.mark.parametrize("xdg", [None, "", "  ", "relative/cache", "/xdg/cache", "/xdg/cache/"])
def test_the_likely_cache_folder_is_where_platformdirs_puts_it(
    xdg: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a cache folder named, the answer looks where platformdirs would put it (without importing
    it); a wrong guess would only cost the answer (click's path writes where platformdirs says)."""
    monkeypatch.delenv("ENVLOCK_CACHE_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    if xdg is None:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    assert cache_dir.likely_cache_path() == cache_dir.default_cache_path()


def test_without_a_cache_folder_named_the_answer_is_found_in_the_user_cache(
    index_args: tuple[str, ...], run_envlock: RunEnvlock, isolated: Path
) -> None:
    env = {"ENVLOCK_CACHE_DIR": ""}  # empty: unset for envlock (and for click)
    compile_twice(run_envlock, *index_args, env=env)
    assert list((isolated.parent / "home" / ".cache" / "envlock" / "v1" / kept_cache.CACHE_AREA).iterdir())
    assert quick("compile", *index_args, env=env) == "0"
    code = "from envlock.quick import answer\nassert answer(sys.argv[1:]) == 0"
    loaded = modules_loaded([sys.executable], code, ["compile", *index_args], env={**os.environ, **env})
    assert "platformdirs" not in loaded


def test_a_verdict_of_other_envlock_code_never_answers(tmp_path: Path) -> None:
    """An upgrade, or an edited checkout run from source, may judge the same inputs otherwise."""
    shutil.copytree(Path(kept_cache.__file__).parents[1], tmp_path / "envlock")
    code = (
        "import os\nfrom envlock.inputs import kept_cache\n"
        "values = {name: () if kind in ('paths', 'texts') else None"
        " for name, kind in kept_cache.REQUEST_FIELDS.items()}\n"
        "print(kept_cache.request_key(values, os.getcwd(), {}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}

    def key() -> str:
        command = [sys.executable, "-c", code]
        return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout

    before = key()
    assert key() == before
    module = tmp_path / "envlock" / "inputs" / "config.py"
    module.write_text(module.read_text() + "\n# edited\n")
    assert key() != before
