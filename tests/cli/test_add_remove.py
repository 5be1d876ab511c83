"""``envlock add`` / ``remove`` end to end: the real CLI edits the input (other bytes kept), compiles
with the old pins as preferences, syncs the venv; a failure leaves input, lock and venv as they were."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from envlock.lock.lockfile import read_lock
from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock
from tests.kit.venvs import site_packages


def pins(path: Path = Path("pylock.toml")) -> dict[str, str]:
    return {p.name: str(p.version) for p in read_lock(path).packages}


def installed(venv: Path = Path(".venv")) -> dict[str, str]:
    found = {}
    for dist_info in site_packages(venv).glob("*.dist-info"):
        name, _, version = dist_info.name[: -len(".dist-info")].partition("-")
        found[name.lower()] = version
    return found


def publish(index: KitIndex) -> None:
    index.publish(
        DistSpec("alpha", "1.0", requires=("beta>=1",)),
        DistSpec("beta", "1.0"),
        DistSpec("gamma", "1.0", requires=("beta>=1",)),
        DistSpec("gamma", "2.0", requires=("beta>=1",)),
        DistSpec("delta", "1.0"),
        DistSpec("needs-new-beta", "1.0", requires=("beta>=2",)),
    )


def ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stdout + result.stderr
    return result


REQUIREMENTS = (
    "# the service\n-i {url}\nalpha  # the app\n\n# tools\ndelta==1.0 \\\n    ; python_version >= '3'\n"
)


def start(index: KitIndex, run_envlock: RunEnvlock, text: str, name: str = "requirements.in") -> None:
    publish(index)
    Path(name).write_text(text, encoding="utf-8", newline="")
    ok(run_envlock("compile", "--index-url", index.url))
    ok(run_envlock("sync"))


def test_add_to_requirements_keeps_every_other_byte(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    text = REQUIREMENTS.format(url=kit_index.url).replace("\n", "\r\n")  # CRLF kept too
    start(kit_index, run_envlock, text)
    before = pins()
    result = ok(run_envlock("add", "gamma<2"))
    assert Path("requirements.in").read_bytes() == (text + "gamma<2\r\n").encode()
    assert "+ gamma 1.0" in result.stdout.splitlines()
    assert "added gamma in requirements.in" in result.stdout
    assert pins() == {**before, "gamma": "1.0"}
    assert installed()["gamma"] == "1.0"


def test_add_updates_in_place_keeping_comment_and_marker(
    kit_index: KitIndex, run_envlock: RunEnvlock
) -> None:
    text = REQUIREMENTS.format(url=kit_index.url)
    start(kit_index, run_envlock, text)
    Path("requirements.in").chmod(0o640)
    ok(run_envlock("add", "alpha==1.0", "--no-sync"))
    again = ok(run_envlock("add", "alpha==1.0", "--no-sync"))
    assert "requirements.in already has alpha as given" in again.stdout
    ok(run_envlock("add", "delta>=1", "--no-sync"))
    assert Path("requirements.in").stat().st_mode & 0o777 == 0o640
    expected = text.replace("alpha  # the app", "alpha==1.0  # the app").replace(
        "delta==1.0 \\\n    ; python_version >= '3'", 'delta>=1; python_version >= "3"'
    )
    assert Path("requirements.in").read_text() == expected
    assert Path("requirements.in").read_text().count("alpha") == 1


def test_remove_from_requirements(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    text = REQUIREMENTS.format(url=kit_index.url)
    start(kit_index, run_envlock, text)
    result = ok(run_envlock("remove", "Delta"))
    assert Path("requirements.in").read_text() == text.replace(
        "delta==1.0 \\\n    ; python_version >= '3'\n", ""
    )
    assert "- delta 1.0" in result.stdout.splitlines()
    assert "delta" not in pins() and "delta" not in installed()


def test_remove_absent_names_the_file(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    text = REQUIREMENTS.format(url=kit_index.url)
    start(kit_index, run_envlock, text)
    lock = Path("pylock.toml").read_bytes()
    result = run_envlock("remove", "gamma")
    assert result.returncode == 2
    assert "requirements.in: no requirement named gamma to remove" in result.stderr
    assert Path("requirements.in").read_text() == text and Path("pylock.toml").read_bytes() == lock


@pytest.mark.parametrize("spec", ["no-such-project", "needs-new-beta"])
def test_failed_add_leaves_input_lock_and_venv(
    kit_index: KitIndex, run_envlock: RunEnvlock, spec: str
) -> None:
    text = REQUIREMENTS.format(url=kit_index.url) + "beta<2\n"
    start(kit_index, run_envlock, text)
    lock, venv = Path("pylock.toml").read_bytes(), installed()
    result = run_envlock("add", spec)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert Path("requirements.in").read_text() == text
    assert Path("pylock.toml").read_bytes() == lock
    assert installed() == venv


PYPROJECT = """[project]
name = "service"
version = "0.1"
# runtime
dependencies = [
    "alpha",  # the app
]

[project.optional-dependencies]
extra-one = ["delta"]

[dependency-groups]
dev = [
    # testing
    "delta",
]

[tool.other]
keep = 'this'   # as written
"""


@pytest.mark.parametrize(
    ("flags", "before", "after"),
    [
        ((), '    "alpha",  # the app\n', '    "alpha",  # the app\n    "gamma<2",\n'),
        (("--extra", "extra-one"), 'extra-one = ["delta"]', 'extra-one = ["delta", "gamma<2"]'),
        (("--group", "dev"), '    "delta",\n]', '    "delta",\n    "gamma<2",\n]'),
        (("--group", "DEV"), '    "delta",\n]', '    "delta",\n    "gamma<2",\n]'),  # names normalized
    ],
)
def test_add_and_remove_each_pyproject_table(
    kit_index: KitIndex, run_envlock: RunEnvlock, flags: tuple[str, ...], before: str, after: str
) -> None:
    start(kit_index, run_envlock, PYPROJECT, "pyproject.toml")
    if flags:  # the extra's selection is recorded in the lock, so a later plain compile keeps it
        ok(run_envlock("compile", *flags))
    result = ok(run_envlock("add", "gamma<2", *flags))
    assert Path("pyproject.toml").read_text() == PYPROJECT.replace(before, after, 1)
    assert "+ gamma 1.0" in result.stdout.splitlines()
    assert pins()["gamma"] == "1.0"
    # the sync is a plain `envlock sync`: an extra lands only when synced with --extra (docs/cli.md)
    assert installed().get("gamma") == (None if "--extra" in flags else "1.0")
    ok(run_envlock("remove", "gamma", *flags))
    assert Path("pyproject.toml").read_text() == PYPROJECT
    assert "gamma" not in pins() and "gamma" not in installed()


def test_add_to_a_new_group_creates_it_and_locks_it(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    start(kit_index, run_envlock, PYPROJECT, "pyproject.toml")
    ok(run_envlock("add", "--group", "lint", "gamma"))
    grown = PYPROJECT.replace('    "delta",\n]\n', '    "delta",\n]\nlint = [\n    "gamma",\n]\n')
    assert Path("pyproject.toml").read_text() == grown
    assert pins()["gamma"] == "2.0"  # the group is selected with the lock's own (dev) from now on
    assert "delta" in pins()


def test_remove_absent_from_pyproject_table(kit_index: KitIndex, run_envlock: RunEnvlock) -> None:
    start(kit_index, run_envlock, PYPROJECT, "pyproject.toml")
    result = run_envlock("remove", "alpha", "--group", "dev")
    assert result.returncode == 2
    assert "pyproject.toml: no requirement named alpha in [dependency-groups] dev to remove" in result.stderr
    assert Path("pyproject.toml").read_text() == PYPROJECT
