"""The benchmark corpus: real wheels downloaded once from PyPI, pinned in corpus.json, indexed."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.parser import BytesParser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_sdist_filename, parse_wheel_filename
from packaging.version import Version

HERE = Path(__file__).resolve().parent
SETS_DIR = HERE / "sets"
MANIFEST = HERE / "corpus.json"
"""Committed: every file of the corpus (name and sha256), so later builds download the same files."""
DATA_DIR = HERE / ".data"
FILES_DIR = DATA_DIR / "files"
METADATA_DIR = DATA_DIR / "metadata"
INDEX_CACHE = DATA_DIR / "index-cache.json"

TARGET_PYTHON = "3.11"
PLATFORM_ARGS = (
    "--only-binary=:all:",
    "--python-version",
    TARGET_PYTHON,
    "--implementation",
    "cp",
    "--abi",
    "cp311",
    "--abi",
    "abi3",
    "--abi",
    "none",
    *(
        arg
        for platform in (
            "manylinux_2_34_x86_64",
            "manylinux_2_31_x86_64",
            "manylinux_2_28_x86_64",
            "manylinux_2_17_x86_64",
            "manylinux2014_x86_64",
            "any",
        )
        for arg in ("--platform", platform)
    ),
)
"""``pip download`` options selecting files for CPython 3.11 on manylinux x86_64 (this machine's kind)."""

RELEASES = 3
"""Releases kept per direct dependency (the newest and the newest of each of the previous release series)."""
RELEASES_OVERRIDE = {"scipy": 2, "statsmodels": 2}
"""Fewer releases for the heaviest wheels, to keep the corpus to a few hundred MB."""
DOWNLOAD_TIMEOUT = 900


class CorpusError(Exception):
    """The corpus could not be built (download failed, hash mismatch)."""


@dataclass(frozen=True)
class CorpusFile:
    """One file of the local index."""

    filename: str
    project: str
    """Normalized project name."""
    version: str
    sha256: str
    size: int
    requires_python: str | None
    metadata_sha256: str | None
    """sha256 of the extracted METADATA (PEP 658), None for sdists."""
    upload_time: str
    """ISO 8601, from the file's mtime (PEP 700)."""
    folder: Path | None = field(default=None, compare=False)
    """Where the file and its ``.metadata`` are (None: the corpus's download folders)."""

    @property
    def path(self) -> Path:
        return (self.folder or FILES_DIR) / self.filename

    @property
    def metadata_path(self) -> Path:
        return (self.folder or METADATA_DIR) / (self.filename + ".metadata")


def set_names() -> list[str]:
    return sorted(p.stem for p in SETS_DIR.glob("*.in"))


def set_file(name: str) -> Path:
    return SETS_DIR / f"{name}.in"


def direct_requirements(name: str) -> list[Requirement]:
    lines = set_file(name).read_text().splitlines()
    return [Requirement(line.split("#", 1)[0].strip()) for line in lines if line.split("#", 1)[0].strip()]


def project_and_version(filename: str) -> tuple[str, str]:
    if filename.endswith(".whl"):
        name, version, _, _ = parse_wheel_filename(filename)
    else:
        name, version = parse_sdist_filename(filename)
    return str(name), str(version)


def _pip_download(python: str, args: Iterable[str], log: Path) -> None:
    cmd = [python, "-m", "pip", "download", "--disable-pip-version-check", "-d", str(FILES_DIR), *args]
    with log.open("a") as out:
        out.write("$ " + " ".join(cmd) + "\n")
        out.flush()
        try:
            proc = subprocess.run(
                cmd, stdout=out, stderr=subprocess.STDOUT, timeout=DOWNLOAD_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise CorpusError(f"pip download timed out after {DOWNLOAD_TIMEOUT}s: {' '.join(cmd)}") from exc
    if proc.returncode != 0:
        raise CorpusError(f"pip download failed (exit {proc.returncode}); see {log}")


def _versions_on_disk() -> dict[str, set[Version]]:
    found: dict[str, set[Version]] = {}
    for path in FILES_DIR.iterdir():
        try:
            project, version = project_and_version(path.name)
        except ValueError:
            continue
        found.setdefault(project, set()).add(Version(version))
    return found


def _resolve_fresh(python: str, log: Path, say: Callable[[str], None]) -> None:
    """Download the newest resolvable set of each benchmark set, then older releases of the direct deps."""
    for name in set_names():
        say(f"corpus: resolving and downloading set {name!r} from PyPI")
        _pip_download(python, [*PLATFORM_ARGS, "-r", str(set_file(name))], log)
    direct = sorted({canonicalize_name(r.name) for name in set_names() for r in direct_requirements(name)})
    on_disk = _versions_on_disk()

    def older(project: str) -> None:
        wanted = RELEASES_OVERRIDE.get(project, RELEASES) - 1
        for _ in range(wanted):
            oldest = min(_versions_on_disk().get(project, set()) | on_disk.get(project, set()))
            depth = 3 if oldest.release[:2] == (0, 0) else 2  # 0.0.x projects release in the third part
            series = ".".join(str(part) for part in oldest.release[:depth])
            try:
                _pip_download(python, [*PLATFORM_ARGS, "--no-deps", f"{project}<{series}"], log)
            except CorpusError:
                say(f"corpus: no older release of {project} below {series} for this platform; skipped")
                return

    say(f"corpus: downloading older releases of {len(direct)} direct dependencies")
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(older, direct))


def _download_pinned(python: str, manifest: dict[str, str], log: Path, say: Callable[[str], None]) -> None:
    missing = sorted(f for f in manifest if not (FILES_DIR / f).exists())
    if not missing:
        return
    say(f"corpus: downloading {len(missing)} pinned files from PyPI")

    def fetch(filename: str) -> None:
        project, version = project_and_version(filename)
        _pip_download(python, [*PLATFORM_ARGS, "--no-deps", f"{project}=={version}"], log)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(fetch, missing))
    still = [f for f in missing if not (FILES_DIR / f).exists()]
    if still:
        raise CorpusError(f"pip download did not fetch {len(still)} pinned files, e.g. {still[0]}; see {log}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def wheel_metadata(path: Path) -> bytes:
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
        if len(names) != 1:
            raise CorpusError(f"{path.name}: expected one .dist-info/METADATA, found {names}")
        return zf.read(names[0])


def _sdist_requires_python(path: Path) -> str | None:
    del path  # sdists are served without metadata files; pip and uv read them by building
    return None


def _describe(path: Path, cached: dict[str, dict[str, object]]) -> CorpusFile:
    stat = path.stat()
    key = f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}"
    entry = cached.get(key)
    if entry is None:
        project, version = project_and_version(path.name)
        requires_python = None
        metadata_sha256 = None
        if path.name.endswith(".whl"):
            metadata = wheel_metadata(path)
            METADATA_DIR.mkdir(parents=True, exist_ok=True)
            (METADATA_DIR / (path.name + ".metadata")).write_bytes(metadata)
            metadata_sha256 = hashlib.sha256(metadata).hexdigest()
            requires_python = BytesParser().parsebytes(metadata, headersonly=True).get("Requires-Python")
        else:
            requires_python = _sdist_requires_python(path)
        from datetime import datetime, timezone

        entry = {
            "filename": path.name,
            "project": project,
            "version": version,
            "sha256": sha256_of(path),
            "size": stat.st_size,
            "requires_python": str(requires_python).strip() if requires_python else None,
            "metadata_sha256": metadata_sha256,
            "upload_time": datetime.fromtimestamp(stat.st_mtime, timezone.utc).strftime(
                "%Y-%m-%dT%H:%M:%S.%fZ"
            ),
        }
        cached[key] = entry
    return CorpusFile(**entry)  # type: ignore[arg-type]


def build(
    python: str = sys.executable, *, refresh: bool = False, say: Callable[[str], None] = print
) -> list[CorpusFile]:
    """Make sure the corpus is on disk (downloading once) and return its files, sorted by name."""
    FILES_DIR.mkdir(parents=True, exist_ok=True)
    log = DATA_DIR / "download.log"
    if refresh or not MANIFEST.exists():
        _resolve_fresh(python, log, say)
    else:
        manifest = json.loads(MANIFEST.read_text())["files"]
        _download_pinned(python, manifest, log, say)
    cached: dict[str, dict[str, object]] = {}
    if INDEX_CACHE.exists():
        cached = {k: v for k, v in json.loads(INDEX_CACHE.read_text()).items() if isinstance(v, dict)}
    files = sorted(
        (_describe(p, cached) for p in FILES_DIR.iterdir() if p.suffix in (".whl", ".gz", ".zip")),
        key=lambda f: f.filename,
    )
    INDEX_CACHE.write_text(json.dumps(cached, indent=1, sort_keys=True))
    if refresh or not MANIFEST.exists():
        MANIFEST.write_text(
            json.dumps(
                {
                    "python": TARGET_PYTHON,
                    "note": "files of the benchmark index; `benchmarks/run.py --refresh-corpus` re-resolves",
                    "files": {f.filename: f.sha256 for f in files},
                },
                indent=1,
                sort_keys=True,
            )
            + "\n"
        )
    else:
        manifest = json.loads(MANIFEST.read_text())["files"]
        for f in files:
            if f.filename in manifest and manifest[f.filename] != f.sha256:
                raise CorpusError(
                    f"{f.filename}: sha256 {f.sha256} differs from corpus.json ({manifest[f.filename]}); "
                    f"delete {f.path} and retry"
                )
        files = [f for f in files if f.filename in manifest]
    return files


def summary(files: list[CorpusFile]) -> str:
    projects = {f.project for f in files}
    size = sum(f.size for f in files)
    return f"{len(files)} files, {len(projects)} projects, {size / 1e6:.0f} MB"


if __name__ == "__main__":  # pragma: no cover - manual use: python benchmarks/corpus.py
    os.chdir(HERE)
    print(summary(build()))
