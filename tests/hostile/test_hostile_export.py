"""Hostile locks through ``envlock export`` (issue 26.1): a field that carries a line break (U+2028 and the
other separators pip's ``splitlines`` honours included), white space before an option, a comment or a
``${VAR}`` must not make the exported file name a package, an index or an option the lock never names.
Each is refused with one line naming the lock and the package or field, the separator escaped, and no
file written (docs/safety.md, "Threat model")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock

RAW_SEPARATORS = ("\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


def toml_lock(packages: list[dict[str, Any]], top: str = "", path: Path = Path("pylock.toml")) -> Path:
    """A lock as a stranger writes it (no validation on the way); JSON string syntax is TOML's."""
    lines = ['lock-version = "1.0"', 'created-by = "stranger"', top]
    for package in packages:
        lines.append("\n[[packages]]")
        for key, value in package.items():
            if key == "tool":
                continue
            lines.append(f"{key} = {_toml(value)}")
        if "tool" in package:
            lines.append("[packages.tool.envlock]")
            lines += [f"{k} = {_toml(v)}" for k, v in package["tool"].items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(value)  # ensure_ascii: every separator written as a \uXXXX escape


@pytest.fixture
def published(kit_index: KitIndex) -> dict[str, Any]:
    """``alpha`` (the lock's) and ``evil`` (what an injection would add), both on the kit index."""
    found: dict[str, Any] = {}
    for name in ("alpha", "evil"):
        (wheel,) = kit_index.publish(DistSpec(name, "1.0"))
        found[name] = {
            "name": wheel.name,
            "url": kit_index.file_url(wheel.name),
            "hashes": {"sha256": kit_index.sha256(wheel.name)},
        }
    return found


def alpha(published: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"name": "alpha", "version": "1.0", "wheels": [published["alpha"]], **fields}


def _evil_line(published: dict[str, Any]) -> str:
    return f"evil==1.0 --hash=sha256:{published['evil']['hashes']['sha256']}"


def _cases(published: dict[str, Any], index: str) -> dict[str, dict[str, Any]]:
    evil = _evil_line(published)
    wheel = published["alpha"]
    local = {key: value for key, value in wheel.items() if key != "url"}
    commit = "a" * 40
    return {
        "via-u2028": alpha(published, tool={"via": [f"x\u2028{evil}"]}),
        "via-newline": alpha(published, tool={"via": [f"x\n{evil}"]}),
        "via-nel": alpha(published, tool={"via": [f"x\x85{evil}"]}),
        "index-newline": alpha(published, index=f"{index}\n--extra-index-url http://127.0.0.1:9/"),
        "index-space-option": alpha(published, index=f"{index} --extra-index-url http://127.0.0.1:9/"),
        "wheel-path-separator": alpha(
            published, wheels=[{**local, "path": f"w\u2029{evil}/{wheel['name']}"}]
        ),
        "wheel-path-space": alpha(published, wheels=[{**local, "path": f"w --index-url x/{wheel['name']}"}]),
        "marker-separator": alpha(published, marker=f'platform_release != "x\u2028{evil}"'),
        "marker-option": alpha(published, marker='platform_release != " --index-url http://127.0.0.1:9/"'),
        "marker-comment": alpha(published, marker='platform_release != "a #"'),
        "archive-url-space": {
            "name": "alpha",
            "archive": {"url": f"{wheel['url']} --index-url http://127.0.0.1:9/", "hashes": wheel["hashes"]},
        },
        "archive-url-variable": {
            "name": "alpha",
            "archive": {"url": f"{wheel['url']}?k=${{HOME}}", "hashes": wheel["hashes"]},
        },
        "archive-path-separator": {
            "name": "alpha",
            "archive": {"path": f"a\x1c{evil}.whl", "hashes": wheel["hashes"]},
        },
        "vcs-url-separator": {
            "name": "alpha",
            "vcs": {"type": "git", "url": f"https://h/r\u2028{evil}", "commit-id": commit},
        },
        "vcs-url-space": {
            "name": "alpha",
            "vcs": {"type": "git", "url": "https://h/r --index-url http://127.0.0.1:9/", "commit-id": commit},
        },
        "vcs-commit": {
            "name": "alpha",
            "vcs": {"type": "git", "url": "https://h/r", "commit-id": f"{commit} --index-url x"},
        },
        "vcs-subdirectory": {
            "name": "alpha",
            "vcs": {"type": "git", "url": "https://h/r", "commit-id": commit, "subdirectory": f"s\n{evil}"},
        },
        "directory-path": {"name": "alpha", "directory": {"path": "./p\r-r /etc/passwd"}},
        "directory-path-space": {"name": "alpha", "directory": {"path": "./p -r /etc/passwd"}},
    }


CASES = [
    "via-u2028",
    "via-newline",
    "via-nel",
    "index-newline",
    "index-space-option",
    "wheel-path-separator",
    "wheel-path-space",
    "marker-separator",
    "marker-option",
    "marker-comment",
    "archive-url-space",
    "archive-url-variable",
    "archive-path-separator",
    "vcs-url-separator",
    "vcs-url-space",
    "vcs-commit",
    "vcs-subdirectory",
    "directory-path",
    "directory-path-space",
]


@pytest.mark.parametrize("case", CASES)
def test_export_refuses_a_field_that_would_inject(
    kit_index: KitIndex, published: dict[str, Any], run_envlock: RunEnvlock, case: str
) -> None:
    toml_lock([_cases(published, kit_index.url)[case]])
    result = run_envlock("export", "pylock.toml", "-o", "exported.txt")
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    assert not Path("exported.txt").exists()
    lines = result.stderr.splitlines()
    assert [line.split(":")[0] for line in lines] in (["error"], ["error", "hint"]), result.stderr
    assert "pylock.toml" in lines[0] or "'alpha'" in lines[0], lines[0]
    assert not any(separator in result.stderr for separator in RAW_SEPARATORS[1:])  # \n: between lines


def test_sync_refuses_a_lock_string_with_a_separator_naming_the_field(
    published: dict[str, Any], run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    toml_lock([alpha(published, tool={"via": ["x\u2028y"]})])
    result = run_envlock("sync", "--venv", ".venv")
    assert result.returncode == 2, result.stderr
    assert "'alpha' field tool.envlock.via[0] 'x\\u2028y'" in result.stderr, result.stderr
    assert "\u2028" not in result.stderr
    assert not Path(".venv").exists()


def test_a_clean_lock_exported_is_read_by_pip_as_the_lock(
    kit_index: KitIndex, published: dict[str, Any], run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    """The control: the same lock without the hostile values exports, and pip names alpha alone."""
    toml_lock([alpha(published, index=kit_index.url, tool={"via": ["-r requirements.in"]})])
    result = run_envlock("export", "pylock.toml", "-o", "exported.txt")
    assert result.returncode == 0, result.stderr
    assert pip_reads(Path("exported.txt"), tmp_path) == {"alpha": "1.0"}


def pip_reads(requirements: Path, scratch: Path) -> dict[str, str]:
    """What ``pip install --dry-run --report`` would install from ``requirements`` (name -> version)."""
    report = scratch / "pip-report.json"
    command = [sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--no-deps", "--no-input"]
    command += ["--disable-pip-version-check"]  # which would ask pypi.org
    command += ["--ignore-installed", "--report", str(report), "-r", str(requirements)]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)
    installed = json.loads(report.read_text())["install"]
    return {item["metadata"]["name"]: item["metadata"]["version"] for item in installed}
