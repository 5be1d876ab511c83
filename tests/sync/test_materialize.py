"""materialize: installs from the unpacked store, in every link mode, carry a RECORD that is true for the
venv, scripts for its interpreter, and leave the store entry intact."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from envlock.env.site_packages import scan, verify_record
from envlock.models.artifacts import Artifact, SelectedPackage, Selection
from envlock.sync.executor import ExecuteOptions, apply
from envlock.sync.layout import InstallLayout
from envlock.sync.link import LinkMode
from envlock.sync.materialize import _posix_launcher
from envlock.sync.planner import plan
from envlock.sync.wheel_store import prepare
from tests.kit.dists import build_wheel
from tests.kit.imports import modules_loaded
from tests.kit.plugin import VenvFactory
from tests.kit.sync_locks import probe_venv
from tests.kit.venvs import create_venv, reflinks_here, venv_python
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


@pytest.mark.skipif(os.name == "nt", reason="POSIX launchers")
@pytest.mark.parametrize("folder", ["plain", "with space"])
def test_posix_launchers_run_with_a_plain_or_a_sh_first_line(folder: str, tmp_path: Path) -> None:
    """A launcher's ``#!`` line names the venv's interpreter; a path ``#!`` cannot carry (a space) is
    run through ``/bin/sh`` as ``installer`` writes it. Both run the entry point."""
    venv = create_venv(tmp_path / folder / "venv", sys.executable)
    layout = InstallLayout.for_interpreter(probe_venv(venv_python(venv)), root=venv)
    wheel = build_wheel(SPEC, tmp_path / "w")
    package = SelectedPackage("fancy-pkg", "1.0", Artifact(wheel.name, sha256(wheel), path=wheel))
    the_plan = plan(Selection((package,)), scan(layout.site_dirs))
    apply(the_plan, {package.artifact.sha256: wheel}, layout, ExecuteOptions(store=tmp_path / "store"))
    launcher = Path(layout.scheme["scripts"]) / "fancy"
    first = launcher.read_bytes().split(b"\n", 1)[0]
    assert first == (b"#!/bin/sh" if " " in folder else f"#!{layout.interpreter}".encode())
    assert subprocess.run([str(launcher)], capture_output=True, text=True).stdout == "fancy\n"
    (dist,) = scan(layout.site_dirs, verify=True)
    assert verify_record(dist.dist_info) == []


INSTALL_FROM_THE_STORE = """
import json
from pathlib import Path
from envlock.sync.executor import ExecuteOptions, apply
from envlock.sync.layout import InstallLayout
from envlock.models.artifacts import Artifact, SelectedPackage, Selection
from envlock.sync.planner import plan
from envlock.sync.wheel_store import load
args = json.loads(sys.argv[1])
entry = load(Path(args["entry"]))
layout = InstallLayout(Path(args["root"]), args["scheme"], args["interpreter"], "posix", args["version"])
package = SelectedPackage("fancy-pkg", "1.0", Artifact(entry.wheel, entry.sha256))
apply(plan(Selection((package,)), ()), {entry.sha256: entry}, layout, ExecuteOptions())
"""


@pytest.mark.skipif(os.name == "nt", reason="POSIX launchers")
def test_installing_launchers_from_the_store_loads_no_installer(tmp_path: Path) -> None:
    """A wheel with entry points, already in the store, is installed without importing ``installer``
    (its package import cost ~25 ms of every sync that installs a console script)."""
    venv = create_venv(tmp_path / "venv", sys.executable)
    layout = InstallLayout.for_interpreter(probe_venv(venv_python(venv)), root=venv)
    wheel = build_wheel(SPEC, tmp_path / "w")
    entry = prepare(wheel, sha256(wheel), tmp_path / "store")
    args = {
        "entry": str(entry.root),
        "root": str(venv),
        "scheme": dict(layout.scheme),
        "interpreter": layout.interpreter,
        "version": layout.python_version,
    }
    loaded = modules_loaded([sys.executable], INSTALL_FROM_THE_STORE, [json.dumps(args)])
    assert "envlock.sync.materialize" in loaded and "installer" not in loaded
    launcher = Path(layout.scheme["scripts"]) / "fancy"
    assert subprocess.run([str(launcher)], capture_output=True, text=True).stdout == "fancy\n"


@pytest.mark.skipif(os.name == "nt", reason="POSIX launchers")
@pytest.mark.parametrize(
    "name", ["tool", "tool.exe", "tool-script.pyw", "tool.exe.exe", "tool-script.pyw.exe"]
)
def test_posix_launchers_name_the_program_as_installers_do(name: str, tmp_path: Path) -> None:
    """``sys.argv[0]`` as installer's launcher leaves it: a ``-script.pyw`` or ``.exe`` ending removed."""
    (tmp_path / "shows_argv.py").write_text("import sys\ndef main():\n    print(sys.argv[0])\n")
    launcher = tmp_path / name
    launcher.write_bytes(_posix_launcher(sys.executable, "shows_argv", "main"))
    launcher.chmod(0o755)
    shown = subprocess.run(
        [str(launcher)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    ).stdout.strip()
    assert shown == re.sub(r"(-script\.pyw|\.exe)?$", "", str(launcher))
