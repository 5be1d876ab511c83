"""End to end: ``python -m envlock compile`` in a subprocess against the kit index (JSON and HTML)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import default_environment
from packaging.tags import sys_tags

from envlock.lock.lockfile import lock_metadata, read_lock
from tests.kit.dists import DistSpec
from tests.kit.index import IndexFeatures, KitIndex

RunEnvlock = Callable[..., Any]


def pins(path: Path) -> dict[str, str]:
    return {p.name: str(p.version) for p in read_lock(path).packages}


@pytest.fixture(params=["json", "html"])
def index(request: pytest.FixtureRequest, kit_index_factory: Callable[..., KitIndex]) -> KitIndex:
    if request.param == "json":
        return kit_index_factory(IndexFeatures(html=False))
    return kit_index_factory(IndexFeatures(json=False))


def basic(index: KitIndex) -> None:
    index.publish(
        DistSpec("alpha", "1.0", requires=("beta>=1",)),
        DistSpec("alpha", "2.0", requires=("beta>=2",)),
        DistSpec("beta", "1.0"),
        DistSpec("beta", "2.0"),
        DistSpec("beta", "2.1", tags=("py3-none-any", "cp39-cp39-win_amd64"), sdist=True),
    )


def test_compile_writes_selectable_lock(index: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> None:
    basic(index)
    (isolated / "requirements.in").write_text("alpha  # the app\n")
    result = run_envlock("compile", "--index-url", index.url, check=True)
    assert "wrote pylock.toml" in result.stdout
    lock = read_lock(isolated / "pylock.toml")
    assert {p.name: str(p.version) for p in lock.packages} == {"alpha": "2.0", "beta": "2.1"}
    beta = next(p for p in lock.packages if p.name == "beta")
    assert beta.sdist is not None and beta.wheels is not None
    assert sorted(w.name or "" for w in beta.wheels) == [
        "beta-2.1-cp39-cp39-win_amd64.whl",
        "beta-2.1-py3-none-any.whl",
    ]
    for wheel in beta.wheels:
        assert wheel.hashes["sha256"] == index.sha256(wheel.name or "")
    assert beta.tool == {"envlock": {"via": ["alpha"], "via-requirements": ["alpha: beta>=2"]}}
    alpha = next(p for p in lock.packages if p.name == "alpha")
    assert alpha.tool == {
        "envlock": {"via": ["-r requirements.in"], "via-requirements": ["-r requirements.in: alpha"]}
    }
    assert alpha.dependencies == [{"name": "beta"}]
    assert lock.created_by == "envlock"
    meta = lock_metadata(lock)
    assert meta.fingerprint and meta.fingerprint.startswith("sha256:")
    assert meta.inputs == ("requirements.in",)
    selected = {
        p.name: a.name for p, a in lock.select(environment=default_environment(), tags=list(sys_tags()))
    }
    assert selected == {"alpha": "alpha-2.0-py3-none-any.whl", "beta": "beta-2.1-py3-none-any.whl"}
    files = [*beta.wheels, beta.sdist]
    if index.features.json:  # PEP 700 size and upload-time; an HTML page has neither (see docs/compile.md)
        assert all(f.size and f.upload_time is not None for f in files)
    else:
        assert all(f.size is None and f.upload_time is None for f in files)


def test_determinism_and_up_to_date(kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> None:
    basic(kit_index)
    (isolated / "requirements.in").write_text("alpha\n")
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    first = (isolated / "pylock.toml").read_bytes()
    result = run_envlock("compile", "--index-url", kit_index.url, check=True)
    assert "up to date" in result.stdout
    (isolated / "pylock.toml").unlink()
    run_envlock("compile", "--index-url", kit_index.url, "--cache-dir", isolated / "other-cache", check=True)
    assert (isolated / "pylock.toml").read_bytes() == first
    assert any((isolated / "other-cache").rglob("*.json"))  # parsed metadata landed in that cache
    (isolated / "pylock.toml").unlink()
    env = {"ENVLOCK_CACHE_DIR": str(isolated / "env-cache")}
    run_envlock("compile", "--index-url", kit_index.url, env=env, check=True)
    assert (isolated / "pylock.toml").read_bytes() == first
    assert any((isolated / "env-cache").rglob("*.json"))


def test_minimal_diff_upgrade_and_upgrade_package(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    kit_index.publish(DistSpec("alpha", "1.0"), DistSpec("beta", "1.0"))
    (isolated / "requirements.in").write_text("alpha\nbeta\n")
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    kit_index.publish(DistSpec("alpha", "1.1"), DistSpec("beta", "1.1"))
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    assert pins(isolated / "pylock.toml") == {"alpha": "1.0", "beta": "1.0"}
    result = run_envlock("compile", "--index-url", kit_index.url, "-P", "alpha", check=True)
    assert pins(isolated / "pylock.toml") == {"alpha": "1.1", "beta": "1.0"}
    assert "alpha 1.0 -> 1.1" in result.stdout
    run_envlock("compile", "--index-url", kit_index.url, "-P", "alpha==1.0", check=True)
    assert pins(isolated / "pylock.toml") == {"alpha": "1.0", "beta": "1.0"}
    run_envlock("compile", "--index-url", kit_index.url, "--upgrade", check=True)
    assert pins(isolated / "pylock.toml") == {"alpha": "1.1", "beta": "1.1"}


def test_kept_pin_dropped_when_requirement_changes(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    kit_index.publish(DistSpec("alpha", "1.0"), DistSpec("alpha", "2.0"))
    (isolated / "requirements.in").write_text("alpha<2\n")
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    (isolated / "requirements.in").write_text("alpha>=2\n")
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    assert pins(isolated / "pylock.toml") == {"alpha": "2.0"}


@pytest.mark.parametrize("metadata_files", [True, False])
def test_metadata_files_on_and_off(
    metadata_files: bool, kit_index_factory: Callable[..., KitIndex], run_envlock: RunEnvlock, isolated: Path
) -> None:
    index = kit_index_factory(IndexFeatures(metadata_files=metadata_files))
    basic(index)
    (isolated / "requirements.in").write_text("alpha\n")
    run_envlock("compile", "--index-url", index.url, check=True)
    assert pins(isolated / "pylock.toml") == {"alpha": "2.0", "beta": "2.1"}
    paths = index.requested_paths()
    assert any(p.endswith(".metadata") for p in paths) is metadata_files


def test_sdist_only_project(kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> None:
    kit_index.publish(
        DistSpec("gamma", "1.0", requires=("beta",), wheel=False, sdist=True),
        DistSpec("beta", "1.0"),
    )
    kit_index.features.metadata_files = False
    (isolated / "requirements.in").write_text("gamma\n")
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    lock = read_lock(isolated / "pylock.toml")
    assert pins(isolated / "pylock.toml") == {"beta": "1.0", "gamma": "1.0"}
    gamma = next(p for p in lock.packages if p.name == "gamma")
    assert gamma.sdist is not None and not gamma.wheels
    result = run_envlock("compile", "--index-url", kit_index.url, "--only-binary", ":all:", "-o", "b.toml")
    assert result.returncode == 1
    assert "gamma" in result.stderr


def test_check_detects_changes_offline(kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> None:
    basic(kit_index)
    (isolated / "requirements.in").write_text("alpha\n")
    url = kit_index.url
    run_envlock("compile", "--index-url", url, check=True)
    kit_index.stop()  # --check never touches the network
    assert run_envlock("compile", "--check", "--index-url", url).returncode == 0
    (isolated / "requirements.in").write_text("# a comment only changes nothing\nalpha\n")
    assert run_envlock("compile", "--check", "--index-url", url).returncode == 0
    (isolated / "requirements.in").write_text("alpha\nbeta\n")
    result = run_envlock("compile", "--check", "--index-url", url)
    assert result.returncode == 1
    assert "requirements.in changed since pylock.toml was compiled — run: envlock compile" in result.stderr


def test_check_without_lock(run_envlock: RunEnvlock, isolated: Path) -> None:
    (isolated / "requirements.in").write_text("alpha\n")
    result = run_envlock("compile", "--check")
    assert result.returncode == 1
    assert "pylock.toml does not exist" in result.stderr


def test_bad_requirement_names_file_and_line(run_envlock: RunEnvlock, isolated: Path) -> None:
    (isolated / "requirements.in").write_text("alpha\n\n# x\nfastapi>>=1\n")
    result = run_envlock("compile", "--index-url", "http://127.0.0.1:9/simple/")
    assert result.returncode == 2
    assert "requirements.in:4: invalid requirement 'fastapi>>=1'" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("-e ./pkg", "pkg does not exist"),
        ("git+https://x/y.git", "a git requirement needs its project name"),
        ("./localdir", "localdir does not exist"),
        ("y @ hg+https://x/y", "VCS requirements other than git are not supported yet"),
    ],
)
def test_bad_source_inputs(run_envlock: RunEnvlock, isolated: Path, line: str, words: str) -> None:
    (isolated / "requirements.in").write_text(line + "\n")
    result = run_envlock("compile", "--index-url", "http://127.0.0.1:9/simple/")
    assert result.returncode == 2
    assert "requirements.in:1: " in result.stderr and words in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_project_names_indexes(
    kit_index_factory: Callable[..., KitIndex], run_envlock: RunEnvlock, isolated: Path
) -> None:
    first, second = kit_index_factory(), kit_index_factory()
    (isolated / "requirements.in").write_text("nosuchthing\n")
    result = run_envlock("compile", "--index-url", first.url, "--extra-index-url", second.url)
    assert result.returncode == 1
    assert "nosuchthing" in result.stderr and first.url in result.stderr and second.url in result.stderr


def test_first_index_with_project_wins(
    kit_index_factory: Callable[..., KitIndex], run_envlock: RunEnvlock, isolated: Path
) -> None:
    private, public = kit_index_factory(), kit_index_factory()
    private.publish(DistSpec("corp", "1.0"))
    public.publish(DistSpec("corp", "99.0"), DistSpec("other", "1.0"))
    (isolated / "requirements.in").write_text("corp\nother\n")
    run_envlock("compile", "--index-url", private.url, "--extra-index-url", public.url, check=True)
    lock = read_lock(isolated / "pylock.toml")
    assert pins(isolated / "pylock.toml") == {"corp": "1.0", "other": "1.0"}
    assert {p.name: p.index for p in lock.packages} == {"corp": private.url, "other": public.url}


def test_network_failure_names_url(run_envlock: RunEnvlock, isolated: Path) -> None:
    (isolated / "requirements.in").write_text("alpha\n")
    result = run_envlock("compile", "--index-url", "http://127.0.0.1:9/simple/")
    assert result.returncode == 1
    assert "http://127.0.0.1:9/simple/alpha/" in result.stderr
    assert "attempts)" in result.stderr and "Traceback" not in result.stderr  # retried with backoff


def test_transient_index_errors_are_retried(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    basic(kit_index)
    kit_index.fault("/simple/alpha/*", "503", times=2)
    kit_index.fault("/files/*.metadata", "reset", times=1)
    (isolated / "requirements.in").write_text("alpha\n")
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    assert pins(isolated / "pylock.toml") == {"alpha": "2.0", "beta": "2.1"}


def test_credentials_never_in_lock(kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> None:
    basic(kit_index)
    kit_index.auth = ("user", "s3cret")
    (isolated / "requirements.in").write_text(f"--index-url {kit_index.url_with_auth()}\nalpha\n")
    result = run_envlock("-v", "compile", check=True)
    text = (isolated / "pylock.toml").read_text()
    assert "s3cret" not in text and "s3cret" not in result.stdout + result.stderr
    assert pins(isolated / "pylock.toml") == {"alpha": "2.0", "beta": "2.1"}


def test_conflict_exit_1_plain_words(kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> None:
    kit_index.publish(DistSpec("alpha", "1.0", requires=("beta<2",)), DistSpec("beta", "2.0"))
    (isolated / "requirements.in").write_text("alpha\nbeta>=2\n")
    result = run_envlock("compile", "--index-url", kit_index.url)
    assert result.returncode == 1
    assert "beta" in result.stderr and "requirements.in:1 → alpha 1.0 requires beta<2" in result.stderr
    assert "Traceback" not in result.stderr


def test_pyproject_extras_groups_and_markers(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    kit_index.publish(DistSpec("alpha", "1.0"), DistSpec("beta", "1.0"), DistSpec("gamma", "1.0"))
    (isolated / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0"\ndependencies = ["alpha"]\n'
        '[project.optional-dependencies]\nfast = ["beta"]\n'
        '[dependency-groups]\ntest = ["gamma"]\ndev = [{include-group = "test"}]\n'
        f'[tool.envlock]\nindex-url = "{kit_index.url}"\n'
    )
    run_envlock("compile", "--extra", "fast", "--group", "dev", check=True)
    lock = read_lock(isolated / "pylock.toml")
    markers = {p.name: str(p.marker) if p.marker else None for p in lock.packages}
    assert markers == {"alpha": None, "beta": '"fast" in extras', "gamma": '"dev" in dependency_groups'}
    assert lock.extras == ["fast"] and lock.dependency_groups == ["dev"]
    env = default_environment()
    chosen = {p.name for p, _ in lock.select(environment=env, tags=list(sys_tags()), dependency_groups=[])}
    assert chosen == {"alpha"}
    chosen = {p.name for p, _ in lock.select(environment=env, tags=list(sys_tags()), extras=["fast"])}
    assert chosen == {"alpha", "beta", "gamma"}


def test_python_version_target_and_requires_python(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    kit_index.publish(DistSpec("alpha", "1.0"), DistSpec("alpha", "2.0", requires_python=">=3.12"))
    (isolated / "requirements.in").write_text("alpha\n")
    run_envlock("compile", "--index-url", kit_index.url, "--python-version", "3.10", check=True)
    assert pins(isolated / "pylock.toml") == {"alpha": "1.0"}
    run_envlock("compile", "--index-url", kit_index.url, "--python-version", "3.12", "-U", check=True)
    assert pins(isolated / "pylock.toml") == {"alpha": "2.0"}
    lock = read_lock(isolated / "pylock.toml")
    assert 'python_version == "3.12"' in str(lock.environments[0])  # type: ignore[index]


def test_requires_python_is_true_of_a_pin_that_needs_a_later_patch(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    major, minor, micro = sys.version_info[:3]
    minor_version, later = f"{major}.{minor}", f"{major}.{minor}.{micro + 1}"
    kit_index.publish(DistSpec("alpha", "1.0"), DistSpec("alpha", "2.0", requires_python=f">={later}"))
    (isolated / "requirements.in").write_text("alpha\n")
    lock_path = isolated / "pylock.toml"
    # --python-version X.Y resolves for X.Y.0, the range's lower bound (as uv): alpha 2.0 does not fit.
    run_envlock("compile", "--index-url", kit_index.url, "--python-version", minor_version, check=True)
    assert pins(lock_path) == {"alpha": "1.0"}
    assert str(read_lock(lock_path).requires_python) == f"=={minor_version}.*"
    # Resolved for a later patch, alpha 2.0 is locked, and the lock says which patches it is for.
    run_envlock("compile", "--index-url", kit_index.url, "--python-version", later, "-U", check=True)
    assert pins(lock_path) == {"alpha": "2.0"}
    assert str(read_lock(lock_path).requires_python) == f"=={minor_version}.*,>={later}"
    # This interpreter is outside it: sync refuses by name, before any venv is made.
    refused = run_envlock("sync")
    assert refused.returncode == 1, refused.stderr
    assert f"requires-python '=={minor_version}.*,>={later}' excludes the target's Python" in refused.stderr
    assert not (isolated / ".venv").exists()


@pytest.mark.skipif(sys.version_info.micro == 0, reason="needs an interpreter later than X.Y.0")
def test_a_lock_compiled_on_an_interpreter_claims_the_patches_its_pins_need(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    # The reported shape: compiled on the machine's 3.11.x (no flags), a pin needing >=3.11.x was locked
    # under requires-python "==3.11.*". The interpreter's own version is resolved for (as uv pip compile
    # does); the lock claims only the patches from which every pin holds.
    here = ".".join(map(str, sys.version_info[:3]))
    minor_version = ".".join(map(str, sys.version_info[:2]))
    kit_index.publish(DistSpec("alpha", "1.0"), DistSpec("alpha", "2.0", requires_python=f">={here}"))
    (isolated / "requirements.in").write_text("alpha\n")
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    assert pins(isolated / "pylock.toml") == {"alpha": "2.0"}
    assert str(read_lock(isolated / "pylock.toml").requires_python) == f"=={minor_version}.*,>={here}"
    assert run_envlock("sync").returncode == 0


def test_find_links_and_direct_url(kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> None:
    from tests.kit.dists import build_wheel

    kit_index.publish(DistSpec("alpha", "1.0"), DistSpec("delta", "3.0"))
    wheels = isolated / "wheels"
    build_wheel(DistSpec("alpha", "1.5"), wheels)
    (isolated / "requirements.in").write_text(
        f"--find-links ./wheels\nalpha\ndelta @ {kit_index.file_url('delta-3.0-py3-none-any.whl')}"
        f"#sha256={kit_index.sha256('delta-3.0-py3-none-any.whl')}\n"
    )
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    lock = read_lock(isolated / "pylock.toml")
    by_name = {p.name: p for p in lock.packages}
    assert str(by_name["alpha"].version) == "1.5"
    assert by_name["alpha"].wheels and by_name["alpha"].wheels[0].path == "wheels/alpha-1.5-py3-none-any.whl"
    assert by_name["delta"].archive is not None
    assert by_name["delta"].archive.hashes["sha256"] == kit_index.sha256("delta-3.0-py3-none-any.whl")


def test_yanked_and_prerelease_policies(kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> None:
    kit_index.publish(DistSpec("alpha", "1.0"))
    kit_index.publish(DistSpec("alpha", "1.1"), yanked="broken")
    kit_index.publish(DistSpec("alpha", "2.0b1"))
    (isolated / "requirements.in").write_text("alpha\n")
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    assert pins(isolated / "pylock.toml") == {"alpha": "1.0"}
    run_envlock("compile", "--index-url", kit_index.url, "--pre", "-U", check=True)
    assert pins(isolated / "pylock.toml") == {"alpha": "2.0b1"}
    (isolated / "requirements.in").write_text("alpha==1.1\n")
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    assert pins(isolated / "pylock.toml") == {"alpha": "1.1"}


def test_dry_run_prints_and_writes_nothing(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    basic(kit_index)
    (isolated / "requirements.in").write_text("alpha\n")
    result = run_envlock("compile", "--index-url", kit_index.url, "--dry-run", check=True)
    assert 'lock-version = "1.0"' in result.stdout
    assert not (isolated / "pylock.toml").exists()


def test_environment_index_url(kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> None:
    basic(kit_index)
    (isolated / "requirements.in").write_text("beta==1.0\n")
    run_envlock("compile", env={"ENVLOCK_INDEX_URL": kit_index.url}, check=True)
    assert pins(isolated / "pylock.toml") == {"beta": "1.0"}


def test_invalid_existing_lock_names_field(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    basic(kit_index)
    (isolated / "requirements.in").write_text("beta\n")
    (isolated / "pylock.toml").write_text('lock-version = "1.0"\ncreated-by = 3\n')
    result = run_envlock("compile", "--index-url", kit_index.url)
    assert result.returncode == 2 and "created-by" in result.stderr
    run_envlock("compile", "--index-url", kit_index.url, "--upgrade", check=True)


def test_target_from_project_venv(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path, venv_factory: Callable[..., Path]
) -> None:
    kit_index.publish(DistSpec("alpha", "1.0"))
    other = _other_python()
    venv = venv_factory(other[1] if other else sys.executable)
    (isolated / ".venv").symlink_to(venv)
    (isolated / "requirements.in").write_text("alpha\n")
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    assert pins(isolated / "pylock.toml") == {"alpha": "1.0"}
    version = other[0] if other else f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert str(read_lock(isolated / "pylock.toml").requires_python) == f"=={version}.*"


def _other_python() -> tuple[str, Path] | None:
    """An interpreter of another minor version than the one running the tests, if the machine has one."""
    from tests.kit.venvs import available_pythons

    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    found = sorted((v, p) for v, p in available_pythons().items() if v != running)
    return found[-1] if found else None


def test_python_option_resolves_for_that_interpreter(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    other = _other_python()
    if other is None:
        pytest.skip("needs a second Python version")
    version, python = other
    kit_index.publish(DistSpec("alpha", "1.0"), DistSpec("alpha", "2.0", requires_python=f"!={version}.*"))
    (isolated / "requirements.in").write_text("alpha\n")
    run_envlock("compile", "--index-url", kit_index.url, "--python", str(python), check=True)
    lock = read_lock(isolated / "pylock.toml")
    assert pins(isolated / "pylock.toml") == {"alpha": "1.0"}
    assert str(lock.requires_python) == f"=={version}.*"
    assert any(f'python_version == "{version}"' in str(e) for e in lock.environments or ())


def test_pyproject_lock_setting_is_the_default_output(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    basic(kit_index)
    (isolated / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1"\ndependencies = ["alpha"]\n'
        '[tool.envlock]\nlock = "locks/app.toml"\nvenv = ".venv-app"\n'
    )
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    assert pins(isolated / "locks" / "app.toml") == {"alpha": "2.0", "beta": "2.1"}
    assert not (isolated / "pylock.toml").exists()
    assert run_envlock("compile", "--check", "--index-url", kit_index.url).returncode == 0
    exported = run_envlock("export", check=True)
    assert "alpha==2.0" in exported.stdout


def test_unknown_extra_is_a_warning_like_pip(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    basic(kit_index)
    (isolated / "requirements.in").write_text("alpha[missing]\n")
    result = run_envlock("compile", "--index-url", kit_index.url, check=True)
    assert "warning: alpha 2.0 does not provide the extra 'missing'" in result.stderr
    assert pins(isolated / "pylock.toml") == {"alpha": "2.0", "beta": "2.1"}


def test_constraints_from_a_url(kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> None:
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    basic(kit_index)
    served = isolated / "served"
    served.mkdir()
    (served / "constraints.txt").write_text("beta<2\n")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(served))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/constraints.txt"
    try:
        (isolated / "requirements.in").write_text(f"alpha\n-c {url}\n")
        run_envlock("compile", "--index-url", kit_index.url, check=True)
        lock = read_lock(isolated / "pylock.toml")
        assert {p.name: str(p.version) for p in lock.packages} == {"alpha": "1.0", "beta": "1.0"}
        beta = next(p for p in lock.packages if p.name == "beta")
        assert (beta.tool or {})["envlock"]["via"] == [f"-c {url}", "alpha"]
        assert run_envlock("compile", "--check", "--index-url", kit_index.url).returncode == 0
        (served / "constraints.txt").write_text("beta<3\n")
        assert run_envlock("compile", "--check", "--index-url", kit_index.url).returncode == 1
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-P", "foo>>=1"), "error: --upgrade-package 'foo>>=1': "),
        (("-P", "foo[x]"), "expected NAME or NAME==VERSION"),
        (("--extra-index-url", "not a url"), "error: --extra-index-url: invalid index URL 'not a url'"),
        (("--index-url", "ftp://user:pw@host/simple"), "invalid index URL 'ftp://***@host/simple'"),
    ],
)
def test_bad_options_are_input_errors(
    args: tuple[str, ...], message: str, run_envlock: RunEnvlock, isolated: Path
) -> None:
    (isolated / "requirements.in").write_text("alpha\n")
    result = run_envlock("compile", "--index-url", "http://127.0.0.1:9/simple/", *args)
    assert result.returncode == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_unwritable_output_is_an_error_naming_it(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    basic(kit_index)
    (isolated / "requirements.in").write_text("alpha\n")
    (isolated / "afile").write_text("")
    result = run_envlock("compile", "--index-url", kit_index.url, "-o", "afile/pylock.toml")
    assert result.returncode == 1 and "error: cannot write afile/pylock.toml" in result.stderr
    assert "Traceback" not in result.stderr
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    exported = run_envlock("export", "-o", "afile/requirements.txt")
    assert exported.returncode == 1 and "error: cannot write afile/requirements.txt" in exported.stderr


POETRY_APP = (
    '[tool.poetry]\nname = "app"\nversion = "0.1.0"\n'
    '[tool.poetry.dependencies]\npython = "^3.10"\nalpha = "^1.0"\n'
    '[tool.poetry.group.dev.dependencies]\nbeta = "*"\n'
    '[build-system]\nrequires = ["poetry-core"]\nbuild-backend = "poetry.core.masonry.api"\n'
)


@pytest.mark.parametrize(
    ("text", "table"),
    [
        (POETRY_APP, "[tool.poetry.dependencies], [tool.poetry.group.dev.dependencies] hold"),
        (
            '[project]\nname = "app"\nversion = "1"\n[tool.pdm.dev-dependencies]\ntest = ["beta"]\n',
            "[tool.pdm.dev-dependencies] holds",
        ),
        (
            '[tool.hatch.envs.default]\ndependencies = ["beta"]\n',
            "[tool.hatch.envs.default.dependencies] holds",
        ),
    ],
)
def test_another_tools_dependency_tables_are_refused_by_name(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path, text: str, table: str
) -> None:
    # Locking such a pyproject as empty would pass for a lock of its dependencies.
    kit_index.publish(DistSpec("alpha", "1.0"), DistSpec("beta", "1.0"))
    (isolated / "pyproject.toml").write_text(text)
    result = run_envlock("compile", "--index-url", kit_index.url)
    assert result.returncode == 2, result.stderr
    assert f"pyproject.toml: {table} the dependencies; envlock reads [project] (PEP 621)" in result.stderr
    assert "hint: move them to [project] dependencies" in result.stderr and "Traceback" not in result.stderr
    assert not (isolated / "pylock.toml").exists()


def test_a_poetry_group_asked_for_is_refused_by_name(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    # Poetry 2: [project] holds the dependencies, Poetry's own table the groups.
    kit_index.publish(DistSpec("alpha", "1.0"), DistSpec("beta", "1.0"))
    (isolated / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1"\ndependencies = ["alpha"]\n'
        '[tool.poetry.group.dev.dependencies]\nbeta = "*"\n'
    )
    result = run_envlock("compile", "--index-url", kit_index.url, "--group", "dev")
    assert result.returncode == 2, result.stderr
    assert "dependency group 'dev' is [tool.poetry.group.dev.dependencies]" in result.stderr
    assert "hint: move it to [dependency-groups] dev" in result.stderr
    run_envlock("compile", "--index-url", kit_index.url, check=True)  # without the group: [project] only
    assert pins(isolated / "pylock.toml") == {"alpha": "1.0"}


def test_poetry_dynamic_dependencies_without_a_build_are_refused_by_name(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    # Poetry 2: [project] with dynamic dependencies kept in [tool.poetry.dependencies]. Without a build
    # (no [build-system]), nothing could read them: refused naming where they are.
    kit_index.publish(DistSpec("alpha", "1.0"))
    (isolated / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1"\ndynamic = ["dependencies"]\n'
        '[tool.poetry.dependencies]\nalpha = "^1.0"\n'
    )
    result = run_envlock("compile", "--index-url", kit_index.url)
    assert result.returncode == 2, result.stderr
    assert "dynamic [project] dependencies (from [tool.poetry.dependencies])" in result.stderr
    assert "add a [build-system] table" in result.stderr


def test_a_pyproject_with_no_dependencies_anywhere_still_locks_empty(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    (isolated / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1"\n[tool.poetry.dependencies]\npython = "^3.10"\n'
    )
    run_envlock("compile", "--index-url", kit_index.url, check=True)
    assert pins(isolated / "pylock.toml") == {}
