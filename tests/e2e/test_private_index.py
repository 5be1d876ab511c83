"""A private index with a login, end to end (docs/private-indexes.md): compile with the login in the URL,
then sync on a fresh clone (empty cache) with the login from each source (netrc, the named index's
variables, a keyring on PATH) and from none (one 401 line). No secret in the lock, the export, any
output or cache file. The servers are the kit's index with basic auth and pypiserver with basic auth
(its login checked by its ``auther`` hook: its htpasswd support needs passlib, which the dev venv lacks)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from envlock.lock.lockfile import read_lock
from tests.kit.dists import DistSpec, build_all
from tests.kit.index import KitIndex
from tests.kit.plugin import KitIndexFactory, RunEnvlock

SECRET = "s3cret-Pa55"
USER = "deploy"


@pytest.fixture
def private(kit_index: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> KitIndex:
    """A compiled project whose lock names the private index (compiled with the login in the URL)."""
    kit_index.publish(DistSpec("alpha", "1.0", requires=("beta>=1",)), DistSpec("beta", "1.0"))
    kit_index.auth = (USER, SECRET)
    (isolated / "pyproject.toml").write_text(
        f'[[tool.envlock.index]]\nname = "corp-internal"\nurl = "{kit_index.url}"\n'
    )
    (isolated / "requirements.in").write_text("alpha\n")
    result = run_envlock("compile", "--index-url", kit_index.url_with_auth(), check=True)
    assert SECRET not in result.stdout + result.stderr
    return kit_index


def fresh_sync(run_envlock: RunEnvlock, tmp: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    """``envlock sync`` as on a fresh clone: a new, empty cache."""
    cache = tmp / f"fresh-cache-{len(list(tmp.glob('fresh-cache-*')))}"
    result = run_envlock("sync", env={"ENVLOCK_CACHE_DIR": str(cache), **(env or {})})
    return result.returncode, result.stdout + result.stderr


def assert_no_secret(isolated: Path, *texts: str) -> None:
    for text in texts:
        assert SECRET not in text
    # the project, every cache (fresh ones included) and HOME; the stand-in keyring holds the secret
    for path in isolated.parent.rglob("*"):
        if path.is_file() and not {".venv", "bin", ".netrc"} & set(path.parts):
            assert SECRET.encode() not in path.read_bytes(), path


def test_sync_without_a_login_prints_one_401_line(
    private: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    code, output = fresh_sync(run_envlock, isolated.parent)
    assert code != 0 and "Traceback" not in output
    lines = [line for line in output.splitlines() if "HTTP 401" in line]
    assert len(lines) == 1, output
    assert "index 'corp-internal'" in lines[0]
    assert "ENVLOCK_INDEX_CORP_INTERNAL_USERNAME/_PASSWORD" in lines[0] and ".netrc" in lines[0]
    assert list((isolated / ".venv").rglob("*.dist-info")) == []  # nothing installed
    assert_no_secret(isolated, output)


def test_sync_with_netrc(private: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> None:
    netrc = Path(os.environ["HOME"]) / ".netrc"
    netrc.write_text(f"machine 127.0.0.1\n  login {USER}\n  password {SECRET}\n")
    netrc.chmod(stat.S_IRUSR | stat.S_IWUSR)
    code, output = fresh_sync(run_envlock, isolated.parent)
    assert code == 0, output
    installed = sorted(p.name.split("-")[0] for p in (isolated / ".venv").rglob("*.dist-info"))
    assert installed == ["alpha", "beta"]
    # -P and --upgrade without --index-url: the lock's (credential-free) index, the login from netrc
    for args in (("-P", "alpha"), ("--upgrade",)):
        result = run_envlock("compile", *args, check=True)
        assert {p.index for p in read_lock(isolated / "pylock.toml").packages} == {private.url}
        assert_no_secret(isolated, result.stdout + result.stderr)
    netrc.unlink()
    export = run_envlock("export", check=True).stdout
    assert_no_secret(isolated, output, export, (isolated / "pylock.toml").read_text())


def test_sync_with_the_login_in_envlock_index_url(
    private: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    code, output = fresh_sync(run_envlock, isolated.parent, {"ENVLOCK_INDEX_URL": private.url_with_auth()})
    assert code == 0, output
    assert_no_secret(isolated, output)


def test_sync_with_the_named_index_variables(
    private: KitIndex, run_envlock: RunEnvlock, isolated: Path
) -> None:
    env = {"ENVLOCK_INDEX_CORP_INTERNAL_USERNAME": USER, "ENVLOCK_INDEX_CORP_INTERNAL_PASSWORD": SECRET}
    code, output = fresh_sync(run_envlock, isolated.parent, env)
    assert code == 0, output
    wrong = {**env, "ENVLOCK_INDEX_CORP_INTERNAL_PASSWORD": "wrong"}
    (isolated / ".venv").rename(isolated / "old-venv")
    code, output = fresh_sync(run_envlock, isolated.parent, wrong)
    assert code != 0 and "HTTP 401" in output and "wrong" not in output
    assert_no_secret(isolated, output)


def test_sync_with_a_keyring_on_path(private: KitIndex, run_envlock: RunEnvlock, isolated: Path) -> None:
    """A stand-in ``keyring`` executable (a tiny script answering ``get SERVICE USER``, logging its calls)."""
    bin_dir = isolated.parent / "bin"
    bin_dir.mkdir()
    calls = isolated.parent / "keyring-calls.txt"
    script = bin_dir / "keyring"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"open({str(calls)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        f"if sys.argv[1:2] == ['get'] and sys.argv[3] == {USER!r} and '127.0.0.1' in sys.argv[2]:\n"
        f"    print({SECRET!r})\n"
        "else:\n"
        "    sys.exit(1)\n"
    )
    script.chmod(0o755)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "ENVLOCK_INDEX_CORP_INTERNAL_USERNAME": USER}
    code, output = fresh_sync(run_envlock, isolated.parent, env)
    assert code != 0 and "keyring (off" in output  # opt-in: never called unless asked
    assert not calls.exists()
    code, output = fresh_sync(run_envlock, isolated.parent, {**env, "ENVLOCK_KEYRING": "1"})
    assert code == 0, output
    assert calls.read_text().splitlines()[0] == f"get {private.url} {USER}"
    assert_no_secret(isolated, output)


# --- pinning: a name on both a private and a public index (dependency confusion) ---


@pytest.fixture
def two_indexes(kit_index_factory: KitIndexFactory, isolated: Path) -> tuple[KitIndex, KitIndex]:
    """``internal`` (explicit, with a login) has acme-utils 1.0; the public-like one has alpha and a
    hostile acme-utils 9.0."""
    internal, public = kit_index_factory(), kit_index_factory()
    internal.publish(DistSpec("acme-utils", "1.0"))
    internal.auth = (USER, SECRET)
    public.publish(DistSpec("alpha", "1.0"), DistSpec("acme-utils", "9.0"), DistSpec("acme-utils", "1.0"))
    (isolated / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0"\ndependencies = ["alpha", "acme-utils"]\n'
        f'[[tool.envlock.index]]\nname = "internal"\nurl = "{internal.url}"\nexplicit = true\n'
        '[tool.envlock.sources]\nacme-utils = { index = "internal" }\n'
    )
    return internal, public


def public_asked_for(public: KitIndex, name: str) -> list[str]:
    return [path for path in public.requested_paths() if name in path]


def test_a_pinned_package_comes_from_its_index_alone(
    two_indexes: tuple[KitIndex, KitIndex], run_envlock: RunEnvlock, isolated: Path
) -> None:
    internal, public = two_indexes
    env = {"ENVLOCK_INDEX_INTERNAL_USERNAME": USER, "ENVLOCK_INDEX_INTERNAL_PASSWORD": SECRET}
    run_envlock("compile", "pyproject.toml", "--index-url", public.url, env=env, check=True)
    lock = read_lock(isolated / "pylock.toml")
    found = {p.name: (str(p.version), p.index) for p in lock.packages}
    assert found == {"acme-utils": ("1.0", internal.url), "alpha": ("1.0", public.url)}
    internal.publish(DistSpec("acme-utils", "1.1"))
    for args in (("-P", "acme-utils"), ("--upgrade",), ()):
        run_envlock("compile", "pyproject.toml", *args, env=env, check=True)
        versions = {p.name: str(p.version) for p in read_lock(isolated / "pylock.toml").packages}
        assert versions["acme-utils"] == "1.1", args
    code, output = fresh_sync(run_envlock, isolated.parent, env)
    assert code == 0, output
    assert public_asked_for(public, "acme") == []  # never looked up nor downloaded there
    assert f"--extra-index-url {internal.url}" in run_envlock("export", check=True).stdout
    assert_no_secret(isolated, output, (isolated / "pylock.toml").read_text())


def test_a_pin_to_an_index_without_the_package_names_the_index(
    two_indexes: tuple[KitIndex, KitIndex], run_envlock: RunEnvlock, isolated: Path
) -> None:
    internal, public = two_indexes
    internal.remove_file("acme_utils-1.0-py3-none-any.whl")
    env = {"ENVLOCK_INDEX_INTERNAL_USERNAME": USER, "ENVLOCK_INDEX_INTERNAL_PASSWORD": SECRET}
    result = run_envlock("compile", "pyproject.toml", "--index-url", public.url, env=env)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "index 'internal'" in result.stderr and "acme-utils" in result.stderr, result.stderr
    assert public_asked_for(public, "acme") == []


def test_an_explicit_index_serves_only_its_pinned_packages(
    two_indexes: tuple[KitIndex, KitIndex], run_envlock: RunEnvlock, isolated: Path
) -> None:
    internal, public = two_indexes
    internal.publish(DistSpec("only-internal", "1.0"))
    (isolated / "requirements.in").write_text(f"--index-url {public.url}\nonly-internal\n")
    env = {"ENVLOCK_INDEX_INTERNAL_USERNAME": USER, "ENVLOCK_INDEX_INTERNAL_PASSWORD": SECRET}
    result = run_envlock("compile", "requirements.in", env=env)
    assert result.returncode == 1 and "only-internal" in result.stderr
    assert "/simple/only-internal/" not in internal.requested_paths()


# --- a real third-party server: pypiserver with basic auth ---

_PYPISERVER = """
import os, sys
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
import pypiserver

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

class Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True

login = (os.environ["KIT_USER"], os.environ["KIT_PASSWORD"])
app = pypiserver.app(
    root=sys.argv[1],
    authenticate=["list", "download"],
    auther=lambda user, password: (user, password) == login,
)
server = make_server("127.0.0.1", 0, app, server_class=Threading, handler_class=Quiet)
print(server.server_port, flush=True)
server.serve_forever()
"""


@pytest.fixture
def pypiserver_with_auth(tmp_path: Path) -> Iterator[str]:
    """pypiserver (its own app and routes) asking basic auth for listing and downloads. Its htpasswd
    support needs passlib, which the dev environment lacks: the login is checked by the ``auther`` hook
    of pypiserver's public ``app()`` instead, the same code path after the password check."""
    pytest.importorskip("pypiserver")
    packages = tmp_path / "pypiserver-packages"
    packages.mkdir()
    for spec in (DistSpec("acme-utils", "1.0", requires=("acme-core>=1",)), DistSpec("acme-core", "1.2")):
        build_all(spec, packages)
    script = tmp_path / "serve.py"
    script.write_text(_PYPISERVER)
    env = {**os.environ, "KIT_USER": USER, "KIT_PASSWORD": SECRET}
    server = subprocess.Popen(
        [sys.executable, str(script), str(packages)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        yield f"http://127.0.0.1:{port}/simple/"
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_pypiserver_with_a_login_from_variables_then_netrc(
    pypiserver_with_auth: str, run_envlock: RunEnvlock, isolated: Path
) -> None:
    (isolated / "pyproject.toml").write_text(
        f'[[tool.envlock.index]]\nname = "pypriv"\nurl = "{pypiserver_with_auth}"\n'
    )
    (isolated / "requirements.in").write_text("acme-utils\n")
    result = run_envlock("compile", "requirements.in")
    assert result.returncode == 1 and "HTTP 401" in result.stderr and "index 'pypriv'" in result.stderr
    env = {"ENVLOCK_INDEX_PYPRIV_USERNAME": USER, "ENVLOCK_INDEX_PYPRIV_PASSWORD": SECRET}
    # the named index is the only one: PyPI is not asked (the test has no network)
    compiled = run_envlock("compile", "requirements.in", env=env, check=True)
    lock = read_lock(isolated / "pylock.toml")
    assert {(p.name, str(p.version), p.index) for p in lock.packages} == {
        ("acme-utils", "1.0", pypiserver_with_auth),
        ("acme-core", "1.2", pypiserver_with_auth),
    }
    netrc = Path(os.environ["HOME"]) / ".netrc"
    netrc.write_text(f"machine 127.0.0.1 login {USER} password {SECRET}\n")
    code, output = fresh_sync(run_envlock, isolated.parent)
    assert code == 0, output
    netrc.unlink()
    assert_no_secret(isolated, compiled.stdout + compiled.stderr, output, result.stderr)
