"""git, run safely: a revision resolved to a full commit id (``git ls-remote``), and a checkout of exactly
one commit into the cache (``git fetch`` of that commit, then a detached checkout), kept by commit so a
second compile or sync reuses it.

git runs with no shell, no user or system configuration (``GIT_CONFIG_GLOBAL=/dev/null``,
``GIT_CONFIG_NOSYSTEM=1``), no prompt for a password (``GIT_TERMINAL_PROMPT=0``), only the https, http,
ssh and file transports (``GIT_ALLOW_PROTOCOL``: no ``ext::``), and with the URL after ``--``; URLs and
revisions that start with ``-`` never get here (``model``). Whatever git prints is redacted before it is
shown: a token in a URL never reaches a message.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from envlock import validate
from envlock.errors import BuildError
from envlock.index.limits import env_seconds
from envlock.models.source import COMMIT, Source
from envlock.validate import redact

GIT_TIMEOUT = 600.0
"""Seconds one git command may take (a clone of a large repository over a slow link)."""

_KEPT = ("PATH", "HOME", "SYSTEMROOT", "TMPDIR", "TEMP", "TMP", "SSH_AUTH_SOCK", "GIT_SSH_COMMAND")
"""What git keeps of envlock's environment: enough to find programs, ssh keys and an ssh agent."""


class GitError(BuildError):
    """git failed (or is missing); the message names the repository without credentials."""


_SETTINGS = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_ASKPASS": "",
    "GIT_ALLOW_PROTOCOL": "https:http:ssh:file",
    "LC_ALL": "C",
}
"""No user or system configuration, no prompt, no transport but these (``ext::`` runs commands)."""


GIT_STALL_ENV = "ENVLOCK_GIT_STALL_TIMEOUT"
DEFAULT_GIT_STALL = 60.0
"""Seconds git over http(s) may move less than ``_LOW_SPEED`` bytes a second before it is stopped: a
server that trickles a byte a second holds a compile for a minute, not for ``GIT_TIMEOUT``."""
_LOW_SPEED = 1024


def git_environment() -> dict[str, str]:
    stall = max(1, round(env_seconds(GIT_STALL_ENV, DEFAULT_GIT_STALL)))
    return {
        **{key: os.environ[key] for key in _KEPT if key in os.environ},
        **_SETTINGS,
        "GIT_HTTP_LOW_SPEED_LIMIT": str(_LOW_SPEED),
        "GIT_HTTP_LOW_SPEED_TIME": str(stall),
    }


def run_git(args: Sequence[str], source: Source, cwd: Path | None = None) -> str:
    """``git ARGS`` (stdout); GitError with git's redacted output when it fails."""
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env=git_environment(),
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise GitError(
            f"{source.shown()}: git is not installed", hint="install git, or lock a release"
        ) from None
    except subprocess.TimeoutExpired:
        raise GitError(f"{source.shown()}: git {args[0]} took longer than {GIT_TIMEOUT:.0f} s") from None
    if result.returncode != 0:
        output = _redacted((result.stderr or result.stdout).strip(), source)
        tail = "\n".join(output.splitlines()[-10:])
        raise GitError(f"{source.shown()}: git {args[0]} failed" + (f":\n{tail}" if tail else ""))
    return result.stdout


def _redacted(text: str, source: Source) -> str:
    if source.url:
        text = text.replace(source.url, redact(source.url))
    return re.sub(r"//[^/@\s]+@", "//***@", text)


def resolve_commit(source: Source) -> str:
    """The full commit id of the source's revision on its remote (a branch, a tag — an annotated tag's
    commit —, ``HEAD`` when none); a full commit id is taken as it is. GitError when the remote has no
    such ref (an abbreviated commit id cannot be looked up remotely: give the full one)."""
    revision = source.revision
    if revision is not None and COMMIT.fullmatch(revision):
        return revision
    url = source.url or ""
    if revision is None:
        output = run_git(["ls-remote", "--", url, "HEAD"], source)
        wanted = ["HEAD"]
    else:
        output = run_git(["ls-remote", "--", url, revision], source)
        wanted = [f"refs/tags/{revision}^{{}}", f"refs/tags/{revision}", f"refs/heads/{revision}", revision]
    refs = {}
    for line in output.splitlines():
        commit, _, ref = line.partition("\t")
        if COMMIT.fullmatch(commit):
            refs[ref] = commit
    for ref in wanted:
        if ref in refs:
            return refs[ref]
    raise GitError(
        f"{source.shown()}: the repository has no branch or tag {revision or 'HEAD'!r}",
        hint="name a branch, a tag or a full 40-character commit id",
    )


def checkout(source: Source, cache_root: Path) -> Path:
    """The repository at exactly ``source.commit`` in ``cache_root`` (made once per repository and
    commit, renamed into place whole); the project folder (``subdirectory``) inside it."""
    commit = source.commit or ""
    if not COMMIT.fullmatch(commit):
        raise GitError(f"{source.shown()}: {commit!r} is not a full commit id")
    repo_key = hashlib.sha256((source.public_url or "").encode()).hexdigest()[:20]
    final = cache_root / repo_key / commit
    if not (final / ".git").is_dir():
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = final.parent / f".tmp-{os.getpid()}-{commit[:12]}"
        shutil.rmtree(staging, ignore_errors=True)
        try:
            _fetch_commit(source, commit, staging)
            try:
                staging.rename(final)
            except OSError:  # another process put the same commit in place first
                if not (final / ".git").is_dir():
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    folder = final
    if source.subdirectory:
        try:  # a symbolic link in the repository must not make another folder of this machine the project
            folder = Path(validate.join(str(final), source.subdirectory, "subdirectory"))
            validate.no_symlink_escape(str(folder), str(final), "subdirectory")
        except validate.UnsafeInput as error:
            raise GitError(f"{source.shown()}: {error}") from None
    if not folder.is_dir():
        raise GitError(f"{source.shown()}: no folder {source.subdirectory!r} at commit {commit}")
    return folder


def _fetch_commit(source: Source, commit: str, into: Path) -> None:
    url = source.url or ""
    run_git(["init", "--quiet", "--", str(into)], source)
    try:
        run_git(["fetch", "--quiet", "--depth", "1", "--", url, commit], source, cwd=into)
    except GitError:  # a server that refuses a fetch by commit id: fetch its branches and tags
        run_git(
            ["fetch", "--quiet", "--tags", "--", url, "+refs/heads/*:refs/remotes/origin/*"], source, cwd=into
        )
    run_git(["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit], source, cwd=into)
    head = run_git(["rev-parse", "HEAD"], source, cwd=into).strip()
    if head != commit:
        raise GitError(f"{source.shown()}: checked out {head}, not {commit}")
