"""The launch runtime's hashing (``envlock.runtime``): the stdlib digests, their module found once."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from envlock.runtime import sha256_bytes, sha256_file, sha256_text

SPY = """
import sys
looked = []
class Spy:
    @staticmethod
    def find_spec(name, path=None, target=None):
        looked.append(name)
        return None
sys.meta_path.insert(0, Spy)
from envlock.runtime import sha256_bytes, sha256_file, sha256_text
for _ in range(5):
    sha256_text("x"), sha256_bytes(b"x"), sha256_file(sys.argv[1])
print(",".join(looked))
"""


def test_the_digests_are_sha256(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"data" * 1000)
    assert sha256_bytes(b"data") == hashlib.sha256(b"data").hexdigest()
    assert sha256_text("é") == hashlib.sha256("é".encode()).hexdigest()
    assert sha256_file(tmp_path / "f") == hashlib.sha256(b"data" * 1000).hexdigest()


def test_the_digest_module_is_looked_up_once_per_process(tmp_path: Path) -> None:
    # A failed import is searched for on every sys.path entry each time: before Python 3.12 asking for
    # _sha2 first cost every digest of envlock check's path tens of microseconds.
    (tmp_path / "f").write_bytes(b"data")
    run = subprocess.run(
        [sys.executable, "-c", SPY, str(tmp_path / "f")], capture_output=True, text=True, check=True
    )
    looked = run.stdout.strip().split(",")
    assert [name for name in looked if name in ("_sha2", "_sha256", "hashlib")] in (["_sha2"], ["_sha256"])
