"""recovery: what a killed sync left is undone from its journal; a completed install is kept."""

from __future__ import annotations

from envlock.sync.recovery import needs_recovery, recover
from tests.kit.dists import DistSpec
from tests.sync.conftest import Target


def test_recover_removes_orphans_of_a_killed_install(target: Target) -> None:
    state = target.venv / ".envlock"
    orphan = target.site / "half" / "mod.py"
    orphan.parent.mkdir(parents=True)
    orphan.write_text("x")
    (state / "stash" / "t1").mkdir(parents=True)
    (state / "stash" / "t1" / "000001").write_text("old")
    (state / "journal").write_text(f"dist {target.site / 'half-1.0.dist-info'}\nfile {orphan}\n")
    assert needs_recovery(target.venv)
    notes = recover(target.venv)
    assert notes and "1 orphan files" in notes[0]
    assert not orphan.exists() and not orphan.parent.exists()
    assert not needs_recovery(target.venv)


def test_recover_keeps_files_of_a_completed_install(target: Target) -> None:
    target.sync(DistSpec("done", "1.0"))
    module = target.site / "done" / "__init__.py"
    (target.venv / ".envlock" / "journal").write_text(
        f"dist {target.site / 'done-1.0.dist-info'}\nfile {module}\n"
    )
    recover(target.venv)
    assert module.exists()
