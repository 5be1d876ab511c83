"""A lock spelled with TOML-only escapes (``\\U0000006F``) in every string, or with its ``default-groups`` key
spelled through an escape, syncs, re-syncs through the no-op answer (the sync engine never loaded) and
checks clean: the fast paths read the lock as TOML (``runtime.lock_header``), not as JSON or bytes."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from tests.cli.test_quick import RUN_MAIN
from tests.cli.test_sync_cli import write
from tests.hostile.test_hostile_tracebacks import project_folder
from tests.kit.dists import DistSpec
from tests.kit.imports import modules_loaded
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock

_BASIC = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def escaped(text: str) -> str:
    """Every basic string of an envlock lock (JSON-compatible as written) with each letter and digit as a
    ``\\UXXXXXXXX`` escape, which TOML has and JSON has not."""

    def spell(match: re.Match[str]) -> str:
        value = json.loads(match.group())
        plain = (json.dumps(c, ensure_ascii=False)[1:-1] for c in value)
        inner = (f"\\U{ord(c):08X}" if c.isalnum() else text for c, text in zip(value, plain, strict=True))
        return '"' + "".join(inner) + '"'

    return _BASIC.sub(spell, text)


def synced_twice_and_checked(run_envlock: RunEnvlock, index_url: str) -> set[str]:
    """A sync that installs, then one the no-op answer gives (no sync engine loaded), then a clean check;
    the modules the no-op answer loaded."""
    first = run_envlock("sync", env={"ENVLOCK_INDEX_URL": index_url})
    assert first.returncode == 0, first.stderr
    loaded = modules_loaded([sys.executable], RUN_MAIN, ["sync"])
    assert "envlock.sync.syncer" not in loaded, "the re-sync was not answered by the no-op path"
    again = run_envlock("sync")
    assert again.returncode == 0 and "(already in sync)" in again.stdout, again.stderr
    checked = run_envlock("check")
    assert checked.returncode == 0, checked.stderr
    return loaded


def test_a_lock_with_toml_only_escapes_in_every_string_syncs_resyncs_and_checks(
    kit_index: KitIndex, run_envlock: RunEnvlock, tmp_path: Path
) -> None:
    project_folder(tmp_path)  # a plain project folder: the no-op path reads its path from the lock
    Path("requirements.in").write_text("./proj#egg=proj\n")
    compiled = run_envlock("compile", "--index-url", kit_index.url)
    assert compiled.returncode == 0, compiled.stderr
    lock = Path("pylock.toml")
    text = escaped(lock.read_text())
    assert 'directory = {path = "\\U00000070\\U00000072\\U0000006F\\U0000006A"}' in text, text
    lock.write_text(text)
    assert "tomllib" not in synced_twice_and_checked(run_envlock, kit_index.url)  # the scan read it


@pytest.mark.parametrize("key", ["default-groups", '"default\\u002Dgroups"'])
def test_default_groups_are_read_as_toml_by_the_no_op(
    kit_index: KitIndex, run_envlock: RunEnvlock, key: str
) -> None:
    """Spelled plainly, the scan reads them (no TOML parser loaded; before, the whole lock was parsed);
    spelled through an escape (a quoted key the scan declines), the whole document is parsed (before, the
    no-op did not see them and the sync engine ran every time)."""
    write(kit_index, DistSpec("a", "1.0"), **{"dependency-groups": ["dev"], "default-groups": ["dev"]})
    lock = Path("pylock.toml")
    text = lock.read_text()
    assert "\ndefault-groups = " in text, text
    lock.write_text(text.replace("\ndefault-groups = ", f"\n{key} = "))
    loaded = synced_twice_and_checked(run_envlock, kit_index.url)
    assert bool({"tomllib", "tomli"} & loaded) == key.startswith('"')  # tomli: the parser on 3.10
