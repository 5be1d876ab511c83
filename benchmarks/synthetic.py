"""A generated index of N projects for the resolver's scale benchmark: a dependency graph as wide as it is
deep, every project in it reachable from the root, real (tiny) wheels with PEP 658 metadata.

Project ``pNNNN`` has three releases (1.0, 1.1, 2.0, each with ``Requires-Python: >=3.8``); each release
requires its two children of a binary heap (``p(2i+1)``, ``p(2i+2)``) and two more projects further down
picked by a seeded random draw, with lower bounds and some upper bounds (``>=1.0``, ``>=1.0,<3``), so the
newest releases all fit and a compile of ``p0000`` locks all N projects without backtracking: the cost
measured is the resolver's per-package work, not a search.
"""

from __future__ import annotations

import hashlib
import random
import sys
from datetime import datetime, timezone
from email.parser import BytesParser
from pathlib import Path

from corpus import CorpusFile, sha256_of, wheel_metadata

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the test kit builds the wheels (deterministic bytes)

from tests.kit.dists import DistSpec, build_wheel  # noqa: E402

VERSIONS = ("1.0", "1.1", "2.0")
UPLOAD_TIME = datetime(2024, 1, 1, tzinfo=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def name(i: int) -> str:
    return f"p{i:04d}"


def requirements(i: int, n: int, rng: random.Random) -> tuple[str, ...]:
    """The dependencies of every release of project i: its heap children, two random later projects."""
    children = [c for c in (2 * i + 1, 2 * i + 2) if c < n]
    later = list(range(i + 1, n))
    extra = rng.sample(later, min(2, len(later)))
    wanted = sorted(set(children) | set(extra))
    return tuple(f"{name(j)}>=1.0" + (",<3" if j % 3 == 0 else "") for j in wanted)


def generate(n: int, folder: Path, seed: int = 23) -> list[CorpusFile]:
    """Wheels (and ``.metadata`` files beside them) of an N-project index in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    files = []
    for i in range(n):
        requires = requirements(i, n, rng)
        for version in VERSIONS:
            spec = DistSpec(name(i), version, requires=requires, requires_python=">=3.8")
            path = build_wheel(spec, folder)
            metadata = wheel_metadata(path)
            (folder / (path.name + ".metadata")).write_bytes(metadata)
            requires_python = BytesParser().parsebytes(metadata, headersonly=True).get("Requires-Python")
            files.append(
                CorpusFile(
                    filename=path.name,
                    project=name(i),
                    version=version,
                    sha256=sha256_of(path),
                    size=path.stat().st_size,
                    requires_python=requires_python,
                    metadata_sha256=hashlib.sha256(metadata).hexdigest(),
                    upload_time=UPLOAD_TIME,
                    folder=folder,
                )
            )
    return files
