"""Where a request's login comes from when its URL carries none, in order: the environment variables of
the named index on the request's origin (``ENVLOCK_INDEX_<NAME>_USERNAME`` / ``_PASSWORD``), ``~/.netrc``
(or ``$NETRC``), then a ``keyring`` executable on PATH (opt-in). Found logins live in memory for the
process only, are sent to their own origin only (``index.http``) and are never written anywhere.

docs/private-indexes.md describes the order; ``index.http`` asks here after a URL's own userinfo.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from envlock.errors import InputError
from envlock.validate import strip_credentials

KEYRING_ENV = "ENVLOCK_KEYRING"
"""``1`` (or ``true``/``yes``) turns the keyring lookup on, like ``[tool.envlock] keyring = true``."""

Login = tuple[str, str]
KeyringCall = Callable[[Sequence[str]], "str | None"]
"""Runs ``keyring get SERVICE USER``; its stdout, or None when it failed or is missing."""


@dataclass(frozen=True)
class NamedIndex:
    """An index of ``[[tool.envlock.index]]``."""

    name: str
    url: str
    """As configured; userinfo (``${VAR}`` expanded) is used, never written out."""
    explicit: bool = False
    """Serves only the packages pinned to it (``[tool.envlock.sources]``)."""

    @property
    def env_prefix(self) -> str:
        """``ENVLOCK_INDEX_<NAME>``: the name upper-cased, other characters as ``_``."""
        return env_prefix(self.name)


def env_prefix(name: str) -> str:
    return "ENVLOCK_INDEX_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with default ports filled in: a login belongs to one origin."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"http": 80, "https": 443}.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


def keyring_enabled(configured: bool, environ: Mapping[str, str]) -> bool:
    """``[tool.envlock] keyring = true`` or ``ENVLOCK_KEYRING=1``."""
    return configured or environ.get(KEYRING_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def run_keyring(args: Sequence[str]) -> str | None:
    """``keyring get SERVICE USER`` as pip and uv call it; None when keyring is missing or says no."""
    # lazy: only a login lookup with the keyring on runs it; every compile imports this module
    import shutil
    import subprocess

    executable = shutil.which("keyring")
    if executable is None:
        return None
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    try:
        result = subprocess.run(
            [executable, *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env=env,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.decode("utf-8", "replace").rstrip("\r\n") or None


@dataclass(frozen=True)
class CredentialSources:
    """What the lookup may consult (tests pass their own ``environ`` and ``keyring``)."""

    named: tuple[NamedIndex, ...] = ()
    keyring: bool = False
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    call_keyring: KeyringCall = run_keyring


class CredentialLookup:
    """Thread-safe; each origin (and username hint) is looked up once per process."""

    def __init__(self, sources: CredentialSources | None = None) -> None:
        self.sources = sources or CredentialSources(keyring=keyring_enabled(False, os.environ))
        self._found: dict[tuple[str, str | None], Login | None] = {}
        self._lock = threading.Lock()

    def index_of(self, url: str) -> NamedIndex | None:
        """The named index ``url`` belongs to: same origin, the longest matching path first."""
        here = origin(url)
        path = urlsplit(url).path
        same = [n for n in self.sources.named if origin(n.url) == here]
        same.sort(key=lambda n: (not path.startswith(urlsplit(n.url).path), -len(urlsplit(n.url).path)))
        return same[0] if same else None

    def find(self, url: str, user: str | None = None) -> Login | None:
        """A login for ``url`` (``user``: a username the URL gave without a password)."""
        key = (f"{origin(url)[0]}://{netloc(url)}", user)
        with self._lock:
            if key in self._found:
                return self._found[key]
        found = self._lookup(url, user)
        with self._lock:
            self._found[key] = found
        return found

    def _lookup(self, url: str, user: str | None) -> Login | None:
        env = self.sources.environ
        named = self.index_of(url)
        if named is not None:
            env_user = env.get(f"{named.env_prefix}_USERNAME")
            env_password = env.get(f"{named.env_prefix}_PASSWORD")
            if env_password is not None:
                return (user or env_user or "", env_password)
            user = user or env_user
            configured = urlsplit(named.url)
            if configured.username and configured.password is not None:
                return (configured.username, configured.password)
            user = user or configured.username
        host = urlsplit(url).hostname or ""
        from_netrc = _netrc_login(host, env)
        if from_netrc is not None and (user is None or from_netrc[0] == user):
            return from_netrc
        if self.sources.keyring and user:
            services = [strip_credentials(named.url)] if named is not None else []
            services.append(netloc(url))
            for service in services:
                password = self.sources.call_keyring(["get", service, user])
                if password is not None:
                    return (user, password)
        return None

    def _username_of(self, named: NamedIndex) -> str | None:
        return self.sources.environ.get(f"{named.env_prefix}_USERNAME") or urlsplit(named.url).username

    def describe(self, url: str) -> str:
        """For a 401/403: which index, and where its login was looked up (never the login)."""
        named = self.index_of(url)
        where = ["the URL"]
        if named is not None:
            where.append(f"{named.env_prefix}_USERNAME/_PASSWORD")
        where.append(os.fspath(_netrc_path(self.sources.environ)))
        if not self.sources.keyring:
            where.append(f"keyring (off: {KEYRING_ENV}=1 turns it on)")
        elif named is not None and not self._username_of(named):
            where.append(f"keyring (not asked: it needs {named.env_prefix}_USERNAME or a user in the URL)")
        else:
            where.append("keyring")
        subject = f"index {named.name!r}" if named is not None else f"host {netloc(url)}"
        return f"{subject}; credentials looked up in: {', '.join(where)}"


def netloc(url: str) -> str:
    """``host[:port]`` of ``url`` (the key of a login found in a URL)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{host}:{port}" if port else host


def _netrc_path(environ: Mapping[str, str]) -> Path:
    named = environ.get("NETRC")
    return Path(named) if named else Path(environ.get("HOME") or Path.home()) / ".netrc"


def _netrc_login(host: str, environ: Mapping[str, str]) -> Login | None:
    """``host``'s login in the netrc file (its ``default`` entry too); a file that cannot be parsed is an
    input error naming it, a missing one is no login."""
    import netrc  # lazy: only a request without a login in its URL reads it

    path = _netrc_path(environ)
    if not path.is_file():
        return None
    try:
        entry = netrc.netrc(os.fspath(path)).authenticators(host)
    except netrc.NetrcParseError as error:
        raise InputError(f"{path}: line {error.lineno}: {error.msg}") from None
    except OSError:
        return None
    if entry is None:
        return None
    login, _account, password = entry
    return (login or "", password or "")
