"""materialize: installs from the unpacked store, in every link mode, carry a RECORD that is true for the
venv, scripts for its interpreter, and leave the store entry intact."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from envlock.env.site_packages import scan, verify_record
from envlock.sync.executor import ExecuteOptions, apply
from envlock.sync.layout import InstallLayout
from envlock.sync.link import LinkMode
from envlock.sync.models import Artifact, SelectedPackage, Selection
from envlock.sync.planner import plan
from envlock.sync.wheel_store import prepare
from tests.kit.dists import build_wheel
from tests.kit.plugin import VenvFactory
from tests.kit.sync_locks import probe_venv
from tests.kit.venvs import reflinks_here, venv_python
from tests.sync.test_wheel_store import SPEC, sha256


@pytest.mark.parametrize("mode", [LinkMode.COPY, LinkMode.CLONE, LinkMode.HARDLINK, LinkMode.AUTO])
def test_install_from_the_store_in_every_mode(
    mode: LinkMode, venv_factory: VenvFactory, tmp_path: Path
) -> None:
    venv = venv_factory()
    layout = InstallLayout.for_interpreter(probe_venv(venv_python(venv)), root=venv)
    wheel = build_wheel(SPEC, tmp_path / "w")
    package = SelectedPackage("fancy-pkg", "1.0", Artifact(wheel.name, sha256(wheel), path=wheel))
    store = tmp_path / "store"
    the_plan = plan(Selection((package,)), scan(layout.site_dirs))
    apply(the_plan, {package.artifact.sha256: wheel}, layout, ExecuteOptions(store=store, link_mode=mode))
    (dist,) = scan(layout.site_dirs, verify=True)
    assert dist.problems == () and dist.installer == "envlock"
    assert verify_record(dist.dist_info) == []
    record = (dist.dist_info / "RECORD").read_text()
    assert "../../../bin/fancy," in record and "../../../bin/fancy-sh," in record
    assert "fancy_pkg-1.0.dist-info/RECORD,," in record
    site = Path(layout.scheme["purelib"])
    entry = prepare(wheel, sha256(wheel), store)
    init = next(f for f in entry.files if f.path == "fancy_pkg/__init__.py")
    same_inode = (site / "fancy_pkg" / "__init__.py").stat().st_ino == Path(entry.source(init)).stat().st_ino
    linked = mode is LinkMode.HARDLINK or (mode is LinkMode.AUTO and not reflinks_here(tmp_path))
    assert same_inode is linked
    scripts = Path(layout.scheme["scripts"])
    assert (scripts / "fancy-sh").read_bytes().startswith(f"#!{layout.interpreter}\n".encode())
    assert subprocess.run([str(scripts / "fancy")], capture_output=True, text=True).stdout == "fancy\n"
    assert subprocess.run([str(scripts / "fancy-sh")], capture_output=True, text=True).stdout == "hi\n"
    assert entry.is_intact()
