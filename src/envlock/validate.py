"""The validation boundary: the checks every value from outside (an index page, a lock, a wheel, a
requirements file) passes before it may name a file, a cache entry or a URL to fetch.

Standard library only and cheap, so every module that takes outside input can call it where the input
enters. Each check raises ``UnsafeInput`` (a ValueError) with a short reason; the caller adds which
file, page or lock entry it came from and turns it into its own ``EnvlockError``.
"""

from __future__ import annotations

import os
import re

# Reading outside files (only a regular file, of bounded size) and the error of every check here: their own
# stdlib module without ``re`` (the no-op sync reads its lock with it before anything else loads).
from envlock.regular_file import MAX_LOCK_BYTES as MAX_LOCK_BYTES
from envlock.regular_file import UnsafeInput as UnsafeInput
from envlock.regular_file import open_regular as open_regular
from envlock.regular_file import read_regular as read_regular

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from urllib.parse import SplitResult

SHA256 = re.compile(r"[0-9a-f]{64}")
"""A sha256 as envlock stores and compares it: 64 lowercase hex digits."""
HEX_DIGEST = re.compile(r"[0-9a-fA-F]+")
_DIGEST_LENGTHS = {"md5": 32, "sha1": 40, "sha224": 56, "sha256": 64, "sha384": 96, "sha512": 128}
_DRIVE = re.compile(r"[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
REMOTE_SCHEMES = frozenset({"http", "https"})
"""What a remote page may link to: never ``file:`` (a page must not point at this machine's files)."""


UNSAFE_TEXT = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
"""A control character (C0, DEL, C1) or a line separator: every character ``str.splitlines`` breaks at
(``\\n \\r \\x0b \\x0c \\x1c-\\x1e \\x85 \\u2028 \\u2029``) is one. No string envlock writes
out (an exported requirements file, a launcher, a message) may hold one raw: pip splits a requirements
file with ``splitlines``, so U+2028 in a lock field would start a line of the attacker's choosing."""


def is_sha256(value: object) -> bool:
    return isinstance(value, str) and SHA256.fullmatch(value) is not None


def sha256(value: object, what: str = "sha256") -> str:
    """``value`` as a sha256 (lower-cased); anything but 64 hex digits is refused."""
    if isinstance(value, str) and SHA256.fullmatch(value.lower()):
        return value.lower()
    raise UnsafeInput(f"{what} is not 64 hex digits: {_shown(value)}")


def digest(algorithm: str, value: object) -> str:
    """A hex digest of ``algorithm`` (length checked for the known ones), lower-cased."""
    if not isinstance(value, str) or HEX_DIGEST.fullmatch(value) is None:
        raise UnsafeInput(f"{algorithm} digest is not hexadecimal: {_shown(value)}")
    expected = _DIGEST_LENGTHS.get(algorithm.lower())
    if expected is not None and len(value) != expected:
        raise UnsafeInput(f"{algorithm} digest has {len(value)} hex digits, not {expected}")
    return value.lower()


def file_name(value: object, what: str = "file name") -> str:
    """One file name: no folder part, not ``.``/``..``, no NUL or control characters, no drive."""
    if not isinstance(value, str) or not value or value in (".", ".."):
        raise UnsafeInput(f"{what} {_shown(value)} is not a file name")
    if "/" in value or "\\" in value or _DRIVE.match(value):
        raise UnsafeInput(f"{what} {_shown(value)} names a folder or a path, not a single file")
    if _CONTROL.search(value):  # a regex, not a loop per character: every entry of a page passes here
        raise UnsafeInput(f"{what} {_shown(value)} contains control characters")
    return value


def one_line(value: str, what: str = "value") -> str:
    """``value`` when it holds no control character or line separator (``UNSAFE_TEXT``)."""
    if UNSAFE_TEXT.search(value):
        raise UnsafeInput(f"{what} {_shown(value)} contains a control character or a line separator")
    return value


def shown(value: object) -> str:
    """``value`` for a message: its repr (control characters and separators escaped), cut at 80."""
    return _shown(value)


def relative_path(value: str, what: str = "path") -> str:
    """A ``/``-separated path that stays inside whatever folder it is joined to: not absolute, no
    drive letter, no ``..`` part, no NUL or other control character, no backslash (a folder separator on
    Windows)."""
    if not value or _CONTROL.search(value):  # a line break would also forge lines of sync's journal
        raise UnsafeInput(f"{what} {_shown(value)} is empty or contains control characters")
    if "\\" in value:
        raise UnsafeInput(f"{what} {_shown(value)} contains a backslash")
    if value.startswith("/") or _DRIVE.match(value):
        raise UnsafeInput(f"{what} {_shown(value)} is absolute")
    parts = value.split("/")
    if ".." in parts:
        raise UnsafeInput(f"{what} {_shown(value)} climbs out of its folder ('..')")
    return value


_CONTROL_BUT_LINE_BREAK = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")
_LINE_STARTS_WITH_DRIVE = re.compile(r"(?m)^[A-Za-z]:")
_DOTDOT_PART = re.compile(r"(?m)(?:^|/)\.\.(?:/|$)")


def relative_paths(values: Sequence[str], what: str = "path") -> None:
    """``relative_path`` for every value, checked as one text (a wheel's manifest has thousands of
    paths: a few scans in C instead of a search each); any doubt is settled, with its message, by
    ``relative_path`` on each value."""
    if not all(isinstance(value, str) for value in values):
        doubtful = True
    else:
        text = "\n".join(values)
        doubtful = (
            text.count("\n") != len(values) - 1  # a line break inside a value
            or "" in values
            or "\\" in text
            or text.startswith("/")
            or "\n/" in text
            or _CONTROL_BUT_LINE_BREAK.search(text) is not None
            or _LINE_STARTS_WITH_DRIVE.search(text) is not None
            or (".." in text and _DOTDOT_PART.search(text) is not None)
        )
    if doubtful:
        for value in values:
            relative_path(value, what)


def join(root: str, relative: str, what: str = "path") -> str:
    """``root/relative`` after checking ``relative`` (see ``relative_path``) and that the result is
    still under ``root`` once normalised. The one way outside names become paths."""
    relative_path(relative, what)
    base = os.path.abspath(root)  # noqa: PTH100
    target = os.path.abspath(os.path.join(base, relative))  # noqa: PTH100, PTH118
    if target != base and not target.startswith(base.rstrip(os.sep) + os.sep):
        raise UnsafeInput(f"{what} {_shown(relative)} would be outside {base}")
    return target


def no_symlink_escape(path: str, root: str, what: str = "path") -> None:
    """Refuse ``path`` when a symlink among its existing parents leads out of ``root``."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
        raise UnsafeInput(f"{what} {_shown(path)} leads outside {root} through a symbolic link")


def entry_point(module: str, attr: str, what: str = "entry point") -> None:
    """``module:attr`` of a console/GUI script: dotted Python identifiers, nothing else."""
    if not _dotted(module) or not _dotted(attr):
        raise UnsafeInput(f"{what} {module}:{attr} is not of the form module:attribute")


def split_url(url: str) -> SplitResult:
    """``urlsplit``, with a malformed URL (``https://[::1/x``, a netloc that NFKC-normalises into
    ``#``) refused as UnsafeInput instead of urllib's ValueError."""
    from urllib.parse import urlsplit  # lazy: a no-op sync reads its lock through this module, no URL

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parses (and so validates) the port
    except ValueError as error:
        raise UnsafeInput(f"malformed URL {_shown(url)}: {error}") from None
    return parts


def join_url(base: str, link: str) -> str:
    """``urljoin`` whose result is a well-formed URL, else UnsafeInput."""
    from urllib.parse import urljoin  # lazy: as split_url

    try:
        joined = urljoin(base, link)
    except ValueError as error:
        raise UnsafeInput(f"malformed URL {_shown(link)}: {error}") from None
    split_url(joined)
    return joined


def redact(url: str) -> str:
    """``https://user:secret@host/x`` -> ``https://***@host/x``: safe for locks, logs and errors."""
    return _replace_userinfo(url, "***@")


def strip_credentials(url: str) -> str:
    """The URL without any userinfo: what may be written to a lock."""
    return _replace_userinfo(url, "")


def _replace_userinfo(url: str, replacement: str) -> str:
    from urllib.parse import urlsplit, urlunsplit  # lazy: as split_url

    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:  # malformed (e.g. from a hostile redirect): still never show its userinfo
        return re.sub(r"//[^/?#]*@", "//" + replacement, url, count=1)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, replacement + host, parts.path, parts.query, parts.fragment))


def _dotted(value: str) -> bool:
    return bool(value) and all(part.isidentifier() for part in value.split("."))


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
