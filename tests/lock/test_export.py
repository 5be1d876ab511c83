"""export: a PEP 751 lock -> a hashed requirements file (pure), and the ``envlock export`` command."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import Marker

from envlock.errors import InputError, LockFileError, UnsupportedError
from envlock.lock.export import ExportOptions, export_requirements, residual_marker
from envlock.lock.lockfile import lock_from_dict, write_lock
from tests.kit.plugin import RunEnvlock

INDEX = "https://index.example/simple/"
H1, H2, H3 = "a" * 64, "b" * 64, "c" * 64


def wheel(name: str, sha: str) -> dict[str, Any]:
    return {"name": name, "url": f"https://files.example/{name}", "hashes": {"sha256": sha}}


def lock(*packages: Mapping[str, Any], **top: Any) -> Any:
    data: dict[str, Any] = {"lock-version": "1.0", "created-by": "tests", "packages": list(packages)}
    data.update(top)
    return lock_from_dict(data, source="pylock.toml")


def pkg(name: str, version: str, *hashes: str, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "version": version, "index": INDEX}
    entry["wheels"] = [wheel(f"{name}-{version}-py3-none-any.whl", h) for h in hashes[:1]]
    if len(hashes) > 1:
        entry["sdist"] = wheel(f"{name}-{version}.tar.gz", hashes[1]) | {"name": f"{name}-{version}.tar.gz"}
    entry.update(extra)
    return entry


def body(text: str) -> str:
    """The file without its header comments."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("# ")).strip()


def test_every_artifact_hash_sorted_entries_index_and_via() -> None:
    text = export_requirements(
        lock(
            pkg("zeta", "2.0", H2, H1, tool={"envlock": {"via": ["app"]}}),
            pkg("app", "1.0", H3, tool={"envlock": {"via": ["requirements.in", "x"]}}),
        ),
        ExportOptions(),
    )
    assert body(text) == (
        f"--index-url {INDEX}\n\n"
        f"app==1.0 \\\n    --hash=sha256:{H3}\n    # via\n    #   requirements.in\n    #   x\n"
        f"zeta==2.0 \\\n    --hash=sha256:{H1} \\\n    --hash=sha256:{H2}\n    # via app"
    )
    assert text.startswith("# This file was exported by envlock from pylock.toml")


def test_output_is_deterministic_and_names_the_command() -> None:
    the_lock = lock(pkg("b", "1", H1), pkg("a", "1", H2))
    options = ExportOptions(command="envlock export pylock.toml -o r.txt")
    first = export_requirements(the_lock, options)
    assert first == export_requirements(the_lock, options)
    assert "# Regenerate: envlock export pylock.toml -o r.txt\n" in first
    assert first.index("a==1") < first.index("b==1")


EXTRAS_LOCK = dict(extras=["fancy"], **{"dependency-groups": ["dev", "docs"], "default-groups": ["dev"]})


def marker_lock() -> Any:
    return lock(
        pkg("base", "1", H1),
        pkg("opt", "1", H2, marker="'fancy' in extras"),
        pkg("devtool", "1", H3, marker="(sys_platform == 'win32') and ('dev' in dependency_groups)"),
        pkg("docs", "1", H1, marker="'docs' in dependency_groups or python_version < '3.9'"),
        **EXTRAS_LOCK,
    )


def test_extras_and_groups_are_evaluated_away_environment_markers_kept() -> None:
    default = body(export_requirements(marker_lock(), ExportOptions()))
    assert "opt==" not in default
    assert 'devtool==1 ; sys_platform == "win32"' in default
    assert 'docs==1 ; python_version < "3.9"' in default

    chosen = body(export_requirements(marker_lock(), ExportOptions(extras=("Fancy",), groups=("docs",))))
    assert "opt==1 \\" in chosen
    assert "devtool" not in chosen
    assert "docs==1 \\" in chosen
    assert "extras" not in chosen and "dependency_groups" not in chosen


@pytest.mark.parametrize(
    ("marker", "extras", "groups", "expected"),
    [
        ("'x' in extras", ["x"], [], True),
        ("'x' in extras", [], [], False),
        ("'x' not in extras", [], [], True),
        ("extra == 'x' or os_name == 'nt'", ["x"], [], True),
        ("extra == 'x' or os_name == 'nt'", [], [], 'os_name == "nt"'),
        (
            "(sys_platform == 'linux' and 'g' in dependency_groups)"
            " or ('x' in extras and python_version < '4')",
            ["x"],
            [],
            'python_version < "4"',
        ),
        ("sys_platform == 'linux' and python_version >= '3.9'", [], [], None),
        (
            "'x' not in extras and (os_name == 'nt' or sys_platform == 'linux')",
            [],
            [],
            'os_name == "nt" or sys_platform == "linux"',
        ),
        (
            "(os_name == 'nt' or sys_platform == 'linux') and ('g' in dependency_groups or 'x' in extras)",
            [],
            ["g"],
            '(os_name == "nt" or sys_platform == "linux")',
        ),
        ("platform_version == 'a and b (or c)' and 'g' in dependency_groups", [], ["g"], None),
        ("(('g' in dependency_groups))", [], [], False),
    ],
)
def test_residual_marker(marker: str, extras: list[str], groups: list[str], expected: object) -> None:
    result = residual_marker(Marker(marker), extras=extras, groups=groups)
    if expected is None:  # only the environment part is left
        expected = str(Marker(marker.split(" and 'g' in")[0]))
    assert result == (str(Marker(expected)) if isinstance(expected, str) else expected)


def test_undeclared_extra_or_group_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"undeclared extras: nope .*declares: fancy"):
        export_requirements(marker_lock(), ExportOptions(extras=("nope",)))
    with pytest.raises(InputError, match="undeclared dependency groups: nope"):
        export_requirements(marker_lock(), ExportOptions(groups=("nope",)))


def test_an_entry_without_a_version_is_an_error_naming_the_package() -> None:
    entry = {"name": "noversion", "wheels": [wheel("noversion-1.0-py3-none-any.whl", H1)]}
    with pytest.raises(UnsupportedError, match="package 'noversion' has no version"):
        export_requirements(lock(pkg("fine", "1", H1), entry), ExportOptions())


def test_sources_are_written_as_pip_reads_them(tmp_path: Path) -> None:
    entries = [
        {"name": "gitpkg", "vcs": {"type": "git", "url": "https://g/x.git", "commit-id": "ab" * 20}},
        {
            "name": "sub",
            "vcs": {"type": "git", "url": "ssh://git@g/y", "commit-id": "cd" * 20, "subdirectory": "s"},
        },
        {"name": "local", "directory": {"path": "../local"}},
        {"name": "mine", "directory": {"path": ".", "editable": True}},
        {"name": "tarball", "archive": {"path": "dist/tarball-1.0.tar.gz", "hashes": {"sha256": H1}}},
    ]
    options = ExportOptions(lock_dir=tmp_path / "proj", output_dir=tmp_path / "proj" / "out")
    text = export_requirements(lock(pkg("fine", "1", H1), *entries), options)
    assert f"gitpkg @ git+https://g/x.git@{'ab' * 20}\n" in text
    assert f"sub @ git+ssh://git@g/y@{'cd' * 20}#subdirectory=s\n" in text
    assert "\n../../local\n" in text and "\n-e ..\n" in text
    assert f"\n../dist/tarball-1.0.tar.gz \\\n    --hash=sha256:{H1}\n" in text
    assert "pip refuses them with --require-hashes" in text


def test_a_marker_that_cannot_be_evaluated_names_the_package() -> None:
    with pytest.raises(LockFileError, match="package 'odd': its marker"):
        export_requirements(lock(pkg("odd", "1", H1, marker="extras == 'x'"), extras=["x"]), ExportOptions())


def test_archive_url_becomes_a_direct_reference() -> None:
    entry = {"name": "tarball", "archive": {"url": "https://u:p@h/t-1.0.tar.gz", "hashes": {"sha256": H1}}}
    assert f"tarball @ https://h/t-1.0.tar.gz \\\n    --hash=sha256:{H1}" in export_requirements(
        lock(entry), ExportOptions()
    )


def test_index_urls_in_recorded_order_without_credentials_or_left_out() -> None:
    the_lock = lock(
        pkg("a", "1", H1, index="https://user:secret@private.example/simple/"),
        pkg("b", "1", H2),
        tool={"envlock": {"options": {"indexes": [INDEX, "https://private.example/simple/"]}}},
    )
    text = export_requirements(the_lock, ExportOptions())
    assert f"--index-url {INDEX}\n--extra-index-url https://private.example/simple/\n" in text
    assert "secret" not in text
    bare = export_requirements(the_lock, ExportOptions(emit_index_url=False))
    assert "index-url" not in bare


def test_local_path_artifacts_become_find_links_relative_to_the_output(tmp_path: Path) -> None:
    entry = pkg("loc", "1", H1)
    entry["wheels"] = [
        {"name": "loc-1-py3-none-any.whl", "path": "wheels/loc-1-py3-none-any.whl"}
        | {"hashes": {"sha256": H1}}
    ]
    options = ExportOptions(lock_dir=tmp_path, output_dir=tmp_path / "out")
    assert "--find-links ../wheels\n" in export_requirements(lock(entry), options)


def test_header_names_lock_target_and_selection() -> None:
    text = export_requirements(
        lock(pkg("a", "1", H1), environments=["sys_platform == 'linux'"], **{"requires-python": "==3.11.*"}),
        ExportOptions(lock_name="pylock.dev.toml"),
    )
    assert "from pylock.dev.toml" in text
    assert "# The lock requires Python ==3.11.*" in text
    assert '# The lock was made for: sys_platform == "linux"' in text


def test_cli_stdout_file_and_errors(run_envlock: RunEnvlock, isolated: Path) -> None:
    write_lock(isolated / "pylock.toml", marker_lock())
    shown = run_envlock("export", "--extra", "fancy", check=True)
    assert "opt==1 \\" in shown.stdout
    written = run_envlock(
        "export", "pylock.toml", "-o", "out/requirements.txt", "--group", "docs", check=True
    )
    text = (isolated / "out" / "requirements.txt").read_text()
    assert "docs==1 \\" in text and "devtool" not in text
    assert "# Regenerate: envlock export pylock.toml --group docs -o out/requirements.txt" in text
    assert "wrote out/requirements.txt" in written.stdout
    bad = run_envlock("export", "--extra", "nope")
    assert bad.returncode == 2
    assert "error: undeclared extras: nope" in bad.stderr
    missing = run_envlock("export", "missing.toml")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr


def test_cli_default_lock_comes_from_pyproject(run_envlock: RunEnvlock, isolated: Path) -> None:
    (isolated / "locks").mkdir()
    write_lock(isolated / "locks" / "dev.toml", marker_lock())
    (isolated / "pyproject.toml").write_text('[tool.envlock]\nlock = "locks/dev.toml"\n')
    shown = run_envlock("export", "--extra", "fancy", check=True)
    assert "opt==1 \\" in shown.stdout and "from dev.toml" in shown.stdout
