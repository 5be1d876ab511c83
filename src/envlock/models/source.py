"""The value of a source that is not an index: a local directory (editable or not), a local archive or a
git repository, and the one reading of the URLs that stand for one in a requirement (``file:///dir``,
``git+https://host/repo@REF#subdirectory=sub``).

Standard library only: compile's input reader and sync's selection both use it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from envlock import validate

DIRECTORY, ARCHIVE, VCS = "directory", "archive", "vcs"

GIT_SCHEMES = ("git+https", "git+http", "git+ssh", "git+file")
"""The git URLs a requirement may use (``git+git://`` is unauthenticated and refused)."""

COMMIT = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?")
"""A full git commit id (SHA-1, or SHA-256 repositories)."""

_REVISION = re.compile(r"[A-Za-z0-9._/+-]+")
"""What a branch, tag or commit named in a URL may look like (git's own rules are wider; this is the
part that can never be read as an option or a shell word)."""


class BadSource(ValueError):
    """A source URL or path that must not be used; the reader adds where it was written."""


@dataclass(frozen=True)
class Source:
    """Where a package is built from, when it is not an index."""

    kind: str
    """``directory``, ``archive`` or ``vcs``."""
    path: Path | None = None
    """directory / archive: the absolute path on this machine (the lock keeps it relative)."""
    editable: bool = False
    """directory: installed editable (PEP 660): the venv imports the working tree."""
    url: str | None = None
    """vcs: the repository URL without ``git+``, ref and fragment; may carry credentials, which are
    used to fetch and never written or printed (``public_url``)."""
    revision: str | None = None
    """vcs: the branch, tag or commit asked for (None: the remote's HEAD)."""
    commit: str | None = None
    """vcs: the full commit id the revision was resolved to (compile), or the lock's (sync)."""
    subdirectory: str | None = None
    """vcs: the project's folder inside the repository."""

    @property
    def public_url(self) -> str | None:
        """``url`` as the lock, messages and export show it: no password or token; an ssh URL keeps
        its user name (``git@``), which names the account and is no secret."""
        return public_url(self.url) if self.url else None

    def with_commit(self, commit: str) -> Source:
        return replace(self, commit=commit)

    def reference(self) -> str:
        """The PEP 508 direct reference that stands for this source (credentials kept: it is how the
        resolver tells sources apart, never printed): ``file:///abs`` or ``git+URL@REV#subdirectory=``."""
        if self.kind != VCS:
            return (self.path or Path()).as_uri()
        return self._git_url(self.url, quote(self.subdirectory or ""))

    def shown(self) -> str:
        """For messages: the path, or the URL without credentials and the revision."""
        if self.kind != VCS:
            return str(self.path)
        return self._git_url(self.public_url, self.subdirectory or "")

    def _git_url(self, url: str | None, subdirectory: str) -> str:
        revision = f"@{self.revision}" if self.revision else ""
        return f"git+{url}{revision}" + (f"#subdirectory={subdirectory}" if subdirectory else "")

    def key(self) -> str | None:
        """A sha256 that names what a vcs source builds (repository, commit, folder); None for others
        (a directory's identity is its contents: ``sources.tree``)."""
        if self.kind != VCS or self.commit is None:
            return None
        text = "\0".join(("vcs", self.public_url or "", self.commit, self.subdirectory or ""))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def public_url(url: str) -> str:
    """A repository URL as a lock, a message or an export may show it: no password or token; an ssh URL
    keeps its user name (``git@``), which names the account and is no secret."""
    stripped = validate.strip_credentials(url)
    parts = urlsplit(url)
    if parts.scheme == "ssh" and parts.username and parts.password is None:
        return stripped.replace("ssh://", f"ssh://{parts.username}@", 1)
    return stripped


def commit_key(source: Source) -> str:
    """What a locked commit is kept for (compile): the same repository, revision and folder."""
    return f"{source.public_url}@{source.revision or ''}#{source.subdirectory or ''}"


def is_source_url(url: str) -> bool:
    """A requirement URL that names a source of this module (``file:`` or ``git+``), not an index file."""
    lowered = url.lower()
    return lowered.startswith("file:") or lowered.startswith("git+")


def from_url(url: str, *, editable: bool = False) -> Source:
    """The source a ``file:`` or ``git+`` requirement URL names; BadSource says why not."""
    if url.lower().startswith("git+"):
        return _vcs(url)
    try:
        parts = validate.split_url(url) if "://" in url else None
    except validate.UnsafeInput as error:
        raise BadSource(str(error)) from None
    if parts is None or parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        raise BadSource(f"{validate.redact(url)}: a file URL is file:///absolute/path")
    path = Path(unquote(parts.path))
    if not path.is_absolute():
        raise BadSource(f"{url}: a file URL names an absolute path")
    return local(path, editable=editable)


def local(path: Path, *, editable: bool = False) -> Source:
    """A local directory or archive; BadSource when it is neither (or an archive asked editable)."""
    if path.is_dir():
        if not ((path / "pyproject.toml").is_file() or (path / "setup.py").is_file()):
            raise BadSource(f"{path} is not a Python project (no pyproject.toml or setup.py)")
        return Source(DIRECTORY, path=path, editable=editable)
    if not path.exists():
        raise BadSource(f"{path} does not exist")
    if not path.is_file() or not path.name.endswith((".whl", ".tar.gz", ".zip")):
        raise BadSource(f"{path} is neither a project folder nor a wheel or sdist")
    if editable:
        raise BadSource(f"{path}: only a project folder can be installed editable, not an archive")
    return Source(ARCHIVE, path=path)


def _vcs(url: str) -> Source:
    try:
        parts = validate.split_url(url)
    except validate.UnsafeInput as error:
        raise BadSource(str(error)) from None
    scheme = parts.scheme.lower()
    if scheme not in GIT_SCHEMES:
        raise BadSource(f"{validate.redact(url)}: only git is supported ({', '.join(GIT_SCHEMES)})")
    path, revision = parts.path, None
    if "@" in path:  # the user of an ssh URL is in the netloc: an ``@`` in the path starts the revision
        path, _, revision = path.rpartition("@")
    revision = unquote(revision) if revision else None
    if revision is not None and (not _REVISION.fullmatch(revision) or revision.startswith("-")):
        raise BadSource(f"{validate.redact(url)}: {revision!r} is not a branch, tag or commit")
    subdirectory = _fragment(parts.fragment, url)
    repository = urlunsplit((scheme[len("git+") :], parts.netloc, path, parts.query, ""))
    check_repository(repository)
    return Source(VCS, url=repository, revision=revision, subdirectory=subdirectory)


def check_repository(url: str) -> str:
    """A git repository URL (``https``, ``http``, ``ssh`` or ``file``) that git cannot read as an option:
    no ``-`` at the start of the URL, its user, host or path (``ssh://-oProxyCommand=…``); else BadSource."""
    try:
        parts = validate.split_url(url)
    except validate.UnsafeInput as error:
        raise BadSource(str(error)) from None
    shown = validate.redact(url)
    if f"git+{parts.scheme.lower()}" not in GIT_SCHEMES:
        raise BadSource(f"{shown}: only git is supported ({', '.join(GIT_SCHEMES)})")
    if not parts.netloc and parts.scheme.lower() != "file":
        raise BadSource(f"{shown}: no host")
    pieces = (url, parts.username or "", parts.hostname or "", parts.path.lstrip("/"))
    if any(piece.startswith("-") for piece in pieces) or any(c in url for c in "\0\n\r"):
        raise BadSource(f"{shown}: a repository URL must not start with '-' in any part")
    return url


def _fragment(fragment: str, url: str) -> str | None:
    subdirectory = None
    for part in fragment.split("&") if fragment else ():
        key, _, value = part.partition("=")
        if key == "subdirectory" and value:
            try:
                subdirectory = validate.relative_path(unquote(value).strip("/"), "subdirectory")
            except validate.UnsafeInput as error:
                raise BadSource(f"{validate.redact(url)}: {error}") from None
    return subdirectory


def egg_name(url_or_path: str) -> str | None:
    """The ``#egg=NAME`` of a requirement written without a name (pip's old spelling), if any."""
    match = re.search(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)", url_or_path)
    return match.group(1) if match else None
