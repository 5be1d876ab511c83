"""``envlock sync --target SPEC --into DIR`` (issue 14): one target's selection of a multi-target lock laid
out in a new folder without that target's interpreter; the Windows selection gets the ``nt`` layout with
``.exe`` console-script launchers, others the POSIX layout; refusals leave nothing behind."""

from __future__ import annotations

from pathlib import Path

from tests.kit.dists import DistSpec
from tests.kit.index import KitIndex
from tests.kit.plugin import RunEnvlock

LINUX = "cp311-linux-x86_64"  # fixed, not the running Python's: --into needs no interpreter of the target
WINDOWS = "cp312-windows-amd64"


def _lock(index: KitIndex, run_envlock: RunEnvlock) -> None:
    index.publish(
        DistSpec(
            "app",
            "1.0",
            requires=("native", "winonly; sys_platform == 'win32'"),
            console_scripts={"app": "app:main", "app-admin": "app:main"},
        ),
        DistSpec("winonly", "1.0"),
        DistSpec("native", "1.0", tags=("cp312-cp312-win_amd64", "cp311-cp311-manylinux_2_17_x86_64")),
    )
    Path("requirements.in").write_text("app\n")
    run_envlock("compile", "--index-url", index.url, "--target", LINUX, "--target", WINDOWS, check=True)


def test_windows_selection_gets_the_nt_layout_with_exe_launchers(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    _lock(kit_index, run_envlock)
    run_envlock("sync", "--target", WINDOWS, "--into", "bundle", check=True)
    site = Path("bundle/Lib/site-packages")
    assert sorted(p.name for p in site.glob("*.dist-info")) == [
        "app-1.0.dist-info",
        "native-1.0.dist-info",
        "winonly-1.0.dist-info",
    ]
    assert (site / "app" / "__init__.py").is_file()
    wheel_tag = (site / "native-1.0.dist-info" / "WHEEL").read_text()
    assert "cp312-cp312-win_amd64" in wheel_tag  # the Windows wheel, not this machine's
    for name in ("app", "app-admin"):
        launcher = Path("bundle/Scripts") / f"{name}.exe"
        assert launcher.read_bytes()[:2] == b"MZ"  # a Windows executable (installer's launcher)
    record = (site / "app-1.0.dist-info" / "RECORD").read_text()
    assert "../../Scripts/app.exe," in record  # RECORD paths relative to site-packages, nt layout
    assert (site / "app-1.0.dist-info" / "INSTALLER").read_text() == "envlock\n"
    assert not Path("bundle/bin").exists() and not Path("bundle/lib").exists()


def test_linux_selection_gets_the_posix_layout(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    _lock(kit_index, run_envlock)
    run_envlock(
        "sync", "--target", LINUX, "--into", "layer", "--into-python", "/opt/python/bin/python3", check=True
    )
    site = Path("layer/lib/python3.11/site-packages")  # the target's Python, not this one
    assert sorted(p.name for p in site.glob("*.dist-info")) == ["app-1.0.dist-info", "native-1.0.dist-info"]
    script = Path("layer/bin/app").read_text()
    assert script.startswith("#!/opt/python/bin/python3\n")
    assert "from app import main" in script


def test_refusals_leave_nothing_behind(kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> None:
    _lock(kit_index, run_envlock)
    Path("full").mkdir()
    (Path("full") / "keep.txt").write_text("keep\n")
    cases = [
        (("--target", WINDOWS, "--into", "full"), "is not an empty folder"),
        (("--into", "out"), "--target and --into go together"),
        (("--target", WINDOWS, "--into", "out", "--venv", "v"), "--venv do not apply"),
        (("--target", WINDOWS, "--into", "out", "--json"), "--json do not apply"),  # its flag, not --as-json
        (("--target", "cp313-macos-arm64", "--into", "out"), "is not one of the lock's targets"),
        (("--target", "cp312-solaris-x86_64", "--into", "out"), "is not a target"),
    ]
    for args, needle in cases:
        result = run_envlock("sync", *args)
        assert result.returncode == (1 if "macos" in args[1] else 2), (args, result.stderr)
        assert needle in result.stderr and "Traceback" not in result.stderr, result.stderr
    assert (Path("full") / "keep.txt").read_text() == "keep\n"
    assert not Path("out").exists()
    assert not [p for p in Path().iterdir() if p.name.startswith(".out.")]


def test_an_sdist_only_package_is_refused_naming_it_and_the_target(
    kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    kit_index.publish(DistSpec("built", "1.0", wheel=False, sdist=True))
    Path("requirements.in").write_text("built\n")
    run_envlock("compile", "--index-url", kit_index.url, "--target", WINDOWS, check=True)
    result = run_envlock("sync", "--target", WINDOWS, "--into", "bundle")
    assert result.returncode != 0
    assert "built" in result.stderr and "win_amd64" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert not Path("bundle").exists()
